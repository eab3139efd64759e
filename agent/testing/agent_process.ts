/**
 * Test helpers that run the agent as a real process: `deno run` with the
 * permissions the compiled binary gets, so a permission the agent lacks
 * fails here first.
 */
import { type Child, spawnChild } from "@proxmon/shared/child_process";
import { AGENT_PERMISSIONS } from "../build.ts";

export const REPO_ROOT = new URL("../..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
export const MAIN_TS = `${REPO_ROOT}/agent/main.ts`;

export interface AgentProcess extends Child {
  /** Waits until a stderr line matches, failing with what was logged instead. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * Starts `script` (default agent/main.ts) with `args`. `path` becomes the
 * child's PATH, so only the fake PVE tools placed there can run.
 */
export function spawnAgent(
  args: string[],
  opts: {
    path: string;
    script?: string;
    cwd?: string;
    runFlags?: string[];
    /** More environment (e.g. a simulated node's profile); PATH is `path`. */
    env?: Record<string, string>;
  },
): AgentProcess {
  const flags = opts.runFlags ?? AGENT_PERMISSIONS;
  const child = spawnChild(Deno.execPath(), {
    args: ["run", ...flags, opts.script ?? MAIN_TS, ...args],
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...opts.env, PATH: opts.path, NO_COLOR: "1" },
    clearEnv: false,
  });
  return Object.assign(child, {
    async waitForStderr(pattern: RegExp, timeoutMs = 30_000) {
      await child.waitForLine(pattern, timeoutMs);
    },
  });
}
