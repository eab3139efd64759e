/** storage_capacity: a PVE storage's use at or above warn / crit percent. */
import { measuredStorages } from "../../host_state.ts";
import { percentAboveRule } from "./rule.ts";

export const storageCapacity = percentAboveRule({
  id: "storage_capacity",
  description: "a PVE storage's use (percent) is at or above warn / crit",
  defaults: { warn: 85, crit: 95, hysteresis: 5, forMs: 10 * 60_000 },
  section: "storage",
  // Inactive or disabled storages report no usage worth judging.
  read: (storage) =>
    measuredStorages(storage.storages).map((s) => ({
      kind: "storage",
      object: s.name,
      value: (s.used_fraction ?? 0) * 100,
      summary: (shown) => `storage ${s.name} is ${shown} full`,
    })),
});
