/**
 * vdev_errors: a pool's read, write or checksum error counts, or its count
 * of data errors, went up. It stays firing for `clear_after` after the last
 * rise, and clears at once when the counts go back to zero (`zpool clear`).
 */
import type { ZfsPool } from "@proxmon/shared";
import { defineRule } from "./rule.ts";

/** Error counters a pool may carry; older agents send only error_count. */
const COUNTERS = [
  "error_count",
  "data_errors",
  "read_errors",
  "write_errors",
  "checksum_errors",
] as const;

/** The sum of every error counter the pool reports. */
export function poolErrorTotal(pool: ZfsPool): number {
  let total = 0;
  // error_count and data_errors are the same figure where both are sent;
  // the others are fields a newer agent may add (a pool keeps unknown keys)
  const data = typeof pool.data_errors === "number"
    ? pool.data_errors
    : pool.error_count;
  total += typeof data === "number" ? data : 0;
  for (const key of COUNTERS.slice(2)) {
    const n = pool[key];
    if (typeof n === "number") total += n;
  }
  return total;
}

interface Seen {
  total: number;
  lastRiseMs: number | null;
}

export const vdevErrors = defineRule({
  id: "vdev_errors",
  description: "a pool's read, write, checksum or data error counts go up",
  intervals: ["fast"],
  compare: "condition",
  defaults: {
    params: {
      clear_after: {
        kind: "duration",
        default: 24 * 3_600_000,
        description: "how long after the last rise the alert resolves",
      },
    },
  },
  evaluate(sample, ctx) {
    const zfs = sample.section("zfs_pools");
    if (zfs === null) return null;
    return zfs.pools.map((pool) => {
      const total = poolErrorTotal(pool);
      let seen = ctx.memory.get(pool.name) as Seen | undefined;
      if (seen === undefined) {
        // After a restart the stored alert is the baseline, so counts that
        // were already told about do not fire again.
        const prev = ctx.previous(pool.name);
        seen = prev === null ? { total: 0, lastRiseMs: null } : {
          total: Number(prev.value ?? 0),
          lastRiseMs: prev.state === "firing" ? sample.atMs : null,
        };
      }
      if (total > seen.total) seen = { total, lastRiseMs: sample.atMs };
      else seen = { total, lastRiseMs: total === 0 ? null : seen.lastRiseMs };
      ctx.memory.set(pool.name, seen);
      const { clear_after } = ctx.settings({ kind: "pool", object: pool.name })
        .params;
      const active = seen.lastRiseMs !== null &&
        sample.atMs - seen.lastRiseMs < clear_after;
      return {
        kind: "pool",
        object: pool.name,
        value: total,
        shown: `${total} errors`,
        level: active ? "crit" : null,
        summary:
          `pool ${pool.name} has ${total} read/write/checksum/data errors`,
      };
    });
  },
});
