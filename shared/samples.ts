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

/** The ZFS ARC, from /proc/spl/kstat/zfs/arcstats. */
export const ZfsArc = v.looseObject({
  size_bytes: num,
  c_max_bytes: num,
  hits: num,
  misses: num,
  hit_ratio: num,
});
export type ZfsArc = v.InferOutput<typeof ZfsArc>;

/** One /proc/pressure file, in percent of time stalled. */
export const Pressure = v.looseObject({
  some_avg10: num,
  some_avg60: num,
  /** null where the kernel prints no `full` line (cpu before Linux 5.13) */
  full_avg10: num,
  full_avg60: num,
});
export type Pressure = v.InferOutput<typeof Pressure>;

export const Psi = v.looseObject({
  cpu: v.optional(v.nullable(Pressure), null),
  memory: v.optional(v.nullable(Pressure), null),
  io: v.optional(v.nullable(Pressure), null),
});
export type Psi = v.InferOutput<typeof Psi>;

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
  /** null when /proc/spl/kstat/zfs/arcstats is absent (no ZFS) */
  arc: v.optional(v.nullable(ZfsArc), null),
  /** pressure stall information; null where the kernel has none */
  psi: v.optional(v.nullable(Psi), null),
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

export const GuestRuntime = v.looseObject({
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
  /** PVE's config lock while it holds the guest: backup, migrate, snapshot… */
  lock: str,
  /**
   * The guest's cgroup pressure, from PVE 9's `pressure{cpu,io,memory}{some,full}`
   * (avg10 only, so the avg60 fields are null); null where PVE sends none
   * (PVE 8, a stopped guest, `/cluster/resources`).
   */
  psi: v.optional(v.nullable(Psi), null),
});
export type GuestRuntime = v.InferOutput<typeof GuestRuntime>;

export const GuestsRuntime = v.looseObject({
  vms: list(GuestRuntime),
  errors,
});
export type GuestsRuntime = v.InferOutput<typeof GuestsRuntime>;

export const FastPayload = v.looseObject({
  host: v.optional(HostMetrics, {}),
  zfs_pools: v.optional(ZfsPools, {}),
  storage: v.optional(Storage, {}),
  vms_runtime: v.optional(GuestsRuntime, {}),
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

/** A file system inside a VM, as its guest agent reports it. */
export const GuestFilesystem = v.looseObject({
  mountpoint: v.string(),
  type: str,
  total_bytes: num,
  used_bytes: num,
});
export type GuestFilesystem = v.InferOutput<typeof GuestFilesystem>;

export const GuestDetail = v.looseObject({
  vmid: v.number(),
  type: GuestType,
  name: str,
  config: v.optional(v.record(v.string(), v.unknown()), {}),
  /** IPv4 and IPv6, without loopback and link-local */
  ips: list(v.string()),
  /**
   * A running VM's file systems from its guest agent (on a virtual disk
   * only); null when not asked (no agent, stopped, container: a
   * container's usage is its runtime `disk`/`max_disk_bytes`).
   */
  filesystems: v.optional(v.nullable(v.array(GuestFilesystem)), null),
  errors,
});
export type GuestDetail = v.InferOutput<typeof GuestDetail>;

export const GuestsDetail = v.looseObject({
  vms: list(GuestDetail),
  errors,
});
export type GuestsDetail = v.InferOutput<typeof GuestsDetail>;

// ---- medium: backups and replication (issue 17) ----------------------------

/** The outcome of a finished vzdump task: PVE's exit status, and whether it is `OK`. */
export const TaskOutcome = v.looseObject({
  upid: v.string(),
  start_unix: num,
  /** null while the task is still running */
  end_unix: num,
  /** PVE's exit status (`OK`, `WARNINGS: 1`, `job errors`, …), `running`, or null */
  status: str,
  /** true for `OK` and `WARNINGS: …`, false for any other ending, null while running */
  ok: v.optional(v.nullable(v.boolean()), null),
});
export type TaskOutcome = v.InferOutput<typeof TaskOutcome>;

export const BackupJob = v.looseObject({
  id: v.string(),
  enabled: flag,
  schedule: str,
  storage: str,
  /** the job covers every guest (`all`), less `exclude` */
  all: flag,
  vmids: list(v.number()),
  exclude: list(v.number()),
  pool: str,
  /** restricted to one node, or null for every node */
  node: str,
  next_run_unix: num,
  /** the newest vzdump task this job started on this node, or null */
  last_run: v.optional(v.nullable(TaskOutcome), null),
});
export type BackupJob = v.InferOutput<typeof BackupJob>;

export const BackupArchive = v.looseObject({
  storage: v.string(),
  volid: v.string(),
  ctime_unix: num,
  size_bytes: num,
  /** vma.zst, tar.zst, pbs-vm, pbs-ct, … */
  format: str,
  protected: flag,
  /** PBS only: `ok` or `failed`; null when not verified or not PBS */
  verification: str,
  notes: str,
});
export type BackupArchive = v.InferOutput<typeof BackupArchive>;

export const GuestBackup = v.looseObject({
  vmid: v.number(),
  /** the newest vzdump task for this guest on this node, or null if none is listed */
  last_task: v.optional(v.nullable(TaskOutcome), null),
  /** the newest archive of this guest across the listed backup storages */
  newest: v.optional(v.nullable(BackupArchive), null),
  /** archives of this guest across the listed storages */
  archive_count: num,
});
export type GuestBackup = v.InferOutput<typeof GuestBackup>;

export const UncoveredGuest = v.looseObject({
  vmid: v.number(),
  type: str,
  name: str,
});
export type UncoveredGuest = v.InferOutput<typeof UncoveredGuest>;

export const BackupStorageListing = v.looseObject({
  storage: v.string(),
  /** when this storage was last listed (listings are cached between cycles) */
  listed_at_unix: num,
  archive_count: num,
});
export type BackupStorageListing = v.InferOutput<typeof BackupStorageListing>;

export const Backups = v.looseObject({
  jobs: list(BackupJob),
  not_backed_up: list(UncoveredGuest),
  guests: list(GuestBackup),
  storages: list(BackupStorageListing),
  /** when the task list was last read (it is cached between cycles too) */
  tasks_read_at_unix: num,
  errors,
});
export type Backups = v.InferOutput<typeof Backups>;

export const ReplicationJob = v.looseObject({
  id: v.string(),
  guest: v.number(),
  target: str,
  schedule: str,
  enabled: flag,
  last_sync_unix: num,
  last_try_unix: num,
  next_sync_unix: num,
  duration_seconds: num,
  fail_count: num,
  error: str,
});
export type ReplicationJob = v.InferOutput<typeof ReplicationJob>;

export const Replication = v.looseObject({
  jobs: list(ReplicationJob),
  read_at_unix: num,
  errors,
});
export type Replication = v.InferOutput<typeof Replication>;

export const NvmeTemperature = v.looseObject({
  /** lm-sensors chip name (`nvme-pci-0100`) or hwmon device (`nvme0`) */
  device: v.string(),
  composite_c: num,
});
export type NvmeTemperature = v.InferOutput<typeof NvmeTemperature>;

export const BoardTemperature = v.looseObject({
  chip: v.string(),
  label: v.string(),
  celsius: num,
});
export type BoardTemperature = v.InferOutput<typeof BoardTemperature>;

export const Temperatures = v.looseObject({
  /** `sensors` (lm-sensors JSON), `hwmon` (/sys/class/hwmon), or null when neither gave readings */
  source: v.optional(v.nullable(v.picklist(["sensors", "hwmon"])), null),
  /** hottest CPU package (Intel `Package id N`, AMD `Tdie`/`Tctl`) */
  cpu_package_c: num,
  /** hottest core (Intel `Core N`) or core complex (AMD `Tccd N`) */
  cpu_core_max_c: num,
  nvme: list(NvmeTemperature),
  board: list(BoardTemperature),
  errors,
});
export type Temperatures = v.InferOutput<typeof Temperatures>;

export const MediumPayload = v.looseObject({
  zfs_datasets: v.optional(ZfsDatasets, {}),
  vms_detail: v.optional(GuestsDetail, {}),
  // Issue 17. Without a default: absent means "this agent does not collect
  // it" (older than these collectors), which the host page says, unlike an
  // empty value from an agent that looked and found nothing.
  backups: v.optional(Backups),
  replication: v.optional(Replication),
  temperatures: v.optional(Temperatures),
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

export const AtaHealth = v.looseObject({
  /** attribute 5 raw value */
  reallocated_sectors: num,
  /** attribute 197 */
  pending_sectors: num,
  /** attribute 198 */
  offline_uncorrectable: num,
  /** attribute 199 */
  crc_errors: num,
});
export type AtaHealth = v.InferOutput<typeof AtaHealth>;

export const NvmeHealth = v.looseObject({
  percentage_used: num,
  available_spare: num,
  media_errors: num,
  unsafe_shutdowns: num,
});
export type NvmeHealth = v.InferOutput<typeof NvmeHealth>;

/** The ZFS leaf vdev a disk backs, as `zpool status` names it. */
export const DiskVdev = v.looseObject({
  pool: v.string(),
  /** the top-level vdev (`mirror-0`, `raidz1-0`) or the disk itself when it is one */
  vdev: v.string(),
  /** the leaf as zpool status names it (a by-id name, a path or `sda`) */
  device: v.string(),
  state: str,
});
export type DiskVdev = v.InferOutput<typeof DiskVdev>;

export const SmartDisk = v.looseObject({
  /** `/dev/sda`, `/dev/nvme0` */
  device: v.string(),
  /** smartctl device type (`sat`, `nvme`, `scsi`) */
  type: str,
  protocol: str,
  model: str,
  serial: str,
  capacity_bytes: num,
  /** the disk was spun down, so nothing else was read (smartctl -n standby) */
  standby: flag,
  /** null when unknown (standby, or smartctl could not tell) */
  health_passed: v.optional(v.nullable(v.boolean()), null),
  temperature_c: num,
  power_on_hours: num,
  ata: v.optional(v.nullable(AtaHealth), null),
  nvme: v.optional(v.nullable(NvmeHealth), null),
  vdev: v.optional(v.nullable(DiskVdev), null),
  /**
   * How far the reallocated and pending sector counts rose since this agent's
   * previous reading of the disk; null on its first reading (or for NVMe).
   */
  sectors_rising: v.optional(
    v.nullable(v.looseObject({ reallocated: num, pending: num })),
    null,
  ),
});
export type SmartDisk = v.InferOutput<typeof SmartDisk>;

export const Smart = v.looseObject({
  disks: list(SmartDisk),
  errors,
});
export type Smart = v.InferOutput<typeof Smart>;

export const SlowPayload = v.looseObject({
  system_info: v.optional(SystemInfo, {}),
  // Issue 17; absent from older agents (see MediumPayload).
  smart: v.optional(Smart),
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
