/**
 * Payload schemas for the three sample intervals, tolerant by design so an
 * agent one version older or newer than the server loses nothing:
 * - every object is a `looseObject`: fields the server does not know are
 *   kept and stored;
 * - every field is optional with a default (`null`, `[]`, `false`, `{}`), so
 *   a sample from an agent that lacks a field parses, with the default;
 *   the one exception is what names an item of a list (a pool's or
 *   storage's `name`, a guest's `vmid` and `type`, a NIC's `iface`): an item
 *   without it cannot be told apart from its neighbours, so it is dropped;
 * - a field with the wrong type is replaced by its default by
 *   `parsePayload` (payload_parser.ts), which notes it, or the dropped item,
 *   in the collector's `errors` with the tag `schema`.
 * Every collector value carries an `errors` list, so a sample can be partial
 * without failing as a whole.
 */
import * as v from "valibot";

export const Interval = v.picklist(["fast", "medium", "slow"]);
export type Interval = v.InferOutput<typeof Interval>;
export const INTERVALS: readonly Interval[] = ["fast", "medium", "slow"];

export const CollectorError = v.looseObject({
  tag: v.optional(v.string(), "unknown"),
  message: v.optional(v.string(), ""),
});
export type CollectorError = v.InferOutput<typeof CollectorError>;

// The building blocks: each one is optional, with the default that a
// missing or wrong-typed field gets.
const num = v.optional(v.nullable(v.number()), null);
const str = v.optional(v.nullable(v.string()), null);
const flag = v.optional(v.boolean(), false);
const list = <T extends v.GenericSchema>(item: T) =>
  v.optional(v.array(item), []);
const errors = list(CollectorError);

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

export const RootFs = v.looseObject({
  size_bytes: num,
  used_bytes: num,
});
export type RootFs = v.InferOutput<typeof RootFs>;

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
  net: list(NetRate),
  disks: list(DiskRate),
  root_fs: v.optional(v.nullable(RootFs), null),
  errors,
});
export type HostMetrics = v.InferOutput<typeof HostMetrics>;

export const ScanState = v.looseObject({
  /** SCRUB | RESILVER | ERRORSCRUB | NONE */
  function: str,
  /** SCANNING | FINISHED | CANCELED | NONE */
  state: str,
  start_unix: num,
  end_unix: num,
  progress_percent: num,
});
export type ScanState = v.InferOutput<typeof ScanState>;

export const ZfsPool = v.looseObject({
  name: v.string(),
  /** null when not reported: judged as not ONLINE */
  health: str,
  size_bytes: num,
  allocated_bytes: num,
  free_bytes: num,
  fragmentation_percent: num,
  capacity_percent: num,
  error_count: num,
  vdev_count: num,
  degraded_vdev_count: num,
  /** unix seconds of the last finished scrub, or null if never scrubbed */
  last_scrub_end: num,
  scan: v.optional(v.nullable(ScanState), null),
});
export type ZfsPool = v.InferOutput<typeof ZfsPool>;

export const ZfsPools = v.looseObject({
  pools: list(ZfsPool),
  errors,
});
export type ZfsPools = v.InferOutput<typeof ZfsPools>;

export const StorageEntry = v.looseObject({
  name: v.string(),
  type: str,
  content: list(v.string()),
  active: flag,
  enabled: flag,
  shared: flag,
  used_bytes: num,
  total_bytes: num,
  avail_bytes: num,
  /** null when PVE leaves it out (inactive or disabled storages) */
  used_fraction: num,
});
export type StorageEntry = v.InferOutput<typeof StorageEntry>;

export const Storage = v.looseObject({
  storages: list(StorageEntry),
  errors,
});
export type Storage = v.InferOutput<typeof Storage>;

export const GuestType = v.picklist(["qemu", "lxc"]);
export type GuestType = v.InferOutput<typeof GuestType>;

export const VmRuntime = v.looseObject({
  /** always a number, even where PVE sends a string */
  vmid: v.number(),
  type: GuestType,
  name: str,
  status: str,
  uptime_seconds: num,
  /** PVE's `cpu`: fraction of the guest's CPUs, 0..1 */
  cpu_usage: num,
  cpus: num,
  mem_bytes: num,
  max_mem_bytes: num,
  disk_bytes: num,
  max_disk_bytes: num,
  netin_bytes: num,
  netout_bytes: num,
  diskread_bytes: num,
  diskwrite_bytes: num,
  tags: list(v.string()),
  template: flag,
});
export type VmRuntime = v.InferOutput<typeof VmRuntime>;

export const VmsRuntime = v.looseObject({
  vms: list(VmRuntime),
  errors,
});
export type VmsRuntime = v.InferOutput<typeof VmsRuntime>;

export const FastPayload = v.looseObject({
  host: v.optional(HostMetrics, {}),
  zfs_pools: v.optional(ZfsPools, {}),
  storage: v.optional(Storage, {}),
  vms_runtime: v.optional(VmsRuntime, {}),
});
export type FastPayload = v.InferOutput<typeof FastPayload>;

// ---- medium ----------------------------------------------------------------

export const ZfsDataset = v.looseObject({
  name: v.string(),
  /** filesystem | volume */
  type: str,
  used_bytes: num,
  available_bytes: num,
  usedbysnapshots_bytes: num,
  snapshot_count: num,
  newest_snapshot_unix: num,
  oldest_snapshot_unix: num,
});
export type ZfsDataset = v.InferOutput<typeof ZfsDataset>;

export const ZfsDatasets = v.looseObject({
  datasets: list(ZfsDataset),
  errors,
});
export type ZfsDatasets = v.InferOutput<typeof ZfsDatasets>;

export const VmDetail = v.looseObject({
  vmid: v.number(),
  type: GuestType,
  name: str,
  config: v.optional(v.record(v.string(), v.unknown()), {}),
  /** IPv4 and IPv6, without loopback and link-local */
  ips: list(v.string()),
  errors,
});
export type VmDetail = v.InferOutput<typeof VmDetail>;

export const VmsDetail = v.looseObject({
  vms: list(VmDetail),
  errors,
});
export type VmsDetail = v.InferOutput<typeof VmsDetail>;

export const MediumPayload = v.looseObject({
  zfs_datasets: v.optional(ZfsDatasets, {}),
  vms_detail: v.optional(VmsDetail, {}),
});
export type MediumPayload = v.InferOutput<typeof MediumPayload>;

// ---- slow ------------------------------------------------------------------

export const SystemInfo = v.looseObject({
  pve_version: str,
  kernel: str,
  /** the userland tools' version */
  zfs_version: str,
  /** the loaded kernel module's; differs from zfs_version until a reboot */
  zfs_kmod_version: str,
  pending_updates: num,
  agent_version: str,
  errors,
});
export type SystemInfo = v.InferOutput<typeof SystemInfo>;

export const SlowPayload = v.looseObject({
  system_info: v.optional(SystemInfo, {}),
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

/** An interval with its payload, the one discriminating the other. */
export type SamplePayload = {
  [I in Interval]: { interval: I; data: PayloadFor<I> };
}[Interval];
