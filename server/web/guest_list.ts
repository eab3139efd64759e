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
  /**
   * Disk used and size: a VM's file systems as its guest agent reports
   * them, a container's root disk from its runtime; null when unknown.
   */
  diskUsedBytes: number | null;
  diskTotalBytes: number | null;
  diskSource: "agent" | "runtime" | null;
}

type Disk = Pick<GuestRow, "diskUsedBytes" | "diskTotalBytes" | "diskSource">;
const NO_DISK: Disk = {
  diskUsedBytes: null,
  diskTotalBytes: null,
  diskSource: null,
};

/** A guest's disk use: the guest agent's file systems, or the CT's runtime. */
function diskOf(
  runtime: GuestRuntime | undefined,
  detail: GuestDetail | undefined,
): Disk {
  const fs = detail?.filesystems;
  if (fs && fs.length > 0) {
    const sum = (key: "used_bytes" | "total_bytes") =>
      fs.reduce((a, f) => a + (f[key] ?? 0), 0);
    return {
      diskUsedBytes: sum("used_bytes"),
      diskTotalBytes: sum("total_bytes"),
      diskSource: "agent",
    };
  }
  // PVE reports `disk` of a VM as 0; only a running container's is its use.
  if (
    runtime?.type === "lxc" && runtime.status === "running" &&
    runtime.disk_bytes !== null
  ) {
    return {
      diskUsedBytes: runtime.disk_bytes,
      diskTotalBytes: runtime.max_disk_bytes,
      diskSource: "runtime",
    };
  }
  return NO_DISK;
}

/** Joins runtime and detail by vmid, ordered by vmid. */
export function mergeGuests(
  runtime: GuestRuntime[],
  detail: GuestDetail[],
): GuestRow[] {
  const detailById = new Map(detail.map((d) => [d.vmid, d]));
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
    ips: detailById.get(g.vmid)?.ips ?? null,
    ...diskOf(g, detailById.get(g.vmid)),
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
      ...diskOf(undefined, d),
    });
  }
  return rows.sort((a, b) => a.vmid - b.vmid);
}
