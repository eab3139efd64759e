/**
 * Clocks that disagree, with the real agent connection and the real server
 * in one process: a sample from the far future is refused with clock_skew,
 * kept by the agent (one warning, with the skew) and stored once the
 * server's clock has caught up; one from before retention is refused and
 * dropped; the agent warns at join when its clock is off by more than 30 s.
 */
import assert from "node:assert/strict";
import { type Clock, systemClock } from "@proxmon/shared/clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { createConnection } from "../agent/connection.ts";
import { Outbox } from "../agent/outbox.ts";
import { DeadLetters } from "../agent/dead_letter.ts";
import { startTestServer } from "../server/testing/test_server.ts";
import { sampleFixture } from "../server/testing/samples.ts";

const HOUR = 3_600_000;

/** The real clock, shifted by a number of ms that the test can change. */
function shiftedClock(shift: { ms: number }): Clock {
  return { ...systemClock, now: () => Date.now() + shift.ms };
}

/**
 * Waits for `cond`. The deadline only ends a test that would hang: on a
 * machine at load 10+ a join and a few round trips took more than the
 * 10 s this was, so it is far above what any step needs.
 */
async function until(cond: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 60_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(agentShiftMs: number) {
  const serverShift = { ms: 0 };
  const server = await startTestServer({ clock: shiftedClock(serverShift) });
  const token = await server.register("pve-skew");
  const log = memoryLogger();
  const outbox = new Outbox(100, log);
  const dir = await Deno.makeTempDir({ prefix: "proxmon-skew-test-" });
  const deadLetters = new DeadLetters(`${dir}/dead.jsonl`, log, systemClock);
  const agentClock = shiftedClock({ ms: agentShiftMs });
  const connection = createConnection({
    url: server.wsUrl,
    hostName: "pve-skew",
    token,
    agentVersion: "0.1.0",
    configPath: "/etc/proxmon/agent.toml",
    outbox,
    clock: agentClock,
    random: Math.random,
    log,
    deadLetters,
    timing: { skewRetryMs: 300 },
  });
  const data = await sampleFixture("fast");
  const add = (atMs: number) =>
    outbox.add({
      interval: "fast",
      collected_at: new Date(atMs).toISOString(),
      data,
    });
  const stored = async () =>
    Number(
      (await server.database.client.execute(
        "SELECT count(*) AS n FROM series_head m JOIN hosts h ON h.id = m.host_id WHERE h.name = 'pve-skew'",
      )).rows[0].n,
    );
  return {
    server,
    serverShift,
    log,
    outbox,
    connection,
    deadLetters,
    add,
    stored,
    agentNow: () => agentClock.now(),
    async [Symbol.asyncDispose]() {
      await connection.stop();
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("an agent clock an hour ahead: warned at join, samples refused with clock_skew, kept, and stored once the server's clock catches up", async () => {
  await using t = await setup(HOUR);
  t.add(t.agentNow());
  t.add(t.agentNow() + 1000);
  t.connection.start();
  await until(
    () => t.log.lines.some((l) => l.includes("as ahead of its clock")),
    "the clock_skew warning",
  );
  // At join: one line naming the offset.
  const clockLine = t.log.lines.find((l) => l.includes("this host's clock is"));
  assert.match(clockLine ?? "", /60 min ahead of the server's/);
  // Nothing stored, nothing dropped, one warning with the skew.
  assert.equal(await t.stored(), 0);
  assert.equal(t.outbox.size, 2);
  assert.equal(t.outbox.stats.nacked, 0);
  assert.equal(t.deadLetters.count, 0);
  const skewLines = t.log.lines.filter((l) => l.includes("ahead of its clock"));
  assert.equal(skewLines.length, 1, t.log.lines.join("\n"));
  assert.match(skewLines[0], /3600 s ahead of the server's clock/);
  // Retries go on quietly until the server's time reaches the samples:
  // wait for the server to have refused both again, however long it takes.
  const refusals = () =>
    t.server.log.lines.filter((l) =>
      l.includes("nacked a sample of pve-skew") && l.includes("clock_skew")
    ).length;
  await until(() => refusals() >= 4, "the samples sent again and refused");
  assert.equal(await t.stored(), 0);
  assert.equal(
    t.log.lines.filter((l) => l.includes("ahead of its clock")).length,
    1,
  );
  t.serverShift.ms = HOUR;
  await until(async () => await t.stored() === 2, "both samples stored");
  await until(() => t.outbox.size === 0, "both acked");
});

Deno.test("a sample older than the server's retention is refused with clock_skew and dropped; a current one is stored", async () => {
  await using t = await setup(0);
  t.add(Date.now() - 49 * HOUR); // RETENTION_HOURS defaults to 48
  t.add(Date.now());
  t.connection.start();
  await until(() => t.outbox.size === 0, "the outbox to drain");
  assert.equal(await t.stored(), 1);
  assert.equal(t.deadLetters.count, 1);
  assert.ok(
    t.log.lines.some((l) =>
      /clock_skew: collected_at is older than the server keeps samples \(RETENTION_HOURS=48/
        .test(l)
    ),
    t.log.lines.join("\n"),
  );
  // In step with the server: no clock warning.
  assert.ok(!t.log.lines.some((l) => l.includes("this host's clock is")));
});

Deno.test("a far-future sample never becomes the latest: the API keeps reporting the real latest", async () => {
  await using t = await setup(0);
  t.add(Date.parse("9999-12-31T23:59:59.999Z"));
  const now = Date.now();
  t.add(now);
  t.connection.start();
  await until(async () => await t.stored() === 1, "the current sample");
  const res = await fetch(`${t.server.url}/api/hosts/pve-skew`);
  const body = await res.json();
  assert.equal(body.samples.fast.collected_at, new Date(now).toISOString());
  // the current one acked; the far-future one kept, not lost
  await until(() => t.outbox.size === 1, "the current sample's ack");
  assert.equal(t.outbox.stats.nacked, 0);
});
