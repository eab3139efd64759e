/** host_cpu: the host's CPU use sustained at or above warn / crit percent. */
import { HostMetrics } from "@proxmon/shared";
import { defineRule, percent } from "./rule.ts";

export const hostCpu = defineRule({
  id: "host_cpu",
  description: "the host's CPU use (percent) stays at or above warn / crit",
  intervals: ["fast"],
  compare: "above",
  defaults: { warn: 90, crit: 95, hysteresis: 5, forMs: 15 * 60_000 },
  evaluate(sample) {
    const host = sample.section("host", HostMetrics);
    if (host === null) return null;
    const cpu = host.cpu_percent;
    return [{
      kind: "host",
      object: null,
      value: cpu,
      shown: cpu === null ? "unknown" : percent(cpu),
      summary: `CPU at ${cpu === null ? "?" : percent(cpu)}`,
    }];
  },
});
