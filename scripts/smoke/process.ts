/**
 * Child processes for the end-to-end runs: each one in its own process
 * group (so stopping it also stops the fake tools it spawned), its output
 * kept as lines for failure messages and optionally echoed.
 */
import { type Child, spawnChild } from "@proxmon/shared/child_process";

export interface Proc extends Child {
  readonly name: string;
  /** Resolves when the process has exited; the same as `finished`. */
  readonly status: Child["finished"];
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Called with every line of output, e.g. to echo it with a prefix. */
  onLine?: (line: string) => void;
}

/** Starts `cmd` in a new process group, with output captured line by line. */
export function spawnProc(name: string, cmd: string, opts: SpawnOptions): Proc {
  const child = spawnChild(cmd, {
    args: opts.args,
    env: opts.env,
    cwd: opts.cwd,
    group: true,
    onLine: opts.onLine && ((line) => opts.onLine!(line)),
  });
  return Object.assign(child, { name, status: child.finished });
}

/**
 * Polls `probe` until it returns something other than undefined, or throws
 * after `timeoutMs` with `what` and the last probe error in the message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; clock?: () => number },
): Promise<T> {
  const clock = opts.clock ?? Date.now;
  const deadline = clock() + opts.timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      lastError = `; last error: ${err.message}`;
    }
    if (clock() > deadline) {
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${what}${lastError}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
