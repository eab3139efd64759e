/**
 * The two halves of a pool summary — usage from `zpool list`, health from
 * `zpool status` — and how they join. JSON and text parsers produce the same
 * halves, so the summary cannot depend on the ZFS version.
 */
import type { CollectorError, ScanState, ZfsPool } from "@proxmon/shared";

/** What `zpool list` says about a pool. */
export type PoolUsage = {
  name: string;
  health: string | null;
  size_bytes: number | null;
  allocated_bytes: number | null;
  free_bytes: number | null;
  fragmentation_percent: number | null;
  capacity_percent: number | null;
};

/** What `zpool status` says about a pool. */
export type PoolStatus = {
  name: string;
  state: string | null;
  error_count: number | null;
  vdev_count: number;
  degraded_vdev_count: number;
  scan: ScanState | null;
  last_scrub_end: number | null;
};

export type ParsedPools<T> = {
  pools: T[];
  errors: CollectorError[];
};

/**
 * Joins usage and status by pool name, in `zpool list` order. A pool only one
 * side knows (a command failed, or a pool was imported in between) is still
 * reported, with what that side had.
 */
export function mergePools(
  usage: readonly PoolUsage[],
  status: readonly PoolStatus[],
): ZfsPool[] {
  const byName = new Map(status.map((s) => [s.name, s]));
  const unknownStatus = (name: string): PoolStatus => ({
    name,
    state: null,
    error_count: null,
    vdev_count: 0,
    degraded_vdev_count: 0,
    scan: null,
    last_scrub_end: null,
  });
  const join = (u: PoolUsage | undefined, s: PoolStatus): ZfsPool => ({
    name: s.name,
    health: u?.health ?? s.state ?? "UNKNOWN",
    size_bytes: u?.size_bytes ?? null,
    allocated_bytes: u?.allocated_bytes ?? null,
    free_bytes: u?.free_bytes ?? null,
    fragmentation_percent: u?.fragmentation_percent ?? null,
    capacity_percent: u?.capacity_percent ?? null,
    error_count: s.error_count,
    vdev_count: s.vdev_count,
    degraded_vdev_count: s.degraded_vdev_count,
    last_scrub_end: s.last_scrub_end,
    scan: s.scan,
  });
  const listed = new Set(usage.map((u) => u.name));
  return [
    ...usage.map((u) => join(u, byName.get(u.name) ?? unknownStatus(u.name))),
    ...status.filter((s) => !listed.has(s.name)).map((s) => join(undefined, s)),
  ];
}
