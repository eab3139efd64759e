/**
 * The driver's side of the load generators: one child process per
 * GeneratorConfig, started together on one clock, results merged.
 */
import type {
  GeneratorConfig,
  GeneratorEvent,
  GeneratorResult,
  StartCommand,
  StopCommand,
} from "./load_plan.ts";
import { spawnJsonLineChild, writeJsonLine } from "./lines.ts";
import { type Distribution, distribution } from "./stats.ts";

export interface ReadyInfo {
  joined: number;
  failed: number;
  joinMs: number;
  frameBytes: number;
}

export interface Fleet {
  pids: number[];
  ready: ReadyInfo[];
  /** Starts every generator's plan at `atMs` (epoch ms) and waits for results. */
  run(atMs: number): Promise<GeneratorResult[]>;
  /** Cuts every running plan short; `run` then resolves after the drain. */
  stop(): Promise<void>;
  /** Kills any generator still running. */
  kill(): void;
}

/** Spawns the generators and waits until each has joined its hosts. */
export async function launchFleet(
  configs: GeneratorConfig[],
  logPathFor: (i: number) => string,
  readyTimeoutMs = 180_000,
): Promise<Fleet> {
  const procs = await Promise.all(configs.map(async (cfg, i) => {
    const { child, stdin, events } = await spawnJsonLineChild(
      "scripts/bench/load_generator.ts",
      cfg,
      logPathFor(i),
    );
    return { child, stdin, events, logPath: logPathFor(i) };
  }));
  const kill = () => {
    for (const p of procs) {
      try {
        p.child.kill("SIGKILL");
      } catch (err) {
        if (!(err instanceof TypeError)) throw err; // already exited
      }
    }
  };
  const next = async (i: number): Promise<GeneratorEvent> => {
    const r = await procs[i].events.next();
    if (r.done) {
      const tail = (await Deno.readTextFile(procs[i].logPath)).slice(-2_000);
      throw new Error(`load generator ${i} exited early:\n${tail}`);
    }
    return JSON.parse(r.value) as GeneratorEvent;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = await Promise.race([
    Promise.all(procs.map(async (_, i) => {
      const e = await next(i);
      if (e.event !== "ready") throw new Error(`generator ${i}: ${e.event}`);
      return e;
    })),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("load generators not ready in time")),
        readyTimeoutMs,
      );
    }),
  ]).catch((err) => {
    kill();
    throw err;
  }).finally(() => clearTimeout(timer));
  return {
    pids: procs.map((p) => p.child.pid),
    ready: ready.map(({ joined, failed, joinMs, frameBytes }) => ({
      joined,
      failed,
      joinMs,
      frameBytes,
    })),
    kill,
    async stop() {
      const stop: StopCommand = { cmd: "stop" };
      await Promise.all(procs.map((p) => writeJsonLine(p.stdin, stop)));
    },
    async run(atMs) {
      const start: StartCommand = { cmd: "start", atMs };
      await Promise.all(procs.map((p) => writeJsonLine(p.stdin, start)));
      const results = await Promise.all(procs.map(async (p, i) => {
        const e = await next(i);
        if (e.event !== "result") throw new Error(`generator ${i}: ${e.event}`);
        await p.child.status;
        return e.result;
      }));
      await Promise.all(procs.map((p) => p.stdin.close()));
      return results;
    },
  };
}

/** Every generator's ledger as one. */
export function mergeResults(results: GeneratorResult[]): GeneratorResult {
  return {
    sentAt: results.flatMap((r) => r.sentAt),
    ackedAt: results.flatMap((r) => r.ackedAt),
    nacks: results.reduce((a, r) => a + r.nacks, 0),
    throttled: results.reduce((a, r) => a + r.throttled, 0),
    closedEarly: results.reduce((a, r) => a + r.closedEarly, 0),
    errors: results.flatMap((r) => r.errors).slice(0, 20),
    frameBytes: results[0]?.frameBytes ?? 0,
  };
}

/** Acks and latencies within one window of the run (ms after the start). */
export interface WindowStats {
  fromMs: number;
  toMs: number;
  sent: number;
  /** acks that arrived in the window, per second of window */
  ackedPerSecond: number;
  /** latency (ms) of the samples sent in the window that were acked */
  latencyMs: Distribution;
  /** samples sent in the window and never acked */
  unacked: number;
}

/** Cuts a window out of a merged ledger. */
export function windowStats(
  r: GeneratorResult,
  fromMs: number,
  toMs: number,
): WindowStats {
  let sent = 0, ackedIn = 0, unacked = 0;
  const lat: number[] = [];
  for (let i = 0; i < r.sentAt.length; i++) {
    const s = r.sentAt[i], a = r.ackedAt[i];
    if (a >= fromMs && a < toMs) ackedIn++;
    if (s < fromMs || s >= toMs) continue;
    sent++;
    if (a < 0) unacked++;
    else lat.push(a - s);
  }
  return {
    fromMs,
    toMs,
    sent,
    ackedPerSecond: (ackedIn * 1000) / (toMs - fromMs),
    latencyMs: distribution(lat),
    unacked,
  };
}

/** Total acks in the ledger. */
export function ackCount(r: GeneratorResult): number {
  let n = 0;
  for (const a of r.ackedAt) if (a >= 0) n++;
  return n;
}

/** One step of a latency timeline: samples sent in [atMs, atMs + step). */
export interface TimelineStep {
  atMs: number;
  sent: number;
  acked: number;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Ack latency by send time, in steps of `stepMs`, to show a stall's shape. */
export function timeline(
  r: GeneratorResult,
  fromMs: number,
  toMs: number,
  stepMs: number,
): TimelineStep[] {
  const steps: TimelineStep[] = [];
  for (let at = fromMs; at < toMs; at += stepMs) {
    const w = windowStats(r, at, Math.min(toMs, at + stepMs));
    steps.push({
      atMs: Math.round(at),
      sent: w.sent,
      acked: Math.round(
        (w.ackedPerSecond * (Math.min(toMs, at + stepMs) - at)) / 1000,
      ),
      p99Ms: w.latencyMs.p99,
      maxMs: w.latencyMs.max,
    });
  }
  return steps;
}
