/** pool_capacity: a ZFS pool's capacity at or above warn / crit percent. */
import { ZfsPools } from "@proxmon/shared";
import { defineRule, percent } from "./rule.ts";

export const poolCapacity = defineRule({
  id: "pool_capacity",
  description: "a ZFS pool's capacity (percent) is at or above warn / crit",
  intervals: ["fast"],
  compare: "above",
  defaults: { warn: 80, crit: 90, hysteresis: 5, forMs: 10 * 60_000 },
  evaluate(sample) {
    const zfs = sample.section("zfs_pools", ZfsPools);
    if (zfs === null) return null;
    return zfs.pools.map((pool) => ({
      kind: "pool",
      object: pool.name,
      value: pool.capacity_percent,
      shown: pool.capacity_percent === null
        ? "unknown"
        : percent(pool.capacity_percent),
      summary: `pool ${pool.name} is ${
        pool.capacity_percent === null ? "?" : percent(pool.capacity_percent)
      } full`,
    }));
  },
});
