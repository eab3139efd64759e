/**
 * host_memory: memory used by processes (total − available − ZFS ARC, so a
 * full ARC is not mistaken for pressure) sustained at or above warn / crit
 * percent.
 */
import { HostMetrics } from "@proxmon/shared";
import { memUsedBytes } from "../../host_state.ts";
import { defineRule, percent } from "./rule.ts";

/**
 * Memory used by processes, percent of total, by the one definition in
 * host_state.ts (total − available − ARC); null when unknown.
 */
export function processMemoryPercent(host: HostMetrics): number | null {
  const used = memUsedBytes(host);
  const total = host.mem_total_bytes;
  return used === null || total === null || total <= 0
    ? null
    : (used / total) * 100;
}

export const hostMemory = defineRule({
  id: "host_memory",
  description:
    "memory used by processes (without the ZFS ARC, percent) stays at or above warn / crit",
  intervals: ["fast"],
  compare: "above",
  defaults: { warn: 90, crit: 95, hysteresis: 5, forMs: 15 * 60_000 },
  evaluate(sample) {
    const host = sample.section("host", HostMetrics);
    if (host === null) return null;
    const used = processMemoryPercent(host);
    return [{
      kind: "host",
      object: null,
      value: used,
      shown: used === null ? "unknown" : percent(used),
      summary: `memory (without ARC) at ${used === null ? "?" : percent(used)}`,
    }];
  },
});
