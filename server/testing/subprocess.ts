/**
 * Runs server entry points (main.ts, cli.ts) as real child processes, the
 * way an operator would, for tests of exit codes, output and signals.
 */

const SERVER_DIR = `${import.meta.dirname}/..`;

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A server/<script> ...args` to completion. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<Finished> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${SERVER_DIR}/${script}`, ...args],
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

export interface ServerProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  port: number;
  /** every stdout line so far */
  stdout: string[];
  /** resolves with the exit code and all output */
  finished: Promise<Finished>;
}

/**
 * Starts `server/main.ts` with PORT=0 and waits for its "listening on"
 * line, from which it takes the port.
 */
export async function startServerProcess(
  env: Record<string, string>,
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${SERVER_DIR}/main.ts`],
    env: { HOSTNAME: "127.0.0.1", PORT: "0", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const listening = Promise.withResolvers<number>();
  const readStdout = (async () => {
    let buffered = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        stdout.push(line);
        const port = line.match(/listening on http:\/\/[^ ]+:(\d+)/)?.[1];
        if (port) listening.resolve(Number(port));
      }
    }
    listening.reject(new Error(`server exited first:\n${stdout.join("\n")}`));
  })();
  const stderr = new Response(child.stderr).text();
  const finished = (async () => {
    const { code } = await child.status;
    await readStdout;
    return { code, stdout: stdout.join("\n"), stderr: await stderr };
  })();
  const port = await listening.promise;
  return {
    child,
    port,
    stdout,
    finished,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch (err) {
        // already exited: the normal case when a test stopped it
        if (!(err instanceof TypeError)) throw err;
      }
      await finished;
    },
  };
}
