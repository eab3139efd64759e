/**
 * The guests table joins two samples: runtime figures from the fast sample
 * and IPs from the medium one. They are collected at different times, so a
 * guest may be in one and not yet in the other.
 */
import type { GuestDetail, GuestRuntime, GuestType } from "@proxmon/shared";

export interface GuestRow {
  vmid: number;
  type: GuestType;
  /** null when the agent did not report one */
  name: string | null;
  status: string;
  template: boolean;
  cpuUsage: number | null;
  cpus: number | null;
  memBytes: number | null;
  maxMemBytes: number | null;
  uptimeSeconds: number | null;
  tags: string[];
  /** null when the medium sample has not seen this guest yet */
  ips: string[] | null;
}

/** Joins runtime and detail by vmid, ordered by vmid. */
export function mergeGuests(
  runtime: GuestRuntime[],
  detail: GuestDetail[],
): GuestRow[] {
  const ipsById = new Map(detail.map((d) => [d.vmid, d.ips]));
  const rows: GuestRow[] = runtime.map((g) => ({
    vmid: g.vmid,
    type: g.type,
    name: g.name,
    status: g.status ?? "unknown",
    template: g.template,
    cpuUsage: g.cpu_usage,
    cpus: g.cpus,
    memBytes: g.mem_bytes,
    maxMemBytes: g.max_mem_bytes,
    uptimeSeconds: g.uptime_seconds,
    tags: g.tags,
    ips: ipsById.get(g.vmid) ?? null,
  }));
  // A guest only the detail sample knows still gets a row, without figures.
  const known = new Set(runtime.map((g) => g.vmid));
  for (const d of detail) {
    if (known.has(d.vmid)) continue;
    rows.push({
      vmid: d.vmid,
      type: d.type,
      name: d.name,
      status: "unknown",
      template: false,
      cpuUsage: null,
      cpus: null,
      memBytes: null,
      maxMemBytes: null,
      uptimeSeconds: null,
      tags: [],
      ips: d.ips,
    });
  }
  return rows.sort((a, b) => a.vmid - b.vmid);
}
