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
import type {
  FastPayload,
  Interval,
  MediumPayload,
  SlowPayload,
} from "@proxmon/shared";
import type { Database } from "../store/client.ts";
import { listHosts } from "../store/hosts.ts";
import {
  latestSamplesByHost,
  type StoredSample,
} from "../store/sample_store.ts";
import type { HostSnapshot } from "../web/host_overview.ts";

export interface LatestState {
  /** Every registered host with its latest samples. */
  fleet(): Promise<HostSnapshot[]>;
}

export interface LatestSample {
  hostId: number;
  interval: Interval;
  collectedAtMs: number;
  data: Record<string, unknown>;
}

export interface LatestCache extends LatestState {
  /** Called after a commit with the samples it stored. */
  observe(samples: Iterable<LatestSample>): void;
}

/** The store's latest sample of every host for one interval. */
export type LatestSource = (
  interval: Interval,
) => Promise<Map<number, { collectedAtMs: number; payload: unknown }>>;

/** The latest state as the sample store holds it today. */
export function sampleStoreSource(database: Database): LatestSource {
  return async (interval) => {
    const rows: Map<number, StoredSample> = await latestSamplesByHost(
      database,
      interval,
    );
    return new Map(
      [...rows].map(([id, s]) => [id, {
        collectedAtMs: s.collectedAtMs,
        payload: s.payload,
      }]),
    );
  };
}

type Entry = { collectedAtMs: number; payload: unknown };

/** An in-memory latest state over `source`. */
export function createLatestCache(
  database: Database,
  source: LatestSource = sampleStoreSource(database),
): LatestCache {
  const latest: Record<Interval, Map<number, Entry>> = {
    fast: new Map(),
    medium: new Map(),
    slow: new Map(),
  };
  // Keeps the newer of two: a replay of an old sample must not win.
  const offer = (interval: Interval, hostId: number, e: Entry) => {
    const have = latest[interval].get(hostId);
    if (have === undefined || have.collectedAtMs <= e.collectedAtMs) {
      latest[interval].set(hostId, e);
    }
  };
  let loaded: Promise<void> | null = null;
  const load = () =>
    loaded ??= (async () => {
      for (const interval of ["fast", "medium", "slow"] as const) {
        for (const [id, e] of await source(interval)) offer(interval, id, e);
      }
    })().catch((err) => {
      loaded = null; // try again on the next scrape
      throw err;
    });
  // Payloads were validated against the shared schemas when they arrived.
  const typed = <P>(e: Entry | undefined) =>
    e ? { collectedAtMs: e.collectedAtMs, payload: e.payload as P } : null;
  return {
    observe(samples) {
      for (const s of samples) {
        offer(s.interval, s.hostId, {
          collectedAtMs: s.collectedAtMs,
          payload: s.data,
        });
      }
    },
    async fleet() {
      await load();
      const hosts = await listHosts(database);
      const known = new Set(hosts.map((h) => h.id));
      // Forget removed hosts, so a re-used id never shows old data.
      for (const m of Object.values(latest)) {
        for (const id of m.keys()) if (!known.has(id)) m.delete(id);
      }
      return hosts.map((host) => ({
        host,
        fast: typed<FastPayload>(latest.fast.get(host.id)),
        medium: typed<MediumPayload>(latest.medium.get(host.id)),
        slow: typed<SlowPayload>(latest.slow.get(host.id)),
      }));
    },
  };
}
