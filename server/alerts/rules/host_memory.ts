/**
 * host_memory: memory used by processes (total − available − ZFS ARC, so a
 * full ARC is not mistaken for pressure) sustained at or above warn / crit
 * percent.
 */
import type { HostMetrics } from "@proxmon/shared";
import { memUsedBytes } from "../../host_state.ts";
import { hostPercentRule } from "./rule.ts";

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

export const hostMemory = hostPercentRule({
  id: "host_memory",
  description:
    "memory used by processes (without the ZFS ARC, percent) stays at or above warn / crit",
  value: processMemoryPercent,
  what: "memory (without ARC)",
});
