/**
 * The handful of numbers the history charts need, pulled out of a sample at
 * ingest and stored beside the payload. History queries read these small
 * objects instead of parsing whole payloads, which keeps a 48 h chart cheap.
 */
import type { SamplePayload } from "@proxmon/shared";

export interface FastSummary {
  cpu: number | null;
  mem_used: number | null;
  mem_total: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  net_rx: number | null;
  net_tx: number | null;
  disk_read: number | null;
  disk_write: number | null;
  /** capacity_percent per pool name */
  pools: Record<string, number | null>;
}

// On a PVE node a packet crosses the NIC, the bridge and the guest's tap or
// veth device, so summing every interface would count it several times. The
// host total counts physical NICs only: no bridges, bonds, VLANs or guest ends.
const VIRTUAL_IFACE =
  /^(lo|tap|veth|fwbr|fwpr|fwln|vmbr|bond|docker|br-|virbr|vxlan|tun|wg)|\./;

/** True for an interface whose traffic the host's network total counts. */
export function isPhysicalIface(name: string): boolean {
  return !VIRTUAL_IFACE.test(name);
}

const sumOf = (xs: (number | null)[]): number | null =>
  xs.some((x) => x !== null)
    ? xs.reduce<number>((a, x) => a + (x ?? 0), 0)
    : null;

/** Summarises a parsed sample; only fast samples carry chartable data. */
export function summarize(sample: SamplePayload): FastSummary | null {
  if (sample.interval !== "fast") return null;
  const { host, zfs_pools } = sample.data;
  const nics = host.net.filter((n) => isPhysicalIface(n.iface));
  const memUsed = host.mem_total_bytes !== null &&
      host.mem_available_bytes !== null
    ? host.mem_total_bytes - host.mem_available_bytes
    : null;
  return {
    cpu: host.cpu_percent,
    mem_used: memUsed,
    mem_total: host.mem_total_bytes,
    load1: host.load1,
    load5: host.load5,
    load15: host.load15,
    net_rx: sumOf(nics.map((n) => n.rx_bytes_per_s)),
    net_tx: sumOf(nics.map((n) => n.tx_bytes_per_s)),
    disk_read: sumOf(host.disks.map((d) => d.read_bytes_per_s)),
    disk_write: sumOf(host.disks.map((d) => d.write_bytes_per_s)),
    pools: Object.fromEntries(
      zfs_pools.pools.map((p) => [p.name, p.capacity_percent]),
    ),
  };
}
