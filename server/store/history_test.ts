import assert from "node:assert/strict";
import type { Database } from "./client.ts";
import { hosts, metrics } from "./schema.ts";
import { loadHistory } from "./history.ts";
import type { FastSummary } from "./summary.ts";
import { openTempDatabase } from "../testing/temp_db.ts";

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

async function withDb(fn: (database: Database) => Promise<void>) {
  await using tmp = await openTempDatabase();
  await fn(tmp.database);
}

function summary(over: Partial<FastSummary>): FastSummary {
  return {
    cpu: null,
    mem_used: null,
    mem_total: null,
    load1: null,
    load5: null,
    load15: null,
    net_rx: null,
    net_tx: null,
    disk_read: null,
    disk_write: null,
    pools: {},
    ...over,
  };
}

async function addHost(db: Database["db"], name: string): Promise<number> {
  const [row] = await db.insert(hosts).values({
    name,
    tokenHash: "x",
    createdAt: T0,
  }).returning({ id: hosts.id });
  return row.id;
}

async function addSamples(
  db: Database["db"],
  hostId: number,
  samples: {
    at: number;
    summary: FastSummary | null;
    interval?: "fast" | "medium";
  }[],
) {
  await db.insert(metrics).values(samples.map((s) => ({
    hostId,
    collectedAt: s.at,
    intervalType: s.interval ?? "fast",
    payload: "{}",
    summary: s.summary === null ? null : JSON.stringify(s.summary),
    createdAt: s.at,
  })));
}

const everyTenSeconds = (count: number, f: (i: number) => FastSummary) =>
  Array.from(
    { length: count },
    (_, i) => ({ at: T0 + i * 10_000, summary: f(i) }),
  );

Deno.test("loadHistory() averages samples into the requested number of buckets", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    await addSamples(db, id, everyTenSeconds(60, (i) => summary({ cpu: i })));
    const h = await loadHistory(database, {
      hostId: id,
      metric: "cpu",
      fromMs: T0,
      toMs: T0 + 10 * MIN,
      points: 6,
    });
    assert.equal(h.unit, "percent");
    assert.equal(h.bucket_ms, 100_000);
    assert.deepEqual(h.series, [{ key: "cpu", label: "CPU" }]);
    assert.deepEqual(h.data[1], [4.5, 14.5, 24.5, 34.5, 44.5, 54.5]);
    // Each point sits at the mean time of its samples.
    assert.deepEqual(
      h.data[0],
      [0, 1, 2, 3, 4, 5].map((b) => T0 + b * 100_000 + 45_000),
    );
  });
});

Deno.test("loadHistory() reads only this host's fast samples inside the window", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    const other = await addHost(db, "pve-02");
    await addSamples(db, id, [
      { at: T0 - 1, summary: summary({ cpu: 99 }) },
      { at: T0, summary: summary({ cpu: 10 }) },
      { at: T0 + 1000, summary: summary({ cpu: 20 }) },
      { at: T0 + 2000, summary: null, interval: "medium" },
      { at: T0 + MIN, summary: summary({ cpu: 99 }) },
    ]);
    await addSamples(db, other, [{
      at: T0 + 500,
      summary: summary({ cpu: 77 }),
    }]);
    const h = await loadHistory(database, {
      hostId: id,
      metric: "cpu",
      fromMs: T0,
      toMs: T0 + MIN,
      points: 1,
    });
    assert.deepEqual(h.data, [[T0 + 500], [15]]);
  });
});

Deno.test("loadHistory() skips null readings and returns one series per field", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    await addSamples(db, id, [
      {
        at: T0,
        summary: summary({ mem_used: 1000.4, mem_total: 4000, net_rx: null }),
      },
      {
        at: T0 + 10_000,
        summary: summary({ mem_used: 2000, mem_total: 4000, net_rx: 300 }),
      },
    ]);
    const mem = await loadHistory(database, {
      hostId: id,
      metric: "mem",
      fromMs: T0,
      toMs: T0 + MIN,
      points: 1,
    });
    assert.equal(mem.unit, "bytes");
    assert.deepEqual(mem.series.map((s) => s.key), ["mem_used", "mem_total"]);
    assert.deepEqual(mem.data.slice(1), [[1500], [4000]]);
    const net = await loadHistory(database, {
      hostId: id,
      metric: "net",
      fromMs: T0,
      toMs: T0 + MIN,
      points: 1,
    });
    assert.deepEqual(net.data.slice(1), [[300], [null]]);
  });
});

Deno.test("loadHistory() breaks the line where the host sent nothing", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    const before = everyTenSeconds(30, () => summary({ load1: 1 }));
    const after = everyTenSeconds(30, () => summary({ load1: 2 })).map((s) => ({
      ...s,
      at: s.at + 20 * MIN,
    }));
    await addSamples(db, id, [...before, ...after]);
    const h = await loadHistory(database, {
      hostId: id,
      metric: "load",
      fromMs: T0,
      toMs: T0 + 30 * MIN,
      points: 60,
    });
    const load1 = h.data[1];
    const gaps = load1.filter((x) => x === null).length;
    assert.equal(gaps, 1, `one gap expected in ${JSON.stringify(load1)}`);
    const gapAt = load1.indexOf(null);
    assert.ok(load1.slice(0, gapAt).every((x) => x === 1));
    assert.ok(load1.slice(gapAt + 1).every((x) => x === 2));
    // 30 s buckets hold three samples each, so the two 5 min runs give ten
    // points apiece, with one null between them and none inside them.
    assert.equal(h.data[0].length, 10 + 1 + 10);
  });
});

Deno.test("loadHistory() gives each pool its own capacity series, null before it existed", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    await addSamples(db, id, [
      { at: T0, summary: summary({ pools: { rpool: 40 } }) },
      { at: T0 + 10_000, summary: summary({ pools: { rpool: 42 } }) },
      { at: T0 + 20_000, summary: summary({ pools: { rpool: 44, tank: 81 } }) },
      { at: T0 + 30_000, summary: summary({ pools: { rpool: 46, tank: 83 } }) },
    ]);
    const h = await loadHistory(database, {
      hostId: id,
      metric: "pools",
      fromMs: T0,
      toMs: T0 + 40_000,
      points: 2,
    });
    assert.deepEqual(h.series.map((s) => s.label), ["rpool", "tank"]);
    assert.deepEqual(h.data.slice(1), [[41, 45], [null, 82]]);
  });
});

Deno.test("loadHistory() returns empty columns when there is no data", async () => {
  await withDb(async (database) => {
    const { db } = database;
    const id = await addHost(db, "pve-01");
    const h = await loadHistory(database, {
      hostId: id,
      metric: "disk",
      fromMs: T0,
      toMs: T0 + MIN,
      points: 100,
    });
    assert.deepEqual(h.data, [[], [], []]);
  });
});
