/**
 * Runs server entry points (main.ts, cli.ts) as real child processes, the
 * way an operator would, for tests of exit codes, output and signals.
 */
import {
  type Child,
  type Finished,
  runToEnd,
  spawnChild,
} from "@proxmon/shared/child_process";

export type { Finished };

const SERVER_DIR = `${import.meta.dirname}/..`;

/** Runs `deno run -A server/<script> ...args` to completion. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<Finished> {
  return runToEnd(Deno.execPath(), {
    args: ["run", "-A", `${SERVER_DIR}/${script}`, ...args],
    env,
    stdin,
  });
}

export interface ServerProcess extends Child {
  port: number;
}

export interface ServerProcessOptions {
  /** `ulimit -n` (soft and hard) for the server, as a service manager sets it */
  maxOpenFiles?: number;
}

/**
 * Starts `server/main.ts` with PORT=0 and waits for its "listening on"
 * line, from which it takes the port.
 */
export async function startServerProcess(
  env: Record<string, string>,
  opts: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const run = ["run", "-A", `${SERVER_DIR}/main.ts`];
  // bash sets the limit, then becomes deno (exec), so signals reach it.
  const [cmd, args] = opts.maxOpenFiles === undefined
    ? [Deno.execPath(), run]
    : ["bash", [
      "-c",
      `ulimit -n ${opts.maxOpenFiles} && exec "$@"`,
      "bash",
      Deno.execPath(),
      ...run,
    ]];
  const child = spawnChild(cmd, {
    args,
    // acks at once; sample_writer_test covers the commit window
    env: {
      HOSTNAME: "127.0.0.1",
      PORT: "0",
      INGEST_COMMIT_WINDOW_MS: "0",
      ...env,
    },
  });
  const [, port] = await child.waitForLine(
    /listening on http:\/\/[^ ]+:(\d+)/,
  );
  return Object.assign(child, { port: Number(port) });
}
