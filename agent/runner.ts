/**
 * The seam between collectors and the outside world. Collectors take a
 * `CommandRunner`; production passes `denoRunner`, tests pass `fakeRunner`
 * fed with real-format fixtures.
 */

export interface RunOptions {
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number;
}

export type CommandError =
  | { kind: "enoent"; message: string }
  | {
    kind: "nonzero_exit";
    code: number;
    stdout: string;
    stderr: string;
    message: string;
  }
  | { kind: "timeout"; timeoutMs: number; message: string }
  | { kind: "spawn_failed"; message: string };

export type CommandResult =
  | { ok: true; stdout: string; stderr: string }
  | { ok: false; error: CommandError };

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: RunOptions): Promise<CommandResult>;
}

/** The command line as one string, as used for fixture keys and error messages. */
export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args].join(" ");
}
