/**
 * Log lines that can repeat thousands of times a second (a misconfigured
 * fleet reconnecting in a loop, an agent sending garbage, a failing accept,
 * a flood of refused connections), at most `limit` per kind per window, so
 * a flood cannot fill the journal. The first suppressed line of a window
 * says that more are being suppressed; the first line after the window
 * says how many were.
 */
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";

export interface RateLimitedLog<K extends string = string> {
  info(kind: K, message: string): void;
  warn(kind: K, message: string): void;
}

export interface RateLimitedLogOptions {
  /** what the lines are about, in the suppression notices: "agent" */
  subject: string;
  /** lines per kind per window; default 20 */
  limit?: number;
  /** default one minute */
  windowMs?: number;
}

interface Window {
  startMs: number;
  lines: number;
  suppressed: number;
}

/**
 * Creates a rate-limited log over `log`. Its memory is bounded by the
 * number of kinds, which callers keep small and fixed (a union type).
 */
export function createRateLimitedLog<K extends string>(
  log: Logger,
  clock: Pick<Clock, "now">,
  { subject, limit = 20, windowMs = 60_000 }: RateLimitedLogOptions,
): RateLimitedLog<K> {
  const windows = new Map<K, Window>();

  function write(level: "info" | "warn", kind: K, message: string): void {
    const now = clock.now();
    let w = windows.get(kind);
    if (!w || now - w.startMs >= windowMs) {
      if (w && w.suppressed > 0) {
        log.warn(
          `suppressed ${w.suppressed} more ${subject} ${kind} lines in ${
            Math.round((now - w.startMs) / 1000)
          } s`,
        );
      }
      w = { startMs: now, lines: 0, suppressed: 0 };
      windows.set(kind, w);
    }
    if (w.lines < limit) {
      w.lines++;
      log[level](message);
      return;
    }
    if (w.suppressed++ === 0) {
      log.warn(
        `more than ${limit} ${subject} ${kind} lines in ${
          Math.round(windowMs / 1000)
        } s: suppressing the rest of them for now`,
      );
    }
  }

  return {
    info: (kind, message) => write("info", kind, message),
    warn: (kind, message) => write("warn", kind, message),
  };
}
