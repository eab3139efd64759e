/**
 * The production `CommandRunner`: runs a program found on PATH with
 * Deno.Command and maps every way it can go wrong to a `CommandError`.
 */
import {
  type CommandError,
  commandLine,
  type CommandResult,
  type CommandRunner,
  type RunOptions,
} from "./runner.ts";

interface Drain {
  text: Promise<string>;
  cancel(): void;
}

/**
 * Read size per output stream. One buffer of this size is handed back and
 * forth with every read: Deno's default reader allocates a fresh 64 KiB
 * chunk per read, and at a dozen commands a second those chunks kept about
 * 8 MB of garbage alive between collections (BENCHMARKS.md).
 */
const READ_BYTES = 16 * 1024;

/** Reads a stream to its end; `cancel` ends it early without an error. */
function drain(stream: ReadableStream<Uint8Array>): Drain {
  const reader = stream.getReader({ mode: "byob" });
  const read = async () => {
    const decoder = new TextDecoder();
    let text = "";
    let buffer = new ArrayBuffer(READ_BYTES);
    for (;;) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
      buffer = value.buffer as ArrayBuffer;
    }
  };
  return {
    text: read(),
    cancel: () => void reader.cancel(),
  };
}

/**
 * Kills the child's whole process group: it was spawned detached, so it
 * leads its own group, and a shell wrapper's grandchildren die with it
 * instead of holding the output pipes open.
 */
function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch (err) {
    // The group is already gone: it exited just as the timer fired.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

function spawn(
  cmd: string,
  args: string[],
): Deno.ChildProcess | CommandError {
  const line = commandLine(cmd, args);
  try {
    return new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A new session, so a timeout can kill the child's descendants too.
      detached: true,
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return {
        kind: "enoent",
        message: cmd.includes("/")
          ? `${cmd}: no such file`
          : `${cmd}: command not found on PATH`,
      };
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      return { kind: "spawn_failed", message: `${line}: ${err.message}` };
    }
    throw err;
  }
}

async function run(
  cmd: string,
  args: string[],
  opts: RunOptions = {},
): Promise<CommandResult> {
  const child = spawn(cmd, args);
  if ("kind" in child) return { ok: false, error: child };
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  let timedOut = false;
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
    stdout.cancel();
    stderr.cancel();
  }, opts.timeoutMs);
  let status: Deno.CommandStatus, out: string, err: string;
  try {
    [status, out, err] = await Promise.all([
      child.status,
      stdout.text,
      stderr.text,
    ]);
  } finally {
    clearTimeout(timer);
  }
  const line = commandLine(cmd, args);
  if (timedOut) {
    const timeoutMs = opts.timeoutMs ?? 0;
    return {
      ok: false,
      error: {
        kind: "timeout",
        timeoutMs,
        message: `${line}: killed after ${timeoutMs} ms`,
      },
    };
  }
  if (!status.success) {
    const detail = (err.trim() || out.trim()).split("\n")[0];
    const why = status.signal
      ? `killed by ${status.signal}`
      : `exited with code ${status.code}`;
    return {
      ok: false,
      error: {
        kind: "nonzero_exit",
        code: status.code,
        stdout: out,
        stderr: err,
        message: detail ? `${line}: ${why}: ${detail}` : `${line}: ${why}`,
      },
    };
  }
  return { ok: true, stdout: out, stderr: err };
}

/**
 * Runs commands with Deno.Command, looked up on PATH. Never throws for a
 * missing binary, a non-zero exit or a timeout: those come back as errors,
 * so one broken tool degrades a sample instead of aborting the cycle.
 */
export const denoRunner: CommandRunner = { run };
