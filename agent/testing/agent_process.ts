/**
 * Test helpers that run the agent as a real process: `deno run` with the
 * permissions the compiled binary gets, so a permission the agent lacks
 * fails here first.
 */
import { AGENT_PERMISSIONS } from "../build.ts";

export const REPO_ROOT = new URL("../..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
export const MAIN_TS = `${REPO_ROOT}/agent/main.ts`;

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
  opts: { path: string; script?: string; cwd?: string; runFlags?: string[] },
): AgentProcess {
  const flags = opts.runFlags ?? AGENT_PERMISSIONS;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, opts.script ?? MAIN_TS, ...args],
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
