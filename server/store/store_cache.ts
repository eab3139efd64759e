/**
 * What ingest keeps in memory per open database: each host's series ids,
 * and its latest sample of each interval with the state derived from it
 * (for change detection and guest rates). Loaded from the database the
 * first time a host is seen, updated only after a commit, so a failed
 * batch leaves it as the database is.
 */
import type { Interval } from "@proxmon/shared";
import type { SeriesKey, StateValue } from "./series_catalog.ts";

export interface CachedLatest {
  collectedAtMs: number;
  /** the parsed payload of this interval */
  payload: Record<string, unknown>;
  states: StateValue[];
  /** collected_at of the newest payload written to latest_samples */
  persistedAtMs: number | null;
}

/** The series of a host's last sample of one interval, in point order. */
export interface SeriesRun {
  keys: SeriesKey[];
  ids: number[];
  /** per point, 10^precision of its metric: what its value is scaled by */
  scale: number[];
  /** per point, the significant digits its head value keeps (0: exact) */
  digits: number[];
}

export interface HostCache {
  /** seriesKeyString -> series id */
  series: Map<string, number>;
  latest: Partial<Record<Interval, CachedLatest>>;
  /**
   * A host's samples name the same series in the same order, sample after
   * sample: checking against the last run costs a few string compares per
   * point, where building and hashing each key string cost more.
   */
  runs?: Partial<Record<Interval, SeriesRun>>;
}

export interface StoreCache {
  hosts: Map<number, HostCache>;
  /** when each host's last_seen_at was last written (SEEN_WRITE_MS) */
  seenWrittenAt: Map<number, number>;
}

/** An empty cache; `openDatabase` makes one per connection. */
export function createStoreCache(): StoreCache {
  return { hosts: new Map(), seenWrittenAt: new Map() };
}
