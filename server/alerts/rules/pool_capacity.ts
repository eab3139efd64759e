/** pool_capacity: a ZFS pool's capacity at or above warn / crit percent. */
import { percentAboveRule } from "./rule.ts";

export const poolCapacity = percentAboveRule({
  id: "pool_capacity",
  description: "a ZFS pool's capacity (percent) is at or above warn / crit",
  defaults: { warn: 80, crit: 90, hysteresis: 5, forMs: 10 * 60_000 },
  section: "zfs_pools",
  read: (zfs) =>
    zfs.pools.map((pool) => ({
      kind: "pool",
      object: pool.name,
      value: pool.capacity_percent,
      summary: (shown) => `pool ${pool.name} is ${shown} full`,
    })),
});
