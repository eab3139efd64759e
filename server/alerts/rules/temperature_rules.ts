/** cpu_temperature (issue 17): the hottest CPU package stays hot. */
import { HEALTH_DEFAULTS } from "../../health/health_findings.ts";
import { defineRule } from "./rule.ts";

export const cpuTemperatureRule = defineRule({
  id: "cpu_temperature",
  description: "the CPU package temperature (°C) stays at or above warn / crit",
  intervals: ["medium"],
  compare: "above",
  defaults: {
    warn: HEALTH_DEFAULTS.cpuWarnC,
    crit: HEALTH_DEFAULTS.cpuCritC,
    hysteresis: 3,
    forMs: 5 * 60_000,
  },
  evaluate(sample) {
    const t = sample.section("temperatures");
    if (t === null || t.source === null) return null;
    const c = t.cpu_package_c ?? t.cpu_core_max_c;
    return [{
      kind: "host",
      object: null,
      value: c,
      shown: c === null ? "unknown" : `${Math.round(c)} °C`,
      summary: `CPU at ${c === null ? "?" : Math.round(c)} °C`,
    }];
  },
});
