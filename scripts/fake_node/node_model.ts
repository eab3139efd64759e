/**
 * The simulated node, resolved from a profile: generated guests added,
 * MACs and addresses assigned, vdev trees and pool states worked out.
 * Pure: the same profile always gives the same model. Values that change
 * with time (snapshots, scrub progress) are functions of `nowUnix`.
 */
import type {
  FaultDef,
  GuestDef,
  NicDef,
  NodeProfile,
  PoolDef,
  StorageDef,
  UpdateDef,
} from "./node_profile.ts";
import { eui64, guid64, hash32, proxmoxMac, unit } from "./waves.ts";
import { buildHealthModel, type HealthModel } from "./health_model.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export interface NicModel {
  index: number;
  /** upper case, as PVE writes it into configs */
  mac: string;
  bridge: string;
  /** as written in the guest config: "192.0.2.10/24" or "dhcp" */
  ipv4Config?: string;
  /** as written in the guest config: "2001:db8::10/64", "auto" or "dhcp" */
  ipv6Config?: string;
  /** the address the guest really holds, with prefix */
  ipv4?: string;
  ipv6?: string;
  linkLocal: string;
}

export interface GuestModel {
  vmid: number;
  type: "qemu" | "lxc";
  name: string;
  status: "running" | "stopped";
  template: boolean;
  agent: "running" | "not_running" | "none";
  cores: number;
  memoryMib: number;
  diskGib: number;
  tags: string[];
  cpuBusy: number;
  nics: NicModel[];
  /** unix seconds the guest was started */
  startedAt: number;
  /** where its root disk lives, when on a ZFS pool */
  disk: { storage: string; pool: string; dataset: string } | null;
}

export type VdevType = "root" | "mirror" | "raidz" | "disk";

export interface VdevModel {
  /** the name `zpool status` shows */
  name: string;
  type: VdevType;
  guid: bigint;
  /** text-mode state: ONLINE, DEGRADED, FAULTED, OFFLINE or UNAVAIL */
  state: string;
  aux?: "ERR_EXCEEDED" | "OPEN_FAILED";
  readErrors: number;
  writeErrors: number;
  checksumErrors: number;
  /** bytes repaired from this device */
  selfHealed: number;
  /** leaf only */
  path?: string;
  devid?: string;
  physPath?: string;
  /** bytes; top-level and root vdevs only */
  allocBytes?: number;
  totalBytes?: number;
  /** leaf only: the device size */
  devBytes?: number;
  children: VdevModel[];
}

export type PoolProblem = "failing" | "faulted" | "offline" | "missing";

export interface PoolModel {
  name: string;
  guid: bigint;
  state: "ONLINE" | "DEGRADED";
  problem: PoolProblem | null;
  sizeBytes: number;
  allocBytes: number;
  freeBytes: number;
  fragmentation: number;
  capacity: number;
  /** usable share of raw space after parity (zfs vs zpool accounting) */
  usableFactor: number;
  root: VdevModel;
  scrub: "none" | "finished" | "scanning";
  scrubProgress: number;
  scrubRepairedBytes: number;
  createdAt: number;
  extraDatasets: string[];
  guestDisks: boolean;
  snapshotHours: number;
}

export interface HostModel {
  cpus: number;
  memTotalBytes: number;
  swapTotalBytes: number;
  cpuBusy: number;
  nics: string[];
  disks: string[];
}

export interface NodeModel {
  node: string;
  pveVersion: string;
  pveRepoid: string;
  kernel: string;
  zfsVersion: string;
  /** OpenZFS 2.3 and later print JSON with -j */
  zfsJson: boolean;
  latencyMs: number;
  /** CPU a pvesh call uses in all, busy after its latency */
  pveshCpuMs: number;
  bootUnix: number;
  host: HostModel;
  guests: GuestModel[];
  pools: PoolModel[];
  storages: StorageDef[];
  updates: UpdateDef[];
  /** disks, temperatures, backups and replication (health_model.ts) */
  health: HealthModel;
}

/** Builds the model of a node from its validated profile. */
export function buildNodeModel(profile: NodeProfile): NodeModel {
  const bootUnix = Math.floor(Date.parse(profile.booted_at) / 1000);
  const pools = profile.pools.map((def, i) => buildPool(def, i, bootUnix));
  const guestPool = pools.find((p) => p.guestDisks);
  const zfsStorage = profile.storages.find((s) => s.type === "zfspool");
  const guestDefs = [...profile.guests, ...generatedGuests(profile)];
  const vmids = new Set<number>();
  for (const g of guestDefs) {
    if (vmids.has(g.vmid)) {
      throw new TypeError(`Invalid node profile: vmid ${g.vmid} is used twice`);
    }
    vmids.add(g.vmid);
  }
  const guests = guestDefs
    .map((def) => buildGuest(def, bootUnix, guestPool, zfsStorage?.name))
    .sort((a, b) => a.vmid - b.vmid);
  return {
    node: profile.node,
    pveVersion: profile.pve_version,
    pveRepoid: profile.pve_repoid,
    kernel: profile.kernel,
    zfsVersion: profile.zfs_version,
    zfsJson: zfsHasJson(profile.zfs_version),
    latencyMs: profile.latency_ms,
    pveshCpuMs: profile.pvesh_cpu_ms,
    bootUnix,
    host: {
      cpus: profile.host.cpus,
      memTotalBytes: profile.host.mem_total_mib * MIB,
      swapTotalBytes: profile.host.swap_total_mib * MIB,
      cpuBusy: profile.host.cpu_busy,
      nics: profile.host.nics,
      disks: profile.host.disks,
    },
    guests,
    pools,
    storages: profile.storages,
    updates: [...profile.updates].sort((a, b) =>
      a.package < b.package ? -1 : a.package > b.package ? 1 : 0
    ),
    health: buildHealthModel(profile, pools),
  };
}

/** True when this OpenZFS version has `-j` (2.3.0 and later). */
export function zfsHasJson(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 2 || (major === 2 && minor >= 3);
}

/** True when pve-manager is 9.x or later (fields added in PVE 9). */
export function isPve9(model: NodeModel): boolean {
  return Number(model.pveVersion.split(".")[0]) >= 9;
}

// ---- guests ----------------------------------------------------------------

const GENERATED_NAMES = [
  "web",
  "db",
  "dns",
  "proxy",
  "git",
  "ci-runner",
  "monitoring",
  "backup",
  "media",
  "k3s",
  "vault",
  "mail",
  "wiki",
  "homeassistant",
  "nextcloud",
];

function generatedGuests(profile: NodeProfile): GuestDef[] {
  const { qemu, lxc, first_vmid, subnet } = profile.generate;
  const out: GuestDef[] = [];
  const total = qemu + lxc;
  for (let k = 0; k < total; k++) {
    const isQemu = k < qemu;
    const vmid = first_vmid + k;
    const stopped = k % 9 === 8;
    const ipv6 = k % 3 === 0
      ? `fd00:20::${(k + 16).toString(16)}/64`
      : undefined;
    out.push({
      vmid,
      type: isQemu ? "qemu" : "lxc",
      name: `${GENERATED_NAMES[k % GENERATED_NAMES.length]}-${
        String(k).padStart(2, "0")
      }`,
      status: stopped ? "stopped" : "running",
      template: false,
      agent: k % 5 === 4 ? "none" : k % 7 === 6 ? "not_running" : "running",
      cores: isQemu ? 2 + (k % 3) * 2 : 1 + (k % 2),
      memory_mib: isQemu ? 2048 * (1 + (k % 4)) : 512 * (1 + (k % 4)),
      disk_gib: isQemu ? 32 + (k % 4) * 16 : 8 + (k % 3) * 4,
      tags: k % 4 === 0 ? ["generated"] : [],
      cpu_busy: 0.03 + unit(`gen:${vmid}`) * 0.25,
      nics: [{
        ipv4: `${subnet}.${Math.floor(k / 200)}.${(k % 200) + 10}/16`,
        ipv6,
        bridge: "vmbr0",
      }],
    });
  }
  return out;
}

function buildGuest(
  def: GuestDef,
  bootUnix: number,
  guestPool: PoolModel | undefined,
  zfsStorage: string | undefined,
): GuestModel {
  const nicDefs: NicDef[] = def.nics.length > 0
    ? def.nics
    : [{ ipv4: "dhcp", bridge: "vmbr0" }];
  const nics = nicDefs.map((nic, index) => buildNic(def, nic, index));
  let disk: GuestModel["disk"] = null;
  if (guestPool) {
    const prefix = def.template
      ? (def.type === "qemu" ? "base" : "basevol")
      : def.type === "qemu"
      ? "vm"
      : "subvol";
    const parent = guestPool.name === "rpool" ? "rpool/data" : guestPool.name;
    disk = {
      storage: zfsStorage ?? "local-zfs",
      pool: guestPool.name,
      dataset: `${parent}/${prefix}-${def.vmid}-disk-0`,
    };
  }
  return {
    vmid: def.vmid,
    type: def.type,
    name: def.name,
    status: def.template ? "stopped" : def.status,
    template: def.template,
    agent: def.type === "qemu" ? def.agent : "none",
    cores: def.cores,
    memoryMib: def.memory_mib,
    diskGib: def.disk_gib,
    tags: def.tags,
    cpuBusy: def.cpu_busy,
    nics,
    // guests come up one after another in the minutes after boot
    startedAt: bootUnix + 40 + (def.vmid % 97) * 7,
    disk,
  };
}

function buildNic(guest: GuestDef, nic: NicDef, index: number): NicModel {
  const mac = proxmoxMac(`${guest.vmid}:${index}`);
  const host = 100 + (hash32(`${guest.vmid}:${index}:lease`) % 150);
  let ipv4: string | undefined;
  if (nic.ipv4 === "dhcp") ipv4 = nic.leased_ipv4 ?? `192.168.1.${host}/24`;
  else if (nic.ipv4) ipv4 = nic.ipv4;
  let ipv6: string | undefined;
  if (nic.ipv6 === "auto" || nic.ipv6 === "dhcp") {
    ipv6 = nic.leased_ipv6 ?? `fd00:1::${eui64(mac)}/64`;
  } else if (nic.ipv6) ipv6 = nic.ipv6;
  return {
    index,
    mac,
    bridge: nic.bridge,
    ipv4Config: nic.ipv4,
    ipv6Config: nic.ipv6,
    ipv4,
    ipv6,
    linkLocal: `fe80::${eui64(mac)}/64`,
  };
}

/** Running and not a template. */
export function isUp(guest: GuestModel): boolean {
  return guest.status === "running" && !guest.template;
}

// ---- pools -----------------------------------------------------------------

const PARITY: Record<PoolDef["layout"], number> = {
  single: 0,
  mirror: 0,
  raidz1: 1,
  raidz2: 2,
};

function buildPool(def: PoolDef, index: number, bootUnix: number): PoolModel {
  const n = def.disks.length;
  const parity = PARITY[def.layout];
  if (def.layout === "mirror" && n < 2) {
    throw new TypeError(
      `Invalid node profile: pool ${def.name}: a mirror needs two disks`,
    );
  }
  if (parity > 0 && n <= parity + 1) {
    throw new TypeError(
      `Invalid node profile: pool ${def.name}: ${def.layout} needs more than ${
        parity + 1
      } disks`,
    );
  }
  const sizeBytes = Math.round(def.size_gib * GIB);
  const allocBytes = Math.round(sizeBytes * def.used_fraction);
  const devBytes = def.layout === "mirror" || def.layout === "single"
    ? sizeBytes + 12 * GIB
    : Math.round(sizeBytes / n) + 2 * GIB;
  // PVE's installer puts rpool on partition 3; pools made later use whole disks
  const partition = def.name === "rpool" ? "" : "-part1";
  const faults = new Map<string, FaultDef>(def.faults.map((f) => [f.disk, f]));
  for (const f of def.faults) {
    if (!def.disks.includes(f.disk)) {
      throw new TypeError(
        `Invalid node profile: pool ${def.name}: fault names unknown disk ${f.disk}`,
      );
    }
  }
  const leaves = def.disks.map((disk, i) =>
    buildLeaf(def, disk, i, partition, devBytes, faults.get(disk))
  );
  const top: VdevModel[] = def.layout === "single"
    ? leaves.map((leaf) => ({
      ...leaf,
      allocBytes: Math.round(allocBytes / n),
      totalBytes: Math.round(sizeBytes / n),
    }))
    : [interiorVdev(
      def.layout === "mirror" ? "mirror-0" : `${def.layout}-0`,
      def.layout === "mirror" ? "mirror" : "raidz",
      guid64(`${def.name}:top0`),
      leaves,
      allocBytes,
      sizeBytes,
    )];
  const guid = guid64(`pool:${def.name}`);
  const root = interiorVdev(def.name, "root", guid, top, allocBytes, sizeBytes);
  return {
    name: def.name,
    guid,
    state: root.state === "ONLINE" ? "ONLINE" : "DEGRADED",
    problem: poolProblem(def.faults),
    sizeBytes,
    allocBytes,
    freeBytes: sizeBytes - allocBytes,
    fragmentation: def.fragmentation,
    capacity: Math.floor((allocBytes * 100) / sizeBytes),
    // a mirror's zpool size is already usable space; raidz counts parity too
    usableFactor: (n - parity) / (def.layout === "mirror" ? n - parity : n),
    root,
    scrub: def.scrub,
    scrubProgress: def.scrub_progress,
    scrubRepairedBytes: def.scrub_repaired_bytes,
    createdAt: bootUnix - 400 * 86400 + index * 3 * 86400,
    extraDatasets: def.datasets,
    guestDisks: def.guest_disks ?? index === 0,
    snapshotHours: def.snapshot_hours,
  };
}

function buildLeaf(
  pool: PoolDef,
  disk: string,
  i: number,
  partition: string,
  devBytes: number,
  fault: FaultDef | undefined,
): VdevModel {
  const state = fault?.state ?? "ONLINE";
  const aux = state === "UNAVAIL"
    ? "OPEN_FAILED"
    : state === "DEGRADED" || state === "FAULTED"
    ? "ERR_EXCEEDED"
    : undefined;
  const checksumErrors = fault?.checksum_errors ?? 0;
  const bus = disk.startsWith("nvme")
    ? `pci-0000:0${i + 1}:00.0-nvme-1`
    : `pci-0000:00:17.0-ata-${i + 1}`;
  return {
    name: disk,
    type: "disk",
    guid: guid64(`${pool.name}:disk:${disk}`),
    state,
    aux,
    readErrors: fault?.read_errors ?? 0,
    writeErrors: fault?.write_errors ?? 0,
    checksumErrors,
    // repaired bytes: what the checksum errors cost, in 128 KiB records
    selfHealed: checksumErrors * 131072,
    path: `/dev/disk/by-id/${disk}${partition}`,
    devid: `${disk}${partition}`,
    physPath: bus,
    devBytes,
    children: [],
  };
}

function interiorState(children: VdevModel[]): string {
  return children.every((c) => c.state === "ONLINE") ? "ONLINE" : "DEGRADED";
}

/** A root, mirror or raidz vdev: healthy when its children are, no errors of its own. */
function interiorVdev(
  name: string,
  type: VdevType,
  guid: bigint,
  children: VdevModel[],
  allocBytes: number,
  totalBytes: number,
): VdevModel {
  return {
    name,
    type,
    guid,
    state: interiorState(children),
    readErrors: 0,
    writeErrors: 0,
    checksumErrors: 0,
    selfHealed: 0,
    allocBytes,
    totalBytes,
    children,
  };
}

// the status `zpool status` reports; libzfs_status.c checks in this order
function poolProblem(faults: FaultDef[]): PoolProblem | null {
  if (faults.some((f) => f.state === "FAULTED")) return "faulted";
  if (faults.some((f) => f.state === "UNAVAIL")) return "missing";
  if (
    faults.some((f) =>
      f.state === "DEGRADED" || f.read_errors > 0 || f.write_errors > 0 ||
      f.checksum_errors > 0
    )
  ) return "failing";
  if (faults.some((f) => f.state === "OFFLINE")) return "offline";
  return null;
}

/** Every vdev of a pool, children before their parent (OpenZFS's flat order). */
export function vdevsPostOrder(vdev: VdevModel): VdevModel[] {
  return [...vdev.children.flatMap(vdevsPostOrder), vdev];
}

// ---- scrubs ----------------------------------------------------------------

export interface ScanModel {
  state: "FINISHED" | "SCANNING";
  startTime: number;
  endTime: number;
  toExamine: number;
  examined: number;
  issued: number;
  processed: number;
  passStart: number;
  /** 0..1 */
  fraction: number;
}

// a scrub reads about 400 MiB/s on these pools
const SCRUB_RATE = 400 * MIB;

/** The scrub state of a pool at a time, or null if it was never scrubbed. */
export function scanAt(pool: PoolModel, nowUnix: number): ScanModel | null {
  if (pool.scrub === "none") return null;
  const toExamine = pool.allocBytes;
  const duration = Math.max(60, Math.round(toExamine / SCRUB_RATE));
  if (pool.scrub === "finished") {
    // PVE's cron scrubs on Sundays at 00:24
    const start = lastSundayAt(nowUnix - duration, 24);
    return {
      state: "FINISHED",
      startTime: start,
      endTime: start + duration,
      toExamine,
      examined: toExamine,
      issued: toExamine,
      processed: pool.scrubRepairedBytes,
      passStart: start,
      fraction: 1,
    };
  }
  // a running scrub advances with time and starts over when done
  const fraction = (pool.scrubProgress + nowUnix / duration) % 1;
  const elapsed = Math.max(1, Math.round(fraction * duration));
  const start = nowUnix - elapsed;
  const examined = Math.round(toExamine * fraction);
  return {
    state: "SCANNING",
    startTime: start,
    endTime: 0,
    toExamine,
    examined: Math.min(toExamine, Math.round(examined * 1.1)),
    issued: examined,
    processed: Math.round(pool.scrubRepairedBytes * fraction),
    passStart: start,
    fraction,
  };
}

function lastSundayAt(unix: number, minuteOfDay: number): number {
  const day = Math.floor(unix / 86400);
  // 1970-01-01 was a Thursday: day 3 is the first Sunday
  let sunday = day - ((day - 3) % 7 + 7) % 7;
  let at = sunday * 86400 + minuteOfDay * 60;
  if (at > unix) {
    sunday -= 7;
    at = sunday * 86400 + minuteOfDay * 60;
  }
  return at;
}

// ---- datasets --------------------------------------------------------------

export interface DatasetModel {
  name: string;
  type: "FILESYSTEM" | "VOLUME" | "SNAPSHOT";
  pool: string;
  used: number;
  /** null where ZFS prints "-" (snapshots) */
  available: number | null;
  usedbysnapshots: number | null;
  referenced: number;
  creation: number;
  createtxg: number;
  mountpoint: string | null;
}

interface DatasetSeed {
  name: string;
  type: "FILESYSTEM" | "VOLUME";
  own: number;
  quota?: number;
  creation: number;
  snapshots: { name: string; creation: number; used: number }[];
}

/** Every dataset, volume and snapshot of every pool at a time, parents first. */
export function datasetsAt(model: NodeModel, nowUnix: number): DatasetModel[] {
  return model.pools.flatMap((pool) => poolDatasets(model, pool, nowUnix));
}

function poolDatasets(
  model: NodeModel,
  pool: PoolModel,
  nowUnix: number,
): DatasetModel[] {
  const usable = (bytes: number) => Math.round(bytes * pool.usableFactor);
  const seeds: DatasetSeed[] = [];
  const fs = (name: string, own: number) =>
    seeds.push({
      name,
      type: "FILESYSTEM",
      own,
      creation: pool.createdAt + (hash32(name) % 86400),
      snapshots: [],
    });
  fs(pool.name, 200 * 1024);
  if (pool.name === "rpool") {
    fs("rpool/ROOT", 200 * 1024);
    fs("rpool/ROOT/pve-1", Math.round(3.4 * GIB));
    fs("rpool/var-lib-vz", Math.round(6.1 * GIB));
    if (pool.guestDisks) fs("rpool/data", 200 * 1024);
  }
  let guestBytes = 0;
  if (pool.guestDisks) {
    for (const guest of model.guests) {
      if (!guest.disk || guest.disk.pool !== pool.name) continue;
      const size = guest.diskGib * GIB;
      const own = Math.round(
        size * (guest.type === "qemu" ? 0.55 : 0.3) * (0.6 + unit(guest.name)),
      );
      guestBytes += own;
      const creation = pool.createdAt + 86400 + (guest.vmid % 300) * 3600;
      seeds.push({
        name: guest.disk.dataset,
        type: guest.type === "qemu" ? "VOLUME" : "FILESYSTEM",
        own,
        quota: guest.type === "lxc" ? size : undefined,
        creation,
        snapshots: guest.template
          ? [{ name: "__base__", creation: creation + 600, used: 0 }]
          : hourlySnapshots(guest.disk.dataset, pool.snapshotHours, nowUnix),
      });
    }
  }
  const base = seeds.reduce((sum, s) => sum + s.own, 0);
  const rest = Math.max(0, usable(pool.allocBytes) - base - guestBytes);
  for (const name of pool.extraDatasets) {
    fs(
      name,
      Math.max(GIB, Math.round(rest / Math.max(1, pool.extraDatasets.length))),
    );
  }
  seeds.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const available = usable(pool.freeBytes);
  const snapUsed = (s: DatasetSeed) =>
    s.snapshots.reduce((sum, snap) => sum + snap.used, 0);
  const total = (s: DatasetSeed): number =>
    s.own + snapUsed(s) +
    seeds.filter((c) => isChild(s.name, c.name))
      .reduce((sum, c) => sum + c.own + snapUsed(c), 0);
  const out: DatasetModel[] = [];
  for (const s of seeds) {
    const used = total(s);
    const avail = s.quota !== undefined
      ? Math.max(0, Math.min(available, s.quota - s.own))
      : available;
    out.push({
      name: s.name,
      type: s.type,
      pool: pool.name,
      used,
      available: avail,
      usedbysnapshots: snapUsed(s),
      referenced: s.own,
      creation: s.creation,
      createtxg: txgAt(pool, s.creation),
      mountpoint: s.type === "VOLUME" ? null : `/${s.name}`,
    });
    for (const snap of s.snapshots) {
      out.push({
        name: `${s.name}@${snap.name}`,
        type: "SNAPSHOT",
        pool: pool.name,
        used: snap.used,
        available: null,
        usedbysnapshots: null,
        referenced: s.own,
        creation: snap.creation,
        createtxg: txgAt(pool, snap.creation),
        mountpoint: null,
      });
    }
  }
  return out;
}

// descendants at any depth
function isChild(parent: string, name: string): boolean {
  return name.startsWith(`${parent}/`);
}

function hourlySnapshots(
  dataset: string,
  hours: number,
  nowUnix: number,
): DatasetSeed["snapshots"] {
  const out: DatasetSeed["snapshots"] = [];
  const lastHour = Math.floor(nowUnix / 3600) * 3600;
  for (let k = hours - 1; k >= 0; k--) {
    const at = lastHour - k * 3600 + 1;
    if (at > nowUnix) continue;
    const stamp = new Date(at * 1000).toISOString().slice(0, 19).replace(
      "T",
      "_",
    );
    out.push({
      name: `autosnap_${stamp}_hourly`,
      creation: at,
      used: (1 + (hash32(`${dataset}@${at}`) % 48)) * MIB,
    });
  }
  return out;
}

/** The pool's transaction group at a time: one every 5 seconds. */
export function txgAt(pool: PoolModel, unixSeconds: number): number {
  return 4 + Math.max(0, Math.floor((unixSeconds - pool.createdAt) / 5));
}
