/**
 * The host collector: CPU, load, memory, uptime, network and disk rates from
 * /proc, the ZFS ARC and pressure stall information where the kernel has
 * them, and the root filesystem. Rates need the previous reading, which the
 * collector object keeps; the caller passes the time of each reading.
 */
import type {
  CollectorError,
  DiskRate,
  HostMetrics,
  NetRate,
} from "@proxmon/shared";
import {
  type CounterPairs,
  type CpuTimes,
  parseArcstats,
  parseCpuTimes,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseUptime,
  type Pressure,
  type RootFs,
} from "./proc_parsers.ts";
import { counterRates, cpuPercent } from "./rates.ts";
import { type ReadFile, readTextFileResult } from "./proc_reader.ts";
import type { RootFsProbe } from "./root_fs.ts";
import type { Outcome } from "../exec.ts";

export interface HostCollectorDeps {
  /** Where /proc is mounted (`/proc`, or a fixture directory in tests). */
  procDir: string;
  rootFs: RootFsProbe;
  readFile?: ReadFile;
  /**
   * Told once per source that cannot be read (`cannot read /proc/stat: …`),
   * the first time it fails: at start for a permission or a missing file.
   */
  warn?: (message: string) => void;
}

export interface HostCollector {
  /** One reading; `nowMs` is when it was taken, used only for rates. */
  collect(nowMs: number): Promise<HostMetrics>;
}

interface CounterReading {
  atMs: number;
  counters: CounterPairs;
}

/**
 * Keeps the last reading of one set of counters (network or disks) and turns
 * each new reading into per-device rates since that one.
 */
function counterTracker() {
  let prev: CounterReading | undefined;
  // No reading (file unreadable or unparsable) gives no rates and keeps the
  // previous reading for the next cycle.
  return (counters: CounterPairs | null, nowMs: number) => {
    if (!counters) return [];
    const elapsedMs = prev ? nowMs - prev.atMs : null;
    const rates = counterRates(prev?.counters, counters, elapsedMs);
    prev = { atMs: nowMs, counters };
    return [...rates];
  };
}

const FILES = {
  stat: "stat",
  loadavg: "loadavg",
  meminfo: "meminfo",
  uptime: "uptime",
  netDev: "net/dev",
  diskstats: "diskstats",
} as const;

/** Files a kernel may lack: no ZFS module loaded, no PSI (before 4.20, or off). */
const OPTIONAL_FILES = {
  arcstats: "spl/kstat/zfs/arcstats",
  psiCpu: "pressure/cpu",
  psiMemory: "pressure/memory",
  psiIo: "pressure/io",
} as const;

type FileKey = keyof typeof FILES | keyof typeof OPTIONAL_FILES;
const ALL_FILES: Record<FileKey, string> = { ...FILES, ...OPTIONAL_FILES };

/** Creates a host collector holding its own previous reading. */
export function createHostCollector(deps: HostCollectorDeps): HostCollector {
  const readFile = deps.readFile ?? readTextFileResult;
  const base = deps.procDir.replace(/\/+$/, "");
  let prevCpu: CpuTimes | undefined;
  const netRates = counterTracker();
  const diskRates = counterTracker();
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string) => {
    if (warned.has(key)) return;
    warned.add(key);
    deps.warn?.(`cannot read ${message}`);
  };

  return {
    async collect(nowMs) {
      const errors: CollectorError[] = [];
      const keys = Object.keys(ALL_FILES) as FileKey[];
      const [results, rootFs] = await Promise.all([
        Promise.all(keys.map((k) => readFile(`${base}/${ALL_FILES[k]}`))),
        // The probe may run a command; a runner that throws must not cost
        // the /proc readings, which need no command at all.
        deps.rootFs().catch((e): Outcome<RootFs> => ({
          ok: false,
          error: {
            tag: "root_fs",
            message: e instanceof Error ? e.message : String(e),
          },
        })),
      ]);
      const text: Partial<Record<FileKey, string>> = {};
      keys.forEach((key, i) => {
        const r = results[i];
        if (r.ok) text[key] = r.text;
        else if (r.missing && key in OPTIONAL_FILES) return;
        else {
          errors.push({ tag: `proc_${key}`, message: r.message });
          warnOnce(key, r.message);
        }
      });
      const unparsable = (key: FileKey) =>
        errors.push({
          tag: `proc_${key}`,
          message: `${base}/${ALL_FILES[key]}: unexpected format`,
        });
      const parse = <T>(key: FileKey, parser: (t: string) => T | null) => {
        const t = text[key];
        if (t === undefined) return null;
        const value = parser(t);
        if (value === null) unparsable(key);
        return value;
      };

      const cpu = parse("stat", parseCpuTimes);
      const cpu_percent = cpu && prevCpu ? cpuPercent(prevCpu, cpu) : null;
      if (cpu) prevCpu = cpu;

      const load = parse("loadavg", parseLoadavg);
      const mem = parse("meminfo", parseMeminfo);
      if (mem && mem.mem_total_bytes === null) unparsable("meminfo");
      const uptime = parse("uptime", parseUptime);

      const net: NetRate[] = netRates(parse("netDev", parseNetDev), nowMs)
        .map(([iface, [rx, tx]]) => ({
          iface,
          rx_bytes_per_s: rx,
          tx_bytes_per_s: tx,
        }));
      const disks: DiskRate[] = diskRates(
        parse("diskstats", parseDiskstats),
        nowMs,
      ).map(([device, [read, write]]) => ({
        device,
        read_bytes_per_s: read,
        write_bytes_per_s: write,
      }));

      if (!rootFs.ok) errors.push(rootFs.error);

      const arc = parse("arcstats", parseArcstats);
      const psiOf = (key: "psiCpu" | "psiMemory" | "psiIo"): Pressure | null =>
        parse(key, parsePressure);
      const psi =
        ["psiCpu", "psiMemory", "psiIo"].some((k) =>
            text[k as FileKey] !== undefined
          )
          ? {
            cpu: psiOf("psiCpu"),
            memory: psiOf("psiMemory"),
            io: psiOf("psiIo"),
          }
          : null;

      return {
        cpu_percent,
        load1: load?.load1 ?? null,
        load5: load?.load5 ?? null,
        load15: load?.load15 ?? null,
        mem_total_bytes: mem?.mem_total_bytes ?? null,
        mem_available_bytes: mem?.mem_available_bytes ?? null,
        swap_total_bytes: mem?.swap_total_bytes ?? null,
        swap_used_bytes: mem?.swap_used_bytes ?? null,
        uptime_seconds: uptime,
        net,
        disks,
        root_fs: rootFs.ok ? rootFs.value : null,
        arc,
        psi,
        errors,
      };
    },
  };
}
