/**
 * Work that repeats on a clock: the agent's outbox checkpoint, the server's
 * retention and token watch. A run never overlaps the one before it: the
 * next is scheduled only after the current one settles.
 */
import type { Clock, TimerId } from "./clock.ts";

export interface Periodic {
  /** Resolves when the run in progress, if any, has settled. */
  idle(): Promise<void>;
  /** Cancels the schedule and waits for a run in progress. Safe to repeat. */
  stop(): Promise<void>;
}

export interface PeriodicOptions {
  clock: Clock;
  intervalMs: number;
  /** delay before the first run; `intervalMs` unless given */
  firstDelayMs?: number;
  /**
   * One run. It should catch and log what it expects; a rejection is passed
   * to `onError` and the schedule goes on, so one failed run (a full disk,
   * say) never ends the schedule.
   */
  run(): Promise<void>;
  onError(err: unknown): void;
}

export function startPeriodic(opts: PeriodicOptions): Periodic {
  const { clock, intervalMs } = opts;
  let timer: TimerId | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    timer = undefined;
    running = opts.run().catch(opts.onError).finally(() => {
      if (!stopped) timer = clock.setTimeout(tick, intervalMs);
    });
  };
  timer = clock.setTimeout(tick, opts.firstDelayMs ?? intervalMs);
  return {
    idle: () => running,
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await running;
    },
  };
}
