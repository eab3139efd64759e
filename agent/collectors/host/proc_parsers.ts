/**
 * Pure parsers for the /proc files the host collector reads.
 * Each returns null (or skips a line) where the text is not what the kernel
 * prints, and the collector turns that into an error entry.
 */

/** Jiffies since boot, summed over all CPUs. */
export interface CpuTimes {
  total: number;
  /** idle + iowait: time the CPUs had nothing to run */
  idle: number;
}

/**
 * The aggregate `cpu` line of /proc/stat. guest and guest_nice are left out
 * of the total because the kernel already counts them in user and nice.
 */
export function parseCpuTimes(text: string): CpuTimes | null {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((f) => !Number.isFinite(f))) {
    return null;
  }
  const [
    user,
    nice,
    system,
    idle,
    iowait = 0,
    irq = 0,
    softirq = 0,
    steal = 0,
  ] = fields;
  return {
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    idle: idle + iowait,
  };
}

export interface LoadAverage {
  load1: number;
  load5: number;
  load15: number;
}

/** /proc/loadavg: `0.21 0.37 0.39 1/719 19737`. */
export function parseLoadavg(text: string): LoadAverage | null {
  const [load1, load5, load15] = text.trim().split(/\s+/).map(Number);
  if (![load1, load5, load15].every(Number.isFinite)) return null;
  return { load1, load5, load15 };
}

export interface Memory {
  mem_total_bytes: number | null;
  mem_available_bytes: number | null;
  swap_total_bytes: number | null;
  swap_used_bytes: number | null;
}

/**
 * /proc/meminfo, in bytes. Kernels before 3.14 have no MemAvailable; there
 * MemFree + Buffers + Cached is the usual estimate of what could be freed.
 */
export function parseMeminfo(text: string): Memory {
  const kib = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([^:\s]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kib.set(m[1], Number(m[2]) * 1024);
  }
  const get = (key: string) => kib.get(key) ?? null;
  const sum = (...keys: string[]) =>
    keys.every((k) => kib.has(k))
      ? keys.reduce((acc, k) => acc + kib.get(k)!, 0)
      : null;
  const swapTotal = get("SwapTotal");
  const swapFree = get("SwapFree");
  return {
    mem_total_bytes: get("MemTotal"),
    mem_available_bytes: get("MemAvailable") ??
      sum("MemFree", "Buffers", "Cached"),
    swap_total_bytes: swapTotal,
    swap_used_bytes: swapTotal !== null && swapFree !== null
      ? swapTotal - swapFree
      : null,
  };
}

/** /proc/uptime: seconds since boot (the first of its two numbers). */
export function parseUptime(text: string): number | null {
  const first = Number(text.trim().split(/\s+/)[0]);
  return text.trim() !== "" && Number.isFinite(first) ? first : null;
}

/** Two monotonic byte counters per device: rx/tx or read/written. */
export type CounterPairs = Map<string, readonly [number, number]>;

/**
 * /proc/net/dev: received and transmitted bytes per interface, without `lo`.
 * The name is split at the first colon because long names (`vethf345468:648`)
 * can run into the first number.
 */
export function parseNetDev(text: string): CounterPairs {
  const out: CounterPairs = new Map();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue;
    const iface = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (iface === "" || iface === "lo" || fields.length < 9) continue;
    if (!Number.isFinite(fields[0]) || !Number.isFinite(fields[8])) continue;
    out.set(iface, [fields[0], fields[8]]);
  }
  return out;
}

// Virtual or removable block devices: RAM disks, loop files, device-mapper
// (their IO is already counted on the disks below them), optical, floppy,
// ZFS zvols (guest disks, counted on the pool's disks) and network block devices.
const NOT_A_DISK = /^(z?ram|loop|dm-|sr|fd|zd|nbd)\d+$/;
const PARTITION = [
  /^(sd|hd|vd|xvd)[a-z]+\d+$/,
  /^(nvme\d+n\d+|mmcblk\d+|nbd\d+|zd\d+|loop\d+|md\d+)p\d+$/,
];

/** Whether a /proc/diskstats name is a whole disk (not a partition or virtual device). */
export function isWholeDisk(name: string): boolean {
  if (NOT_A_DISK.test(name)) return false;
  if (/^mmcblk\d+(boot\d+|rpmb)$/.test(name)) return false;
  return !PARTITION.some((re) => re.test(name));
}

const SECTOR_BYTES = 512;

/**
 * /proc/diskstats: bytes read and written per whole disk. Lines have 14
 * fields before Linux 4.18, 18 with discard stats and 20 with flush stats;
 * the read and write sector counts sit at the same positions in all three.
 * The kernel always counts in 512-byte sectors, whatever the disk's own size.
 */
export function parseDiskstats(text: string): CounterPairs {
  const out: CounterPairs = new Map();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 14) continue;
    const name = fields[2];
    const read = Number(fields[5]);
    const written = Number(fields[9]);
    if (!isWholeDisk(name) || !Number.isFinite(read + written)) continue;
    out.set(name, [read * SECTOR_BYTES, written * SECTOR_BYTES]);
  }
  return out;
}

// A type alias, not an interface, so it fits the wire schema's open object type.
export type RootFs = {
  size_bytes: number;
  used_bytes: number;
};

/** The ZFS ARC figures of `host.arc`. */
export type ArcStats = {
  size_bytes: number;
  c_max_bytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses) since the module loaded, 0..1; null before any */
  hit_ratio: number | null;
};

/**
 * /proc/spl/kstat/zfs/arcstats: a kstat header line, a `name type data`
 * line, then one `name type value` line per statistic. Null when `size`,
 * `c_max`, `hits` or `misses` is missing.
 */
export function parseArcstats(text: string): ArcStats | null {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [name, type, data] = line.trim().split(/\s+/);
    if (data === undefined || !/^\d+$/.test(type) || !/^-?\d+$/.test(data)) {
      continue;
    }
    values.set(name, Number(data));
  }
  const [size, cMax, hits, misses] = ["size", "c_max", "hits", "misses"].map(
    (k) => values.get(k),
  );
  if (
    size === undefined || cMax === undefined || hits === undefined ||
    misses === undefined
  ) {
    return null;
  }
  const total = hits + misses;
  return {
    size_bytes: size,
    c_max_bytes: cMax,
    hits,
    misses,
    hit_ratio: total > 0 ? Math.round((hits / total) * 10_000) / 10_000 : null,
  };
}

/** One /proc/pressure file: percentages of time stalled. */
export type Pressure = {
  some_avg10: number | null;
  some_avg60: number | null;
  /** null where the kernel prints no `full` line (cpu before Linux 5.13) */
  full_avg10: number | null;
  full_avg60: number | null;
};

/**
 * /proc/pressure/{cpu,memory,io}: `some avg10=… avg60=… avg300=… total=…`
 * and `full …`. Null when there is no `some` line.
 */
export function parsePressure(text: string): Pressure | null {
  const lines = new Map<string, Map<string, number>>();
  for (const line of text.split("\n")) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== "some" && kind !== "full") continue;
    const values = new Map<string, number>();
    for (const field of fields) {
      const [key, value] = field.split("=");
      if (value !== undefined && /^\d+(\.\d+)?$/.test(value)) {
        values.set(key, Number(value));
      }
    }
    lines.set(kind, values);
  }
  const some = lines.get("some");
  if (!some) return null;
  const full = lines.get("full");
  return {
    some_avg10: some.get("avg10") ?? null,
    some_avg60: some.get("avg60") ?? null,
    full_avg10: full?.get("avg10") ?? null,
    full_avg60: full?.get("avg60") ?? null,
  };
}
