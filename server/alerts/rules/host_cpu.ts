/** host_cpu: the host's CPU use sustained at or above warn / crit percent. */
import { HostMetrics } from "@proxmon/shared";
import { percentAboveRule } from "./rule.ts";

export const hostCpu = percentAboveRule({
  id: "host_cpu",
  description: "the host's CPU use (percent) stays at or above warn / crit",
  defaults: { warn: 90, crit: 95, hysteresis: 5, forMs: 15 * 60_000 },
  section: "host",
  schema: HostMetrics,
  read: (host) => [{
    kind: "host",
    object: null,
    value: host.cpu_percent,
    summary: (shown) => `CPU at ${shown}`,
  }],
});
