/**
 * Resource usage of another process, read from Linux /proc: resident memory
 * from /proc/PID/status and CPU time from /proc/PID/stat.
 */

/** Clock ticks per second for /proc/PID/stat times (`getconf CLK_TCK`). */
const CLK_TCK = 100;

export interface ProcReading {
  /** wall-clock ms when read (performance.timeOrigin-based epoch) */
  atMs: number;
  rssBytes: number;
  /** the anonymous part of RSS (heap, stacks); the rest is mapped files */
  rssAnonBytes: number | null;
  /** user + system CPU of the process itself, in ms */
  cpuMs: number;
  /** user + system CPU of its waited-for children, in ms */
  childCpuMs: number;
}

/** Parses one `Key: N kB` line of /proc/PID/status into bytes. */
export function parseStatusKb(
  statusText: string,
  key: "VmRSS" | "RssAnon",
): number | null {
  const m = statusText.match(new RegExp(`^${key}:\\s+(\\d+)\\s+kB$`, "m"));
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Parses utime, stime, cutime and cstime (fields 14 to 17) of /proc/PID/stat,
 * in ms. The command name (field 2) may hold spaces, so fields are counted
 * from its closing parenthesis.
 */
export function parseStatCpu(
  statText: string,
): { cpuMs: number; childCpuMs: number } | null {
  const after = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  // `after[0]` is field 3 (state); utime is field 14.
  const [utime, stime, cutime, cstime] = after.slice(11, 15).map(Number);
  if ([utime, stime, cutime, cstime].some((x) => !Number.isFinite(x))) {
    return null;
  }
  const ms = 1000 / CLK_TCK;
  return { cpuMs: (utime + stime) * ms, childCpuMs: (cutime + cstime) * ms };
}

/** Reads one sample for `pid`, or null once the process has gone. */
export async function readProc(
  pid: number,
  nowMs: () => number,
): Promise<ProcReading | null> {
  try {
    const [status, stat] = await Promise.all([
      Deno.readTextFile(`/proc/${pid}/status`),
      Deno.readTextFile(`/proc/${pid}/stat`),
    ]);
    const rssBytes = parseStatusKb(status, "VmRSS");
    const cpu = parseStatCpu(stat);
    if (rssBytes === null || cpu === null) return null;
    return {
      atMs: nowMs(),
      rssBytes,
      rssAnonBytes: parseStatusKb(status, "RssAnon"),
      ...cpu,
    };
  } catch (err) {
    if (processGone(err)) return null;
    throw err;
  }
}

/**
 * Whether reading a process's /proc file failed because the process is
 * gone: ENOENT once it was reaped, or ESRCH when it exited between the
 * file's open and its read, which Deno throws as a plain Error with the
 * OS's message only.
 */
export function processGone(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound ||
    (err instanceof Error &&
      err.message.startsWith("No such process (os error 3)"));
}

/** CPU use between two readings, as a percentage of one core. */
export function cpuPercent(a: ProcReading, b: ProcReading): number | null {
  const wall = b.atMs - a.atMs;
  return wall > 0 ? (100 * (b.cpuMs - a.cpuMs)) / wall : null;
}

/**
 * Samples a process every `everyMs` until stopped, keeping every reading so
 * callers can cut out the window they measured.
 */
export class ProcSampler {
  readonly readings: ProcReading[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    readonly pid: number,
    readonly everyMs: number,
    readonly nowMs: () => number,
  ) {}

  start(): void {
    const tick = () => {
      this.#pending = readProc(this.pid, this.nowMs).then((r) => {
        if (r) this.readings.push(r);
      });
    };
    tick();
    this.#timer = setInterval(tick, this.everyMs);
  }

  /** Takes one last reading and stops; a second call does nothing. */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
    const r = await readProc(this.pid, this.nowMs);
    if (r) this.readings.push(r);
  }

  /** Readings taken within [fromMs, toMs]. */
  between(fromMs: number, toMs: number): ProcReading[] {
    return this.readings.filter((r) => r.atMs >= fromMs && r.atMs <= toMs);
  }
}

/** Peak RSS in MB and mean CPU% over a window of readings. */
export function usageOver(
  readings: ProcReading[],
): { peakRssMb: number | null; cpuPercent: number | null } {
  if (readings.length === 0) return { peakRssMb: null, cpuPercent: null };
  const peak = Math.max(...readings.map((r) => r.rssBytes)) / 2 ** 20;
  const cpu = readings.length >= 2
    ? cpuPercent(readings[0], readings[readings.length - 1])
    : null;
  return { peakRssMb: peak, cpuPercent: cpu };
}

/** Mean CPU% of several processes over a window, summed (200 = 2 cores). */
export function totalCpuOver(
  samplers: ProcSampler[],
  fromMs: number,
  toMs: number,
): number | null {
  let total = 0;
  for (const s of samplers) {
    const cpu = usageOver(s.between(fromMs, toMs)).cpuPercent;
    if (cpu === null) return null;
    total += cpu;
  }
  return total;
}

/** One thread's name and CPU so far, from /proc/PID/task/TID/{comm,stat}. */
export interface ThreadCpu {
  tid: number;
  name: string;
  cpuMs: number;
}

/**
 * Every thread of `pid` with its CPU so far; the main thread (the event
 * loop, where a request's JavaScript runs) is the one whose tid is `pid`.
 * Threads that exited are not listed (their CPU is in the process's total).
 */
export async function readThreads(pid: number): Promise<ThreadCpu[]> {
  const out: ThreadCpu[] = [];
  for await (const e of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const [comm, stat] = await Promise.all([
        Deno.readTextFile(`/proc/${pid}/task/${e.name}/comm`),
        Deno.readTextFile(`/proc/${pid}/task/${e.name}/stat`),
      ]);
      const cpu = parseStatCpu(stat);
      if (cpu === null) continue;
      out.push({ tid: Number(e.name), name: comm.trim(), cpuMs: cpu.cpuMs });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return out;
}

/** CPU between two thread readings: the main thread's, and the whole process's. */
export interface CpuSplit {
  mainMs: number;
  totalMs: number;
  /** the other threads' CPU by thread name, largest first */
  others: Record<string, number>;
}

/** What `pid` spent between `before` (threads) and `after` (threads + process). */
export function cpuSplit(
  pid: number,
  before: { threads: ThreadCpu[]; process: ProcReading },
  after: { threads: ThreadCpu[]; process: ProcReading },
): CpuSplit {
  const was = new Map(before.threads.map((t) => [t.tid, t.cpuMs]));
  const spent = (t: ThreadCpu) => t.cpuMs - (was.get(t.tid) ?? 0);
  const main = after.threads.find((t) => t.tid === pid);
  const others: Record<string, number> = {};
  for (const t of after.threads) {
    if (t.tid === pid) continue;
    others[t.name] = (others[t.name] ?? 0) + spent(t);
  }
  const sorted = Object.entries(others).sort((a, b) => b[1] - a[1]);
  return {
    mainMs: main === undefined ? 0 : spent(main),
    totalMs: after.process.cpuMs - before.process.cpuMs,
    others: Object.fromEntries(sorted),
  };
}
