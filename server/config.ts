/**
 * Server configuration: the environment, resolved once by a pure function
 * into a config where every field is set. `main.ts` is the only caller that
 * passes the real environment; tests pass plain objects.
 */
import { isIP } from "node:net";
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
  env: ServerEnv;
  /** scrypt hash from `deno task hash-password`; null only in development */
  dashboardPasswordHash: string | null;
  sessionSecret: string | null;
  maxFrameBytes: number;
  joinTimeoutMs: number;
  /** how often live agent sockets are checked against rotated or removed tokens */
  tokenCheckMs: number;
  wsAdapter: WsAdapterName;
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
  /** METRICS_PUBLIC=1: `/metrics` without an API token */
  metricsPublic: boolean;
  /** null unless REMOTE_WRITE_URL is set */
  remoteWrite: RemoteWriteConfig | null;
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
}

export type ConfigResult =
  | { ok: true; config: ServerConfig; warnings: string[] }
  | { ok: false; error: string };

type Env = Record<string, string | undefined>;

const MIB = 1024 * 1024;

/** Every environment variable the server reads, with its default. */
export const SERVER_DEFAULTS = {
  HOSTNAME: "0.0.0.0",
  PORT: 4000,
  DATABASE_URL: "file:data/proxmon.db",
  RETENTION_HOURS: 48,
  ROLLUP_1M_RETENTION_DAYS: 30,
  ROLLUP_1H_RETENTION_DAYS: 365,
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
  METRICS_PUBLIC: "0",
  REMOTE_WRITE_MAX_AGE_HOURS: 24,
  REMOTE_WRITE_DATASETS: "0",
  ALERTS_FILE: "data/alerts.toml",
} as const;

const MIN_SESSION_SECRET = 32;

class ConfigError extends Error {}

function value(env: Env, key: string): string | undefined {
  const raw = env[key]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

function integer(
  env: Env,
  key: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = value(env, key);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${key} must be a whole number from ${min} to ${max}, got "${raw}"`,
    );
  }
  return n;
}

function oneOf<T extends string>(
  env: Env,
  key: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = value(env, key);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(
      `${key} must be one of ${allowed.join(", ")}, got "${raw}"`,
    );
  }
  return raw as T;
}

function databaseUrl(env: Env): string {
  const url = value(env, "DATABASE_URL") ?? SERVER_DEFAULTS.DATABASE_URL;
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(url)) {
    throw new ConfigError(
      `DATABASE_URL must start with file:, libsql://, http(s):// or ws(s)://, got "${url}"`,
    );
  }
  return url;
}

function passwordHash(env: Env, mode: ServerEnv, warnings: string[]) {
  const hash = value(env, "DASHBOARD_PASSWORD_HASH") ?? null;
  if (hash === null) {
    if (mode === "production") {
      throw new ConfigError(
        "DASHBOARD_PASSWORD_HASH is required when PROXMON_ENV=production; create one with `deno task hash-password`",
      );
    }
    warnings.push(
      "DASHBOARD_PASSWORD_HASH is not set: the dashboard and API are open to anyone who can reach this port (development only)",
    );
    return null;
  }
  if (parsePasswordHash(hash) === null) {
    throw new ConfigError(
      "DASHBOARD_PASSWORD_HASH is not a hash from `deno task hash-password` (expected scrypt$N$r$p$salt$hash)",
    );
  }
  return hash;
}

/** TRUSTED_PROXIES: comma-separated IP addresses or CIDR ranges. */
function trustedProxies(env: Env): string[] {
  const raw = value(env, "TRUSTED_PROXIES");
  if (raw === undefined) return [];
  const entries = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split("/");
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined ||
      (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new ConfigError(
        `TRUSTED_PROXIES must list IP addresses or CIDR ranges (10.0.0.1, 10.0.0.0/8, ::1), got "${entry}"`,
      );
    }
  }
  return entries;
}

function sessionSecret(env: Env): string | null {
  const secret = value(env, "SESSION_SECRET") ?? null;
  if (secret !== null && secret.length < MIN_SESSION_SECRET) {
    throw new ConfigError(
      `SESSION_SECRET must be at least ${MIN_SESSION_SECRET} characters (try \`openssl rand -base64 32\`)`,
    );
  }
  return secret;
}

function flag(env: Env, key: string, fallback: "0" | "1"): boolean {
  return oneOf(env, key, ["0", "1"], fallback) === "1";
}

function remoteWrite(env: Env): RemoteWriteConfig | null {
  const url = value(env, "REMOTE_WRITE_URL");
  if (url === undefined) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  if (parsed === null || !/^https?:$/.test(parsed.protocol)) {
    throw new ConfigError(
      `REMOTE_WRITE_URL must be an http:// or https:// URL, got "${url}"`,
    );
  }
  const username = value(env, "REMOTE_WRITE_USERNAME");
  const password = value(env, "REMOTE_WRITE_PASSWORD");
  const token = value(env, "REMOTE_WRITE_BEARER_TOKEN");
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError(
      "REMOTE_WRITE_USERNAME and REMOTE_WRITE_PASSWORD go together (basic auth)",
    );
  }
  if (username !== undefined && token !== undefined) {
    throw new ConfigError(
      "set either REMOTE_WRITE_USERNAME/REMOTE_WRITE_PASSWORD or REMOTE_WRITE_BEARER_TOKEN, not both",
    );
  }
  const auth: RemoteWriteAuth | null = username !== undefined
    ? { type: "basic", username, password: password! }
    : token !== undefined
    ? { type: "bearer", token }
    : null;
  return {
    url,
    auth,
    maxAgeMs: integer(
      env,
      "REMOTE_WRITE_MAX_AGE_HOURS",
      SERVER_DEFAULTS.REMOTE_WRITE_MAX_AGE_HOURS,
      1,
      24 * 365,
    ) * 3_600_000,
    datasets: flag(env, "REMOTE_WRITE_DATASETS", "0"),
  };
}

/**
 * Resolves the server's environment variables into a complete config, or a
 * one-line reason why it cannot start. Warnings are for the caller to log.
 */
export function resolveServerConfig(env: Env): ConfigResult {
  const warnings: string[] = [];
  try {
    const mode = oneOf<ServerEnv>(
      env,
      "PROXMON_ENV",
      ["development", "production"],
      SERVER_DEFAULTS.PROXMON_ENV,
    );
    const config: ServerConfig = {
      hostname: value(env, "HOSTNAME") ?? SERVER_DEFAULTS.HOSTNAME,
      port: integer(env, "PORT", SERVER_DEFAULTS.PORT, 0, 65_535),
      databaseUrl: databaseUrl(env),
      databaseAuthToken: value(env, "DATABASE_AUTH_TOKEN") ?? null,
      retentionHours: integer(
        env,
        "RETENTION_HOURS",
        SERVER_DEFAULTS.RETENTION_HOURS,
        1,
        24 * 365 * 10,
      ),
      rollupMinuteRetentionDays: integer(
        env,
        "ROLLUP_1M_RETENTION_DAYS",
        SERVER_DEFAULTS.ROLLUP_1M_RETENTION_DAYS,
        1,
        3650,
      ),
      rollupHourRetentionDays: integer(
        env,
        "ROLLUP_1H_RETENTION_DAYS",
        SERVER_DEFAULTS.ROLLUP_1H_RETENTION_DAYS,
        1,
        36500,
      ),
      env: mode,
      dashboardPasswordHash: passwordHash(env, mode, warnings),
      sessionSecret: sessionSecret(env),
      maxFrameBytes: integer(
        env,
        "MAX_FRAME_BYTES",
        SERVER_DEFAULTS.MAX_FRAME_BYTES,
        1024,
        64 * MIB,
      ),
      joinTimeoutMs: integer(
        env,
        "JOIN_TIMEOUT_MS",
        SERVER_DEFAULTS.JOIN_TIMEOUT_MS,
        1,
        600_000,
      ),
      tokenCheckMs: integer(
        env,
        "TOKEN_CHECK_MS",
        SERVER_DEFAULTS.TOKEN_CHECK_MS,
        10,
        3_600_000,
      ),
      wsAdapter: oneOf<WsAdapterName>(
        env,
        "WS_ADAPTER",
        ["deno", "node"],
        SERVER_DEFAULTS.WS_ADAPTER,
      ),
      trustedProxies: trustedProxies(env),
      headerTimeoutMs: integer(
        env,
        "HEADER_TIMEOUT_MS",
        SERVER_DEFAULTS.HEADER_TIMEOUT_MS,
        100,
        600_000,
      ),
      idleTimeoutMs: integer(
        env,
        "IDLE_TIMEOUT_MS",
        SERVER_DEFAULTS.IDLE_TIMEOUT_MS,
        1000,
        3_600_000,
      ),
      maxConnections: value(env, "MAX_CONNECTIONS") === undefined
        ? null
        : integer(env, "MAX_CONNECTIONS", 0, 8, 1_000_000),
      maxConnectionsPerClient: integer(
        env,
        "MAX_CONNECTIONS_PER_CLIENT",
        SERVER_DEFAULTS.MAX_CONNECTIONS_PER_CLIENT,
        1,
        1_000_000,
      ),
      maxPendingPerClient: integer(
        env,
        "MAX_PENDING_PER_CLIENT",
        SERVER_DEFAULTS.MAX_PENDING_PER_CLIENT,
        1,
        1_000_000,
      ),
      maxBodyBytes: integer(
        env,
        "MAX_BODY_BYTES",
        SERVER_DEFAULTS.MAX_BODY_BYTES,
        1024,
        256 * MIB,
      ),
      metricsPublic: flag(
        env,
        "METRICS_PUBLIC",
        SERVER_DEFAULTS.METRICS_PUBLIC,
      ),
      remoteWrite: remoteWrite(env),
      alertsFile: value(env, "ALERTS_FILE") ?? SERVER_DEFAULTS.ALERTS_FILE,
    };
    return { ok: true, config, warnings };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, error: err.message };
    throw err;
  }
}
