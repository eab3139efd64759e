/**
 * The one mapping from a sample payload to Prometheus series. `/metrics`
 * applies it to the latest state of every host; remote_write applies it to
 * each stored sample and stamps the series with the sample's collected_at.
 * Pure: a payload in, series out, so both paths always agree.
 *
 * Cardinality budget (README, "Scaling out"): labels are host, guest
 * (vmid, name, type), pool, storage, physical NIC and disk device names, and
 * small fixed sets (kind, state, interval). Never snapshot names, IP
 * addresses, guest configs or tags. ZFS datasets only when asked for
 * (`?datasets=1`, REMOTE_WRITE_DATASETS=1), since a host can have thousands.
 */
import type {
  FastPayload,
  MediumPayload,
  SamplePayload,
  SlowPayload,
} from "@proxmon/shared";
import { isPhysicalIface, memoryBreakdown } from "../host_state.ts";

export type MetricType = "gauge" | "counter";

/** A metric family's fixed description: what HELP and TYPE say. */
export interface FamilyDef {
  name: string;
  type: MetricType;
  help: string;
}

export type Labels = Record<string, string>;

/** One value of one series; `family` is one of `FAMILIES`. */
export interface SeriesValue {
  family: FamilyDef;
  labels: Labels;
  value: number;
}

/** A host's sample as ingest stored it: its payload typed by its interval. */
export type HostSample = SamplePayload & {
  hostName: string;
  collectedAtMs: number;
};

export interface MappingOptions {
  /** include per-dataset series (many per host) */
  datasets: boolean;
}

/** A family's description, as `FAMILIES` and `SELF_FAMILIES` list them. */
export const def = (
  name: string,
  type: MetricType,
  help: string,
): FamilyDef => ({ name, type, help });

/**
 * Every family proxmon exports, in the order `/metrics` writes them. Names
 * follow Prometheus conventions: base units (bytes, seconds), `_ratio` for
 * 0..1, `_total` for counters.
 */
export const FAMILIES = {
  hostUp: def(
    "proxmon_host_up",
    "gauge",
    "1 while the host's agent is connected, 0 otherwise.",
  ),
  hostLastSeen: def(
    "proxmon_host_last_seen_timestamp_seconds",
    "gauge",
    "When the host's agent last sent anything, unix seconds.",
  ),
  hostSampleTime: def(
    "proxmon_host_sample_timestamp_seconds",
    "gauge",
    "When the latest stored sample of each interval was collected, unix seconds.",
  ),
  hostCpu: def(
    "proxmon_host_cpu_ratio",
    "gauge",
    "Share of the host's CPU time spent busy over the last fast interval (0..1).",
  ),
  hostLoad1: def("proxmon_host_load1", "gauge", "1-minute load average."),
  hostLoad5: def("proxmon_host_load5", "gauge", "5-minute load average."),
  hostLoad15: def("proxmon_host_load15", "gauge", "15-minute load average."),
  hostMemTotal: def(
    "proxmon_host_memory_total_bytes",
    "gauge",
    "Physical memory of the host.",
  ),
  hostMem: def(
    "proxmon_host_memory_bytes",
    "gauge",
    "Host memory by kind: used by processes (total - available - ARC), ZFS ARC, and available; the kinds add up to the total.",
  ),
  hostSwapTotal: def(
    "proxmon_host_swap_total_bytes",
    "gauge",
    "Swap space of the host.",
  ),
  hostSwapUsed: def(
    "proxmon_host_swap_used_bytes",
    "gauge",
    "Swap space in use.",
  ),
  hostUptime: def(
    "proxmon_host_uptime_seconds",
    "gauge",
    "Time since the host booted.",
  ),
  hostNetRx: def(
    "proxmon_host_network_receive_bytes_per_second",
    "gauge",
    "Receive rate of a physical NIC over the last fast interval.",
  ),
  hostNetTx: def(
    "proxmon_host_network_transmit_bytes_per_second",
    "gauge",
    "Transmit rate of a physical NIC over the last fast interval.",
  ),
  hostDiskRead: def(
    "proxmon_host_disk_read_bytes_per_second",
    "gauge",
    "Read rate of a block device over the last fast interval.",
  ),
  hostDiskWrite: def(
    "proxmon_host_disk_write_bytes_per_second",
    "gauge",
    "Write rate of a block device over the last fast interval.",
  ),
  hostRootSize: def(
    "proxmon_host_root_filesystem_size_bytes",
    "gauge",
    "Size of the host's root filesystem.",
  ),
  hostRootUsed: def(
    "proxmon_host_root_filesystem_used_bytes",
    "gauge",
    "Used space on the host's root filesystem.",
  ),
  hostPendingUpdates: def(
    "proxmon_host_pending_updates",
    "gauge",
    "Package updates apt reports as pending.",
  ),
  hostInfo: def(
    "proxmon_host_info",
    "gauge",
    "Always 1; the labels carry the host's software versions.",
  ),
  poolHealth: def(
    "proxmon_zfs_pool_health",
    "gauge",
    "1 for the pool's current health state, 0 for the other states.",
  ),
  poolSize: def("proxmon_zfs_pool_size_bytes", "gauge", "Size of the pool."),
  poolAllocated: def(
    "proxmon_zfs_pool_allocated_bytes",
    "gauge",
    "Space allocated in the pool.",
  ),
  poolFree: def(
    "proxmon_zfs_pool_free_bytes",
    "gauge",
    "Free space in the pool.",
  ),
  poolCapacity: def(
    "proxmon_zfs_pool_capacity_ratio",
    "gauge",
    "Share of the pool in use, as zpool list's CAP (0..1).",
  ),
  poolFragmentation: def(
    "proxmon_zfs_pool_fragmentation_ratio",
    "gauge",
    "Free-space fragmentation of the pool, as zpool list's FRAG (0..1).",
  ),
  poolErrors: def(
    "proxmon_zfs_pool_errors_total",
    "counter",
    "Errors zpool status reports for the pool, by kind (data: files with permanent errors); zpool clear resets it.",
  ),
  poolVdevs: def(
    "proxmon_zfs_pool_vdevs",
    "gauge",
    "Vdevs in the pool: all of them, and those not ONLINE.",
  ),
  scrubLastEnd: def(
    "proxmon_zfs_scrub_last_end_timestamp_seconds",
    "gauge",
    "When the pool's last scrub finished, unix seconds (absent if never).",
  ),
  scanActive: def(
    "proxmon_zfs_pool_scan_active",
    "gauge",
    "1 while a scrub or resilver runs on the pool.",
  ),
  scanProgress: def(
    "proxmon_zfs_pool_scan_progress_ratio",
    "gauge",
    "Progress of the running or last scrub or resilver (0..1).",
  ),
  storageUsed: def(
    "proxmon_storage_used_bytes",
    "gauge",
    "Space used on a PVE storage.",
  ),
  storageSize: def(
    "proxmon_storage_size_bytes",
    "gauge",
    "Size of a PVE storage.",
  ),
  storageAvail: def(
    "proxmon_storage_available_bytes",
    "gauge",
    "Space available on a PVE storage.",
  ),
  storageActive: def(
    "proxmon_storage_active",
    "gauge",
    "1 when PVE reports the storage active (and enabled).",
  ),
  guestUp: def(
    "proxmon_guest_up",
    "gauge",
    "1 while the guest is running, 0 otherwise (templates are left out).",
  ),
  guestCpu: def(
    "proxmon_guest_cpu_ratio",
    "gauge",
    "Share of the guest's own CPUs in use (PVE's cpu, 0..1).",
  ),
  guestCpus: def("proxmon_guest_cpus", "gauge", "CPUs given to the guest."),
  guestMem: def(
    "proxmon_guest_memory_bytes",
    "gauge",
    "Memory the guest uses, as PVE reports it.",
  ),
  guestMemMax: def(
    "proxmon_guest_memory_max_bytes",
    "gauge",
    "Memory configured for the guest.",
  ),
  guestUptime: def(
    "proxmon_guest_uptime_seconds",
    "gauge",
    "Time since the guest started.",
  ),
  guestDiskUsed: def(
    "proxmon_guest_disk_used_bytes",
    "gauge",
    "Disk space the guest uses (PVE reports it for containers).",
  ),
  guestDiskSize: def(
    "proxmon_guest_disk_size_bytes",
    "gauge",
    "Size of the guest's root disk.",
  ),
  guestNetRx: def(
    "proxmon_guest_network_receive_bytes_total",
    "counter",
    "Bytes the guest received since it started.",
  ),
  guestNetTx: def(
    "proxmon_guest_network_transmit_bytes_total",
    "counter",
    "Bytes the guest sent since it started.",
  ),
  guestDiskRead: def(
    "proxmon_guest_disk_read_bytes_total",
    "counter",
    "Bytes the guest read from its disks since it started.",
  ),
  guestDiskWrite: def(
    "proxmon_guest_disk_written_bytes_total",
    "counter",
    "Bytes the guest wrote to its disks since it started.",
  ),
  datasetUsed: def(
    "proxmon_zfs_dataset_used_bytes",
    "gauge",
    "Space used by a dataset and its children (only with ?datasets=1).",
  ),
  datasetAvailable: def(
    "proxmon_zfs_dataset_available_bytes",
    "gauge",
    "Space available to a dataset (only with ?datasets=1).",
  ),
  datasetSnapshotsUsed: def(
    "proxmon_zfs_dataset_snapshots_used_bytes",
    "gauge",
    "Space held by a dataset's snapshots (only with ?datasets=1).",
  ),
  datasetSnapshots: def(
    "proxmon_zfs_dataset_snapshots",
    "gauge",
    "Snapshots of a dataset (only with ?datasets=1).",
  ),
  datasetNewestSnapshot: def(
    "proxmon_zfs_dataset_newest_snapshot_timestamp_seconds",
    "gauge",
    "When a dataset's newest snapshot was taken, unix seconds (only with ?datasets=1).",
  ),
} as const;

/** The health states every pool gets a series for, so queries can match 0. */
export const POOL_STATES = [
  "ONLINE",
  "DEGRADED",
  "FAULTED",
  "OFFLINE",
  "UNAVAIL",
  "REMOVED",
  "SUSPENDED",
] as const;

/** Receives each series; `labels` may be shared between calls, do not keep it mutable. */
export type Emit = (family: FamilyDef, labels: Labels, value: number) => void;

type Push = (family: FamilyDef, labels: Labels, value: number | null) => void;

function fastSeries(host: string, p: FastPayload, push: Push): void {
  const h = p.host;
  const hl = { host };
  push(
    FAMILIES.hostCpu,
    hl,
    h.cpu_percent === null ? null : h.cpu_percent / 100,
  );
  push(FAMILIES.hostLoad1, hl, h.load1);
  push(FAMILIES.hostLoad5, hl, h.load5);
  push(FAMILIES.hostLoad15, hl, h.load15);
  push(FAMILIES.hostMemTotal, hl, h.mem_total_bytes);
  const mem = memoryBreakdown(h);
  if (mem !== null) {
    push(FAMILIES.hostMem, { host, kind: "used" }, mem.used);
    push(FAMILIES.hostMem, { host, kind: "arc" }, mem.arc);
    push(FAMILIES.hostMem, { host, kind: "free" }, mem.free);
  }
  push(FAMILIES.hostSwapTotal, hl, h.swap_total_bytes);
  push(FAMILIES.hostSwapUsed, hl, h.swap_used_bytes);
  push(FAMILIES.hostUptime, hl, h.uptime_seconds);
  for (const n of h.net) {
    if (!isPhysicalIface(n.iface)) continue;
    const l = { host, device: n.iface };
    push(FAMILIES.hostNetRx, l, n.rx_bytes_per_s);
    push(FAMILIES.hostNetTx, l, n.tx_bytes_per_s);
  }
  for (const d of h.disks) {
    const l = { host, device: d.device };
    push(FAMILIES.hostDiskRead, l, d.read_bytes_per_s);
    push(FAMILIES.hostDiskWrite, l, d.write_bytes_per_s);
  }
  if (h.root_fs !== null) {
    push(FAMILIES.hostRootSize, hl, h.root_fs.size_bytes);
    push(FAMILIES.hostRootUsed, hl, h.root_fs.used_bytes);
  }

  for (const pool of p.zfs_pools.pools) {
    const l = { host, pool: pool.name };
    // A pool whose health was not reported counts as UNKNOWN, not ONLINE.
    const health = pool.health?.toUpperCase() ?? "UNKNOWN";
    for (const state of POOL_STATES) {
      push(FAMILIES.poolHealth, { ...l, state }, state === health ? 1 : 0);
    }
    if (!(POOL_STATES as readonly string[]).includes(health)) {
      push(FAMILIES.poolHealth, { ...l, state: health }, 1);
    }
    push(FAMILIES.poolSize, l, pool.size_bytes);
    push(FAMILIES.poolAllocated, l, pool.allocated_bytes);
    push(FAMILIES.poolFree, l, pool.free_bytes);
    push(FAMILIES.poolCapacity, l, percentRatio(pool.capacity_percent));
    push(
      FAMILIES.poolFragmentation,
      l,
      percentRatio(pool.fragmentation_percent),
    );
    push(FAMILIES.poolErrors, { ...l, kind: "data" }, pool.error_count);
    push(FAMILIES.poolVdevs, { ...l, kind: "all" }, pool.vdev_count);
    push(
      FAMILIES.poolVdevs,
      { ...l, kind: "degraded" },
      pool.degraded_vdev_count,
    );
    push(FAMILIES.scrubLastEnd, l, pool.last_scrub_end);
    const scan = pool.scan;
    if (scan !== null && scan.function !== null && scan.function !== "NONE") {
      const sl = { ...l, function: scan.function.toLowerCase() };
      push(FAMILIES.scanActive, sl, scan.state === "SCANNING" ? 1 : 0);
      push(FAMILIES.scanProgress, sl, percentRatio(scan.progress_percent));
    }
  }

  for (const s of p.storage.storages) {
    const l = { host, storage: s.name, type: s.type ?? "" };
    push(FAMILIES.storageActive, l, s.active && s.enabled ? 1 : 0);
    push(FAMILIES.storageUsed, l, s.used_bytes);
    push(FAMILIES.storageSize, l, s.total_bytes);
    push(FAMILIES.storageAvail, l, s.avail_bytes);
  }

  for (const g of p.vms_runtime.vms) {
    // Templates never run; leaving them out keeps the budget for guests.
    if (g.template) continue;
    const l = { host, vmid: String(g.vmid), name: g.name ?? "", type: g.type };
    push(FAMILIES.guestUp, l, g.status === "running" ? 1 : 0);
    push(FAMILIES.guestCpu, l, g.cpu_usage);
    push(FAMILIES.guestCpus, l, g.cpus);
    push(FAMILIES.guestMem, l, g.mem_bytes);
    push(FAMILIES.guestMemMax, l, g.max_mem_bytes);
    push(FAMILIES.guestUptime, l, g.uptime_seconds);
    push(FAMILIES.guestDiskUsed, l, g.disk_bytes);
    push(FAMILIES.guestDiskSize, l, g.max_disk_bytes);
    push(FAMILIES.guestNetRx, l, g.netin_bytes);
    push(FAMILIES.guestNetTx, l, g.netout_bytes);
    push(FAMILIES.guestDiskRead, l, g.diskread_bytes);
    push(FAMILIES.guestDiskWrite, l, g.diskwrite_bytes);
  }
}

function mediumSeries(
  host: string,
  p: MediumPayload,
  opts: MappingOptions,
  push: Push,
): void {
  if (!opts.datasets) return;
  for (const d of p.zfs_datasets.datasets) {
    const l = { host, dataset: d.name, type: d.type ?? "" };
    push(FAMILIES.datasetUsed, l, d.used_bytes);
    push(FAMILIES.datasetAvailable, l, d.available_bytes);
    push(FAMILIES.datasetSnapshotsUsed, l, d.usedbysnapshots_bytes);
    push(FAMILIES.datasetSnapshots, l, d.snapshot_count);
    push(FAMILIES.datasetNewestSnapshot, l, d.newest_snapshot_unix);
  }
}

function slowSeries(host: string, p: SlowPayload, push: Push): void {
  const s = p.system_info;
  push(FAMILIES.hostPendingUpdates, { host }, s.pending_updates);
  push(FAMILIES.hostInfo, {
    host,
    pve_version: s.pve_version ?? "",
    kernel: s.kernel ?? "",
    zfs_version: s.zfs_version ?? "",
    agent_version: s.agent_version ?? "",
  }, 1);
}

const percentRatio = (p: number | null) => p === null ? null : p / 100;

/**
 * Hands every series one sample payload yields to `emit`, a guest's or a
 * pool's families one after another with the same labels object. Values a
 * collector could not read (null) are left out rather than exported as 0.
 * A callback, not an array: `/metrics` writes 65k series per scrape at
 * 100 hosts x 50 guests, and an object per series was most of its time.
 */
export function emitPayloadSeries(
  host: string,
  sample: SamplePayload,
  opts: MappingOptions,
  emit: Emit,
): void {
  const push: Push = (family, labels, value) => {
    if (value !== null && Number.isFinite(value)) emit(family, labels, value);
  };
  if (sample.interval === "fast") fastSeries(host, sample.data, push);
  else if (sample.interval === "medium") {
    mediumSeries(host, sample.data, opts, push);
  } else slowSeries(host, sample.data, push);
}

/** The series of one payload as a list (`emitPayloadSeries`, collected). */
export function payloadSeries(
  host: string,
  sample: SamplePayload,
  opts: MappingOptions,
): SeriesValue[] {
  const out: SeriesValue[] = [];
  emitPayloadSeries(host, sample, opts, (family, labels, value) => {
    out.push({ family, labels, value });
  });
  return out;
}
