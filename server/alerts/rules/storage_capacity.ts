/** storage_capacity: a PVE storage's use at or above warn / crit percent. */
import { Storage } from "@proxmon/shared";
import { measuredStorages } from "../../host_state.ts";
import { defineRule, percent } from "./rule.ts";

export const storageCapacity = defineRule({
  id: "storage_capacity",
  description: "a PVE storage's use (percent) is at or above warn / crit",
  intervals: ["fast"],
  compare: "above",
  defaults: { warn: 85, crit: 95, hysteresis: 5, forMs: 10 * 60_000 },
  evaluate(sample) {
    const storage = sample.section("storage", Storage);
    if (storage === null) return null;
    // Inactive or disabled storages report no usage worth judging.
    return measuredStorages(storage.storages).map((s) => {
      const used = (s.used_fraction ?? 0) * 100;
      return {
        kind: "storage",
        object: s.name,
        value: used,
        shown: percent(used),
        summary: `storage ${s.name} is ${percent(used)} full`,
      };
    });
  },
});
