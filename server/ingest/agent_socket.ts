/**
 * `GET /agent/ws`: the agent protocol of DESIGN.md on one WebSocket.
 *
 * join → joined | error(unauthorized) + close; then samples, each answered by
 * an ack once committed or a nack with a reason; ping → pong as heartbeat.
 * Every bad frame gets an error reply and never an exception, and a host has
 * at most one live connection: a new join replaces the old one.
 *
 * Close codes: the table in shared/close_codes.ts.
 */
import { Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import * as v from "valibot";
import {
  ACCEPTED_PROTOCOLS,
  checkSample,
  CLOSE_CODES,
  encode,
  type ErrorMessage,
  type ErrorReason,
  formatProtocolRange,
  JoinMessage,
  PROTOCOL_VERSION,
  type ServerMessage,
} from "@proxmon/shared";
import type { ClientAddressOf } from "../auth/client_address.ts";
import {
  createRateLimitedLog,
  type RateLimitedLog,
} from "@proxmon/shared/rate_limited_log";
import type { AgentConnection, AgentRegistry } from "./agent_registry.ts";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { ServerConfig } from "../config.ts";
import type { Database } from "../store/client.ts";
import type { EventBus } from "./event_bus.ts";
import { authenticateHost, markOffline, markOnline } from "../store/hosts.ts";
import type { Logger } from "@proxmon/shared/logger";
import type { SampleWriter } from "./sample_writer.ts";
import { sampleClockProblem } from "./sample_clock.ts";

const CLOSE = CLOSE_CODES;

export interface AgentSocketDeps {
  database: Database;
  clock: Clock;
  log: Logger;
  events: EventBus;
  agents: AgentRegistry;
  writer: SampleWriter;
  config: Pick<
    ServerConfig,
    | "maxFrameBytes"
    | "joinTimeoutMs"
    | "retentionHours"
    | "maxUnackedSamples"
    | "maxUnackedBytes"
  >;
  upgradeWebSocket: UpgradeWebSocket;
  /** the agent's address, for log lines and the replaced agent */
  clientAddress: ClientAddressOf;
  /** aborted when the server begins to shut down: no new agents then */
  shutdown: AbortSignal;
}

/** The socket as the protocol uses it, whichever adapter made it. */
export interface Wire {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** bytes sent but not yet handed to the kernel, where the socket says */
  bufferedAmount?(): number;
}

/**
 * A socket whose answers pile up beyond this is not being read: it is
 * closed rather than answered into memory. An agent's acks and pongs are
 * tens of bytes each; the TCP front already stops reading a client that
 * does not read, so what gets here is what was in flight.
 */
export const MAX_SEND_BACKLOG_BYTES = 1024 * 1024;

type Decoded =
  /** `mayHoldNul`: the text has a `\u0000` escape, the only NUL JSON allows */
  | { ok: true; message: Record<string, unknown>; mayHoldNul: boolean }
  | { ok: false; reason: ErrorReason; message: string };

const encoder = new TextEncoder();

/** UTF-8 size of a string, without encoding it when the answer is clear. */
function exceedsBytes(text: string, max: number): boolean {
  if (text.length > max) return true; // at least one byte per UTF-16 unit
  if (text.length * 3 <= max) return false; // at most three per unit
  return encoder.encode(text).length > max;
}

/** Turns one frame into a message object, or the error to answer with. */
export function decodeFrame(data: unknown, maxBytes: number): Decoded {
  if (typeof data !== "string") {
    const size = data instanceof Blob
      ? data.size
      : data instanceof ArrayBuffer
      ? data.byteLength
      : 0;
    return size > maxBytes
      ? { ok: false, reason: "frame_too_large", message: tooLarge(maxBytes) }
      : {
        ok: false,
        reason: "invalid_message",
        message: "binary frames are not supported; send JSON text",
      };
  }
  if (exceedsBytes(data, maxBytes)) {
    return {
      ok: false,
      reason: "frame_too_large",
      message: tooLarge(maxBytes),
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { ok: false, reason: "malformed_json", message: err.message };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return {
      ok: false,
      reason: "invalid_message",
      message: "a message must be a JSON object with a type",
    };
  }
  return {
    ok: true,
    message: parsed as Record<string, unknown>,
    mayHoldNul: data.includes("\\u0000"),
  };
}

const tooLarge = (max: number) => `frames are limited to ${max} bytes`;

/** Most characters of client text an answer or a log line repeats. */
const MAX_ECHO_CHARS = 200;

/**
 * Client text (a claimed host name, a type, a valibot message quoting a
 * value) as answers and log lines repeat it: control characters escaped,
 * so a newline cannot forge a log line, and cut short, so a frame cannot
 * be answered with a copy of itself.
 */
export function echo(text: string): string {
  const cut = text.length > MAX_ECHO_CHARS
    ? `${text.slice(0, MAX_ECHO_CHARS)}…`
    : text;
  return cut.replace(
    /\p{Cc}/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const isRef = (ref: unknown): ref is number =>
  typeof ref === "number" && Number.isSafeInteger(ref) && ref >= 0;

/**
 * The protocol state machine of one agent socket, behind the {@link Wire}
 * seam: the adapter calls `open`, `receive` and `closed`, and the machine
 * answers through the wire. Tests drive it with a recording wire and a fake
 * clock, without TCP.
 */
export interface AgentSocket extends AgentConnection {
  open(wire: Wire): void;
  receive(data: unknown): void;
  closed(): void;
}

/** What the state machine needs: the socket deps less the HTTP parts. */
export type AgentSocketMachineDeps = Omit<
  AgentSocketDeps,
  "upgradeWebSocket" | "clientAddress" | "shutdown"
>;

/** What an error message may carry beside its reason. */
export type ErrorDetails = Omit<ErrorMessage, "type" | "reason">;

/** What the agent log's lines are about; each kind has its own budget. */
export type AgentLogKind = "join" | "refusal" | "nack" | "bad_upgrade";
export type AgentLog = RateLimitedLog<AgentLogKind>;

/** Lines about agents, at most 20 a kind a minute. */
function createAgentLog(deps: Pick<AgentSocketMachineDeps, "log" | "clock">) {
  return createRateLimitedLog<AgentLogKind>(deps.log, deps.clock, {
    subject: "agent",
  });
}

/**
 * One socket's state machine. `remote` names the agent in log lines and in
 * the message a replaced agent gets; `agentLog` is shared by the sockets of
 * one server so its rate limit covers them all.
 */
export function createAgentSocket(
  deps: AgentSocketMachineDeps,
  remote: string,
  agentLog: AgentLog = createAgentLog(deps),
): AgentSocket {
  const { clock, log, agents, writer, database, events } = deps;
  // The host name the join claimed, for log lines before it is verified.
  let claimed: string | null = null;
  let wire: Wire | null = null;
  let state: "open" | "joining" | "joined" | "closed" = "open";
  let joined: AgentSocket["joined"] = null;
  let joinTimer: TimerId | null = null;
  // Frames are handled one after another, so a sample that arrives while the
  // join is still being checked waits for it instead of being refused.
  let queue: Promise<void> = Promise.resolve();
  let finished: Promise<void> | null = null;
  const socketClosed = Promise.withResolvers<void>();
  // Samples handed to the writer and not yet settled, and their frames'
  // size: what this socket holds in memory beyond the socket's buffers.
  let unacked = 0;
  let unackedBytes = 0;
  const { maxUnackedSamples, maxUnackedBytes } = deps.config;

  const send = (msg: ServerMessage) => {
    if (state === "closed" || !wire) return;
    const backlog = wire.bufferedAmount?.() ?? 0;
    if (backlog > MAX_SEND_BACKLOG_BYTES) {
      agentLog.warn(
        "refusal",
        `agent ${who()} closed: it does not read its answers (${backlog} bytes waiting)`,
      );
      return drop(CLOSE.refused, "not_reading");
    }
    wire.send(encode(msg));
  };
  const error = (reason: ErrorReason, details: ErrorDetails = {}) =>
    send({
      type: "error",
      reason,
      ...details,
      ...(details.message === undefined ? {} : {
        message: echo(details.message),
      }),
    });
  // Who the connection is, for log lines.
  const who = () => {
    const name = joined?.hostName ?? claimed;
    return name === null ? `from ${remote}` : `${name} (from ${remote})`;
  };

  /**
   * Closes without an error message: the protocol has no reason for "the
   * server failed", and the agent learns enough from the close code.
   */
  function drop(code: number, reason: string): void {
    if (state === "closed") return;
    wire?.close(code, reason);
    void finish();
  }

  /** Sends the error, closes, and settles the host's status. */
  function refuse(
    reason: ErrorReason,
    code: number,
    details: ErrorDetails = {},
  ): Promise<void> {
    if (state === "closed") return finished ?? Promise.resolve();
    agentLog.warn(
      "refusal",
      `agent ${who()} refused: ${reason}${
        details.message ? ` (${echo(details.message)})` : ""
      }`,
    );
    error(reason, details);
    wire?.close(code, reason);
    return finish();
  }

  function finish(): Promise<void> {
    if (finished) return finished;
    state = "closed";
    if (joinTimer !== null) clock.clearTimeout(joinTimer);
    const wasCurrent = agents.remove(conn);
    const host = joined;
    finished = wasCurrent && host
      ? markOffline(database, host.hostId, clock.now()).then(
        () =>
          events.publish({
            type: "status",
            host: host.hostName,
            status: "offline",
          }),
        (err) => log.error(`could not mark ${host.hostName} offline:`, err),
      )
      : Promise.resolve();
    return finished;
  }

  async function join(raw: Record<string, unknown>) {
    if (state === "joined") return error("already_joined");
    const parsed = v.safeParse(JoinMessage, raw);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      return void refuse("invalid_message", CLOSE.refused, {
        message: `join: ${v.getDotPath(issue) ?? "message"}: ${issue.message}`,
      });
    }
    const msg = parsed.output;
    claimed = echo(msg.host);
    if (
      msg.protocol < ACCEPTED_PROTOCOLS.min ||
      msg.protocol > ACCEPTED_PROTOCOLS.max
    ) {
      return void refuse("protocol_unsupported", CLOSE.refused, {
        message: `the agent speaks protocol ${msg.protocol}; this server ` +
          `speaks ${PROTOCOL_VERSION} and accepts ${
            formatProtocolRange(ACCEPTED_PROTOCOLS)
          }`,
        protocol: PROTOCOL_VERSION,
        accepts: ACCEPTED_PROTOCOLS,
      });
    }
    state = "joining";
    const host = await authenticateHost(database, msg.host, msg.token);
    if (state !== "joining") return; // closed while we looked
    if (!host) return void refuse("unauthorized", CLOSE.refused);
    if (joinTimer !== null) clock.clearTimeout(joinTimer);
    joinTimer = null;
    joined = {
      hostId: host.id,
      hostName: host.name,
      tokenHash: host.tokenHash,
    };
    state = "joined";
    const previous = agents.claim(host.id, conn);
    if (previous) {
      // The replaced agent learns who took over, so an admin running a
      // second agent by hand sees why the first keeps being dropped.
      await previous.terminate("replaced", CLOSE.replaced, {
        message: `another agent connected as ${host.name} (from ${remote})`,
        by: remote,
      });
    }
    await markOnline(database, host.id, msg.agent_version, clock.now());
    if (state !== "joined") return;
    send({
      type: "joined",
      protocol: PROTOCOL_VERSION,
      accepts: ACCEPTED_PROTOCOLS,
      server_time: new Date(clock.now()).toISOString(),
    });
    agentLog.info(
      "join",
      `agent ${who()} joined (agent ${msg.agent_version}, protocol ${msg.protocol})`,
    );
    events.publish({ type: "status", host: host.name, status: "online" });
  }

  function sample(
    raw: Record<string, unknown>,
    frameBytes: number,
    mayHoldNul: boolean,
  ) {
    if (!joined) return error("not_joined", { message: "send join first" });
    if (!isRef(raw.ref)) {
      return error("invalid_message", {
        message: "a sample needs a non-negative integer ref",
      });
    }
    const checked = checkSample({ ...raw, ref: raw.ref }, mayHoldNul);
    if (!checked.ok) {
      const { ref, reason } = checked;
      const message = echo(checked.message);
      agentLog.warn(
        "nack",
        `nacked a sample of ${who()}: ${reason}: ${message}`,
      );
      return send({ type: "nack", ref, reason, message });
    }
    const { ref, collectedAtMs } = checked.sample;
    if (checked.nulReplaced) {
      agentLog.warn(
        "nack",
        `a sample of ${who()} had NUL characters in its text; stored with U+FFFD instead`,
      );
    }
    const skew = sampleClockProblem(
      collectedAtMs,
      clock.now(),
      deps.config.retentionHours,
    );
    if (skew !== null) {
      agentLog.warn("nack", `nacked a sample of ${who()}: clock_skew: ${skew}`);
      return send({ type: "nack", ref, reason: "clock_skew", message: skew });
    }
    // A client that sends without waiting for acks would queue without
    // bound in the writer. One sample always fits, however large.
    if (
      unacked >= maxUnackedSamples ||
      (unacked > 0 && unackedBytes + frameBytes > maxUnackedBytes)
    ) {
      // Not acked, so not lost: the agent sends it again after reconnecting.
      return void refuse("invalid_message", CLOSE.refused, {
        message: `more than ${maxUnackedSamples} samples ` +
          `(or ${maxUnackedBytes} bytes) sent without waiting for their acks`,
      });
    }
    unacked++;
    unackedBytes += frameBytes;
    const settled = () => {
      unacked--;
      unackedBytes -= frameBytes;
    };
    const { hostId, hostName, tokenHash } = joined;
    writer.submit({ ...checked.sample, hostId, hostName, tokenHash }).finally(
      settled,
    ).then(
      (outcome) => {
        if (outcome === "stored" || outcome === "duplicate") {
          send({ type: "ack", ref });
        } else if (outcome === "invalid_interval") {
          agentLog.warn(
            "nack",
            `nacked a sample of ${who()}: invalid_interval`,
          );
          send({ type: "nack", ref, reason: "invalid_interval" });
        } else {
          // token rotated or host removed since this socket joined
          void refuse("unauthorized", CLOSE.refused);
        }
      },
      (err) => {
        // Not acked: the agent keeps the sample and replays it after the
        // reconnect this close causes.
        log.error(`storing a sample from ${hostName} failed:`, err);
        drop(CLOSE.internal, "storage_failed");
      },
    );
  }

  function dispatch(
    { message, mayHoldNul }: Extract<Decoded, { ok: true }>,
    frameBytes: number,
  ): void | Promise<void> {
    switch (message.type) {
      case "join":
        return join(message);
      case "sample":
        return sample(message, frameBytes, mayHoldNul);
      case "ping":
        if (joined) writer.touch(joined.hostId);
        return send({ type: "pong" });
      default:
        return error("unknown_type", {
          message: `unknown message type ${
            JSON.stringify(message.type) ?? "(none)"
          }`,
        });
    }
  }

  const conn: AgentSocket = {
    get joined() {
      return joined;
    },
    terminate: (reason, code, details) => refuse(reason, code, details),
    socketClosed: socketClosed.promise,
    open(ws) {
      wire = ws;
      agents.add(conn);
      joinTimer = clock.setTimeout(() => {
        joinTimer = null;
        if (!joined) void refuse("join_timeout", CLOSE.refused);
      }, deps.config.joinTimeoutMs);
    },
    receive(data) {
      if (state === "closed") return;
      const decoded = decodeFrame(data, deps.config.maxFrameBytes);
      if (!decoded.ok) {
        if (decoded.reason === "frame_too_large") {
          return void refuse(decoded.reason, CLOSE.tooLarge, {
            message: decoded.message,
          });
        }
        return error(decoded.reason, { message: decoded.message });
      }
      // UTF-16 units: close enough to bytes for a memory bound
      const frameBytes = typeof data === "string" ? data.length : 0;
      queue = queue.then(() => {
        if (state !== "closed") return dispatch(decoded, frameBytes);
      }).catch((err) => {
        // Only the database can throw here (a join lookup or status write).
        log.error("agent socket: handling a message failed:", err);
        drop(CLOSE.internal, "internal_error");
      });
    },
    closed() {
      socketClosed.resolve();
      void finish();
    },
  };
  return conn;
}

/**
 * The agent socket as a Hono sub-app: mount it at `/agent` for
 * `GET /agent/ws`. A plain GET (no upgrade) gets 426.
 */
export function createAgentSocketRoutes(deps: AgentSocketDeps): Hono {
  const app = new Hono();
  const agentLog = createAgentLog(deps);
  app.get(
    "/ws",
    async (c, next) => {
      if (deps.shutdown.aborted) {
        return c.json({ error: "shutting_down" }, 503);
      }
      // A broken upgrade is the client's error: 400 and one line, not the
      // runtime's exception (a 500 with a stack trace).
      const upgrade = c.req.header("upgrade")?.toLowerCase();
      if (upgrade === "websocket") {
        const key = c.req.header("sec-websocket-key") ?? "";
        const version = c.req.header("sec-websocket-version");
        if (!/^[A-Za-z0-9+/]{22}==$/.test(key) || version !== "13") {
          agentLog.warn(
            "bad_upgrade",
            `refused a WebSocket upgrade without a valid Sec-WebSocket-Key/-Version from ${
              deps.clientAddress(c)
            }`,
          );
          return c.json({ error: "bad_websocket_upgrade" }, 400);
        }
      }
      await next();
    },
    deps.upgradeWebSocket((c) => {
      const conn = createAgentSocket(
        deps,
        deps.clientAddress(c),
        agentLog,
      );
      return {
        onOpen: (_evt, ws) =>
          conn.open({
            send: (text) => ws.send(text),
            close: (code, reason) => ws.close(code, reason),
            // Deno's WebSocket and ws' both count it
            bufferedAmount: () =>
              (ws.raw as { bufferedAmount?: number } | undefined)
                ?.bufferedAmount ?? 0,
          }),
        onMessage: (evt) => conn.receive(evt.data),
        onClose: () => conn.closed(),
      };
    }, {
      // Deno's own ping closes a socket whose pong it has not read within
      // 30 s; a busy server reads a socket's frames in order, so the pong
      // waits behind the samples and healthy agents were dropped (1001
      // "No response from ping frame"). Dead peers are still closed: the
      // TCP front closes a connection silent for IDLE_TIMEOUT_MS, and agents
      // send every 10 s. (The node adapter has no such ping.)
      idleTimeout: 0,
    }),
    (c) => c.json({ error: "websocket_upgrade_required" }, 426),
  );
  return app;
}
