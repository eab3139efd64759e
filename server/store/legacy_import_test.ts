import assert from "node:assert/strict";
import { parsePayload } from "@proxmon/shared";
import { openDatabase } from "./client.ts";
import { findHost } from "./hosts.ts";
import { importLegacyMetrics } from "./legacy_import.ts";
import { latestSample } from "./sample_store.ts";
import { queryStateChanges } from "./state_changes.ts";
import { loadHistory } from "./history.ts";
import { resolveServerConfig } from "../config.ts";
import { memoryLogger } from "@proxmon/shared/logger";
import { startServer } from "../server.ts";
import { readHostCpu } from "../testing/series_samples.ts";

const FIXTURE = new URL("../../fixtures/db/v1_store.db.gz", import.meta.url);
const T0 = Date.UTC(2026, 3, 20, 9);
const HOUR = 3_600_000;

/** A copy of the first version's database in a fresh folder. */
async function legacyCopy(): Promise<
  { dir: string; url: string } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-legacy-" });
  const gz = await Deno.readFile(FIXTURE);
  const raw = new Uint8Array(
    await new Response(
      new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).arrayBuffer(),
  );
  await Deno.writeFile(`${dir}/proxmon.db`, raw);
  return {
    dir,
    url: `file:${dir}/proxmon.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

type Row = Record<string, unknown>;

Deno.test("importLegacyMetrics() turns a first-version database into series, state changes and latest state, losing no sample", async () => {
  await using copy = await legacyCopy();
  const database = await openDatabase(copy.url);
  try {
    // What the old store holds, read before the conversion.
    const old = await database.client.execute(
      `SELECT h.name, m.interval_type, m.collected_at, m.payload
       FROM metrics m JOIN hosts h ON h.id = m.host_id ORDER BY m.collected_at`,
    );
    assert.equal(old.rows.length, 2 * (1080 + 180 + 6));
    const result = await importLegacyMetrics(database, T0 + 3 * HOUR + 60_000);
    assert.ok(result);
    assert.equal(result.samples, old.rows.length);
    assert.equal(result.hosts, 2);
    const left = await database.client.execute(
      "SELECT COUNT(*) AS n FROM metrics",
    );
    assert.equal(Number(left.rows[0].n), 0);
    // a second start has nothing to convert
    assert.equal(await importLegacyMetrics(database, T0 + 4 * HOUR), null);

    for (const name of ["pve-01", "pve-02"]) {
      const host = (await findHost(database, name))!;
      const fast = old.rows.filter((r: Row) =>
        r.name === name && r.interval_type === "fast"
      );
      // every CPU reading is there, at its time
      assert.deepEqual(
        await readHostCpu(database, host.id),
        fast.map((r: Row) => [
          Number(r.collected_at),
          JSON.parse(String(r.payload)).host.cpu_percent,
        ]),
      );
      // the latest state is the newest payload of each interval
      for (const interval of ["fast", "medium", "slow"] as const) {
        const rows = old.rows.filter((r: Row) =>
          r.name === name && r.interval_type === interval
        );
        const newest = rows[rows.length - 1];
        const latest = await latestSample(database, host.id, interval);
        assert.equal(latest?.collectedAtMs, Number(newest.collected_at));
        const parsed = parsePayload(
          interval,
          JSON.parse(String(newest.payload)),
        );
        assert.ok(parsed.ok);
        assert.deepEqual(latest?.payload, parsed.payload);
      }
      // "when did VM 100 stop"
      const [stopped] = await queryStateChanges(database, {
        hostId: host.id,
        kind: "guest.status",
        object: "100",
      });
      assert.equal(stopped.value, "stopped");
      assert.equal(stopped.at, Number(fast[700].collected_at));
      // the chart API reads it
      const h = await loadHistory(database, {
        hostId: host.id,
        metric: "guest_cpu",
        vmid: 100,
        fromMs: T0,
        toMs: T0 + 3 * HOUR,
        points: 100,
        nowMs: T0 + 3 * HOUR,
      });
      assert.ok(h.data[0].length > 50, `${h.data[0].length} points`);
    }
    const degraded = await queryStateChanges(database, {
      hostId: (await findHost(database, "pve-01"))!.id,
      kind: "pool.health",
    });
    assert.equal(degraded[0].value, "DEGRADED");
  } finally {
    database.close();
  }
});

Deno.test("the server converts a first-version database at start and says so on stdout", async () => {
  await using copy = await legacyCopy();
  const before = (await Deno.stat(`${copy.dir}/proxmon.db`)).size;
  const resolved = resolveServerConfig({
    DATABASE_URL: copy.url,
    PORT: "0",
    HOSTNAME: "127.0.0.1",
  });
  assert.ok(resolved.ok);
  const log = memoryLogger();
  const server = await startServer(resolved.config, { log });
  await server.shutdown();
  const line = log.lines.find((l) => l.includes("converted"));
  assert.match(
    line ?? log.lines.join("\n"),
    /^info: store: converted 2532 stored samples of 2 hosts into \d+ series \(\d+ blocks\) and \d+ state changes, with the latest state of each host, in \d+\.\d s$/,
  );
  const after = (await Deno.stat(`${copy.dir}/proxmon.db`)).size;
  assert.ok(after < before / 4, `${before} -> ${after} bytes`);
});
