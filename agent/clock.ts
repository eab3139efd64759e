/**
 * Time as a value: everything that waits or timestamps takes a `Clock`, so
 * tests can drive schedules without sleeping.
 */

/** Opaque: the real timers and the test clock use different handles. */
export type TimerId = unknown;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** The real clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};
