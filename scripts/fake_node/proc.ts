/**
 * A fake `/proc` for the simulated node: stat, loadavg, meminfo, uptime,
 * net/dev and diskstats in the kernel's formats, with counters that are
 * functions of the time since boot, so two readings a second apart give
 * non-zero rates. `procFiles` is pure; `startProcTicker` rewrites the files
 * on a timer, each through a rename so a reader never sees half a file.
 */
import { isUp, type NodeModel } from "./node_model.ts";
import { counter, daily, dailyCounter, hash32, level } from "./waves.ts";

const KIB = 1024;
const USER_HZ = 100;

/** The files of the fake /proc tree at `nowMs`, keyed by relative path. */
export function procFiles(
  model: NodeModel,
  nowMs: number,
): Record<string, string> {
  const t = Math.max(0, nowMs / 1000 - model.bootUnix);
  return {
    "stat": stat(model, t),
    "loadavg": loadavg(model, t),
    "meminfo": meminfo(model, t),
    "uptime": `${t.toFixed(2)} ${
      (t * model.host.cpus * (1 - model.host.cpuBusy)).toFixed(2)
    }\n`,
    "net/dev": netDev(model, t),
    "diskstats": diskstats(model, t),
  };
}

// ---- stat ------------------------------------------------------------------

function cpuLine(
  label: string,
  seed: string,
  busy: number,
  t: number,
  cpus: number,
  bootUnix: number,
): string {
  const total = USER_HZ * t * cpus;
  // shares of the busy time, swinging by minutes and by the day; the two
  // amplitudes together stay below the base, so every rate is non-negative
  const jiffies = (share: number, key: string) =>
    Math.floor(
      USER_HZ * cpus *
        (counter(`${seed}:${key}`, busy * share, busy * share * 0.35, t) +
          dailyCounter(busy * share * 0.55, bootUnix, bootUnix + t)),
    );
  const user = jiffies(0.68, "user");
  const nice = jiffies(0.01, "nice");
  const system = jiffies(0.22, "system");
  const iowait = jiffies(0.05, "iowait");
  const irq = 0;
  const softirq = jiffies(0.04, "softirq");
  const idle = Math.max(
    0,
    Math.floor(total) - user - nice - system - iowait - softirq,
  );
  return `${label} ${user} ${nice} ${system} ${idle} ${iowait} ${irq} ${softirq} 0 0 0\n`;
}

function stat(model: NodeModel, t: number): string {
  const { cpus, cpuBusy } = model.host;
  const boot = model.bootUnix;
  let text = cpuLine("cpu ", "cpu", cpuBusy, t, cpus, boot);
  for (let i = 0; i < cpus; i++) {
    const busy = Math.min(
      0.9,
      cpuBusy * (0.6 + (hash32(`cpu${i}`) % 80) / 100),
    );
    text += cpuLine(`cpu${i}`, `cpu${i}`, busy, t, 1, boot);
  }
  const running = model.guests.filter(isUp).length;
  text += `intr ${Math.floor(t * 4100)} 0 9 0 0 0 0 0 0 1 0 0 0 0 0 0 0\n` +
    `ctxt ${Math.floor(t * 9800)}\n` +
    `btime ${model.bootUnix}\n` +
    `processes ${Math.floor(t * 3.1) + 1}\n` +
    `procs_running ${1 + (Math.floor(t) % 3)}\n` +
    `procs_blocked 0\n` +
    `softirq ${Math.floor(t * 2900)} 0 ${Math.floor(t * 700)} 3 ${
      Math.floor(t * 40)
    } ${running} 0 ${Math.floor(t * 11)} ${Math.floor(t * 900)} 0 ${
      Math.floor(t * 1200)
    }\n`;
  return text;
}

function loadavg(model: NodeModel, t: number): string {
  const base = model.host.cpus * model.host.cpuBusy *
    (1 + daily(0.55, model.bootUnix + t));
  const l1 = Math.max(0, level("load1", base, base * 0.4, t));
  const l5 = Math.max(0, level("load5", base, base * 0.2, t));
  const l15 = Math.max(0, level("load15", base, base * 0.1, t));
  const threads = 600 + model.guests.filter(isUp).length * 35;
  return `${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)} ${
    1 + (Math.floor(t) % 4)
  }/${threads} ${100000 + (Math.floor(t * 3.1) % 4000000)}\n`;
}

// ---- meminfo ---------------------------------------------------------------

function meminfo(model: NodeModel, t: number): string {
  const total = Math.floor(model.host.memTotalBytes / KIB);
  const guestMem = model.guests.filter(isUp)
    .reduce((sum, g) => sum + g.memoryMib * 1024 * 0.7, 0);
  const used = Math.min(total * 0.92, total * 0.12 + guestMem);
  const arc = total * level("arc", 0.12, 0.02, t);
  const available = Math.floor(total - used - arc * 0.3);
  const free = Math.max(0, Math.floor(available - arc));
  const cached = Math.floor(total * 0.04);
  const swapTotal = Math.floor(model.host.swapTotalBytes / KIB);
  const swapFree = Math.floor(swapTotal * level("swap", 0.93, 0.02, t));
  const rows: [string, number][] = [
    ["MemTotal", total],
    ["MemFree", free],
    ["MemAvailable", available],
    ["Buffers", Math.floor(total * 0.003)],
    ["Cached", cached],
    ["SwapCached", 2048],
    ["Active", Math.floor(used * 0.6)],
    ["Inactive", Math.floor(used * 0.3)],
    ["Active(anon)", Math.floor(used * 0.55)],
    ["Inactive(anon)", Math.floor(used * 0.25)],
    ["Active(file)", Math.floor(used * 0.05)],
    ["Inactive(file)", Math.floor(used * 0.05)],
    ["Unevictable", 61440],
    ["Mlocked", 61440],
    ["SwapTotal", swapTotal],
    ["SwapFree", swapFree],
    ["Zswap", 0],
    ["Zswapped", 0],
    ["Dirty", 1200],
    ["Writeback", 0],
    ["AnonPages", Math.floor(used * 0.78)],
    ["Mapped", Math.floor(total * 0.01)],
    ["Shmem", 65536],
    ["KReclaimable", Math.floor(total * 0.01)],
    ["Slab", Math.floor(total * 0.02)],
    ["SReclaimable", Math.floor(total * 0.01)],
    ["SUnreclaim", Math.floor(total * 0.01)],
    ["KernelStack", 24000],
    ["PageTables", 52000],
    ["CommitLimit", Math.floor(total / 2 + swapTotal)],
    ["Committed_AS", Math.floor(used * 1.4)],
    ["VmallocTotal", 34359738367],
    ["VmallocUsed", Math.floor(arc * 0.02)],
    ["VmallocChunk", 0],
    ["HugePages_Total", 0],
    ["HugePages_Free", 0],
    ["Hugepagesize", 2048],
    ["DirectMap4k", 1097312],
    ["DirectMap2M", Math.floor(total * 0.6)],
  ];
  return rows.map(([name, kb]) =>
    name.startsWith("HugePages_")
      ? `${`${name}:`.padEnd(16)}${String(kb).padStart(8)}\n`
      : `${`${name}:`.padEnd(16)}${String(kb).padStart(8)} kB\n`
  ).join("");
}

// ---- net/dev -----------------------------------------------------------------

/** Interfaces a PVE host shows: physical NICs, bridges, and per-guest taps and veths. */
export function interfaces(model: NodeModel): string[] {
  const names = ["lo", ...model.host.nics];
  for (const g of model.guests.filter(isUp)) {
    for (const nic of g.nics) {
      // with the firewall on, PVE plugs a fwbr/fwpr/fwln trio between guest and bridge
      if (g.type === "qemu") names.push(`tap${g.vmid}i${nic.index}`);
      else names.push(`veth${g.vmid}i${nic.index}`);
      names.push(
        `fwbr${g.vmid}i${nic.index}`,
        `fwpr${g.vmid}p${nic.index}`,
        `fwln${g.vmid}i${nic.index}`,
      );
    }
  }
  return names;
}

const NET_WIDTHS = [8, 7, 4, 4, 4, 5, 10, 9, 8, 7, 4, 4, 4, 5, 7, 10];

function netDev(model: NodeModel, t: number): string {
  let text =
    "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  for (const name of interfaces(model)) {
    const rate = name === "lo" ? 8_000 : 20_000 + (hash32(name) % 3_000_000);
    const day = (amp: number) =>
      dailyCounter(amp, model.bootUnix, model.bootUnix + t);
    const rx = Math.floor(
      counter(`${name}:rx`, rate, rate * 0.4, t) + day(rate * 0.5),
    );
    const tx = Math.floor(
      counter(`${name}:tx`, rate / 2, rate * 0.2, t) + day(rate * 0.25),
    );
    const cols = [
      rx,
      Math.floor(rx / 800),
      0,
      Math.floor(rx / 9e7),
      0,
      0,
      0,
      Math.floor(rx / 5e6),
      tx,
      Math.floor(tx / 700),
      0,
      0,
      0,
      0,
      0,
      0,
    ];
    // dev_seq_printf_stats: "%6s:%8llu %7llu %4llu ..."; long names just run on
    text += `${name.padStart(6)}:${
      cols.map((c, i) => String(c).padStart(NET_WIDTHS[i])).join(" ")
    }\n`;
  }
  return text;
}

// ---- diskstats ---------------------------------------------------------------

interface BlockDevice {
  major: number;
  minor: number;
  name: string;
  /** bytes per second at the mean */
  rate: number;
}

/** Block devices: host disks with partitions, zvols (zd*) and idle loop devices. */
export function blockDevices(model: NodeModel): BlockDevice[] {
  const out: BlockDevice[] = [];
  let sdMinor = 0;
  let nvmeMinor = 0;
  for (const disk of model.host.disks) {
    const rate = 200_000 + (hash32(disk) % 8_000_000);
    if (disk.startsWith("nvme")) {
      out.push({ major: 259, minor: nvmeMinor++, name: disk, rate });
      for (let p = 1; p <= 3; p++) {
        out.push({
          major: 259,
          minor: nvmeMinor++,
          name: `${disk}p${p}`,
          rate: p === 3 ? rate : 0,
        });
      }
    } else {
      out.push({ major: 8, minor: sdMinor, name: disk, rate });
      out.push({ major: 8, minor: sdMinor + 1, name: `${disk}1`, rate });
      out.push({ major: 8, minor: sdMinor + 9, name: `${disk}9`, rate: 0 });
      sdMinor += 16;
    }
  }
  let zd = 0;
  for (const g of model.guests) {
    if (g.type !== "qemu" || !g.disk) continue;
    const rate = isUp(g) ? 50_000 + (hash32(`zd${g.vmid}`) % 2_000_000) : 0;
    out.push({ major: 230, minor: zd * 16, name: `zd${zd * 16}`, rate });
    out.push({ major: 230, minor: zd * 16 + 1, name: `zd${zd * 16}p1`, rate });
    zd++;
  }
  for (let i = 0; i < 8; i++) {
    out.push({ major: 7, minor: i, name: `loop${i}`, rate: 0 });
  }
  return out;
}

function diskstats(model: NodeModel, t: number): string {
  return blockDevices(model).map((d) => {
    const readBytes = d.rate === 0
      ? 0
      : counter(`${d.name}:r`, d.rate, d.rate * 0.7, t);
    const writeBytes = d.rate === 0
      ? 0
      : counter(`${d.name}:w`, d.rate * 0.6, d.rate * 0.5, t);
    const sectorsRead = Math.floor(readBytes / 512);
    const sectorsWritten = Math.floor(writeBytes / 512);
    const reads = Math.floor(sectorsRead / 64);
    const writes = Math.floor(sectorsWritten / 32);
    // kernel 5.5+: 17 numbers after the name (discards and flushes included)
    const fields = [
      reads,
      Math.floor(reads / 20),
      sectorsRead,
      Math.floor(reads / 3),
      writes,
      Math.floor(writes / 4),
      sectorsWritten,
      Math.floor(writes / 2),
      0,
      Math.floor((reads + writes) / 5),
      Math.floor((reads + writes) / 2),
      0,
      0,
      0,
      0,
      Math.floor(writes / 50),
      Math.floor(writes / 90),
    ];
    return `${String(d.major).padStart(4)} ${
      String(d.minor).padStart(7)
    } ${d.name} ${fields.join(" ")}\n`;
  }).join("");
}

// ---- writing -------------------------------------------------------------------

/** Writes the files under `dir`, each through a temporary file and a rename. */
export async function writeProcTree(
  dir: string,
  files: Record<string, string>,
): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const path = `${dir}/${rel}`;
    const parent = path.slice(0, path.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  }
}

export interface ProcTicker {
  /** Stops rewriting; resolves after the last write finished. */
  stop(): Promise<void>;
}

/**
 * Writes the tree now, then again every `intervalMs`, until stopped. The
 * clock is passed in so a test can drive time.
 */
export async function startProcTicker(opts: {
  dir: string;
  model: NodeModel;
  clock?: () => number;
  intervalMs?: number;
}): Promise<ProcTicker> {
  const clock = opts.clock ?? Date.now;
  const write = () => writeProcTree(opts.dir, procFiles(opts.model, clock()));
  await write();
  let pending: Promise<void> = Promise.resolve();
  let failure: Error | null = null;
  const timer = setInterval(() => {
    // a slow disk must not stack writes on top of each other
    pending = pending.then(write).catch((err: Error) => {
      failure ??= err;
      clearInterval(timer);
    });
  }, opts.intervalMs ?? 250);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      if (failure) throw failure;
    },
  };
}
