/**
 * Which numbers of a sample become series, and which non-numeric fields
 * become state changes. Pure functions of a validated payload (and, for
 * rates of guest counters, the previous fast payload of the same host).
 *
 * A series is named by (kind, object, metric): `host`/""/`cpu`,
 * `guest`/"101"/`net_in`, `pool`/"tank"/`capacity`. Each metric has a
 * precision in decimal places; values are stored as integers at that
 * precision, which is also the precision the history API rounds to.
 */
import type { Interval } from "@proxmon/shared";
import { isPhysicalIface, sumReported, usedMemory } from "../host_state.ts";

export type SeriesKind = "host" | "guest" | "pool" | "storage" | "dataset";

/** The name of one series within a host. `object` is "" for the host. */
export interface SeriesKey {
  kind: SeriesKind;
  object: string;
  metric: string;
}

export type SeriesUnit =
  | "percent"
  | "bytes"
  | "bytes_per_s"
  | "load"
  | "count";

export interface MetricSpec {
  unit: SeriesUnit;
  /** decimal places kept */
  precision: number;
  /**
   * Significant digits that blocks keep, per tier (raw, 1-minute, hourly);
   * absent: every digit of `precision`. The head keeps values exact.
   */
  digits?: readonly [raw: number, oneMinute: number, oneHour: number];
}

/**
 * Sizes (memory, disk, pool and storage bytes) keep 4 significant digits in
 * raw blocks (at most 0.05 % off) and 3 in rollups (at most 0.5 %). Rates
 * keep 3 everywhere: a rate is a counter difference over a ~10 s window
 * whose timer jitters by milliseconds, so it is an estimate already, and
 * guests' rates were the largest part of a day's blocks (a 50-guest host's
 * raw day 3.03 MB with 4 digits, 2.66 with 3). A rollup's values are seen
 * on ranges of days to a year, where 0.5 % is below a chart's resolution;
 * 3 digits made the 1-minute tier a quarter smaller. The dropped digits
 * were noise and most of the blocks' bytes.
 */
const SIZE_DIGITS = [4, 3, 3] as const;
const RATE_DIGITS = [3, 3, 3] as const;

const PCT: MetricSpec = { unit: "percent", precision: 2 };
const BYTES: MetricSpec = { unit: "bytes", precision: 0, digits: SIZE_DIGITS };
const RATE: MetricSpec = {
  unit: "bytes_per_s",
  precision: 0,
  digits: RATE_DIGITS,
};
const LOAD: MetricSpec = { unit: "load", precision: 2 };
const COUNT: MetricSpec = { unit: "count", precision: 0 };

/** Every metric per kind, with its unit and precision. */
export const METRICS: Record<SeriesKind, Record<string, MetricSpec>> = {
  host: {
    cpu: PCT,
    mem_used: BYTES,
    mem_total: BYTES,
    arc_size: BYTES,
    swap_used: BYTES,
    swap_total: BYTES,
    load1: LOAD,
    load5: LOAD,
    load15: LOAD,
    net_rx: RATE,
    net_tx: RATE,
    disk_read: RATE,
    disk_write: RATE,
    rootfs_used: BYTES,
    rootfs_size: BYTES,
    psi_cpu_some: PCT,
    psi_mem_some: PCT,
    psi_mem_full: PCT,
    psi_io_some: PCT,
    psi_io_full: PCT,
    pending_updates: COUNT,
  },
  guest: {
    cpu: PCT,
    mem: BYTES,
    mem_max: BYTES,
    net_in: RATE,
    net_out: RATE,
    disk_read: RATE,
    disk_write: RATE,
    disk_used: BYTES,
  },
  pool: {
    allocated: BYTES,
    size: BYTES,
    capacity: PCT,
    fragmentation: PCT,
    errors: COUNT,
    degraded_vdevs: COUNT,
  },
  storage: { used: BYTES, total: BYTES },
  dataset: { used: BYTES, snapshots: COUNT },
};

/** The spec of a metric, or a plain count for one this server does not know. */
export function metricSpec(key: SeriesKey): MetricSpec {
  return METRICS[key.kind]?.[key.metric] ?? COUNT;
}

/** The significant digits a tier's blocks keep of a metric (0: all). */
export function digitsOf(spec: MetricSpec, tier: 0 | 1 | 2): number {
  return spec.digits?.[tier] ?? 0;
}

/** One string per series key, for maps. */
export function seriesKeyString(k: SeriesKey): string {
  return `${k.kind}\t${k.object}\t${k.metric}`;
}

export interface Point {
  key: SeriesKey;
  value: number;
}

/** One non-numeric field of one object, as its current text (null: gone). */
export interface StateValue {
  /** e.g. `guest.status`, `pool.health`, `host.pve_version` */
  kind: string;
  /** vmid, pool or storage name; "" for the host */
  object: string;
  value: string | null;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj =>
  typeof x === "object" && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null =>
  typeof x === "number" && Number.isFinite(x) ? x : null;
const list = (x: unknown): Obj[] => Array.isArray(x) ? x.filter(isObj) : [];
const sumOf = sumReported;

/** Memory used by processes, as host_state.ts defines it (no ARC). */
function memUsedBytes(host: Obj): number | null {
  return usedMemory(
    num(host.mem_total_bytes),
    num(host.mem_available_bytes),
    isObj(host.arc) ? num(host.arc.size_bytes) : null,
  );
}
/** Samples further apart than this give no guest rate (the agent was away). */
const MAX_RATE_GAP_MS = 5 * 60_000;

/** A per-second rate from two counter readings; null across a reset. */
function rate(
  curr: unknown,
  prev: unknown,
  elapsedMs: number,
): number | null {
  const c = num(curr);
  const p = num(prev);
  if (c === null || p === null || elapsedMs <= 0) return null;
  if (elapsedMs > MAX_RATE_GAP_MS || c < p) return null;
  return ((c - p) * 1000) / elapsedMs;
}

export interface PreviousFast {
  collectedAtMs: number;
  payload: Obj;
}

/**
 * Puts one object's numbers in `out`: `put(metric, value)` adds a point,
 * unless the value is unknown (null).
 */
function pointsOf(out: Point[], kind: SeriesKind, object: string) {
  return (metric: string, value: number | null) => {
    if (value !== null) out.push({ key: { kind, object, metric }, value });
  };
}

/**
 * The numbers of each named item in `section[key]` (a collector's list of
 * pools, storages or datasets), put by `read`; items without a name are
 * left out.
 */
function namedPoints(
  out: Point[],
  kind: SeriesKind,
  section: unknown,
  key: string,
  read: (item: Obj, put: ReturnType<typeof pointsOf>) => void,
) {
  for (const item of isObj(section) ? list(section[key]) : []) {
    if (typeof item.name === "string") {
      read(item, pointsOf(out, kind, item.name));
    }
  }
}

function hostPoints(host: Obj, out: Point[]) {
  const h = pointsOf(out, "host", "");
  const nics = list(host.net).filter((n) =>
    typeof n.iface === "string" && isPhysicalIface(n.iface)
  );
  const disks = list(host.disks);
  h("cpu", num(host.cpu_percent));
  h("mem_used", memUsedBytes(host));
  h("mem_total", num(host.mem_total_bytes));
  h("arc_size", isObj(host.arc) ? num(host.arc.size_bytes) : null);
  h("swap_used", num(host.swap_used_bytes));
  h("swap_total", num(host.swap_total_bytes));
  h("load1", num(host.load1));
  h("load5", num(host.load5));
  h("load15", num(host.load15));
  h("net_rx", sumOf(nics.map((n) => num(n.rx_bytes_per_s))));
  h("net_tx", sumOf(nics.map((n) => num(n.tx_bytes_per_s))));
  h("disk_read", sumOf(disks.map((d) => num(d.read_bytes_per_s))));
  h("disk_write", sumOf(disks.map((d) => num(d.write_bytes_per_s))));
  if (isObj(host.root_fs)) {
    h("rootfs_used", num(host.root_fs.used_bytes));
    h("rootfs_size", num(host.root_fs.size_bytes));
  }
  if (isObj(host.psi)) {
    const psi = host.psi;
    const p = (x: unknown, field: string) => isObj(x) ? num(x[field]) : null;
    h("psi_cpu_some", p(psi.cpu, "some_avg10"));
    h("psi_mem_some", p(psi.memory, "some_avg10"));
    h("psi_mem_full", p(psi.memory, "full_avg10"));
    h("psi_io_some", p(psi.io, "some_avg10"));
    h("psi_io_full", p(psi.io, "full_avg10"));
  }
}

function guestPoints(
  vms: Obj[],
  prev: PreviousFast | null,
  collectedAtMs: number,
  out: Point[],
) {
  const before = new Map<number, Obj>();
  if (prev) {
    const pv = isObj(prev.payload.vms_runtime) ? prev.payload.vms_runtime : {};
    for (const g of list(pv.vms)) {
      const id = num(g.vmid);
      if (id !== null) before.set(id, g);
    }
  }
  const elapsed = prev ? collectedAtMs - prev.collectedAtMs : 0;
  for (const g of vms) {
    const vmid = num(g.vmid);
    if (vmid === null || g.template === true) continue;
    const p = before.get(vmid);
    const put = pointsOf(out, "guest", String(vmid));
    const cpu = num(g.cpu_usage);
    put("cpu", cpu === null ? null : cpu * 100);
    put("mem", num(g.mem_bytes));
    put("mem_max", num(g.max_mem_bytes));
    put("disk_used", num(g.disk_bytes));
    if (p) {
      put("net_in", rate(g.netin_bytes, p.netin_bytes, elapsed));
      put("net_out", rate(g.netout_bytes, p.netout_bytes, elapsed));
      put("disk_read", rate(g.diskread_bytes, p.diskread_bytes, elapsed));
      put("disk_write", rate(g.diskwrite_bytes, p.diskwrite_bytes, elapsed));
    }
  }
}

/**
 * The chartable numbers of one sample. `prev` is the host's previous fast
 * sample, for guest rates (PVE reports guest net and disk as counters);
 * without it, or across a gap or a counter reset, those rates are left out.
 */
export function extractPoints(
  interval: Interval,
  data: Obj,
  collectedAtMs: number,
  prev: PreviousFast | null,
): Point[] {
  const out: Point[] = [];
  if (interval === "fast") {
    if (isObj(data.host)) hostPoints(data.host, out);
    namedPoints(out, "pool", data.zfs_pools, "pools", (p, put) => {
      put("allocated", num(p.allocated_bytes));
      put("size", num(p.size_bytes));
      put("capacity", num(p.capacity_percent));
      put("fragmentation", num(p.fragmentation_percent));
      put("errors", num(p.error_count));
      put("degraded_vdevs", num(p.degraded_vdev_count));
    });
    namedPoints(out, "storage", data.storage, "storages", (s, put) => {
      put("used", num(s.used_bytes));
      put("total", num(s.total_bytes));
    });
    const vms = isObj(data.vms_runtime) ? list(data.vms_runtime.vms) : [];
    guestPoints(vms, prev, collectedAtMs, out);
  } else if (interval === "medium") {
    namedPoints(out, "dataset", data.zfs_datasets, "datasets", (d, put) => {
      put("used", num(d.used_bytes));
      put("snapshots", num(d.snapshot_count));
    });
  } else {
    const info = isObj(data.system_info) ? data.system_info : {};
    pointsOf(out, "host", "")("pending_updates", num(info.pending_updates));
  }
  return out;
}

const text = (x: unknown): string | null =>
  x === null || x === undefined
    ? null
    : typeof x === "string"
    ? x
    : JSON.stringify(x);

/** FNV-1a over a string, as 8 hex digits: a cheap digest of a guest config. */
function digest(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * The non-numeric state of one sample, as (kind, object) -> text. Objects
 * missing from the sample are absent here; the caller compares with the
 * previous sample of the same interval to find changes and disappearances.
 */
export function extractStates(interval: Interval, data: Obj): StateValue[] {
  const out: StateValue[] = [];
  const put = (kind: string, object: string, value: unknown) =>
    out.push({ kind, object, value: text(value) });
  if (interval === "fast") {
    const vms = isObj(data.vms_runtime) ? list(data.vms_runtime.vms) : [];
    for (const g of vms) {
      const vmid = num(g.vmid);
      if (vmid === null) continue;
      put("guest.status", String(vmid), g.status ?? null);
      if ("lock" in g) put("guest.lock", String(vmid), g.lock ?? null);
    }
    const pools = isObj(data.zfs_pools) ? list(data.zfs_pools.pools) : [];
    for (const p of pools) {
      if (typeof p.name !== "string") continue;
      put("pool.health", p.name, p.health ?? null);
      const scan = isObj(p.scan) ? p.scan : null;
      put(
        "pool.scan",
        p.name,
        scan ? `${scan.function ?? "?"} ${scan.state ?? "?"}` : "none",
      );
    }
    const storages = isObj(data.storage) ? list(data.storage.storages) : [];
    for (const s of storages) {
      if (typeof s.name !== "string") continue;
      put(
        "storage.active",
        s.name,
        s.active === undefined ? null : String(s.active),
      );
    }
  } else if (interval === "medium") {
    const vms = isObj(data.vms_detail) ? list(data.vms_detail.vms) : [];
    for (const g of vms) {
      const vmid = num(g.vmid);
      if (vmid === null) continue;
      const object = String(vmid);
      const ips = Array.isArray(g.ips) ? [...g.ips].map(String).sort() : [];
      put("guest.ips", object, ips.join(" "));
      const config = isObj(g.config) ? g.config : {};
      const configText = JSON.stringify(
        Object.fromEntries(
          Object.entries(config).sort(([a], [b]) => a < b ? -1 : 1),
        ),
      );
      put(
        "guest.config_digest",
        object,
        typeof config.digest === "string" ? config.digest : digest(configText),
      );
      if ("lock" in config) put("guest.lock", object, config.lock ?? null);
    }
  } else {
    const info = isObj(data.system_info) ? data.system_info : {};
    for (const f of ["pve_version", "kernel", "zfs_version", "agent_version"]) {
      if (f in info) put(`host.${f}`, "", info[f] ?? null);
    }
    if ("pending_updates" in info) {
      put("host.pending_updates", "", info.pending_updates ?? null);
    }
  }
  return out;
}

/**
 * The changes from `before` to `after` (both from `extractStates` of the same
 * interval): new or changed values, and null for objects that disappeared.
 * With no `before` (the host's first sample) every value is a change.
 */
export function diffStates(
  before: StateValue[] | null,
  after: StateValue[],
): StateValue[] {
  // The common case: nothing changed, and extractStates lists the same
  // objects in the same order.
  if (
    before !== null && before.length === after.length &&
    before.every((b, i) => {
      const a = after[i];
      return a.value === b.value && a.object === b.object && a.kind === b.kind;
    })
  ) return [];
  const key = (s: StateValue) => `${s.kind}\t${s.object}`;
  const prev = new Map((before ?? []).map((s) => [key(s), s.value]));
  const changes: StateValue[] = [];
  const seen = new Set<string>();
  for (const s of after) {
    const k = key(s);
    seen.add(k);
    if (!prev.has(k) || prev.get(k) !== s.value) changes.push(s);
  }
  for (const s of before ?? []) {
    if (!seen.has(key(s)) && s.value !== null) {
      changes.push({ ...s, value: null });
    }
  }
  return changes;
}
