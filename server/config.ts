/**
 * Server configuration: the environment, validated once by a valibot schema
 * (as agent.toml is in agent/config.ts) and resolved by a pure function into
 * a config where every field is set. `main.ts` is the only caller that
 * passes the real environment; tests pass plain objects.
 */
import { isIP } from "node:net";
import * as v from "valibot";
import { parsePasswordHash } from "./auth/password.ts";

export type ServerEnv = "development" | "production";
export type WsAdapterName = "deno" | "node";

export interface ServerConfig {
  hostname: string;
  port: number;
  databaseUrl: string;
  databaseAuthToken: string | null;
  /** raw tier of the series store (RETENTION_HOURS) */
  retentionHours: number;
  /** 1-minute rollups (ROLLUP_1M_RETENTION_DAYS) */
  rollupMinuteRetentionDays: number;
  /** hourly rollups (ROLLUP_1H_RETENTION_DAYS) */
  rollupHourRetentionDays: number;
  /** compaction, rollups and retention run this often (STORE_MAINTENANCE_MS) */
  maintenanceIntervalMs: number;
  /** how long a sample may wait to share its commit (INGEST_COMMIT_WINDOW_MS) */
  commitWindowMs: number;
  env: ServerEnv;
  /** scrypt hash from `deno task hash-password`; null only in development */
  dashboardPasswordHash: string | null;
  sessionSecret: string | null;
  maxFrameBytes: number;
  joinTimeoutMs: number;
  /** how often live agent sockets are checked against rotated or removed tokens */
  tokenCheckMs: number;
  wsAdapter: WsAdapterName;
  /**
   * How agents and people reach this server from outside, e.g.
   * `https://monitor.example` behind a proxy; `host register` prints the
   * agent URL from it. Null when unset.
   */
  publicUrl: string | null;
  // ---- edges (issue 12) ----
  /** addresses/CIDRs whose X-Forwarded-For names the client */
  trustedProxies: string[];
  /** a connection must send a complete request head within this */
  headerTimeoutMs: number;
  /** a connection with no traffic for this long is closed */
  idleTimeoutMs: number;
  /** null: sized from the open-file limit (at most 4096) */
  maxConnections: number | null;
  maxConnectionsPerClient: number;
  /** connections from one address that have not completed a request */
  maxPendingPerClient: number;
  /** largest request body; the login form has its own, smaller cap */
  maxBodyBytes: number;
  /**
   * samples one agent socket may have waiting for their commit
   * (MAX_UNACKED_SAMPLES); more close the socket (agent_socket.ts)
   */
  maxUnackedSamples: number;
  /** and their frames' bytes at most (MAX_UNACKED_BYTES) */
  maxUnackedBytes: number;
  // ---- metrics export (issue 15) ----
  /** METRICS_PUBLIC=1: `/metrics` without an API token */
  metricsPublic: boolean;
  /** null unless REMOTE_WRITE_URL is set */
  remoteWrite: RemoteWriteConfig | null;
  // ---- alerts (issue 14) ----
  /** alerts.toml (rules, channels); a missing file means the defaults */
  alertsFile: string;
}

export type RemoteWriteAuth =
  | { type: "basic"; username: string; password: string }
  | { type: "bearer"; token: string };

export interface RemoteWriteConfig {
  url: string;
  auth: RemoteWriteAuth | null;
  /** queued data older than this is dropped (REMOTE_WRITE_MAX_AGE_HOURS) */
  maxAgeMs: number;
  /** push per-dataset series too (REMOTE_WRITE_DATASETS=1) */
  datasets: boolean;
  /** requests in flight at once (REMOTE_WRITE_MAX_IN_FLIGHT) */
  maxInFlight: number;
  /**
   * send from a Worker with its own database connection, off the ingest
   * thread (REMOTE_WRITE_WORKER, on by default; local database files only)
   */
  worker: boolean;
}

export type ConfigResult =
  | { ok: true; config: ServerConfig; warnings: string[] }
  | { ok: false; error: string };

type Env = Record<string, string | undefined>;

const MIB = 1024 * 1024;

/** The longest RETENTION_HOURS the server accepts (ten years). */
export const MAX_RETENTION_HOURS = 24 * 365 * 10;

/** Every environment variable the server reads, with its default. */
export const SERVER_DEFAULTS = {
  /**
   * Every interface; a development server without a password listens on
   * LOCAL_HOSTNAME instead, unless HOSTNAME is set.
   */
  HOSTNAME: "0.0.0.0",
  PORT: 4000,
  DATABASE_URL: "file:data/proxmon.db",
  RETENTION_HOURS: 48,
  ROLLUP_1M_RETENTION_DAYS: 30,
  ROLLUP_1H_RETENTION_DAYS: 365,
  STORE_MAINTENANCE_MS: 300_000,
  INGEST_COMMIT_WINDOW_MS: 1000,
  PROXMON_ENV: "development",
  MAX_FRAME_BYTES: MIB,
  JOIN_TIMEOUT_MS: 10_000,
  TOKEN_CHECK_MS: 5_000,
  WS_ADAPTER: "deno",
  HEADER_TIMEOUT_MS: 10_000,
  IDLE_TIMEOUT_MS: 90_000,
  MAX_CONNECTIONS_PER_CLIENT: 128,
  MAX_PENDING_PER_CLIENT: 16,
  MAX_BODY_BYTES: MIB,
  MAX_UNACKED_SAMPLES: 1000,
  // an agent keeps 100 in flight: room for them even at MAX_FRAME_BYTES
  MAX_UNACKED_BYTES: 128 * MIB,
  METRICS_PUBLIC: "0",
  REMOTE_WRITE_MAX_AGE_HOURS: 24,
  REMOTE_WRITE_DATASETS: "0",
  REMOTE_WRITE_MAX_IN_FLIGHT: 1,
  REMOTE_WRITE_WORKER: "1",
  ALERTS_FILE: "data/alerts.toml",
} as const;

/** Where a development server without a password listens by default. */
export const LOCAL_HOSTNAME = "127.0.0.1";

const MIN_SESSION_SECRET = 32;

// ---- the schema ------------------------------------------------------------
// Each message names the variable and the value it got, so the one line the
// server prints on a bad setting says what to change.

const got = (issue: v.BaseIssue<unknown>) => JSON.stringify(issue.input);

/** A whole number from `min` to `max`, written in decimal digits. */
function wholeNumberValue(key: string, min: number, max: number) {
  return v.pipe(
    v.string(),
    v.check(
      (raw) => {
        const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
        return Number.isSafeInteger(n) && n >= min && n <= max;
      },
      (issue) =>
        `${key} must be a whole number from ${min} to ${max}, got ${
          got(issue)
        }`,
    ),
    v.transform(Number),
  );
}

function wholeNumber(key: string, min: number, max: number, fallback: number) {
  return v.optional(wholeNumberValue(key, min, max), String(fallback));
}

function oneOf<const T extends string>(
  key: string,
  allowed: readonly T[],
  fallback: T,
) {
  return v.optional(
    v.picklist(
      allowed,
      (issue) =>
        `${key} must be one of ${allowed.join(", ")}, got ${got(issue)}`,
    ),
    fallback,
  );
}

const DatabaseUrl = v.optional(
  v.pipe(
    v.string(),
    v.regex(
      /^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/,
      (issue) =>
        `DATABASE_URL must start with file:, libsql://, http(s):// or ws(s)://, got ${
          got(issue)
        }`,
    ),
  ),
  SERVER_DEFAULTS.DATABASE_URL,
);

const PasswordHash = v.pipe(
  v.string(),
  v.check(
    (hash) => parsePasswordHash(hash) !== null,
    "DASHBOARD_PASSWORD_HASH is not a hash from `deno task hash-password` (expected scrypt$N$r$p$salt$hash)",
  ),
);

const SessionSecret = v.pipe(
  v.string(),
  v.minLength(
    MIN_SESSION_SECRET,
    `SESSION_SECRET must be at least ${MIN_SESSION_SECRET} characters (try \`openssl rand -base64 32\`)`,
  ),
);

const PublicUrl = v.pipe(
  v.string(),
  v.check(
    (s) => /^https?:\/\//i.test(s) && URL.canParse(s),
    (issue) =>
      `PUBLIC_URL must be an http:// or https:// URL such as https://monitor.example, got ${
        got(issue)
      }`,
  ),
  v.transform((s) => s.replace(/\/+$/, "")),
);

/** TRUSTED_PROXIES: comma-separated IP addresses or CIDR ranges. */
function proxyEntryOk(entry: string): boolean {
  const [addr, bits, extra] = entry.split("/");
  const family = isIP(addr);
  const max = family === 4 ? 32 : 128;
  const bitsOk = bits === undefined ||
    (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
  return family !== 0 && bitsOk && extra === undefined;
}

const TrustedProxies = v.pipe(
  v.string(),
  v.transform((raw) =>
    raw.split(",").map((s) => s.trim()).filter((s) => s !== "")
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const bad = dataset.value.find((entry) => !proxyEntryOk(entry));
    if (bad !== undefined) {
      addIssue({
        message:
          `TRUSTED_PROXIES must list IP addresses or CIDR ranges (10.0.0.1, 10.0.0.0/8, ::1), got "${bad}"`,
      });
    }
  }),
);

/** `0` or `1`, read as a boolean. */
function flag(key: string, fallback: "0" | "1") {
  return v.pipe(
    oneOf<"0" | "1">(key, ["0", "1"], fallback),
    v.transform((x) => x === "1"),
  );
}

const RemoteWriteUrl = v.pipe(
  v.string(),
  v.check(
    (s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol),
    (issue) =>
      `REMOTE_WRITE_URL must be an http:// or https:// URL, got ${got(issue)}`,
  ),
);

type ParsedEnv = v.InferOutput<typeof ServerEnvSchema>;

/** REMOTE_WRITE_*: the push target and its one kind of credentials. */
function remoteWrite(e: ParsedEnv): RemoteWriteConfig | string | null {
  if (e.REMOTE_WRITE_URL === undefined) return null;
  const username = e.REMOTE_WRITE_USERNAME;
  const password = e.REMOTE_WRITE_PASSWORD;
  const token = e.REMOTE_WRITE_BEARER_TOKEN;
  if ((username === undefined) !== (password === undefined)) {
    return "REMOTE_WRITE_USERNAME and REMOTE_WRITE_PASSWORD go together (basic auth)";
  }
  if (username !== undefined && token !== undefined) {
    return "set either REMOTE_WRITE_USERNAME/REMOTE_WRITE_PASSWORD or REMOTE_WRITE_BEARER_TOKEN, not both";
  }
  const auth: RemoteWriteAuth | null = username !== undefined
    ? { type: "basic", username, password: password! }
    : token !== undefined
    ? { type: "bearer", token }
    : null;
  return {
    url: e.REMOTE_WRITE_URL,
    auth,
    maxAgeMs: e.REMOTE_WRITE_MAX_AGE_HOURS * 3_600_000,
    datasets: e.REMOTE_WRITE_DATASETS,
    maxInFlight: e.REMOTE_WRITE_MAX_IN_FLIGHT,
    worker: e.REMOTE_WRITE_WORKER,
  };
}

/** The server's environment variables, each optional, with its default. */
export const ServerEnvSchema = v.object({
  PROXMON_ENV: oneOf<ServerEnv>(
    "PROXMON_ENV",
    ["development", "production"],
    SERVER_DEFAULTS.PROXMON_ENV,
  ),
  HOSTNAME: v.optional(v.string()),
  PORT: wholeNumber("PORT", 0, 65_535, SERVER_DEFAULTS.PORT),
  DATABASE_URL: DatabaseUrl,
  DATABASE_AUTH_TOKEN: v.optional(v.string()),
  RETENTION_HOURS: wholeNumber(
    "RETENTION_HOURS",
    1,
    MAX_RETENTION_HOURS,
    SERVER_DEFAULTS.RETENTION_HOURS,
  ),
  ROLLUP_1M_RETENTION_DAYS: wholeNumber(
    "ROLLUP_1M_RETENTION_DAYS",
    1,
    3650,
    SERVER_DEFAULTS.ROLLUP_1M_RETENTION_DAYS,
  ),
  ROLLUP_1H_RETENTION_DAYS: wholeNumber(
    "ROLLUP_1H_RETENTION_DAYS",
    1,
    36500,
    SERVER_DEFAULTS.ROLLUP_1H_RETENTION_DAYS,
  ),
  STORE_MAINTENANCE_MS: wholeNumber(
    "STORE_MAINTENANCE_MS",
    100,
    86_400_000,
    SERVER_DEFAULTS.STORE_MAINTENANCE_MS,
  ),
  INGEST_COMMIT_WINDOW_MS: wholeNumber(
    "INGEST_COMMIT_WINDOW_MS",
    0,
    10_000,
    SERVER_DEFAULTS.INGEST_COMMIT_WINDOW_MS,
  ),
  DASHBOARD_PASSWORD_HASH: v.optional(PasswordHash),
  SESSION_SECRET: v.optional(SessionSecret),
  MAX_FRAME_BYTES: wholeNumber(
    "MAX_FRAME_BYTES",
    1024,
    64 * MIB,
    SERVER_DEFAULTS.MAX_FRAME_BYTES,
  ),
  JOIN_TIMEOUT_MS: wholeNumber(
    "JOIN_TIMEOUT_MS",
    1,
    600_000,
    SERVER_DEFAULTS.JOIN_TIMEOUT_MS,
  ),
  TOKEN_CHECK_MS: wholeNumber(
    "TOKEN_CHECK_MS",
    10,
    3_600_000,
    SERVER_DEFAULTS.TOKEN_CHECK_MS,
  ),
  WS_ADAPTER: oneOf<WsAdapterName>(
    "WS_ADAPTER",
    ["deno", "node"],
    SERVER_DEFAULTS.WS_ADAPTER,
  ),
  PUBLIC_URL: v.optional(PublicUrl),
  // ---- edges (issue 12) ----
  TRUSTED_PROXIES: v.optional(TrustedProxies),
  HEADER_TIMEOUT_MS: wholeNumber(
    "HEADER_TIMEOUT_MS",
    100,
    600_000,
    SERVER_DEFAULTS.HEADER_TIMEOUT_MS,
  ),
  IDLE_TIMEOUT_MS: wholeNumber(
    "IDLE_TIMEOUT_MS",
    1000,
    3_600_000,
    SERVER_DEFAULTS.IDLE_TIMEOUT_MS,
  ),
  MAX_CONNECTIONS: v.optional(
    wholeNumberValue("MAX_CONNECTIONS", 8, 1_000_000),
  ),
  MAX_CONNECTIONS_PER_CLIENT: wholeNumber(
    "MAX_CONNECTIONS_PER_CLIENT",
    1,
    1_000_000,
    SERVER_DEFAULTS.MAX_CONNECTIONS_PER_CLIENT,
  ),
  MAX_PENDING_PER_CLIENT: wholeNumber(
    "MAX_PENDING_PER_CLIENT",
    1,
    1_000_000,
    SERVER_DEFAULTS.MAX_PENDING_PER_CLIENT,
  ),
  MAX_BODY_BYTES: wholeNumber(
    "MAX_BODY_BYTES",
    1024,
    256 * MIB,
    SERVER_DEFAULTS.MAX_BODY_BYTES,
  ),
  MAX_UNACKED_SAMPLES: wholeNumber(
    "MAX_UNACKED_SAMPLES",
    10,
    1_000_000,
    SERVER_DEFAULTS.MAX_UNACKED_SAMPLES,
  ),
  MAX_UNACKED_BYTES: wholeNumber(
    "MAX_UNACKED_BYTES",
    1024,
    4096 * MIB,
    SERVER_DEFAULTS.MAX_UNACKED_BYTES,
  ),
  // ---- metrics export (issue 15) ----
  METRICS_PUBLIC: flag("METRICS_PUBLIC", SERVER_DEFAULTS.METRICS_PUBLIC),
  REMOTE_WRITE_URL: v.optional(RemoteWriteUrl),
  REMOTE_WRITE_USERNAME: v.optional(v.string()),
  REMOTE_WRITE_PASSWORD: v.optional(v.string()),
  REMOTE_WRITE_BEARER_TOKEN: v.optional(v.string()),
  REMOTE_WRITE_MAX_AGE_HOURS: wholeNumber(
    "REMOTE_WRITE_MAX_AGE_HOURS",
    1,
    24 * 365,
    SERVER_DEFAULTS.REMOTE_WRITE_MAX_AGE_HOURS,
  ),
  REMOTE_WRITE_WORKER: flag(
    "REMOTE_WRITE_WORKER",
    SERVER_DEFAULTS.REMOTE_WRITE_WORKER,
  ),
  REMOTE_WRITE_DATASETS: flag(
    "REMOTE_WRITE_DATASETS",
    SERVER_DEFAULTS.REMOTE_WRITE_DATASETS,
  ),
  REMOTE_WRITE_MAX_IN_FLIGHT: wholeNumber(
    "REMOTE_WRITE_MAX_IN_FLIGHT",
    1,
    16,
    SERVER_DEFAULTS.REMOTE_WRITE_MAX_IN_FLIGHT,
  ),
  // ---- alerts (issue 14) ----
  ALERTS_FILE: v.optional(v.string(), SERVER_DEFAULTS.ALERTS_FILE),
});

/** Trimmed values; empty and blank ones count as unset. */
function present(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(env)) {
    const value = raw?.trim();
    if (value) out[key] = value;
  }
  return out;
}

/**
 * Resolves the server's environment variables into a complete config, or a
 * one-line reason why it cannot start. Warnings are for the caller to log.
 */
export function resolveServerConfig(env: Env): ConfigResult {
  const parsed = v.safeParse(ServerEnvSchema, present(env));
  if (!parsed.success) return { ok: false, error: parsed.issues[0].message };
  const e = parsed.output;
  const warnings: string[] = [];
  const hash = e.DASHBOARD_PASSWORD_HASH ?? null;
  if (hash === null) {
    if (e.PROXMON_ENV === "production") {
      return {
        ok: false,
        error:
          "DASHBOARD_PASSWORD_HASH is required when PROXMON_ENV=production; create one with `deno task hash-password`",
      };
    }
    warnings.push(
      e.HOSTNAME === undefined
        ? `DASHBOARD_PASSWORD_HASH is not set: the dashboard and API are open to anyone on this machine, so the server listens on ${LOCAL_HOSTNAME} only (development only; set HOSTNAME to listen elsewhere)`
        : `DASHBOARD_PASSWORD_HASH is not set: the dashboard and API are open to anyone who can reach ${e.HOSTNAME}:${e.PORT} (development only)`,
    );
  }
  const push = remoteWrite(e);
  if (typeof push === "string") return { ok: false, error: push };
  const config: ServerConfig = {
    // Without a password, only this machine may reach the open dashboard
    // unless the operator says otherwise.
    hostname: e.HOSTNAME ??
      (hash === null ? LOCAL_HOSTNAME : SERVER_DEFAULTS.HOSTNAME),
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databaseAuthToken: e.DATABASE_AUTH_TOKEN ?? null,
    retentionHours: e.RETENTION_HOURS,
    rollupMinuteRetentionDays: e.ROLLUP_1M_RETENTION_DAYS,
    rollupHourRetentionDays: e.ROLLUP_1H_RETENTION_DAYS,
    maintenanceIntervalMs: e.STORE_MAINTENANCE_MS,
    commitWindowMs: e.INGEST_COMMIT_WINDOW_MS,
    env: e.PROXMON_ENV,
    dashboardPasswordHash: hash,
    sessionSecret: e.SESSION_SECRET ?? null,
    maxFrameBytes: e.MAX_FRAME_BYTES,
    joinTimeoutMs: e.JOIN_TIMEOUT_MS,
    tokenCheckMs: e.TOKEN_CHECK_MS,
    wsAdapter: e.WS_ADAPTER,
    publicUrl: e.PUBLIC_URL ?? null,
    // ---- edges (issue 12) ----
    trustedProxies: e.TRUSTED_PROXIES ?? [],
    headerTimeoutMs: e.HEADER_TIMEOUT_MS,
    idleTimeoutMs: e.IDLE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS ?? null,
    maxConnectionsPerClient: e.MAX_CONNECTIONS_PER_CLIENT,
    maxPendingPerClient: e.MAX_PENDING_PER_CLIENT,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxUnackedSamples: e.MAX_UNACKED_SAMPLES,
    maxUnackedBytes: e.MAX_UNACKED_BYTES,
    // ---- metrics export (issue 15) ----
    metricsPublic: e.METRICS_PUBLIC,
    remoteWrite: push,
    // ---- alerts (issue 14) ----
    alertsFile: e.ALERTS_FILE,
  };
  return { ok: true, config, warnings };
}
