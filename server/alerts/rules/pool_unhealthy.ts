/** pool_unhealthy: a ZFS pool whose health is not ONLINE. */
import { poolHealth } from "../../host_state.ts";
import { conditionRule } from "./rule.ts";

export const poolUnhealthy = conditionRule({
  id: "pool_unhealthy",
  description: "a ZFS pool's health is not ONLINE",
  interval: "fast",
  section: "zfs_pools",
  judge(zfs) {
    return zfs.pools.map((pool) => {
      // host_state.ts's definition: not reported is UNKNOWN, not ONLINE
      const health = poolHealth(pool);
      const bad = health !== "ONLINE";
      const vdevs = (pool.degraded_vdev_count ?? 0) > 0
        ? ` (${pool.degraded_vdev_count} of ${
          pool.vdev_count ?? "?"
        } vdevs not online)`
        : "";
      return {
        kind: "pool",
        object: pool.name,
        value: bad ? 1 : 0,
        shown: health,
        level: bad ? "crit" : null,
        summary: `pool ${pool.name} is ${health}${vdevs}`,
      };
    });
  },
});
