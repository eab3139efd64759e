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
    // no password in development: this machine only
    hostname: "127.0.0.1",
    port: 4000,
    databaseUrl: "file:data/proxmon.db",
    databaseAuthToken: null,
    retentionHours: 48,
    rollupMinuteRetentionDays: 30,
    rollupHourRetentionDays: 365,
    maintenanceIntervalMs: 300_000,
    commitWindowMs: 1000,
    env: "development",
    dashboardPasswordHash: null,
    sessionSecret: null,
    maxFrameBytes: 1024 * 1024,
    joinTimeoutMs: 10_000,
    tokenCheckMs: 5_000,
    wsAdapter: "deno",
    trustedProxies: [],
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 90_000,
    maxConnections: null,
    maxConnectionsPerClient: 128,
    maxPendingPerClient: 16,
    maxBodyBytes: 1024 * 1024,
    maxUnackedSamples: 1000,
    maxUnackedBytes: 128 * 1024 * 1024,
    metricsPublic: false,
    remoteWrite: null,
    alertsFile: "data/alerts.toml",
    publicUrl: null,
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
    ROLLUP_1M_RETENTION_DAYS: "7",
    ROLLUP_1H_RETENTION_DAYS: "90",
    PROXMON_ENV: "production",
    DASHBOARD_PASSWORD_HASH: HASH,
    SESSION_SECRET: "s".repeat(40),
    MAX_FRAME_BYTES: "2048",
    JOIN_TIMEOUT_MS: "250",
    TOKEN_CHECK_MS: "100",
    WS_ADAPTER: "node",
    TRUSTED_PROXIES: "10.0.0.1, 192.168.0.0/16,::1",
    HEADER_TIMEOUT_MS: "5000",
    IDLE_TIMEOUT_MS: "30000",
    MAX_CONNECTIONS: "500",
    MAX_CONNECTIONS_PER_CLIENT: "20",
    MAX_PENDING_PER_CLIENT: "4",
    MAX_BODY_BYTES: "65536",
    MAX_UNACKED_SAMPLES: "500",
    MAX_UNACKED_BYTES: "65536",
    METRICS_PUBLIC: "1",
    REMOTE_WRITE_URL: "https://vm.example.net/api/v1/write",
    REMOTE_WRITE_BEARER_TOKEN: "rw-token",
    REMOTE_WRITE_MAX_AGE_HOURS: "6",
    REMOTE_WRITE_DATASETS: "1",
    REMOTE_WRITE_MAX_IN_FLIGHT: "4",
    REMOTE_WRITE_WORKER: "0",
    ALERTS_FILE: "/etc/proxmon/alerts.toml",
    PUBLIC_URL: "https://monitor.example/",
  });
  assert.deepEqual(config, {
    hostname: "127.0.0.1",
    port: 8080,
    databaseUrl: "libsql://proxmon.example.turso.io",
    databaseAuthToken: "tok",
    retentionHours: 72,
    rollupMinuteRetentionDays: 7,
    rollupHourRetentionDays: 90,
    maintenanceIntervalMs: 300_000,
    commitWindowMs: 1000,
    env: "production",
    dashboardPasswordHash: HASH,
    sessionSecret: "s".repeat(40),
    maxFrameBytes: 2048,
    joinTimeoutMs: 250,
    tokenCheckMs: 100,
    wsAdapter: "node",
    trustedProxies: ["10.0.0.1", "192.168.0.0/16", "::1"],
    headerTimeoutMs: 5000,
    idleTimeoutMs: 30_000,
    maxConnections: 500,
    maxConnectionsPerClient: 20,
    maxPendingPerClient: 4,
    maxBodyBytes: 65536,
    maxUnackedSamples: 500,
    maxUnackedBytes: 65536,
    metricsPublic: true,
    remoteWrite: {
      url: "https://vm.example.net/api/v1/write",
      auth: { type: "bearer", token: "rw-token" },
      maxAgeMs: 6 * 3_600_000,
      datasets: true,
      maxInFlight: 4,
      worker: false,
    },
    alertsFile: "/etc/proxmon/alerts.toml",
    publicUrl: "https://monitor.example",
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
    [
      { PUBLIC_URL: "monitor.example" },
      /^PUBLIC_URL must be an http:\/\/ or https:\/\/ URL/,
    ],
  ];
  for (const [env, message] of cases) {
    await t.step(JSON.stringify(env), () => {
      assert.match(refused(env), message);
    });
  }
});

Deno.test("resolveServerConfig() refuses TRUSTED_PROXIES entries that are not addresses or ranges", () => {
  for (
    const bad of [
      "proxy.lan",
      "10.0.0.0/33",
      "10.0.0.1/8/1",
      "::1/129",
      "10.0.0",
    ]
  ) {
    assert.match(
      refused({ TRUSTED_PROXIES: `10.0.0.1,${bad}` }),
      new RegExp(
        `^TRUSTED_PROXIES must list IP addresses or CIDR ranges .*"${
          bad.replaceAll(".", "\\.")
        }"`,
      ),
    );
  }
});

Deno.test("resolveServerConfig() takes basic auth for remote_write and refuses half or double credentials", () => {
  const url = "http://127.0.0.1:8428/api/v1/write";
  const config = resolved({
    REMOTE_WRITE_URL: url,
    REMOTE_WRITE_USERNAME: "proxmon",
    REMOTE_WRITE_PASSWORD: "secret",
  });
  assert.deepEqual(config.remoteWrite, {
    url,
    auth: { type: "basic", username: "proxmon", password: "secret" },
    maxAgeMs: 24 * 3_600_000,
    datasets: false,
    maxInFlight: 1,
    worker: true,
  });
  assert.match(
    refused({ REMOTE_WRITE_URL: url, REMOTE_WRITE_USERNAME: "proxmon" }),
    /REMOTE_WRITE_USERNAME and REMOTE_WRITE_PASSWORD go together/,
  );
  assert.match(
    refused({
      REMOTE_WRITE_URL: url,
      REMOTE_WRITE_USERNAME: "u",
      REMOTE_WRITE_PASSWORD: "p",
      REMOTE_WRITE_BEARER_TOKEN: "t",
    }),
    /not both/,
  );
  assert.match(
    refused({ REMOTE_WRITE_URL: "vm:8428" }),
    /REMOTE_WRITE_URL must be an http:\/\/ or https:\/\/ URL/,
  );
  assert.match(
    refused({ METRICS_PUBLIC: "yes" }),
    /METRICS_PUBLIC must be one of 0, 1/,
  );
});

Deno.test("resolveServerConfig() listens on 127.0.0.1 without a password in development, unless HOSTNAME says otherwise", () => {
  const open = resolveServerConfig({});
  assert.ok(open.ok);
  assert.equal(open.config.hostname, "127.0.0.1");
  assert.match(open.warnings[0], /listens on 127\.0\.0\.1 only/);

  const chosen = resolveServerConfig({ HOSTNAME: "0.0.0.0" });
  assert.ok(chosen.ok);
  assert.equal(chosen.config.hostname, "0.0.0.0");
  assert.match(
    chosen.warnings[0],
    /open to anyone who can reach 0\.0\.0\.0:4000/,
  );

  // With a password the dashboard is guarded: every interface, as before.
  assert.equal(resolved({ DASHBOARD_PASSWORD_HASH: HASH }).hostname, "0.0.0.0");
  assert.equal(
    resolved({ PROXMON_ENV: "production", DASHBOARD_PASSWORD_HASH: HASH })
      .hostname,
    "0.0.0.0",
  );
});
