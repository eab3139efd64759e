/**
 * Runs the fast, medium and slow collection cycles on their schedules and
 * hands each sample on. A cycle never overlaps itself: a tick that finds
 * the previous run of the same interval still going is skipped and counted.
 */
import { type Interval, INTERVALS } from "@proxmon/shared";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Logger } from "@proxmon/shared/logger";
import type { OutboxSample } from "./outbox.ts";

/** One collection per interval; `createCollectors()` returns this shape. */
export type CollectFns = {
  [I in Interval]: (nowMs: number) => Promise<Record<string, unknown>>;
};

export interface ReporterOptions {
  collect: CollectFns;
  intervalsMs: Record<Interval, number>;
  clock: Clock;
  /** Receives every sample, in the order the cycles finish. */
  onSample(sample: OutboxSample): void;
  log: Logger;
}

export interface CycleStats {
  /** Cycles that produced a sample. */
  runs: number;
  /** Ticks skipped because the previous cycle was still running. */
  skipped: number;
  /** Cycles whose collect function threw; the schedule goes on. */
  failed: number;
}

export interface Reporter {
  /** Runs every interval once now, then on its schedule. */
  start(): void;
  /** Stops the schedules; resolves once the cycles still running finish. */
  stop(): Promise<void>;
  readonly stats: Record<Interval, CycleStats>;
}

/** Creates a reporter; nothing runs until `start()`. */
export function createReporter(opts: ReporterOptions): Reporter {
  const { clock, log } = opts;
  const stats = Object.fromEntries(
    INTERVALS.map((i) => [i, { runs: 0, skipped: 0, failed: 0 }]),
  ) as Record<Interval, CycleStats>;
  const running = new Map<Interval, Promise<void>>();
  const timers = new Map<Interval, TimerId>();
  let stopped = false;

  async function cycle(interval: Interval): Promise<void> {
    const nowMs = clock.now();
    try {
      const data = await opts.collect[interval](nowMs);
      stats[interval].runs++;
      opts.onSample({
        interval,
        collected_at: new Date(nowMs).toISOString(),
        data,
      });
    } catch (err) {
      // Collectors report partial failure as data; a throw is a bug, and
      // one bad cycle must not end the schedule.
      stats[interval].failed++;
      log.error(`${interval} cycle failed: ${describe(err)}`);
    }
  }

  function tick(interval: Interval): void {
    if (running.has(interval)) {
      const s = stats[interval];
      s.skipped++;
      log.warn(
        `${interval} cycle still running after ${
          opts.intervalsMs[interval] / 1000
        } s; skipped this tick (${s.skipped} skipped since start)`,
      );
      return;
    }
    const run = cycle(interval).finally(() => running.delete(interval));
    running.set(interval, run);
  }

  function schedule(interval: Interval, dueMs: number): void {
    const period = opts.intervalsMs[interval];
    const id = clock.setTimeout(() => {
      if (stopped) return;
      // Anchor to the schedule, not to when the timer fired, so ticks do
      // not drift; after a stall (suspend, blocked loop) skip ahead instead
      // of firing a burst.
      let next = dueMs + period;
      while (next <= clock.now()) next += period;
      schedule(interval, next);
      tick(interval);
    }, Math.max(0, dueMs - clock.now()));
    timers.set(interval, id);
  }

  return {
    stats,
    start() {
      const now = clock.now();
      for (const interval of INTERVALS) {
        schedule(interval, now + opts.intervalsMs[interval]);
        tick(interval);
      }
    },
    async stop() {
      stopped = true;
      for (const id of timers.values()) clock.clearTimeout(id);
      timers.clear();
      await Promise.all(running.values());
    },
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.stack ?? err.message : String(err);
}
