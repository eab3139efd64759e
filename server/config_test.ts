import assert from "node:assert/strict";
import { resolveServerConfig, type ServerConfig } from "./config.ts";
import { hashPassword } from "./auth/password.ts";

// Cheap cost: these tests check parsing, not strength.
const HASH = await hashPassword("pw", { n: 1024, r: 8, p: 1 });

function resolved(env: Record<string, string | undefined>): ServerConfig {
  const result = resolveServerConfig(env);
  if (!result.ok) throw new Error(`unexpected error: ${result.error}`);
  return result.config;
}

function refused(env: Record<string, string | undefined>): string {
  const result = resolveServerConfig(env);
  assert.equal(result.ok, false, "expected the config to be refused");
  return result.ok ? "" : result.error;
}

Deno.test("resolveServerConfig() fills every default from an empty environment", () => {
  const result = resolveServerConfig({});
  assert.ok(result.ok);
  assert.deepEqual(result.config, {
    hostname: "0.0.0.0",
    port: 4000,
    databaseUrl: "file:data/proxmon.db",
    databaseAuthToken: null,
    retentionHours: 48,
    env: "development",
    dashboardPasswordHash: null,
    sessionSecret: null,
    maxFrameBytes: 1024 * 1024,
    joinTimeoutMs: 10_000,
    tokenCheckMs: 5_000,
    wsAdapter: "deno",
  });
});

Deno.test("resolveServerConfig() warns in development when DASHBOARD_PASSWORD_HASH is missing", () => {
  const result = resolveServerConfig({ PROXMON_ENV: "development" });
  assert.ok(result.ok);
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0], /DASHBOARD_PASSWORD_HASH is not set/);
});

Deno.test("resolveServerConfig() refuses production without DASHBOARD_PASSWORD_HASH, in one line", () => {
  const error = refused({ PROXMON_ENV: "production" });
  assert.match(error, /DASHBOARD_PASSWORD_HASH is required/);
  assert.match(error, /hash-password/);
  assert.ok(!error.includes("\n"));
});

Deno.test("resolveServerConfig() takes every setting from the environment", () => {
  const config = resolved({
    HOSTNAME: "127.0.0.1",
    PORT: "8080",
    DATABASE_URL: "libsql://proxmon.example.turso.io",
    DATABASE_AUTH_TOKEN: "tok",
    RETENTION_HOURS: "72",
    PROXMON_ENV: "production",
    DASHBOARD_PASSWORD_HASH: HASH,
    SESSION_SECRET: "s".repeat(40),
    MAX_FRAME_BYTES: "2048",
    JOIN_TIMEOUT_MS: "250",
    TOKEN_CHECK_MS: "100",
    WS_ADAPTER: "node",
  });
  assert.deepEqual(config, {
    hostname: "127.0.0.1",
    port: 8080,
    databaseUrl: "libsql://proxmon.example.turso.io",
    databaseAuthToken: "tok",
    retentionHours: 72,
    env: "production",
    dashboardPasswordHash: HASH,
    sessionSecret: "s".repeat(40),
    maxFrameBytes: 2048,
    joinTimeoutMs: 250,
    tokenCheckMs: 100,
    wsAdapter: "node",
  });
});

Deno.test("resolveServerConfig() treats empty and blank values as unset", () => {
  const config = resolved({ PORT: "", RETENTION_HOURS: "  ", WS_ADAPTER: "" });
  assert.equal(config.port, 4000);
  assert.equal(config.retentionHours, 48);
  assert.equal(config.wsAdapter, "deno");
});

Deno.test("resolveServerConfig() names the bad setting and the bad value", async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { PORT: "http" },
      /^PORT must be a whole number from 0 to 65535, got "http"$/,
    ],
    [{ PORT: "70000" }, /^PORT must be/],
    [{ PORT: "-1" }, /^PORT must be/],
    [{ RETENTION_HOURS: "0" }, /^RETENTION_HOURS must be/],
    [{ RETENTION_HOURS: "1.5" }, /^RETENTION_HOURS must be/],
    [{ MAX_FRAME_BYTES: "1e6" }, /^MAX_FRAME_BYTES must be/],
    [{ JOIN_TIMEOUT_MS: "0" }, /^JOIN_TIMEOUT_MS must be/],
    [
      { PROXMON_ENV: "prod" },
      /^PROXMON_ENV must be one of development, production, got "prod"$/,
    ],
    [{ WS_ADAPTER: "bun" }, /^WS_ADAPTER must be one of deno, node/],
    [{ DATABASE_URL: "postgres://x" }, /^DATABASE_URL must start with file:/],
    [
      { DASHBOARD_PASSWORD_HASH: "hunter2" },
      /not a hash from `deno task hash-password`/,
    ],
    [
      { SESSION_SECRET: "short" },
      /^SESSION_SECRET must be at least 32 characters/,
    ],
  ];
  for (const [env, message] of cases) {
    await t.step(JSON.stringify(env), () => {
      assert.match(refused(env), message);
    });
  }
});
