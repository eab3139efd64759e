/**
 * Reads the latest samples the dashboard renders from. The overview takes
 * the whole fleet in three queries (hosts, latest fast, latest slow), each
 * an index seek per host, instead of a query per host.
 */
import type { Database } from "../store/client.ts";
import { findHost, listHosts } from "../store/hosts.ts";
import {
  latestSample,
  latestSamplesByHost,
  type StoredSample,
} from "../store/sample_store.ts";
import type { HostSnapshot } from "./host_overview.ts";

function latest<P>(s: StoredSample<P> | null | undefined) {
  return s ? { collectedAtMs: s.collectedAtMs, payload: s.payload } : null;
}

/** Every host with its latest fast and slow samples (medium is not needed). */
export async function loadFleet(database: Database): Promise<HostSnapshot[]> {
  const [hosts, fast, slow] = await Promise.all([
    listHosts(database),
    latestSamplesByHost(database, "fast"),
    latestSamplesByHost(database, "slow"),
  ]);
  return hosts.map((host) => ({
    host,
    fast: latest(fast.get(host.id)),
    medium: null,
    slow: latest(slow.get(host.id)),
  }));
}

/** One host with its latest sample of each interval, or null if unknown. */
export async function loadHostSnapshot(
  database: Database,
  name: string,
): Promise<HostSnapshot | null> {
  const host = await findHost(database, name);
  if (!host) return null;
  const [fast, medium, slow] = await Promise.all([
    latestSample(database, host.id, "fast"),
    latestSample(database, host.id, "medium"),
    latestSample(database, host.id, "slow"),
  ]);
  return {
    host,
    fast: latest(fast),
    medium: latest(medium),
    slow: latest(slow),
  };
}
