/**
 * The agent's one WebSocket to the server: joins with the host's token,
 * streams the outbox (oldest first, a bounded window in flight), drops what
 * the server acks, and reconnects with capped exponential backoff and full
 * jitter. A message-level heartbeat finds sockets that died silently.
 */
import * as v from "valibot";
import {
  type AgentMessage,
  closeName,
  encode,
  type ErrorMessage,
  formatProtocolRange,
  PROTOCOL_VERSION,
  ServerMessage,
} from "@proxmon/shared";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Logger } from "@proxmon/shared/logger";
import type { Outbox } from "./outbox.ts";
import type { DeadLetterSink } from "./dead_letter.ts";

export interface ConnectionTiming {
  /** First reconnect delay cap; doubles per failed attempt. */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /**
   * Wait after the server refused the agent (wrong token, a protocol it
   * does not accept, another agent took over the host): retrying fast
   * cannot help, and two agents of one host would swap in a tight loop.
   */
  refusedRetryMs: number;
  /** A ping goes out this often once joined. */
  heartbeatMs: number;
  /** Silence from the server for this long means the socket is dead. */
  deadAfterMs: number;
  /** Samples sent but not yet acked, at most. */
  maxInFlight: number;
  /** Samples refused as from the future (clock_skew) are sent again this often. */
  skewRetryMs: number;
}

export const DEFAULT_TIMING: ConnectionTiming = {
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
  refusedRetryMs: 5 * 60_000,
  heartbeatMs: 30_000,
  deadAfterMs: 90_000,
  maxInFlight: 100,
  skewRetryMs: 60_000,
};

/** The agent warns when its clock and the server's differ by more. */
export const CLOCK_WARN_MS = 30_000;

/** "45 s ahead of", "2.5 min behind": a clock offset as an admin reads it. */
function describeOffset(agentMinusServerMs: number): string {
  return `${formatDelay(Math.abs(Math.round(agentMinusServerMs)))} ${
    agentMinusServerMs > 0 ? "ahead of" : "behind"
  }`;
}

const STOP_GRACE_MS = 1_000;

/** What the connection went through, for tests and metrics. */
export type ConnectionEvent =
  | { type: "joined"; replaying: number }
  | { type: "disconnected"; reason: string }
  | { type: "refused"; reason: RefusalReason }
  | { type: "reconnect_scheduled"; attempt: number; delayMs: number };

/**
 * The socket as the connection uses it: what `WebSocket` offers, so the
 * real one fits, and a test can hand in a fake and drive the state machine
 * with a fake clock, without TCP.
 */
export interface AgentWire {
  readonly readyState: number;
  send(text: string): void;
  close(): void;
  onopen: ((e: Event) => void) | null;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: Event) => void) | null;
  onclose: ((e: CloseEvent) => void) | null;
}

export interface ConnectionOptions {
  url: string;
  /** opens a socket to `url`; a real WebSocket unless a test fakes it */
  connect?: (url: string) => AgentWire;
  hostName: string;
  token: string;
  agentVersion: string;
  /** Named in the message that tells the admin what to fix. */
  configPath: string;
  outbox: Outbox;
  /** where samples the server refused go */
  deadLetters: DeadLetterSink;
  clock: Clock;
  /** A number in [0, 1), like Math.random. */
  random: () => number;
  log: Logger;
  timing?: Partial<ConnectionTiming>;
  onEvent?: (event: ConnectionEvent) => void;
}

export interface Connection {
  /** Connects, and keeps reconnecting until `stop()`. */
  start(): void;
  /** Sends queued samples, if joined and the window has room. */
  flush(): void;
  /** Closes the socket and cancels every timer. */
  stop(): Promise<void>;
  readonly joined: boolean;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): uniform in
 * [0, min(max, initial·2^attempt)), "full jitter", so agents that lost the
 * server together do not return in lockstep.
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  initialMs: number,
  maxMs: number,
): number {
  const cap = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/** "250 ms", "4.2 s", "5 min": delays as an admin reads them. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}

/** The errors after which the agent waits `refusedRetryMs`. */
export type RefusalReason =
  | "unauthorized"
  | "protocol_unsupported"
  | "replaced";

/**
 * The one log line for a refusal, or null when the error is no refusal (the
 * agent then reconnects with the usual backoff).
 */
export function refusalLine(
  msg: ErrorMessage,
  opts: { url: string; hostName: string; configPath: string },
  retryIn: string,
): { reason: RefusalReason; line: string } | null {
  switch (msg.reason) {
    case "unauthorized":
      return {
        reason: msg.reason,
        line: `server rejected host_id ${opts.hostName}: check token/host_id ` +
          `in ${opts.configPath}; retrying in ${retryIn}`,
      };
    case "protocol_unsupported": {
      const server = msg.protocol === undefined
        ? ""
        : ` (it speaks ${msg.protocol}${
          msg.accepts ? `, accepts ${formatProtocolRange(msg.accepts)}` : ""
        })`;
      return {
        reason: msg.reason,
        line: `server at ${opts.url} does not accept this agent's protocol ` +
          `${PROTOCOL_VERSION}${server}: upgrade proxmon-agent or the ` +
          `server; retrying in ${retryIn}`,
      };
    }
    case "replaced":
      return {
        reason: msg.reason,
        line: `another agent connected as ${opts.hostName} (from ${
          msg.by ?? "an unknown address"
        }); retrying in ${retryIn}`,
      };
    default:
      return null;
  }
}

/** Creates the connection; nothing happens until `start()`. */
export function createConnection(opts: ConnectionOptions): Connection {
  const t = { ...DEFAULT_TIMING, ...opts.timing };
  const { clock, log, outbox } = opts;
  const emit = opts.onEvent ?? (() => {});
  const openSocket: (url: string) => AgentWire = opts.connect ??
    ((url) => new WebSocket(url));

  let socket: AgentWire | undefined;
  let joined = false;
  let stopping = false;
  let attempt = 0;
  let rejected = false;
  // Said once per run of the same refusal: retrying cannot fix a wrong token.
  let refusalLogged: RefusalReason | null = null;
  let lastHeardMs = 0;
  let lastSentSeq = -1;
  let lastError = "";
  const inFlight = new Set<number>();
  let heartbeatTimer: TimerId | undefined;
  let reconnectTimer: TimerId | undefined;
  let closed: Promise<void> = Promise.resolve();
  // server clock − ours, from the last joined that said (0 until then)
  let serverOffsetMs = 0;
  // Samples the server refused as ahead of its clock: kept, sent again later.
  const heldForSkew = new Set<number>();
  let skewRetryTimer: TimerId | undefined;
  let skewWarned = false;

  function send(ws: AgentWire, msg: AgentMessage): void {
    ws.send(encode(msg));
  }

  function flush(): void {
    const ws = socket;
    if (!ws || !joined || ws.readyState !== WebSocket.OPEN) return;
    const room = t.maxInFlight - inFlight.size;
    if (room <= 0) return;
    for (const entry of outbox.pending(lastSentSeq, room)) {
      send(ws, {
        type: "sample",
        ref: entry.seq,
        interval: entry.interval,
        collected_at: entry.collected_at,
        data: entry.data,
      });
      inFlight.add(entry.seq);
      lastSentSeq = entry.seq;
    }
  }

  /** Warns when this host's clock is more than 30 s off the server's. */
  function checkClock(serverTime: string): void {
    const serverMs = Date.parse(serverTime);
    if (!Number.isFinite(serverMs)) return;
    serverOffsetMs = serverMs - clock.now();
    if (Math.abs(serverOffsetMs) > CLOCK_WARN_MS) {
      log.warn(
        `this host's clock is ${
          describeOffset(-serverOffsetMs)
        } the server's (server ${serverTime}); samples carry this host's time, so fix its clock (NTP)`,
      );
    }
  }

  /**
   * Keeps a sample the server refused as ahead of its clock, to send again
   * once the clocks agree: true when kept. One from the past (older than
   * the server's retention) can never be accepted and is dropped.
   */
  function holdForSkew(seq: number, message?: string): boolean {
    const entry = outbox.pending(seq - 1, 1)[0];
    if (entry?.seq !== seq) return true; // gone already; nothing to drop
    const aheadMs = Date.parse(entry.collected_at) -
      (clock.now() + serverOffsetMs);
    if (!(aheadMs > 0)) return false;
    heldForSkew.add(seq);
    if (!skewWarned) {
      skewWarned = true;
      log.warn(
        `the server refused a sample from ${entry.collected_at} as ahead of its clock (${
          message ?? "clock_skew"
        }): this host's clock is ${
          describeOffset(-serverOffsetMs)
        } the server's; keeping such samples and sending them again every ${
          formatDelay(t.skewRetryMs)
        }`,
      );
    }
    if (skewRetryTimer === undefined) {
      skewRetryTimer = clock.setTimeout(retrySkewed, t.skewRetryMs);
    }
    return true;
  }

  function retrySkewed(): void {
    skewRetryTimer = undefined;
    const ws = socket;
    if (!ws || !joined || ws.readyState !== WebSocket.OPEN) {
      // sent again after the next join anyway (it replays the outbox)
      heldForSkew.clear();
      return;
    }
    for (const seq of [...heldForSkew].sort((a, b) => a - b)) {
      heldForSkew.delete(seq);
      const entry = outbox.pending(seq - 1, 1)[0];
      if (entry?.seq !== seq) continue;
      send(ws, {
        type: "sample",
        ref: seq,
        interval: entry.interval,
        collected_at: entry.collected_at,
        data: entry.data,
      });
      inFlight.add(seq);
    }
  }

  function heartbeat(ws: AgentWire): void {
    heartbeatTimer = clock.setTimeout(() => {
      if (ws !== socket) return;
      const silentMs = clock.now() - lastHeardMs;
      if (silentMs >= t.deadAfterMs) {
        lost(ws, `no message from the server for ${formatDelay(silentMs)}`);
        return;
      }
      if (joined && ws.readyState === WebSocket.OPEN) {
        send(ws, { type: "ping" });
      }
      heartbeat(ws);
    }, Math.min(t.heartbeatMs, t.deadAfterMs));
  }

  function onMessage(ws: AgentWire, raw: unknown): void {
    lastHeardMs = clock.now();
    let json: unknown;
    try {
      json = typeof raw === "string" ? JSON.parse(raw) : undefined;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
    const parsed = v.safeParse(ServerMessage, json);
    if (!parsed.success) {
      log.warn(
        `ignored a message the agent does not understand: ${
          String(raw).slice(0, 200)
        }`,
      );
      return;
    }
    const msg = parsed.output;
    switch (msg.type) {
      case "joined":
        if (msg.server_time !== undefined) checkClock(msg.server_time);
        joined = true;
        attempt = 0;
        refusalLogged = null;
        inFlight.clear();
        lastSentSeq = -1;
        // The replay below sends the held samples again too.
        heldForSkew.clear();
        log.info(
          `connected to ${opts.url} as ${opts.hostName}; ${outbox.size} samples to send`,
        );
        emit({ type: "joined", replaying: outbox.size });
        flush();
        break;
      case "ack":
        inFlight.delete(msg.ref);
        if (heldForSkew.size === 0) skewWarned = false; // clocks agree again
        outbox.ack(msg.ref);
        flush();
        break;
      case "nack": {
        inFlight.delete(msg.ref);
        if (
          msg.reason !== "clock_skew" || !holdForSkew(msg.ref, msg.message)
        ) {
          const sample = outbox.nack(msg.ref);
          if (sample) {
            opts.deadLetters.record(sample, msg.reason, msg.message);
          }
        }
        flush();
        break;
      }
      case "pong":
        break;
      case "error": {
        const refusal = refusalLine(msg, opts, formatDelay(t.refusedRetryMs));
        if (refusal) {
          rejected = true;
          if (refusalLogged !== refusal.reason) {
            refusalLogged = refusal.reason;
            log.error(refusal.line);
          }
          emit({ type: "refused", reason: refusal.reason });
          lost(ws, refusal.reason);
        } else {
          lastError = `server said ${msg.reason}${
            msg.message ? `: ${msg.message}` : ""
          }`;
        }
        break;
      }
    }
  }

  /** Abandons `ws` (if still current) and schedules the next attempt. */
  function lost(ws: AgentWire, reason: string): void {
    if (ws !== socket) return;
    socket = undefined;
    joined = false;
    clock.clearTimeout(heartbeatTimer);
    // A dead peer may never finish the close handshake; don't wait for it.
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    if (stopping) return;
    emit({ type: "disconnected", reason });
    const delayMs = rejected ? t.refusedRetryMs : backoffDelayMs(
      attempt,
      opts.random,
      t.backoffInitialMs,
      t.backoffMaxMs,
    );
    if (!rejected) {
      log.warn(
        `lost the server at ${opts.url} (${reason}); ${outbox.size} samples ` +
          `waiting; reconnecting in ${formatDelay(delayMs)}`,
      );
    }
    emit({ type: "reconnect_scheduled", attempt, delayMs });
    attempt++;
    reconnectTimer = clock.setTimeout(connect, delayMs);
  }

  function connect(): void {
    reconnectTimer = undefined;
    rejected = false;
    lastError = "";
    lastHeardMs = clock.now();
    const ws = openSocket(opts.url);
    socket = ws;
    let resolveClosed: () => void = () => {};
    closed = new Promise((resolve) => (resolveClosed = resolve));
    ws.onopen = () => {
      if (ws !== socket) return;
      send(ws, {
        type: "join",
        host: opts.hostName,
        token: opts.token,
        agent_version: opts.agentVersion,
        protocol: PROTOCOL_VERSION,
      });
    };
    ws.onmessage = (e) => {
      if (ws === socket) onMessage(ws, e.data);
    };
    ws.onerror = (e) => {
      lastError = e instanceof ErrorEvent ? e.message : "socket error";
    };
    ws.onclose = (e) => {
      resolveClosed();
      const name = closeName(e.code);
      const why = lastError ||
        `closed with code ${e.code}${name ? ` (${name})` : ""}${
          e.reason ? `: ${e.reason}` : ""
        }`;
      lost(ws, why);
    };
    heartbeat(ws);
  }

  return {
    get joined() {
      return joined;
    },
    start() {
      stopping = false;
      connect();
    },
    flush,
    async stop() {
      stopping = true;
      clock.clearTimeout(reconnectTimer);
      clock.clearTimeout(skewRetryTimer);
      skewRetryTimer = undefined;
      const ws = socket;
      if (ws) lost(ws, "stopping");
      // A dead peer may never answer the close; give it a moment, not forever.
      let timer: TimerId | undefined;
      await Promise.race([
        closed,
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, STOP_GRACE_MS);
        }),
      ]);
      clock.clearTimeout(timer);
    },
  };
}
