/**
 * Payload schemas for the three sample intervals. Every object is a
 * `looseObject`, so a newer agent that adds fields can still talk to an
 * older server. Numbers that a collector may fail to read are nullable,
 * and every collector value carries an `errors` list so a sample can be
 * partial without failing as a whole.
 */
import * as v from "valibot";

export const Interval = v.picklist(["fast", "medium", "slow"]);
export type Interval = v.InferOutput<typeof Interval>;
export const INTERVALS: readonly Interval[] = ["fast", "medium", "slow"];

export const CollectorError = v.looseObject({
  tag: v.string(),
  message: v.string(),
});
export type CollectorError = v.InferOutput<typeof CollectorError>;

const errors = v.array(CollectorError);
const num = v.nullable(v.number());

// ---- fast ------------------------------------------------------------------

export const NetRate = v.looseObject({
  iface: v.string(),
  rx_bytes_per_s: num,
  tx_bytes_per_s: num,
});
export type NetRate = v.InferOutput<typeof NetRate>;

export const DiskRate = v.looseObject({
  device: v.string(),
  read_bytes_per_s: num,
  write_bytes_per_s: num,
});
export type DiskRate = v.InferOutput<typeof DiskRate>;

export const HostMetrics = v.looseObject({
  /** null on the first reading: a rate needs two readings. */
  cpu_percent: num,
  load1: num,
  load5: num,
  load15: num,
  mem_total_bytes: num,
  mem_available_bytes: num,
  swap_total_bytes: num,
  swap_used_bytes: num,
  uptime_seconds: num,
  net: v.array(NetRate),
  disks: v.array(DiskRate),
  root_fs: v.nullable(v.looseObject({
    size_bytes: v.number(),
    used_bytes: v.number(),
  })),
  errors,
});
export type HostMetrics = v.InferOutput<typeof HostMetrics>;

export const ScanState = v.looseObject({
  /** SCRUB | RESILVER | ERRORSCRUB | NONE */
  function: v.string(),
  /** SCANNING | FINISHED | CANCELED | NONE */
  state: v.string(),
  start_unix: num,
  end_unix: num,
  progress_percent: num,
});
export type ScanState = v.InferOutput<typeof ScanState>;

export const ZfsPool = v.looseObject({
  name: v.string(),
  health: v.string(),
  size_bytes: num,
  allocated_bytes: num,
  free_bytes: num,
  fragmentation_percent: num,
  capacity_percent: num,
  error_count: num,
  vdev_count: v.number(),
  degraded_vdev_count: v.number(),
  /** unix seconds of the last finished scrub, or null if never scrubbed */
  last_scrub_end: num,
  scan: v.nullable(ScanState),
});
export type ZfsPool = v.InferOutput<typeof ZfsPool>;

export const ZfsPools = v.looseObject({
  pools: v.array(ZfsPool),
  errors,
});
export type ZfsPools = v.InferOutput<typeof ZfsPools>;

export const StorageEntry = v.looseObject({
  name: v.string(),
  type: v.string(),
  content: v.array(v.string()),
  active: v.boolean(),
  enabled: v.boolean(),
  shared: v.boolean(),
  used_bytes: num,
  total_bytes: num,
  avail_bytes: num,
  /** null when PVE leaves it out (inactive or disabled storages) */
  used_fraction: num,
});
export type StorageEntry = v.InferOutput<typeof StorageEntry>;

export const Storage = v.looseObject({
  storages: v.array(StorageEntry),
  errors,
});
export type Storage = v.InferOutput<typeof Storage>;

export const GuestType = v.picklist(["qemu", "lxc"]);
export type GuestType = v.InferOutput<typeof GuestType>;

export const VmRuntime = v.looseObject({
  /** always a number, even where PVE sends a string */
  vmid: v.number(),
  type: GuestType,
  name: v.string(),
  status: v.string(),
  uptime_seconds: num,
  /** PVE's `cpu`: fraction of the guest's CPUs, 0..1 */
  cpu_usage: num,
  cpus: num,
  mem_bytes: num,
  max_mem_bytes: num,
  disk_bytes: v.optional(num),
  max_disk_bytes: v.optional(num),
  netin_bytes: v.optional(num),
  netout_bytes: v.optional(num),
  diskread_bytes: v.optional(num),
  diskwrite_bytes: v.optional(num),
  tags: v.array(v.string()),
  template: v.boolean(),
});
export type VmRuntime = v.InferOutput<typeof VmRuntime>;

export const VmsRuntime = v.looseObject({
  vms: v.array(VmRuntime),
  errors,
});
export type VmsRuntime = v.InferOutput<typeof VmsRuntime>;

export const FastPayload = v.looseObject({
  host: HostMetrics,
  zfs_pools: ZfsPools,
  storage: Storage,
  vms_runtime: VmsRuntime,
});
export type FastPayload = v.InferOutput<typeof FastPayload>;

// ---- medium ----------------------------------------------------------------

export const ZfsDataset = v.looseObject({
  name: v.string(),
  /** filesystem | volume */
  type: v.string(),
  used_bytes: num,
  available_bytes: num,
  usedbysnapshots_bytes: num,
  snapshot_count: v.number(),
  newest_snapshot_unix: num,
  oldest_snapshot_unix: num,
});
export type ZfsDataset = v.InferOutput<typeof ZfsDataset>;

export const ZfsDatasets = v.looseObject({
  datasets: v.array(ZfsDataset),
  errors,
});
export type ZfsDatasets = v.InferOutput<typeof ZfsDatasets>;

export const VmDetail = v.looseObject({
  vmid: v.number(),
  type: GuestType,
  name: v.string(),
  config: v.record(v.string(), v.unknown()),
  /** IPv4 and IPv6, without loopback and link-local */
  ips: v.array(v.string()),
  errors,
});
export type VmDetail = v.InferOutput<typeof VmDetail>;

export const VmsDetail = v.looseObject({
  vms: v.array(VmDetail),
  errors,
});
export type VmsDetail = v.InferOutput<typeof VmsDetail>;

export const MediumPayload = v.looseObject({
  zfs_datasets: ZfsDatasets,
  vms_detail: VmsDetail,
});
export type MediumPayload = v.InferOutput<typeof MediumPayload>;

// ---- slow ------------------------------------------------------------------

export const SystemInfo = v.looseObject({
  pve_version: v.nullable(v.string()),
  kernel: v.nullable(v.string()),
  zfs_version: v.nullable(v.string()),
  pending_updates: num,
  agent_version: v.string(),
  errors,
});
export type SystemInfo = v.InferOutput<typeof SystemInfo>;

export const SlowPayload = v.looseObject({
  system_info: SystemInfo,
});
export type SlowPayload = v.InferOutput<typeof SlowPayload>;

/** The payload schema for each interval. */
export const PAYLOAD_SCHEMAS = {
  fast: FastPayload,
  medium: MediumPayload,
  slow: SlowPayload,
} as const;

export type PayloadFor<I extends Interval> = I extends "fast" ? FastPayload
  : I extends "medium" ? MediumPayload
  : SlowPayload;
