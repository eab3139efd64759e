/**
 * The one logger seam of the agent and the server: both log through a
 * `Logger`, so tests collect lines instead of printing them.
 */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** `err`, when given, is appended (its message, or its stack for errors). */
  error(message: string, err?: unknown): void;
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** One log line sent from a Worker to the thread that owns the logger. */
export interface LogMessage {
  type: "log";
  level: "info" | "warn" | "error";
  message: string;
}

/**
 * A Worker's logger: each line goes to `post`, for the owning thread to
 * hand to its own logger (`log[m.level](m.message)`).
 */
export function postingLogger(post: (line: LogMessage) => void): Logger {
  const at = (level: LogMessage["level"]) => (m: string, err?: unknown) =>
    post({
      type: "log",
      level,
      message: err === undefined ? m : `${m} ${describe(err)}`,
    });
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

const encoder = new TextEncoder();

const writeLine = (
  stream: { writeSync(b: Uint8Array): number },
  line: string,
) => void stream.writeSync(encoder.encode(line + "\n"));

/**
 * The server's console: info lines plain on stdout, `warning: …` and errors
 * on stderr.
 */
export const consoleLogger: Logger = {
  info: (m) => writeLine(Deno.stdout, m),
  warn: (m) => writeLine(Deno.stderr, `warning: ${m}`),
  error: (m, err) =>
    writeLine(Deno.stderr, err === undefined ? m : `${m} ${describe(err)}`),
};

/**
 * The agent's console: `level: message` lines, all on stderr, which keeps
 * stdout for `--once` JSON; journald timestamps them itself.
 */
export function stderrLogger(): Logger {
  const at = (level: string) => (m: string, err?: unknown) =>
    writeLine(
      Deno.stderr,
      `${level}: ${m}${err === undefined ? "" : ` ${describe(err)}`}`,
    );
  return { info: at("info"), warn: at("warn"), error: at("error") };
}

export interface MemoryLogger extends Logger {
  /** every line so far, as `info: …`, `warn: …` or `error: …` */
  lines: string[];
}

/** Keeps every line in memory, prefixed with its level; for tests. */
export function memoryLogger(): MemoryLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m, err) =>
      lines.push(`error: ${m}${err === undefined ? "" : ` ${String(err)}`}`),
  };
}
