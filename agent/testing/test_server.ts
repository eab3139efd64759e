/**
 * A small proxmon server for agent tests: a real WebSocket endpoint on
 * 127.0.0.1 speaking the agent protocol (join, sample → ack/nack, ping →
 * pong), storing each (interval, collected_at) once as the real server does.
 */
import {
  checkSample,
  CLOSE_CODES,
  type JoinMessage,
  type NackReason,
  type SampleMessage,
  type ServerMessage,
} from "@proxmon/shared";

export interface TestServerOptions {
  /** 0 picks a free port; reuse a port to bring a server "back". */
  port?: number;
  /** host → token */
  hosts?: Record<string, string>;
  /** Refuse a sample with this reason instead of storing it. */
  nack?: (sample: SampleMessage) => NackReason | undefined;
  /** Check samples against the payload schemas, nacking as the server does. */
  validate?: boolean;
  /** Hold acks until `releaseAcks()`. */
  holdAcks?: boolean;
  /** After joining, answer nothing: a socket that died without a close. */
  silentAfterJoin?: boolean;
}

export interface TestServer {
  port: number;
  /** The agent endpoint, ws://127.0.0.1:PORT/agent/ws */
  url: string;
  joins: JoinMessage[];
  /** Every sample message received, duplicates included, in order. */
  received: SampleMessage[];
  /** Samples stored, once per (interval, collected_at), in arrival order. */
  stored: SampleMessage[];
  /** Why samples were refused by `validate`. */
  nacks: string[];
  pings: number;
  releaseAcks(): void;
  close(): Promise<void>;
}

export const TEST_HOST = "pve-01";
export const TEST_TOKEN = "s3cret-token";

/** Starts the server; `close()` it in a `finally`. */
export function startTestServer(opts: TestServerOptions = {}): TestServer {
  const hosts = opts.hosts ?? { [TEST_HOST]: TEST_TOKEN };
  const sockets = new Set<WebSocket>();
  const socketClosed: Promise<void>[] = [];
  const storedKeys = new Set<string>();
  const heldAcks: [WebSocket, number][] = [];
  let holding = opts.holdAcks ?? false;

  const state: Omit<TestServer, "port" | "url" | "close" | "releaseAcks"> = {
    joins: [],
    received: [],
    stored: [],
    nacks: [],
    pings: 0,
  };

  const reply = (ws: WebSocket, msg: ServerMessage) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };

  function onSample(ws: WebSocket, msg: SampleMessage) {
    state.received.push(msg);
    if (opts.validate) {
      const check = checkSample(msg);
      if (!check.ok) {
        state.nacks.push(check.message);
        return reply(ws, {
          type: "nack",
          ref: msg.ref,
          reason: check.reason,
          message: check.message,
        });
      }
    }
    const reason = opts.nack?.(msg);
    if (reason) return reply(ws, { type: "nack", ref: msg.ref, reason });
    const key = `${msg.interval}|${msg.collected_at}`;
    if (!storedKeys.has(key)) {
      storedKeys.add(key);
      state.stored.push(msg);
    }
    if (holding) heldAcks.push([ws, msg.ref]);
    else reply(ws, { type: "ack", ref: msg.ref });
  }

  function accept(ws: WebSocket) {
    sockets.add(ws);
    socketClosed.push(
      new Promise((resolve) => ws.addEventListener("close", () => resolve())),
    );
    let joined = false;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (!joined) {
        state.joins.push(msg);
        if (msg.type !== "join" || hosts[msg.host] !== msg.token) {
          reply(ws, { type: "error", reason: "unauthorized" });
          ws.close(CLOSE_CODES.refused, "unauthorized");
          return;
        }
        joined = true;
        reply(ws, { type: "joined" });
        return;
      }
      if (opts.silentAfterJoin) return;
      if (msg.type === "ping") {
        state.pings++;
        reply(ws, { type: "pong" });
      } else if (msg.type === "sample") {
        onSample(ws, msg);
      }
    };
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => {} },
    (req) => {
      if (new URL(req.url).pathname !== "/agent/ws") {
        return new Response("not found", { status: 404 });
      }
      const { socket, response } = Deno.upgradeWebSocket(req);
      accept(socket);
      return response;
    },
  );
  const port = server.addr.port;
  return {
    joins: state.joins,
    received: state.received,
    stored: state.stored,
    nacks: state.nacks,
    get pings() {
      return state.pings;
    },
    port,
    url: `ws://127.0.0.1:${port}/agent/ws`,
    releaseAcks() {
      holding = false;
      for (const [ws, ref] of heldAcks.splice(0)) {
        reply(ws, { type: "ack", ref });
      }
    },
    async close() {
      for (const ws of sockets) {
        if (ws.readyState <= WebSocket.OPEN) {
          ws.close(CLOSE_CODES.shutdown, "going away");
        }
      }
      await Promise.all(socketClosed);
      await server.shutdown();
    },
  };
}

/** Waits until `ready()` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(
  ready: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
