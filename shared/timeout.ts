/** Racing work against a deadline, on an injected clock. */
import { type Clock, systemClock } from "./clock.ts";

/**
 * Settles like `work`, or with `onTimeout()` (its value, or its throw) if
 * `work` has not settled after `ms`. The timer is always cleared, so a
 * finished race never keeps the process alive. `work` itself is not
 * cancelled: pass an AbortSignal to it for that.
 */
export function withTimeout<T, U>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => U,
  clock: Clock = systemClock,
): Promise<T | U> {
  let timer: number | undefined;
  const expired = new Promise<U>((resolve, reject) => {
    timer = clock.setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([work, expired]).finally(() => clock.clearTimeout(timer));
}
