/**
 * The agent ⇄ server wire protocol: JSON text frames on `GET /agent/ws`.
 * Both ends import these schemas, so this file is the single source of truth.
 *
 * Beyond DESIGN.md's join/joined/error/sample/ack/nack, the protocol has a
 * `ping`/`pong` pair: WebSocket clients in Deno and browsers cannot send
 * control-frame pings, so the agent detects a dead socket at message level.
 */
import * as v from "valibot";
import { Interval, type PayloadFor } from "./samples.ts";
import { parsePayload } from "./payload_parser.ts";

/** The protocol this build speaks. */
export const PROTOCOL_VERSION = 1;

/**
 * The protocol versions a server of this build accepts from an agent. A
 * server stays able to read the agents of the previous versions for as long
 * as a rolling upgrade may take; it tells each agent the range in `joined`,
 * and refuses one outside it with `protocol_unsupported`.
 */
export const ACCEPTED_PROTOCOLS = { min: 1, max: PROTOCOL_VERSION } as const;

export const ProtocolRange = v.object({ min: v.number(), max: v.number() });
export type ProtocolRange = v.InferOutput<typeof ProtocolRange>;

/** "1" or "1–3", as a log line says it. */
export function formatProtocolRange({ min, max }: ProtocolRange): string {
  return min === max ? `${min}` : `${min}–${max}`;
}
/** How far ahead of the server's clock a sample may be (5 min). */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;

/** A host name: what `deno task host register NAME` accepts. */
export const HostName = v.pipe(
  v.string(),
  v.minLength(1, "name must not be empty"),
  v.maxLength(64, "name must be at most 64 characters"),
  v.regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    "name may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit",
  ),
);

// ---- agent → server --------------------------------------------------------

export const JoinMessage = v.object({
  type: v.literal("join"),
  host: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  token: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
  agent_version: v.pipe(
    v.string(),
    v.maxLength(64),
    // A NUL or newline would be stored but shown cut or split.
    v.regex(
      /^[^\p{Cc}]*$/u,
      "agent_version must not contain control characters",
    ),
  ),
  protocol: v.number(),
});
export type JoinMessage = v.InferOutput<typeof JoinMessage>;

/**
 * The sample envelope as sent. `interval`, `collected_at` and `data` are
 * checked by {@link checkSample}, which maps each failure to a nack reason.
 */
export const SampleMessage = v.object({
  type: v.literal("sample"),
  ref: v.pipe(v.number(), v.integer(), v.minValue(0)),
  interval: Interval,
  collected_at: v.string(),
  data: v.record(v.string(), v.unknown()),
});
export type SampleMessage = v.InferOutput<typeof SampleMessage>;

export const PingMessage = v.object({ type: v.literal("ping") });
export type PingMessage = v.InferOutput<typeof PingMessage>;

export type AgentMessage = JoinMessage | SampleMessage | PingMessage;

// ---- server → agent --------------------------------------------------------

export const JoinedMessage = v.object({
  type: v.literal("joined"),
  /** the server's protocol version; optional: servers before 0.2 omit it */
  protocol: v.optional(v.number()),
  /** the agent protocol versions the server accepts */
  accepts: v.optional(ProtocolRange),
  /**
   * The server's clock when it accepted the join (ISO-8601), so the agent
   * can warn when its own clock is off. Optional: older servers omit it.
   */
  server_time: v.optional(v.string()),
});
export type JoinedMessage = v.InferOutput<typeof JoinedMessage>;

export const ErrorReason = v.picklist([
  "unauthorized",
  "join_timeout",
  "not_joined",
  "already_joined",
  "malformed_json",
  "unknown_type",
  "invalid_message",
  "frame_too_large",
  "protocol_unsupported",
  "replaced",
  "server_shutdown",
]);
export type ErrorReason = v.InferOutput<typeof ErrorReason>;

export const ErrorMessage = v.object({
  type: v.literal("error"),
  reason: ErrorReason,
  message: v.optional(v.string()),
  /** with protocol_unsupported: what the server speaks and accepts */
  protocol: v.optional(v.number()),
  accepts: v.optional(ProtocolRange),
  /** with replaced: the address of the agent that took over */
  by: v.optional(v.string()),
});
export type ErrorMessage = v.InferOutput<typeof ErrorMessage>;

export const AckMessage = v.object({
  type: v.literal("ack"),
  ref: v.number(),
});
export type AckMessage = v.InferOutput<typeof AckMessage>;

export const NackReason = v.picklist([
  "missing_collected_at",
  "invalid_collected_at",
  "missing_data",
  "invalid_interval",
  "invalid_payload",
  /**
   * `collected_at` is more than {@link MAX_CLOCK_AHEAD_MS} ahead of the
   * server's clock, or older than its retention. Not a bad sample: an agent
   * keeps one from the future and sends it again later.
   */
  "clock_skew",
]);
export type NackReason = v.InferOutput<typeof NackReason>;

export const NackMessage = v.object({
  type: v.literal("nack"),
  ref: v.number(),
  reason: NackReason,
  message: v.optional(v.string()),
});
export type NackMessage = v.InferOutput<typeof NackMessage>;

export const PongMessage = v.object({ type: v.literal("pong") });
export type PongMessage = v.InferOutput<typeof PongMessage>;

export const ServerMessage = v.variant("type", [
  JoinedMessage,
  ErrorMessage,
  AckMessage,
  NackMessage,
  PongMessage,
]);
export type ServerMessage = v.InferOutput<typeof ServerMessage>;

// ---- sample checks ---------------------------------------------------------

/** A sample that passed every check, with `collected_at` parsed. */
export type CheckedSample = {
  [I in Interval]: {
    ref: number;
    interval: I;
    collectedAtMs: number;
    /** the payload as parsed: defaults filled in, unknown fields kept */
    data: PayloadFor<I>;
  };
}[Interval];

export type SampleCheck =
  /** `nulReplaced`: some text in `data` held a NUL, now U+FFFD */
  | { ok: true; sample: CheckedSample; nulReplaced?: true }
  | { ok: false; ref: number; reason: NackReason; message: string };

// ISO-8601 with a date, a time and a zone, as Date#toISOString prints it.
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * `value` with every NUL in its strings and keys replaced by U+FFFD; the
 * same object when it has none. SQLite hands text back cut at a NUL, so a
 * pool or guest name holding one was stored whole and came back as its
 * first part; the rest of the sample is good, so it is kept, not refused.
 */
export function replaceNul(value: unknown): unknown {
  if (typeof value === "string") {
    return value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const replaced = replaceNul(value[i]);
      if (replaced !== value[i]) (out ??= value.slice())[i] = replaced;
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const key in record) {
    const replaced = replaceNul(record[key]);
    const safeKey = key.includes("\0") ? key.replaceAll("\0", "\uFFFD") : key;
    if (replaced === record[key] && safeKey === key) continue;
    out ??= { ...record };
    if (safeKey !== key) delete out[key];
    out[safeKey] = replaced;
  }
  return out ?? value;
}

/**
 * Checks a decoded `{"type":"sample"}` object field by field, in the order
 * that gives the most useful nack reason. The caller has already seen that
 * `type` is "sample" and `ref` is a non-negative integer.
 *
 * Only what cannot be stored is refused: an unknown interval, a missing or
 * unreadable `collected_at`, a `data` that is not an object. Anything wrong
 * inside `data` is tolerated (see payload_parser.ts).
 */
export function checkSample(
  raw: Record<string, unknown> & { ref: number },
  /**
   * false when the frame's text held no `\u0000` escape, the only way JSON
   * can carry a NUL: walking a 20 KB payload for one cost 5 % of ingest
   */
  mayHoldNul = true,
): SampleCheck {
  const ref = raw.ref;
  const fail = (reason: NackReason, message: string): SampleCheck => ({
    ok: false,
    ref,
    reason,
    message,
  });
  const interval = v.safeParse(Interval, raw.interval);
  if (!interval.success) {
    return fail(
      "invalid_interval",
      `interval must be fast, medium or slow, got ${
        JSON.stringify(raw.interval) ?? "nothing"
      }`,
    );
  }
  if (raw.collected_at === undefined || raw.collected_at === null) {
    return fail("missing_collected_at", "collected_at is missing");
  }
  const at = raw.collected_at;
  const ms = typeof at === "string" && ISO_8601.test(at) ? Date.parse(at) : NaN;
  if (!Number.isFinite(ms)) {
    return fail(
      "invalid_collected_at",
      `collected_at must be an ISO-8601 timestamp, got ${JSON.stringify(at)}`,
    );
  }
  if (raw.data === undefined || raw.data === null) {
    return fail("missing_data", "data is missing");
  }
  const common = { ref, collectedAtMs: ms };
  const data = mayHoldNul ? replaceNul(raw.data) : raw.data;
  const check = checkPayload(interval.output, data, common, fail);
  return data !== raw.data && check.ok
    ? { ...check, nulReplaced: true }
    : check;
}

function checkPayload(
  interval: Interval,
  data: unknown,
  common: { ref: number; collectedAtMs: number },
  fail: (reason: NackReason, message: string) => SampleCheck,
): SampleCheck {
  switch (interval) {
    case "fast": {
      const p = parsePayload("fast", data);
      return p.ok
        ? { ok: true, sample: { ...common, interval: "fast", data: p.payload } }
        : fail("invalid_payload", p.message);
    }
    case "medium": {
      const p = parsePayload("medium", data);
      return p.ok
        ? {
          ok: true,
          sample: { ...common, interval: "medium", data: p.payload },
        }
        : fail("invalid_payload", p.message);
    }
    case "slow": {
      const p = parsePayload("slow", data);
      return p.ok
        ? { ok: true, sample: { ...common, interval: "slow", data: p.payload } }
        : fail("invalid_payload", p.message);
    }
  }
}

/** Serialises a server → agent or agent → server message. */
export function encode(msg: ServerMessage | AgentMessage): string {
  return JSON.stringify(msg);
}
