/**
 * Runs one collector command and turns every way it can fail into an entry
 * for the collector's `errors` list, so collectors only handle the happy path.
 */
import type { CollectorError } from "@proxmon/shared";
import type { CommandError, CommandResult, CommandRunner } from "../runner.ts";
import { type Command, lineOf } from "./commands.ts";

/** What every command needs: the runner and the per-command timeout. */
export interface Exec {
  runner: CommandRunner;
  timeoutMs: number;
}

export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: CollectorError };

/** Runs `command` with the configured timeout. */
export function runCommand(
  exec: Exec,
  command: Command,
): Promise<CommandResult> {
  return exec.runner.run(command.cmd, [...command.args], {
    timeoutMs: exec.timeoutMs,
  });
}

function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0] ?? "";
}

/** One line saying which command failed and how, for an error entry. */
export function describeFailure(command: Command, error: CommandError): string {
  const line = lineOf(command);
  switch (error.kind) {
    case "enoent":
      return `${line}: command not found (${error.message})`;
    case "nonzero_exit": {
      const detail = firstLine(error.stderr) || firstLine(error.stdout);
      return `${line}: exited with code ${error.code}${
        detail ? `: ${detail}` : ""
      }`;
    }
    case "timeout":
      return `${line}: timed out after ${error.timeoutMs} ms`;
    case "spawn_failed":
      return `${line}: could not start (${error.message})`;
  }
}

/** Runs `command` and returns its stdout, or an error entry tagged `tag`. */
export async function runText(
  exec: Exec,
  command: Command,
  tag: string,
): Promise<Outcome<string>> {
  const result = await runCommand(exec, command);
  if (result.ok) return { ok: true, value: result.stdout };
  return {
    ok: false,
    error: { tag, message: describeFailure(command, result.error) },
  };
}

/** Parses JSON text, or returns an error entry naming `what` was unreadable. */
export function parseJson(
  text: string,
  tag: string,
  what: string,
): Outcome<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return {
      ok: false,
      error: { tag, message: `${what}: invalid JSON (${e.message})` },
    };
  }
}

/** Runs a command that prints JSON and parses its stdout. */
export async function runJson(
  exec: Exec,
  command: Command,
  tag: string,
): Promise<Outcome<unknown>> {
  const out = await runText(exec, command, tag);
  return out.ok ? parseJson(out.value, tag, lineOf(command)) : out;
}
