/** Newline-delimited JSON between the bench driver and its child processes. */
import { pumpToFile } from "./child_log.ts";
import { REPO_ROOT } from "./paths.ts";

/** Yields each text line of a byte stream, without the newline. */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/** Writes one JSON value as a line. */
export async function writeJsonLine(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  value: unknown,
): Promise<void> {
  await writer.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
}

export interface JsonLineChild {
  child: Deno.ChildProcess;
  /** the child's stdin, its first line already written */
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** the child's stdout, line by line */
  events: AsyncGenerator<string>;
  /** resolves once all of the child's stderr is in its log file */
  logged: Promise<void>;
}

/**
 * Starts `deno run -A script` from the repository root and writes `input`
 * to it as its first line; its stderr goes to `logPath`.
 */
export async function spawnJsonLineChild(
  script: string,
  input: unknown,
  logPath: string,
): Promise<JsonLineChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logged = pumpToFile([child.stderr], logPath);
  const stdin = child.stdin.getWriter();
  const events = lines(child.stdout);
  await writeJsonLine(stdin, input);
  return { child, stdin, events, logged };
}
