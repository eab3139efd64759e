/**
 * A minimal logger seam: the server logs through this, so tests can collect
 * lines instead of printing them.
 */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

/** Writes info to stdout and warnings and errors to stderr. */
export const consoleLogger: Logger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(`warning: ${m}`),
  error: (m, err) =>
    err === undefined ? console.error(m) : console.error(m, err),
};

export interface MemoryLogger extends Logger {
  lines: string[];
}

/** Keeps every line in memory, prefixed with its level; for tests. */
export function createMemoryLogger(): MemoryLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m, err) =>
      lines.push(`error: ${m}${err === undefined ? "" : ` ${String(err)}`}`),
  };
}
