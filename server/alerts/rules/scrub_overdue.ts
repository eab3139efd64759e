/**
 * scrub_overdue: a pool's last scrub finished more than `warn` days ago, or
 * it was never scrubbed. A scrub under way counts as done: it is being seen
 * to.
 */
import type { ZfsPool } from "@proxmon/shared";
import { defineRule } from "./rule.ts";

const DAY_MS = 86_400_000;

/**
 * Days since the pool's last finished scrub at `nowMs`: Infinity when it was
 * never scrubbed, 0 while a scrub is running.
 */
export function daysSinceScrub(pool: ZfsPool, nowMs: number): number {
  if (pool.scan?.function === "SCRUB" && pool.scan.state === "SCANNING") {
    return 0;
  }
  if (pool.last_scrub_end === null) return Infinity;
  return Math.max(0, (nowMs - pool.last_scrub_end * 1000) / DAY_MS);
}

export const scrubOverdue = defineRule({
  id: "scrub_overdue",
  description:
    "a pool's last scrub finished more than warn days ago, or it never ran",
  intervals: ["fast"],
  compare: "above",
  defaults: { warn: 35, crit: null, hysteresis: 0 },
  evaluate(sample) {
    const zfs = sample.section("zfs_pools");
    if (zfs === null) return null;
    return zfs.pools.map((pool) => {
      const days = daysSinceScrub(pool, sample.atMs);
      const shown = days === Infinity
        ? "never scrubbed"
        : days === 0 && pool.scan?.state === "SCANNING"
        ? "scrubbing"
        : `${Math.floor(days)} days since the last scrub`;
      return {
        kind: "pool",
        object: pool.name,
        value: days,
        shown,
        summary: days === Infinity
          ? `pool ${pool.name} was never scrubbed`
          : `pool ${pool.name} was last scrubbed ${Math.floor(days)} days ago`,
      };
    });
  },
});
