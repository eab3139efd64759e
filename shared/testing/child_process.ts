/**
 * Child processes for tests and end-to-end runs: the server, the agent, the
 * CLI and the demo run as real processes, the way an operator runs them.
 * Each child's output is kept (as text and as lines) for assertions and
 * failure messages.
 */

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  args: string[];
  env?: Record<string, string>;
  /** replace the whole environment with `env` instead of adding to it */
  clearEnv?: boolean;
  cwd?: string;
  /** text written to stdin, which is then closed; no stdin without it */
  stdin?: string;
  /**
   * A process group of its own (setsid), so that signals and stop() also
   * reach what it spawned (a fake PVE tool mid-call, say).
   */
  group?: boolean;
  /** called with every complete line, stdout and stderr alike */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface Child extends AsyncDisposable {
  readonly pid: number;
  /** everything printed so far */
  stdout(): string;
  stderr(): string;
  /** the last `n` lines, stdout and stderr interleaved */
  tail(n?: number): string;
  exited(): boolean;
  /** resolves once the process has exited and its output is read */
  readonly finished: Promise<Finished>;
  /**
   * Resolves with the first match of `pattern` in a line of output; fails
   * with the output so far if the process exits first or `timeoutMs` passes.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** sends `sig` to the process (or its group) if it still runs */
  signal(sig: Deno.Signal): void;
  /**
   * Sends `sig` (SIGTERM by default), SIGKILLs after `graceMs`, resolves
   * with how it finished. Safe to call twice. Disposal stops with SIGKILL.
   */
  stop(opts?: { sig?: Deno.Signal; graceMs?: number }): Promise<Finished>;
}

const KEEP_LINES = 400;

interface Waiter {
  pattern: RegExp;
  resolve(m: RegExpMatchArray): void;
}

/** Starts `cmd` with piped output. */
export function spawnChild(cmd: string, opts: ChildOptions): Child {
  const child = new Deno.Command(cmd, {
    args: opts.args,
    env: opts.env,
    clearEnv: opts.clearEnv,
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    detached: opts.group ?? false,
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(opts.stdin))
      .then(() => writer.close())
      // a child that exits without reading its stdin is not our failure
      .catch(() => {});
  }
  const text = { stdout: "", stderr: "" };
  const lines: string[] = [];
  let waiters: Waiter[] = [];
  const onLine = (line: string, stream: "stdout" | "stderr") => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    opts.onLine?.(line, stream);
    waiters = waiters.filter((w) => {
      const m = line.match(w.pattern);
      if (m) w.resolve(m);
      return !m;
    });
  };
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    name: "stdout" | "stderr",
  ) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text[name] += chunk;
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const part of parts) onLine(part, name);
    }
    if (rest) onLine(rest, name);
  };
  let done = false;
  const finished = Promise.all([
    child.status,
    pump(child.stdout, "stdout"),
    pump(child.stderr, "stderr"),
  ]).then(([status]) => {
    done = true;
    return { code: status.code, stdout: text.stdout, stderr: text.stderr };
  });
  const signal = (sig: Deno.Signal) => {
    try {
      if (opts.group) Deno.kill(-child.pid, sig);
      else if (!done) child.kill(sig);
    } catch (err) {
      // already gone: the normal case once a test has stopped it
      if (
        !(err instanceof Deno.errors.NotFound) && !(err instanceof TypeError)
      ) throw err;
    }
  };
  const tail = (n = 60) => lines.slice(-n).join("\n");
  const stop = async (
    { sig = "SIGTERM" as Deno.Signal, graceMs = 5000 } = {},
  ) => {
    if (!done) signal(sig);
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    try {
      return await finished;
    } finally {
      clearTimeout(timer);
      // children that outlived their parent (a fake tool mid-call)
      if (opts.group) signal("SIGKILL");
    }
  };
  return {
    pid: child.pid,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    tail,
    exited: () => done,
    finished,
    signal,
    stop,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = lines.map((l) => l.match(pattern)).find((m) => m);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          pattern,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const fail = (why: string) => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(
            new Error(`${cmd} ${why} before printing ${pattern}:\n${tail()}`),
          );
        };
        const timer = setTimeout(() => fail(`ran ${timeoutMs} ms`), timeoutMs);
        waiters.push(waiter);
        finished.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            fail("exited");
          }
        });
      });
    },
    async [Symbol.asyncDispose]() {
      await stop({ sig: "SIGKILL", graceMs: 0 });
    },
  };
}

/** Runs `cmd` to completion and returns its exit code and output. */
export function runToEnd(cmd: string, opts: ChildOptions): Promise<Finished> {
  return spawnChild(cmd, opts).finished;
}
