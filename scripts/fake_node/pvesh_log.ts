/**
 * A `pvesh` to put first on PATH that appends its arguments to a log, one
 * call a line, then runs the simulated node's pvesh: how the tests and the
 * agent benchmark count what the agent asks of pvesh.
 */

export interface PveshLog {
  /** The directory holding the logging pvesh; prepend it to PATH. */
  binDir: string;
  /** Every call so far, as its arguments (`get /cluster/resources …`). */
  calls(): Promise<string[]>;
}

export async function installPveshLog(dir: string): Promise<PveshLog> {
  const binDir = `${dir}/pvesh-log-bin`;
  const log = `${dir}/pvesh-calls.log`;
  await Deno.mkdir(binDir, { recursive: true });
  const fake = `${import.meta.dirname}/bin/pvesh`;
  await Deno.writeTextFile(
    `${binDir}/pvesh`,
    `#!/bin/sh\necho "$*" >> '${log}'\nexec '${fake}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    binDir,
    async calls() {
      try {
        const text = await Deno.readTextFile(log);
        return text.split("\n").filter((line) => line !== "");
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      }
    },
  };
}
