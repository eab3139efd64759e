/** The agent's log sink: plain lines, which journald timestamps itself. */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Writes `level: message` lines to stderr, keeping stdout for `--once`. */
export function stderrLogger(): Logger {
  const encoder = new TextEncoder();
  const write = (level: string) => (message: string) => {
    Deno.stderr.writeSync(encoder.encode(`${level}: ${message}\n`));
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

/** A logger that keeps `level: message` lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (message: string) => {
    lines.push(`${level}: ${message}`);
  };
  return {
    lines,
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
  };
}
