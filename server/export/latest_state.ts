/**
 * The seam `/metrics` reads the fleet through: every host with its latest
 * sample of each interval, already typed.
 *
 * `createLatestCache` keeps those payloads in memory: loaded once from the
 * store, then replaced by the ingest writer after each commit with the
 * payload it already holds (validated), so a scrape parses nothing. The
 * host rows (status, last seen) are read fresh on each scrape. The store's
 * own latest state stands behind `LatestSource`; today that is the newest
 * row per host in the sample table.
 */
import type { Interval, PayloadFor, SamplePayload } from "@proxmon/shared";
import type { Database } from "../store/client.ts";
import { listHosts } from "../store/hosts.ts";
import { latestSamplesByHost } from "../store/sample_store.ts";
import type { HostSnapshot } from "../web/host_overview.ts";

export interface LatestState {
  /** Every registered host with its latest samples. */
  fleet(): Promise<HostSnapshot[]>;
}

/** A stored sample, its payload typed by its interval. */
export type LatestSample = SamplePayload & {
  hostId: number;
  collectedAtMs: number;
};

export interface LatestCache extends LatestState {
  /** Called after a commit with the samples it stored. */
  observe(samples: Iterable<LatestSample>): void;
}

/** One host's latest sample of interval `I`. */
export interface LatestEntry<I extends Interval> {
  collectedAtMs: number;
  payload: PayloadFor<I>;
}

/** The store's latest sample of every host for one interval. */
export type LatestSource = <I extends Interval>(
  interval: I,
) => Promise<Map<number, LatestEntry<I>>>;

/** The latest state as the sample store holds it today. */
export function sampleStoreSource(database: Database): LatestSource {
  return (interval) => latestSamplesByHost(database, interval);
}

type Latest = { [I in Interval]: Map<number, LatestEntry<I>> };

/** An in-memory latest state over `source`. */
export function createLatestCache(
  database: Database,
  source: LatestSource = sampleStoreSource(database),
): LatestCache {
  const latest: Latest = {
    fast: new Map(),
    medium: new Map(),
    slow: new Map(),
  };
  // Keeps the newer of two: a replay of an old sample must not win.
  const offer = <I extends Interval>(
    interval: I,
    hostId: number,
    e: LatestEntry<I>,
  ) => {
    const map: Latest[I] = latest[interval];
    const have = map.get(hostId);
    if (have === undefined || have.collectedAtMs <= e.collectedAtMs) {
      map.set(hostId, e);
    }
  };
  const load = async (interval: Interval) => {
    for (const [id, e] of await source(interval)) offer(interval, id, e);
  };
  let loaded: Promise<void> | null = null;
  const loadAll = () =>
    loaded ??= (async () => {
      await load("fast");
      await load("medium");
      await load("slow");
    })().catch((err) => {
      loaded = null; // try again on the next scrape
      throw err;
    });
  return {
    observe(samples) {
      for (const s of samples) {
        const at = s.collectedAtMs;
        // Narrowed one interval at a time, so each payload keeps its type.
        if (s.interval === "fast") {
          offer("fast", s.hostId, { collectedAtMs: at, payload: s.data });
        } else if (s.interval === "medium") {
          offer("medium", s.hostId, { collectedAtMs: at, payload: s.data });
        } else offer("slow", s.hostId, { collectedAtMs: at, payload: s.data });
      }
    },
    async fleet() {
      await loadAll();
      const hosts = await listHosts(database);
      const known = new Set(hosts.map((h) => h.id));
      // Forget removed hosts, so a re-used id never shows old data.
      for (const m of Object.values(latest)) {
        for (const id of m.keys()) if (!known.has(id)) m.delete(id);
      }
      return hosts.map((host) => ({
        host,
        fast: latest.fast.get(host.id) ?? null,
        medium: latest.medium.get(host.id) ?? null,
        slow: latest.slow.get(host.id) ?? null,
      }));
    },
  };
}
