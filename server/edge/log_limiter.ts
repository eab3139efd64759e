/**
 * Rate-limited logging for errors that can repeat thousands of times a
 * second (a failing accept, a flood of refused connections): the first line
 * of each kind goes out at once, then at most one per interval with the
 * count of those suppressed in between.
 */
import type { Clock } from "@proxmon/shared/clock";

export interface LogLimiter {
  /** Logs `message` under `kind` unless one of that kind went out recently. */
  log(kind: string, message: string): void;
}

/** Wraps `write` so each kind logs at most once per `intervalMs`. */
export function createLogLimiter(
  write: (message: string) => void,
  clock: Pick<Clock, "now">,
  intervalMs = 10_000,
): LogLimiter {
  const kinds = new Map<string, { lastAt: number; suppressed: number }>();
  return {
    log(kind, message) {
      const now = clock.now();
      const seen = kinds.get(kind);
      if (seen && now - seen.lastAt < intervalMs) {
        seen.suppressed++;
        return;
      }
      const suppressed = seen?.suppressed ?? 0;
      // Bounded by the number of kinds, which callers keep small and fixed.
      kinds.set(kind, { lastAt: now, suppressed: 0 });
      write(
        suppressed > 0
          ? `${message} (${suppressed} more like it suppressed)`
          : message,
      );
    },
  };
}
