/**
 * Time as a value: everything on the agent and the server that reads the time
 * or schedules work takes a `Clock`, so tests can drive schedules without
 * sleeping.
 */

export type TimerId = number;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Like the global one, a no-op for `undefined` or a timer already gone. */
  clearTimeout(id: TimerId | undefined): void;
}

/** The real clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // Number(): Deno returns a number already; @types/node types it as an
  // object that converts to its id, which clearTimeout also accepts.
  setTimeout: (fn, ms) => Number(setTimeout(fn, ms)),
  clearTimeout: (id) => clearTimeout(id),
};
