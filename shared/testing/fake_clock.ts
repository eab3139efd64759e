/**
 * A `Clock` for tests whose time moves only when told to, so schedules can
 * be checked without sleeping.
 */
import type { Clock, TimerId } from "../clock.ts";

export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, firing due timers in time order and letting
   * the work they start settle after each one.
   */
  advance(ms: number): Promise<void>;
  /** Moves time forward without firing timers, as a suspended process sees. */
  jump(ms: number): void;
  /** How many timers are waiting. */
  pending(): number;
}

/** Lets promise chains and I/O started by a timer run to their next wait. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A clock that starts at `startMs` and only moves when told to. */
export function fakeClock(startMs = 0): FakeClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<TimerId, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(id) {
      if (id !== undefined) timers.delete(id);
    },
    jump(ms) {
      now += ms;
    },
    pending: () => timers.size,
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let due: [TimerId, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) {
            due = entry;
          }
        }
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        await settle();
      }
      now = target;
    },
  };
}
