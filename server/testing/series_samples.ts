/**
 * Streams of fast samples with numbers that vary, built from the fixture
 * payload, for store tests: sample i has host CPU `cpuAt(i)` and every
 * running guest's counters growing, so each point can be checked after
 * compaction.
 */
import type { Database } from "../store/client.ts";
import { recordSamples } from "../store/sample_store.ts";
import { listSeries } from "../store/series_query.ts";
import { readTier } from "../store/series_read.ts";
import { sampleFixture } from "./samples.ts";

/** The host CPU percent of sample i: distinct for every i below 100,000. */
export const cpuAt = (i: number): number => (i % 100_000) / 100;

export interface FillOptions {
  hostId: number;
  fromMs: number;
  count: number;
  stepMs: number;
  /** samples per recordSamples call */
  batch?: number;
}

/** Records `count` fast samples `stepMs` apart; returns their times. */
export async function fillFast(
  database: Database,
  o: FillOptions,
): Promise<number[]> {
  const base = await sampleFixture("fast");
  const times: number[] = [];
  const batch = o.batch ?? 200;
  for (let start = 0; start < o.count; start += batch) {
    const samples = [];
    for (let i = start; i < Math.min(o.count, start + batch); i++) {
      const data = structuredClone(base);
      data.host.cpu_percent = cpuAt(i);
      for (const g of data.vms_runtime.vms) {
        if (g.netin_bytes != null) g.netin_bytes += i * 1000;
        g.cpu_usage = ((i * 7 + g.vmid) % 100) / 100;
      }
      const at = o.fromMs + i * o.stepMs;
      times.push(at);
      samples.push({
        hostId: o.hostId,
        interval: "fast" as const,
        collectedAtMs: at,
        data,
      });
    }
    await recordSamples(database, samples, o.fromMs);
  }
  return times;
}

/**
 * A host's stored fast CPU points as [unix ms, percent], from `fromMs` up
 * to `toMs`; every point there is unless the range says otherwise.
 */
export async function readHostCpu(
  database: Database,
  hostId: number,
  fromMs = 0,
  toMs = Number.MAX_SAFE_INTEGER,
): Promise<[number, number][]> {
  const [cpu] = await listSeries(database, hostId, {
    kind: "host",
    object: "",
    metric: "cpu",
  });
  const r = (await readTier(
    database,
    { hostId, interval: "fast", ids: [cpu.id] },
    0,
    fromMs,
    toMs,
  )).get(cpu.id)!;
  return r.t.map((t, i) => [t, r.avg[i] / 100]);
}
