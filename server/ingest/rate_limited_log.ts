/**
 * Log lines about agents (joins, refusals, nacks), at most so many per kind
 * per minute, so a flood (a misconfigured fleet reconnecting in a loop, an
 * agent sending garbage) cannot fill the journal. The first suppressed line
 * of a minute says that more are being suppressed; the first line after the
 * minute says how many were.
 */
import type { Clock } from "@proxmon/shared/clock";
import type { Logger } from "@proxmon/shared/logger";

export type AgentLogKind = "join" | "refusal" | "nack" | "bad_upgrade";

export interface AgentLog {
  info(kind: AgentLogKind, message: string): void;
  warn(kind: AgentLogKind, message: string): void;
}

export interface AgentLogOptions {
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

/** Creates the rate-limited agent log over `log`. */
export function createAgentLog(
  log: Logger,
  clock: Clock,
  { limit = 20, windowMs = 60_000 }: AgentLogOptions = {},
): AgentLog {
  const windows = new Map<AgentLogKind, Window>();

  function write(
    level: "info" | "warn",
    kind: AgentLogKind,
    message: string,
  ): void {
    const now = clock.now();
    let w = windows.get(kind);
    if (!w || now - w.startMs >= windowMs) {
      if (w && w.suppressed > 0) {
        log.warn(
          `suppressed ${w.suppressed} more agent ${kind} lines in ${
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
        `more than ${limit} agent ${kind} lines in ${
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
