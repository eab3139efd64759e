/**
 * Test helpers that run the agent as a real process: `deno run` with the
 * permissions the compiled binary gets (read from deno.json's compile task,
 * so a permission the agent lacks fails here first).
 */

export const REPO_ROOT = new URL("..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
export const MAIN_TS = `${REPO_ROOT}/agent/main.ts`;

/** The `--allow-*` flags of `deno task compile:agent`. */
export function compilePermissions(): string[] {
  const denoJson = JSON.parse(Deno.readTextFileSync(`${REPO_ROOT}/deno.json`));
  const task: string = denoJson.tasks["compile:agent:x86_64"];
  const flags = task.split(/\s+/).filter((arg) => arg.startsWith("--allow-"));
  if (flags.length === 0) throw new Error("compile:agent has no --allow flags");
  return flags;
}

export interface AgentProcess {
  child: Deno.ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Waits until stderr matches, failing with what was logged instead. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Exit status with all of stdout and stderr. */
  finished: Promise<{ code: number; stdout: string; stderr: string }>;
}

async function readAll(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    onText(text);
  }
}

/**
 * Starts `script` (default agent/main.ts) with `args`. `path` becomes the
 * child's PATH, so only the fake PVE tools placed there can run.
 */
export function spawnAgent(
  args: string[],
  opts: { path: string; script?: string; cwd?: string },
): AgentProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...compilePermissions(), opts.script ?? MAIN_TS, ...args],
    cwd: opts.cwd ?? REPO_ROOT,
    env: { PATH: opts.path, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const reading = Promise.all([
    readAll(child.stdout, (t) => (out += t)),
    readAll(child.stderr, (t) => (err += t)),
  ]);
  const finished = (async () => {
    const [status] = await Promise.all([child.status, reading]);
    return { code: status.code, stdout: out, stderr: err };
  })();
  return {
    child,
    stderr: () => err,
    finished,
    async waitForStderr(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(err)) {
        if (Date.now() > deadline) {
          throw new Error(`agent never logged ${pattern}; stderr:\n${err}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
