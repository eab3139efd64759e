/**
 * Child processes for the end-to-end runs: each one in its own process
 * group (so stopping it also stops the fake tools it spawned), its output
 * kept as lines for failure messages and optionally echoed.
 */

export interface Proc {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** True once the process has exited. */
  exited(): boolean;
  /** The last `n` lines it printed (stdout and stderr interleaved). */
  tail(n?: number): string;
  /** Sends a signal to its whole process group. */
  signal(sig: Deno.Signal): void;
  /**
   * Sends `sig` (SIGTERM by default), waits up to `graceMs`, then SIGKILLs
   * the group. Resolves with the exit status; safe to call twice.
   */
  stop(
    opts?: { sig?: Deno.Signal; graceMs?: number },
  ): Promise<Deno.CommandStatus>;
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Called with every line of output, e.g. to echo it with a prefix. */
  onLine?: (line: string) => void;
}

const KEEP_LINES = 400;

/** Starts `cmd` in a new process group, with output captured line by line. */
export function spawnProc(name: string, cmd: string, opts: SpawnOptions): Proc {
  const child = new Deno.Command(cmd, {
    args: opts.args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // setsid: a group of its own, so one kill reaches its children too
    detached: true,
  }).spawn();
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    opts.onLine?.(line);
  };
  const pumps = [pump(child.stdout, keep), pump(child.stderr, keep)];
  let done = false;
  const status = child.status.then(async (s) => {
    done = true;
    await Promise.all(pumps);
    return s;
  });
  const signalGroup = (sig: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, sig);
    } catch (err) {
      // the whole group is already gone
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  };
  return {
    name,
    pid: child.pid,
    status,
    exited: () => done,
    tail: (n = 60) => lines.slice(-n).join("\n"),
    signal: signalGroup,
    async stop({ sig = "SIGTERM", graceMs = 5000 } = {}) {
      if (!done) signalGroup(sig);
      const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      try {
        return await status;
      } finally {
        clearTimeout(timer);
        // children that outlived their parent (a fake tool mid-call)
        signalGroup("SIGKILL");
      }
    },
  };
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
) {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    parts.forEach(onLine);
  }
  if (rest) onLine(rest);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
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
