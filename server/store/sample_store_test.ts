import assert from "node:assert/strict";
import type { Interval, PayloadFor } from "@proxmon/shared";
import { createHost, rotateToken } from "./hosts.ts";
import { hashToken } from "../auth/token_hash.ts";
import {
  flushLatest,
  headSamples,
  LATEST_WRITE_MS,
  latestSample,
  latestSamplesByHost,
  recordSamples,
  type SampleInput,
} from "./sample_store.ts";
import { type Database, openDatabase } from "./client.ts";
import { forEachHeadPoint } from "./head_codec.ts";
import { listSeries } from "./series_query.ts";
import { queryStateChanges } from "./state_changes.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { sampleFixture } from "../testing/samples.ts";

const NOW = Date.UTC(2026, 3, 21, 12);
const SEC = 1000;

async function setup() {
  const t = await openTempDatabase();
  const { host, token } = await createHost(t.database, "pve-01", NOW);
  return { t, host, token, database: t.database };
}

// TypeScript cannot see that `interval` picks the type of `data` here.
const input = <I extends Interval>(
  hostId: number,
  interval: I,
  offsetMs: number,
  data: PayloadFor<I>,
) => ({ hostId, interval, collectedAtMs: NOW + offsetMs, data }) as SampleInput;

/** Opens the database file again, as a restarted server would, for `fn`. */
async function reopen(url: string, fn: (database: Database) => Promise<void>) {
  const reopened = await openDatabase(url);
  try {
    await fn(reopened);
  } finally {
    reopened.close();
  }
}

Deno.test("recordSamples() keeps the payload as latest state and the numbers in the head", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("fast");
  const outcomes = await recordSamples(
    database,
    [input(host.id, "fast", 0, data)],
    NOW + 5,
  );
  assert.deepEqual(outcomes, ["stored"]);
  const latest = await latestSample(database, host.id, "fast");
  assert.deepEqual(latest?.payload, data);
  assert.equal(latest?.collectedAtMs, NOW);
  const [head] = await headSamples(database);
  assert.equal(head.collectedAtMs, NOW);
  const series = await listSeries(database, host.id);
  const byId = new Map(series.map((s) => [s.id, s]));
  const values = new Map<string, number>();
  forEachHeadPoint(head.points, (id, scaled) => {
    const s = byId.get(id)!;
    values.set(`${s.kind}/${s.object}/${s.metric}`, scaled);
  });
  // precision: percent to 0.01 (scaled by 100), bytes whole, to 4
  // significant digits (series_catalog.ts)
  assert.equal(
    values.get("host//cpu"),
    Math.round(data.host.cpu_percent! * 100),
  );
  assert.equal(values.get("pool/tank/capacity"), 62 * 100);
  assert.equal(values.get("guest/100/cpu"), Math.round(0.0312 * 100 * 100));
  assert.equal(values.get("storage/local/used"), 7_954_000_000);
  assert.equal(values.get("host//load1"), Math.round(data.host.load1! * 100));
  // guest rates need a previous sample
  assert.equal(values.has("guest/100/net_in"), false);
});

Deno.test("recordSamples() derives guest rates from the previous fast sample's counters", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const a = await sampleFixture("fast");
  const b = structuredClone(a);
  const g = b.vms_runtime.vms[0];
  g.netin_bytes = g.netin_bytes! + 10_000 * 10; // 10 kB/s over 10 s
  g.diskwrite_bytes = g.diskwrite_bytes! - 1; // a counter reset: no rate
  await recordSamples(database, [input(host.id, "fast", 0, a)], NOW);
  await recordSamples(database, [input(host.id, "fast", 10 * SEC, b)], NOW);
  const series = await listSeries(database, host.id, {
    kind: "guest",
    object: "100",
  });
  const id = (m: string) => series.find((s) => s.metric === m)?.id;
  const [, second] = await headSamples(database);
  const got = new Map<number, number>();
  forEachHeadPoint(second.points, (i, v) => got.set(i, v));
  assert.equal(got.get(id("net_in")!), 10_000);
  assert.equal(
    id("disk_write") === undefined || !got.has(id("disk_write")!),
    true,
  );
});

Deno.test("recordSamples() reports a replay as duplicate and keeps one head row", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("medium");
  const s = input(host.id, "medium", 0, data);
  assert.deepEqual(await recordSamples(database, [s], NOW), ["stored"]);
  assert.deepEqual(await recordSamples(database, [s, s], NOW), [
    "duplicate",
    "duplicate",
  ]);
  assert.equal((await headSamples(database)).length, 1);
});

Deno.test("recordSamples() stores a sample sent twice in one batch once: one head row, one queue row, one set of state changes", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("fast");
  const queued = {
    enqueuedAtMs: NOW,
    samples: 3,
    body: new Uint8Array([1, 2, 3]),
  };
  const s = { ...input(host.id, "fast", 0, data), queued };
  assert.deepEqual(await recordSamples(database, [s, s], NOW), [
    "stored",
    "duplicate",
  ]);
  const count = async (table: string) =>
    Number(
      (await database.client.execute(`SELECT COUNT(*) AS n FROM ${table}`))
        .rows[0].n,
    );
  assert.equal(await count("series_head"), 1);
  assert.equal(await count("remote_write_queue"), 1);
  const changes = await count("state_changes");
  assert.ok(changes > 0);
  // the same again, later: a replay, which adds nothing
  assert.deepEqual(await recordSamples(database, [s], NOW), ["duplicate"]);
  assert.equal(await count("remote_write_queue"), 1);
  assert.equal(await count("state_changes"), changes);
});

Deno.test("after a restart, a replayed fast sample newer than the stored latest payload adds no state changes and no queue row", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("fast");
  const stopped = structuredClone(data);
  stopped.vms_runtime.vms[0].status = "stopped";
  const queued = { enqueuedAtMs: NOW, samples: 1, body: new Uint8Array([9]) };
  // The second sample changes state; its payload reaches latest_samples
  // only a minute later, so a restarted server does not know it.
  await recordSamples(database, [input(host.id, "fast", 0, data)], NOW);
  const second = { ...input(host.id, "fast", 10 * SEC, stopped), queued };
  assert.deepEqual(await recordSamples(database, [second], NOW), ["stored"]);
  const again = await openDatabase(t.url);
  try {
    const n = async (table: string) =>
      Number(
        (await again.client.execute(`SELECT COUNT(*) AS n FROM ${table}`))
          .rows[0].n,
      );
    const before = [await n("state_changes"), await n("remote_write_queue")];
    assert.deepEqual(await recordSamples(again, [second], NOW), ["duplicate"]);
    assert.deepEqual(
      [await n("state_changes"), await n("remote_write_queue")],
      before,
    );
  } finally {
    again.close();
  }
});

Deno.test("recordSamples() refuses unknown hosts, rotated tokens and bad intervals", async () => {
  const { t, host, token, database } = await setup();
  await using _ = t;
  const data = await sampleFixture("slow");
  await rotateToken(database, "pve-01");
  const outcomes = await recordSamples(database, [
    { ...input(host.id, "slow", 0, data), tokenHash: await hashToken(token) },
    input(host.id + 99, "slow", 0, data),
    input(host.id, "hourly" as Interval, 0, data),
  ], NOW);
  assert.deepEqual(outcomes, [
    "token_changed",
    "unknown_host",
    "invalid_interval",
  ]);
  assert.equal((await headSamples(database)).length, 0);
  assert.equal(await latestSample(database, host.id, "slow"), null);
});

Deno.test("recordSamples() keeps the newest payload as latest when an older one is replayed", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const fast = await sampleFixture("fast");
  const older = structuredClone(fast);
  older.host.cpu_percent = 99;
  await recordSamples(database, [input(host.id, "fast", 10 * SEC, fast)], NOW);
  await recordSamples(database, [input(host.id, "fast", 0, older)], NOW);
  const latest = await latestSample(database, host.id, "fast");
  assert.equal(latest?.collectedAtMs, NOW + 10 * SEC);
  assert.equal(
    latest?.payload.host.cpu_percent,
    fast.host.cpu_percent,
  );
  assert.equal((await headSamples(database)).length, 2);
  const byHost = await latestSamplesByHost(database, "fast");
  assert.equal(byHost.get(host.id)?.collectedAtMs, NOW + 10 * SEC);
});

Deno.test("recordSamples() records state changes once, and a guest that disappears", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const a = await sampleFixture("fast");
  const b = structuredClone(a);
  b.vms_runtime.vms[0].status = "stopped";
  const c = structuredClone(b);
  const gone = c.vms_runtime.vms.pop()!.vmid;
  c.zfs_pools.pools[0].health = "DEGRADED";
  await recordSamples(database, [input(host.id, "fast", 0, a)], NOW);
  await recordSamples(database, [input(host.id, "fast", 10 * SEC, a)], NOW);
  // b and c in one batch, in reverse order: changes are still worked out in time order
  await recordSamples(database, [
    input(host.id, "fast", 30 * SEC, c),
    input(host.id, "fast", 20 * SEC, b),
  ], NOW);
  const status = await queryStateChanges(database, {
    hostId: host.id,
    kind: "guest.status",
    object: "100",
  });
  assert.deepEqual(status.map((e) => [e.at - NOW, e.value, e.previous]), [
    [20 * SEC, "stopped", "running"],
    [0, "running", null],
  ]);
  const goneEvents = await queryStateChanges(database, {
    hostId: host.id,
    kind: "guest",
    object: String(gone),
  });
  assert.equal(goneEvents[0].at, NOW + 30 * SEC);
  assert.equal(goneEvents[0].value, null);
  const health = await queryStateChanges(database, {
    hostId: host.id,
    kind: "pool.health",
    object: a.zfs_pools.pools[0].name,
  });
  assert.equal(health[0].value, "DEGRADED");
});

Deno.test("recordSamples() after a restart compares with the stored latest state, not with nothing", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const a = await sampleFixture("fast");
  await recordSamples(database, [input(host.id, "fast", 0, a)], NOW);
  await reopen(t.url, async (reopened) => {
    const b = structuredClone(a);
    b.vms_runtime.vms[0].netin_bytes = b.vms_runtime.vms[0].netin_bytes! +
      50_000;
    await recordSamples(reopened, [input(host.id, "fast", 10 * SEC, b)], NOW);
    const status = await queryStateChanges(reopened, {
      hostId: host.id,
      kind: "guest.status",
      object: "100",
    });
    assert.equal(status.length, 1, "no second 'running' after a restart");
    const net = (await listSeries(reopened, host.id, {
      kind: "guest",
      object: "100",
      metric: "net_in",
    }))[0];
    assert.ok(net, "the rate came from the stored previous sample");
  });
});

Deno.test("recordSamples() writes a fast payload to disk at most once per LATEST_WRITE_MS, serves the newest from memory, and flushLatest() writes it", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const base = await sampleFixture("fast");
  for (let i = 0; i < 4; i++) {
    const data = structuredClone(base);
    data.host.cpu_percent = i;
    await recordSamples(
      database,
      [input(host.id, "fast", i * 10 * SEC, data)],
      NOW,
    );
  }
  const row = async () =>
    Number(
      (await database.client.execute(
        "SELECT collected_at FROM latest_samples WHERE interval_type = 'fast'",
      )).rows[0].collected_at,
    );
  assert.equal(await row(), NOW, "only the first was written");
  const latest = await latestSample(database, host.id, "fast");
  assert.equal(latest?.collectedAtMs, NOW + 30 * SEC);
  assert.equal(latest?.payload.host.cpu_percent, 3);
  assert.equal(
    (await latestSamplesByHost(database, "fast")).get(host.id)?.collectedAtMs,
    NOW + 30 * SEC,
  );
  // LATEST_WRITE_MS after the last write, the next one goes to disk
  const next = LATEST_WRITE_MS;
  await recordSamples(database, [input(host.id, "fast", next, base)], NOW);
  assert.equal(await row(), NOW + next);
  const more = structuredClone(base);
  more.host.cpu_percent = 7;
  await recordSamples(
    database,
    [input(host.id, "fast", next + 10 * SEC, more)],
    NOW,
  );
  assert.equal(await flushLatest(database), 1);
  assert.equal(await row(), NOW + next + 10 * SEC);
  await reopen(t.url, async (reopened) => {
    const again = await latestSample(reopened, host.id, "fast");
    assert.equal(again?.payload.host.cpu_percent, 7);
  });
});

Deno.test("recordSamples() files each point under its own series when a guest is swapped for another with as many points", async () => {
  const { t, host, database } = await setup();
  await using _ = t;
  const first = await sampleFixture("fast");
  // Samples 10 min apart carry no guest rates, so each has as many points.
  const GAP = 10 * 60 * SEC;
  await recordSamples(database, [input(host.id, "fast", 0, first)], NOW);
  await recordSamples(database, [input(host.id, "fast", GAP, first)], NOW);
  // Same shape, but the first guest is now vmid 999: same point count,
  // same order, another series.
  const second = structuredClone(first);
  const vms = second.vms_runtime.vms;
  const old = String(vms[0].vmid);
  vms[0].vmid = 999;
  vms[0].cpu_usage = 0.5;
  await recordSamples(
    database,
    [input(host.id, "fast", 2 * GAP, second)],
    NOW,
  );
  const series = await listSeries(database, host.id);
  const byId = new Map(series.map((s) => [s.id, s]));
  const heads = await headSamples(database);
  const cpuOf = (at: number, vmid: string) => {
    const head = heads.find((h) => h.collectedAtMs === NOW + at)!;
    let v: number | undefined;
    forEachHeadPoint(head.points, (id, scaled) => {
      const s = byId.get(id)!;
      if (s.kind === "guest" && s.object === vmid && s.metric === "cpu") {
        v = scaled;
      }
    });
    return v;
  };
  assert.equal(cpuOf(2 * GAP, "999"), 50 * 100);
  assert.equal(cpuOf(2 * GAP, old), undefined);
  assert.notEqual(cpuOf(GAP, old), undefined);
});
