/**
 * A node profile describes one simulated PVE node: its guests, pools,
 * storages, pending updates and tool versions. Profiles are TOML files in
 * `profiles/`; `parseNodeProfile` validates one and fills in defaults, so
 * the rest of the fake node works on a fully resolved value.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";

const positive = v.pipe(v.number(), v.minValue(0));
const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const vmid = v.pipe(v.number(), v.integer(), v.minValue(100));

const Nic = v.strictObject({
  /** "192.0.2.10/24", "dhcp", or absent for no IPv4 */
  ipv4: v.optional(v.string()),
  /** "2001:db8::10/64", "auto", "dhcp", or absent for no IPv6 */
  ipv6: v.optional(v.string()),
  bridge: v.optional(v.string(), "vmbr0"),
  /** the address a DHCP/SLAAC NIC ends up with inside the guest */
  leased_ipv4: v.optional(v.string()),
  leased_ipv6: v.optional(v.string()),
});

const Guest = v.strictObject({
  vmid,
  type: v.picklist(["qemu", "lxc"]),
  name: v.string(),
  status: v.optional(v.picklist(["running", "stopped"]), "running"),
  template: v.optional(v.boolean(), false),
  /** qemu only: the QEMU guest agent is configured and running, configured but not running, or not configured */
  agent: v.optional(v.picklist(["running", "not_running", "none"]), "running"),
  cores: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 2),
  memory_mib: v.optional(v.pipe(v.number(), v.integer(), v.minValue(16)), 2048),
  disk_gib: v.optional(v.pipe(v.number(), v.minValue(1)), 32),
  tags: v.optional(v.array(v.string()), []),
  /** mean CPU busy fraction of the guest */
  cpu_busy: v.optional(fraction, 0.08),
  nics: v.optional(v.array(Nic), []),
});

const Fault = v.strictObject({
  disk: v.string(),
  state: v.optional(
    v.picklist(["DEGRADED", "FAULTED", "OFFLINE", "UNAVAIL"]),
    "DEGRADED",
  ),
  read_errors: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  write_errors: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  checksum_errors: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0)),
    0,
  ),
});

const Pool = v.strictObject({
  name: v.string(),
  layout: v.optional(
    v.picklist(["single", "mirror", "raidz1", "raidz2"]),
    "mirror",
  ),
  disks: v.pipe(v.array(v.string()), v.minLength(1)),
  size_gib: positive,
  used_fraction: v.optional(fraction, 0.3),
  fragmentation: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 8),
  /** the last scrub: never run, finished, or running right now */
  scrub: v.optional(v.picklist(["none", "finished", "scanning"]), "finished"),
  scrub_progress: v.optional(fraction, 0.4),
  /** bytes the last (or running) scrub repaired */
  scrub_repaired_bytes: v.optional(positive, 0),
  /** datasets beyond the pool root, e.g. "tank/media" */
  datasets: v.optional(v.array(v.string()), []),
  /** guest disks live on this pool (default: the first pool) */
  guest_disks: v.optional(v.boolean()),
  /** hourly snapshots kept per guest disk */
  snapshot_hours: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 3),
  faults: v.optional(v.array(Fault), []),
});

const StorageDef = v.strictObject({
  name: v.string(),
  type: v.string(),
  content: v.string(),
  shared: v.optional(v.boolean(), false),
  enabled: v.optional(v.boolean(), true),
  active: v.optional(v.boolean(), true),
  total_gib: v.optional(positive, 0),
  used_gib: v.optional(positive, 0),
});

const Update = v.strictObject({
  package: v.string(),
  suite: v.optional(v.string(), "stable"),
  version: v.string(),
  from: v.string(),
  arch: v.optional(v.string(), "amd64"),
});

const Generate = v.strictObject({
  qemu: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  lxc: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  first_vmid: v.optional(vmid, 200),
  /** first two octets of the generated guests' IPv4 addresses */
  subnet: v.optional(v.string(), "10.20"),
});

const Host = v.strictObject({
  cpus: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 8),
  mem_total_mib: v.optional(v.pipe(v.number(), v.minValue(64)), 65536),
  swap_total_mib: v.optional(positive, 8192),
  cpu_busy: v.optional(fraction, 0.15),
  nics: v.optional(v.array(v.string()), ["eno1", "vmbr0"]),
  disks: v.optional(v.array(v.string()), ["nvme0n1", "sda"]),
});

const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** SMART overrides for one disk; disks come from the pools (by-id names) unless listed. */
const Disk = v.strictObject({
  /** a pool disk's by-id name, or a new one (`ata-<model>_<serial>`, `nvme-<model>_<serial>`) */
  name: v.string(),
  health: v.optional(v.picklist(["passed", "failed"]), "passed"),
  /** spun down: smartctl -n standby answers "Device is in STANDBY mode" */
  standby: v.optional(v.boolean(), false),
  temperature: v.optional(v.number(), 34),
  power_on_hours: v.optional(count, 18_000),
  reallocated: v.optional(count, 0),
  /** one more reallocated sector every N seconds since 00:00 UTC (0: never) */
  reallocated_every_seconds: v.optional(count, 0),
  pending: v.optional(count, 0),
  crc_errors: v.optional(count, 0),
  /** NVMe only */
  percentage_used: v.optional(count, 3),
  media_errors: v.optional(count, 0),
  unsafe_shutdowns: v.optional(count, 12),
});

const Temps = v.strictObject({
  vendor: v.optional(v.picklist(["intel", "amd"]), "intel"),
  package: v.optional(v.number(), 48),
  /** NVMe composite temperatures, in the order of the nvme disks */
  nvme: v.optional(v.array(v.number()), []),
  board: v.optional(v.number(), 33),
});

const BackupJobDef = v.strictObject({
  id: v.string(),
  /** the hour (UTC) the job runs every day */
  hour: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23)),
    2,
  ),
  storage: v.string(),
  all: v.optional(v.boolean(), false),
  vmids: v.optional(v.array(vmid), []),
  exclude: v.optional(v.array(vmid), []),
  enabled: v.optional(v.boolean(), true),
});

const Backups = v.strictObject({
  jobs: v.optional(v.array(BackupJobDef), []),
  /** guests whose backup fails in every run (the job ends with "job errors") */
  failing: v.optional(v.array(vmid), []),
  /** days of history in the task list and on the storages */
  days: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(14)),
    3,
  ),
});

const ReplicationDef = v.strictObject({
  guest: vmid,
  target: v.string(),
  schedule: v.optional(v.string(), "*/15"),
  fail_count: v.optional(count, 0),
  error: v.optional(v.string()),
  disabled: v.optional(v.boolean(), false),
});

export const NodeProfileSchema = v.strictObject({
  node: v.pipe(v.string(), v.regex(/^[a-zA-Z0-9-]+$/, "invalid node name")),
  pve_version: v.optional(v.string(), "9.0.10"),
  pve_repoid: v.optional(v.string(), "deb1ca707ec72a89"),
  kernel: v.optional(v.string(), "6.14.11-2-pve"),
  /** "2.2.7-pve2" answers in text only; "2.3.x" and later also in JSON */
  zfs_version: v.optional(v.string(), "2.3.4-pve1"),
  /** added to every pvesh call: models pvesh's Perl start-up */
  latency_ms: v.optional(positive, 0),
  /**
   * CPU every pvesh call uses in all (its own start-up included), busy
   * after its latency: what loading Perl and the PVE API modules costs a real
   * node per call. 300 ms is an estimate until measured on a real node.
   */
  pvesh_cpu_ms: v.optional(positive, 300),
  /** fixes uptimes and counters, so every tool call and /proc agree */
  booted_at: v.optional(v.string(), "2025-09-01T04:12:00Z"),
  host: v.optional(Host, {}),
  pools: v.optional(v.array(Pool), []),
  storages: v.optional(v.array(StorageDef), []),
  updates: v.optional(v.array(Update), []),
  guests: v.optional(v.array(Guest), []),
  generate: v.optional(Generate, {}),
  // issue 17: backups, replication, SMART and temperatures
  disks: v.optional(v.array(Disk), []),
  temperatures: v.optional(Temps, {}),
  backups: v.optional(Backups, {}),
  replication: v.optional(v.array(ReplicationDef), []),
  /** leave smartctl / sensors out, as on a node without smartmontools / lm-sensors */
  missing_tools: v.optional(v.array(v.picklist(["smartctl", "sensors"])), []),
});

export type NodeProfile = v.InferOutput<typeof NodeProfileSchema>;
export type GuestDef = v.InferOutput<typeof Guest>;
export type NicDef = v.InferOutput<typeof Nic>;
export type PoolDef = v.InferOutput<typeof Pool>;
export type FaultDef = v.InferOutput<typeof Fault>;
export type StorageDef = v.InferOutput<typeof StorageDef>;
export type UpdateDef = v.InferOutput<typeof Update>;
export type DiskDef = v.InferOutput<typeof Disk>;
export type BackupJobDef = v.InferOutput<typeof BackupJobDef>;

/**
 * Parses and validates a profile's TOML text. Throws a `TypeError` naming
 * the first bad key, e.g. `Invalid node profile: pools.0.size_gib: ...`.
 */
export function parseNodeProfile(tomlText: string): NodeProfile {
  let raw: unknown;
  try {
    raw = parseToml(tomlText);
  } catch (err) {
    if (err instanceof TomlError) {
      throw new TypeError(`Invalid node profile: ${err.message}`);
    }
    throw err;
  }
  const result = v.safeParse(NodeProfileSchema, raw);
  if (!result.success) {
    const issue = result.issues[0];
    const path = v.getDotPath(issue) ?? "(top level)";
    throw new TypeError(`Invalid node profile: ${path}: ${issue.message}`);
  }
  const profile = result.output;
  if (Number.isNaN(Date.parse(profile.booted_at))) {
    throw new TypeError(
      `Invalid node profile: booted_at: not a timestamp: ${profile.booted_at}`,
    );
  }
  return profile;
}

/** The profiles beside this file: `profilePath("zfs22")` is profiles/zfs22.toml. */
export const profilePath = (
  name: "degraded_zfs23" | "zfs22" | "small" | "bench50",
): string => `${import.meta.dirname}/profiles/${name}.toml`;

/** Reads and parses a profile file; the error names the file. */
export async function loadNodeProfile(path: string): Promise<NodeProfile> {
  const text = await Deno.readTextFile(path);
  try {
    return parseNodeProfile(text);
  } catch (err) {
    if (err instanceof TypeError) {
      throw new TypeError(`${path}: ${err.message}`);
    }
    throw err;
  }
}
