/** host_cpu: the host's CPU use sustained at or above warn / crit percent. */
import { hostPercentRule } from "./rule.ts";

export const hostCpu = hostPercentRule({
  id: "host_cpu",
  description: "the host's CPU use (percent) stays at or above warn / crit",
  value: (host) => host.cpu_percent,
  what: "CPU",
});
