/** `server/cli.ts` as a real process against a real database file. */
import assert from "node:assert/strict";
import { resolveAgentConfig } from "../agent/config.ts";
import { openDatabase } from "./store/client.ts";
import { authenticateHost, createHost, findHost } from "./store/hosts.ts";
import { hashToken } from "./auth/token_hash.ts";
import { headSamples, recordSamples } from "./store/sample_store.ts";
import { verifyPassword } from "./auth/password.ts";
import { sampleFixture } from "./testing/samples.ts";
import { runScript } from "./testing/subprocess.ts";
import { TestAgent } from "./testing/test_agent.ts";
import { startTestServer } from "./testing/test_server.ts";

async function tempEnv() {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-cli-test-" });
  const env = { DATABASE_URL: `file:${dir}/proxmon.db`, PORT: "4321" };
  return {
    env,
    cli: (...args: string[]) => runScript("cli.ts", args, env),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Exit 1 and exactly one line on stderr matching `pattern`. */
function assertRefused(
  run: { code: number; stdout: string; stderr: string },
  pattern: RegExp,
) {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr.split("\n").filter(Boolean).length, 1, run.stderr);
  assert.match(run.stderr, pattern);
}

Deno.test("host register prints an agent.toml the agent accepts, with a token that joins", async () => {
  await using t = await tempEnv();
  const run = await t.cli("register", "pve-01");
  assert.equal(run.code, 0, run.stderr);
  const { config } = resolveAgentConfig(run.stdout, "agent.toml", {
    hostname: "pve1",
  });
  assert.equal(config.hostName, "pve-01");
  assert.match(config.serverUrl, /^ws:\/\/[^/]+:4321\/agent\/ws$/);
  assert.match(config.token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(run.stdout, /^# node = "pve-01"$/m);

  const db = await openDatabase(t.env.DATABASE_URL);
  const host = await findHost(db, "pve-01");
  assert.equal(host?.tokenHash, hashToken(config.token));
  assert.ok(await authenticateHost(db, "pve-01", config.token));
  db.close();
});

Deno.test("host register refuses a duplicate, empty, spaced or slashed name in one stderr line, exit 1", async (t) => {
  await using e = await tempEnv();
  assert.equal((await e.cli("register", "pve-01")).code, 0);
  const cases: [string[], RegExp][] = [
    [
      ["register", "pve-01"],
      /^proxmon: a host named "pve-01" already exists\n$/,
    ],
    [
      ["register", ""],
      /^proxmon: invalid host name "": name must not be empty\n$/,
    ],
    [
      ["register", "pve 02"],
      /^proxmon: invalid host name "pve 02": name may hold only/,
    ],
    [
      ["register", "pve/02"],
      /^proxmon: invalid host name "pve\/02": name may hold only/,
    ],
    [["register"], /^proxmon: host register needs exactly one NAME\n$/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(JSON.stringify(args), async () => {
      assertRefused(await e.cli(...args), pattern);
    });
  }
});

Deno.test("host rotate, remove and a bad command refuse unknown input in one stderr line, exit 1", async (t) => {
  await using e = await tempEnv();
  const cases: [string[], RegExp][] = [
    [["rotate", "pve-99"], /^proxmon: no host named "pve-99"\n$/],
    [["remove", "pve-99"], /^proxmon: no host named "pve-99"\n$/],
    [["frobnicate"], /^proxmon: unknown command "frobnicate"; usage:/],
    [[], /^proxmon: usage: deno task host register NAME/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(JSON.stringify(args), async () => {
      assertRefused(await e.cli(...args), pattern);
    });
  }
});

Deno.test("host list shows every host with its status", async () => {
  await using t = await tempEnv();
  assert.match((await t.cli("list")).stdout, /^no hosts/);
  await t.cli("register", "pve-02");
  await t.cli("register", "pve-01");
  const run = await t.cli("list");
  assert.equal(run.code, 0);
  const lines = run.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^NAME\s+STATUS\s+AGENT\s+LAST SEEN$/);
  assert.match(lines[1], /^pve-01\s+offline\s+-\s+never$/);
  assert.match(lines[2], /^pve-02\s+offline/);
});

Deno.test("host rotate closes a live agent connection of a running server, and its old token stops working", async () => {
  await using server = await startTestServer({ env: { TOKEN_CHECK_MS: "50" } });
  const oldToken = await server.register("pve-01");
  const agent = await TestAgent.connect(server.wsUrl);
  assert.equal((await agent.join("pve-01", oldToken)).type, "joined");

  const run = await runScript("cli.ts", ["rotate", "pve-01"], {
    DATABASE_URL: server.config.databaseUrl,
  });
  assert.equal(run.code, 0, run.stderr);
  const newToken = run.stdout.match(/^token = "(.+)"$/m)?.[1];
  assert.ok(newToken && newToken !== oldToken);

  assert.deepEqual(await agent.next(), {
    type: "error",
    reason: "unauthorized",
  });
  assert.equal((await agent.waitClosed()).code, 1008);
  const retry = await TestAgent.connect(server.wsUrl);
  assert.equal((await retry.join("pve-01", oldToken)).reason, "unauthorized");
  await retry.waitClosed();
  await using fresh = await TestAgent.connect(server.wsUrl);
  assert.equal((await fresh.join("pve-01", newToken)).type, "joined");
});

Deno.test("host remove deletes the host and its metrics", async () => {
  await using t = await tempEnv();
  const db = await openDatabase(t.env.DATABASE_URL);
  const { host } = await createHost(db, "pve-01", Date.now());
  await createHost(db, "pve-02", Date.now());
  await recordSamples(db, [{
    hostId: host.id,
    interval: "slow",
    collectedAtMs: Date.now(),
    data: await sampleFixture("slow"),
  }], Date.now());
  const run = await t.cli("remove", "pve-01");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "removed pve-01 and its metrics\n");
  assert.equal(await findHost(db, "pve-01"), null);
  assert.ok(await findHost(db, "pve-02"));
  assert.equal((await headSamples(db)).length, 0);
  db.close();
});

Deno.test("host prune deletes samples older than RETENTION_HOURS now", async () => {
  await using t = await tempEnv();
  const db = await openDatabase(t.env.DATABASE_URL);
  const { host } = await createHost(db, "pve-01", Date.now());
  const slow = await sampleFixture("slow");
  const hoursAgo = (h: number) => ({
    hostId: host.id,
    interval: "slow" as const,
    collectedAtMs: Date.now() - h * 3_600_000,
    data: slow,
  });
  await recordSamples(
    db,
    [hoursAgo(3), hoursAgo(2.5), hoursAgo(1)],
    Date.now(),
  );
  const run = await runScript("cli.ts", ["prune"], {
    ...t.env,
    RETENTION_HOURS: "2",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^deleted 2 samples and 0 raw, 0 1-minute and 0 hourly blocks \(raw before \d{4}-\d\d-\d\dT/,
  );
  assert.equal((await headSamples(db)).length, 1);
  db.close();
});

Deno.test("hash-password reads stdin and prints a scrypt hash that verifies", async () => {
  const run = await runScript("cli.ts", ["hash-password"], {}, "s3cret pass\n");
  assert.equal(run.code, 0, run.stderr);
  const hash = run.stdout.trim();
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword("s3cret pass", hash), true);
  assert.equal(await verifyPassword("s3cret pass\n", hash), false);
});

Deno.test("hash-password refuses an empty password", async () => {
  assertRefused(
    await runScript("cli.ts", ["hash-password"], {}, "\n"),
    /^proxmon: the password must not be empty\n$/,
  );
});
