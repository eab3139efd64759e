/** `server/main.ts` as a real process: start-up refusals and clean shutdown. */
import assert from "node:assert/strict";
import { openDatabase } from "./store/client.ts";
import { createHost, findHost, markOnline } from "./store/hosts.ts";
import { headSamples } from "./store/sample_store.ts";
import { hashPassword } from "./auth/password.ts";
import { sampleFixture } from "./testing/samples.ts";
import { runScript, startServerProcess } from "./testing/subprocess.ts";
import { TestAgent } from "./testing/test_agent.ts";
import { readHostCpu } from "./testing/series_samples.ts";

const fast = await sampleFixture("fast");

async function tempDbUrl(t: { dir?: string } = {}) {
  const dir = t.dir ?? await Deno.makeTempDir({ prefix: "proxmon-main-test-" });
  return { dir, url: `file:${dir}/proxmon.db` };
}

Deno.test("main.ts refuses to start in production without DASHBOARD_PASSWORD_HASH, saying why in one line", async () => {
  const { dir, url } = await tempDbUrl();
  const run = await runScript("main.ts", [], {
    PROXMON_ENV: "production",
    DASHBOARD_PASSWORD_HASH: "",
    DATABASE_URL: url,
    PORT: "0",
  });
  assert.notEqual(run.code, 0);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr,
    /^proxmon: cannot start: DASHBOARD_PASSWORD_HASH is required when PROXMON_ENV=production; create one with `deno task hash-password`\n$/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("main.ts refuses a bad setting with exit 1 and names it", async () => {
  const run = await runScript("main.ts", [], { PORT: "eighty" });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^proxmon: cannot start: PORT must be a whole number/,
  );
});

Deno.test("main.ts starts in production with a password hash, logs its URL, and exits 0 on SIGINT", async () => {
  const { dir, url } = await tempDbUrl();
  const hash = await hashPassword("pw", { n: 1024, r: 8, p: 1 });
  const server = await startServerProcess({
    PROXMON_ENV: "production",
    DASHBOARD_PASSWORD_HASH: hash,
    SESSION_SECRET: "x".repeat(32),
    DATABASE_URL: url,
  });
  assert.match(
    server.stdout().split("\n")[0],
    /^proxmon listening on http:\/\/127\.0\.0\.1:\d+ /,
  );
  const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  assert.deepEqual(await res.json(), { ok: true });
  server.signal("SIGINT");
  const done = await server.finished;
  assert.equal(done.code, 0);
  assert.equal(done.stderr, "");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("main.ts warns in development without a password hash and marks stale online hosts offline", async () => {
  const { dir, url } = await tempDbUrl();
  const db = await openDatabase(url);
  const { host } = await createHost(db, "pve-01", Date.now());
  await markOnline(db, host.id, "0.1.0", Date.now()); // as a crash would leave it
  db.close();
  await using server = await startServerProcess({
    PROXMON_ENV: "development",
    DASHBOARD_PASSWORD_HASH: "",
    DATABASE_URL: url,
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/api/hosts/pve-01`);
  assert.equal((await res.json()).status, "offline");
  server.signal("SIGTERM");
  const done = await server.finished;
  assert.equal(done.code, 0);
  assert.match(done.stderr, /^warning: DASHBOARD_PASSWORD_HASH is not set/);
  await Deno.remove(dir, { recursive: true });
});

for (const adapter of ["deno", "node"]) {
  Deno.test(`[${adapter}] SIGTERM during a burst of samples commits every sample received, closes the database and exits 0`, async () => {
    const { dir, url } = await tempDbUrl();
    const db = await openDatabase(url);
    const { token } = await createHost(db, "pve-01", Date.now());
    db.close();
    await using server = await startServerProcess({
      DATABASE_URL: url,
      WS_ADAPTER: adapter,
    });
    const agent = await TestAgent.connect(
      `ws://127.0.0.1:${server.port}/agent/ws`,
    );
    assert.equal((await agent.join("pve-01", token)).type, "joined");
    const base = Date.now() - 3_600_000; // inside retention, behind the clock
    agent.sendFast(fast, base, 0, 300);
    const first = await agent.next();
    assert.equal(first.type, "ack");
    server.signal("SIGTERM");
    // Acks, then error server_shutdown and a 1001 close. With hundreds of
    // frames still unread, Deno may instead cut the socket short (code 0 or
    // 1006); what must hold either way is below: nothing received is lost.
    const rest = await agent.rest();
    const acked = new Set(
      [first, ...rest].filter((m) => m.type === "ack").map((m) => m.ref),
    );
    assert.ok(
      rest.every((m) => m.type === "ack" || m.reason === "server_shutdown"),
      JSON.stringify(rest.filter((m) => m.type !== "ack")),
    );
    const done = await server.finished;
    assert.equal(done.code, 0, done.stderr);

    const stats = done.stdout.match(
      /stopped: (\d+) samples received, (\d+) stored/,
    );
    assert.ok(stats, done.stdout);
    const [received, stored] = [Number(stats[1]), Number(stats[2])];
    const reopened = await openDatabase(url);
    // in the head or, compacted at the stop, in blocks
    const host = await findHost(reopened, "pve-01");
    const rows = await readHostCpu(reopened, host!.id);
    assert.equal(stored, received, "a received sample was not committed");
    assert.equal(rows.length, stored);
    const storedAt = new Set(rows.map(([t]) => t));
    for (const ref of acked) {
      assert.ok(
        storedAt.has(base + Number(ref) * 1000),
        `acked ${ref} not stored`,
      );
    }
    assert.equal((await findHost(reopened, "pve-01"))?.status, "offline");
    reopened.close();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("main.ts says in one line when its port is taken, exit 1", async () => {
  const { dir, url } = await tempDbUrl();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const run = await runScript("main.ts", [], {
      HOSTNAME: "127.0.0.1",
      PORT: String(taken.addr.port),
      DATABASE_URL: url,
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `proxmon: cannot start: 127\\.0\\.0\\.1:${taken.addr.port} is already in use \\(set PORT\\)\\n$`,
      ),
    );
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The local addresses listening on TCP `port`, from /proc/net/tcp and tcp6. */
async function listenersOn(port: number): Promise<string[]> {
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue; // 0A: LISTEN
      const [addr, hexPort] = local.split(":");
      if (parseInt(hexPort, 16) === port) out.push(addr);
    }
  }
  return out;
}

Deno.test("main.ts in development without a password listens on 127.0.0.1 only, and says so", async () => {
  const { dir, url } = await tempDbUrl();
  await using server = await startServerProcess({
    PROXMON_ENV: "development",
    DASHBOARD_PASSWORD_HASH: "",
    HOSTNAME: "", // unset: the default decides
    DATABASE_URL: url,
  });
  // 0100007F is 127.0.0.1 as the kernel prints it (little-endian hex)
  assert.deepEqual(await listenersOn(server.port), ["0100007F"]);
  assert.ok(
    server.stdout().split("\n").some((l) =>
      l.startsWith(`proxmon listening on http://127.0.0.1:${server.port} `)
    ),
    server.stdout(),
  );
  server.signal("SIGTERM");
  const done = await server.finished;
  assert.equal(done.code, 0);
  assert.match(done.stderr, /listens on 127\.0\.0\.1 only/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("main.ts with HOSTNAME=0.0.0.0 listens on every interface and logs that address", async () => {
  const { dir, url } = await tempDbUrl();
  await using server = await startServerProcess({
    HOSTNAME: "0.0.0.0",
    DATABASE_URL: url,
  });
  assert.deepEqual(await listenersOn(server.port), ["00000000"]);
  assert.ok(
    server.stdout().split("\n").some((l) =>
      l.startsWith(`proxmon listening on http://0.0.0.0:${server.port} `) &&
      l.includes("every interface")
    ),
    server.stdout(),
  );
  server.signal("SIGTERM");
  assert.equal((await server.finished).code, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("after a clean stop (SIGTERM), a copy of proxmon.db alone holds every sample", async () => {
  const { dir, url } = await tempDbUrl();
  const db = await openDatabase(url);
  const { token } = await createHost(db, "pve-01", Date.now());
  db.close();
  await using server = await startServerProcess({ DATABASE_URL: url });
  const agent = await TestAgent.connect(
    `ws://127.0.0.1:${server.port}/agent/ws`,
  );
  assert.equal((await agent.join("pve-01", token)).type, "joined");
  const base = Date.now() - 3_600_000; // inside retention, behind the clock
  const count = 200;
  agent.sendFast(fast, base, 0, count);
  const acked = new Set<number>();
  while (acked.size < count) {
    const msg = await agent.next();
    assert.equal(msg.type, "ack", JSON.stringify(msg));
    if (msg.type === "ack") acked.add(Number(msg.ref));
  }
  // Far fewer samples than SQLite's automatic checkpoint (1000 pages)
  // needs, so without the checkpoint at shutdown they would sit in the WAL.
  server.signal("SIGTERM");
  assert.equal((await server.finished).code, 0);

  const copy = await Deno.makeTempDir({ prefix: "proxmon-backup-copy-" });
  await Deno.copyFile(`${dir}/proxmon.db`, `${copy}/proxmon.db`);
  const reopened = await openDatabase(`file:${copy}/proxmon.db`);
  const host = await findHost(reopened, "pve-01");
  const rows = await readHostCpu(reopened, host!.id);
  // the clean stop compacted the open window: blocks now, not head rows
  const head = await headSamples(reopened);
  reopened.close();
  assert.equal(rows.length, count);
  assert.equal(head.length, 0);
  const wal = await Deno.stat(`${dir}/proxmon.db-wal`).catch(() => null);
  assert.ok(wal === null || wal.size === 0, `WAL left with ${wal?.size} bytes`);
  await Deno.remove(copy, { recursive: true });
  await Deno.remove(dir, { recursive: true });
});
