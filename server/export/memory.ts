/**
 * Host memory split into kinds that add up to the total: used by processes
 * (total - available - ARC, never below 0), the ZFS ARC, and available.
 * On a ZFS host the kernel counts the ARC as used, so "used" without this
 * split overstates what guests and processes hold.
 */
import type { HostMetrics } from "@proxmon/shared";

export interface MemoryBreakdown {
  used: number;
  arc: number;
  free: number;
}

/** The host's memory by kind, or null when total or available is unknown. */
export function memoryBreakdown(h: HostMetrics): MemoryBreakdown | null {
  if (h.mem_total_bytes === null || h.mem_available_bytes === null) return null;
  // `arc` arrives from newer agents (null without ZFS); older ones omit it.
  const arcField = (h as { arc?: { size_bytes?: unknown } | null }).arc;
  const arc = typeof arcField?.size_bytes === "number"
    ? arcField.size_bytes
    : 0;
  const used = Math.max(0, h.mem_total_bytes - h.mem_available_bytes - arc);
  return { used, arc, free: h.mem_available_bytes };
}
