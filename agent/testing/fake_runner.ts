/**
 * A `CommandRunner` for tests, answering whole command lines from a table.
 * An unknown command line answers `enoent`, as a missing binary would, so a
 * test that forgets a fixture fails loudly instead of passing on empty output.
 */
import {
  type CommandError,
  commandLine,
  type CommandResult,
  type CommandRunner,
} from "../runner.ts";

export type FakeAnswer = string | { stdout: string; stderr?: string } | {
  error: CommandError;
};

export interface FakeRunner extends CommandRunner {
  /** Every command line run so far, in order. */
  calls: string[];
}

export function fakeRunner(answers: Record<string, FakeAnswer>): FakeRunner {
  const calls: string[] = [];
  return {
    calls,
    run(cmd, args): Promise<CommandResult> {
      const line = commandLine(cmd, args);
      calls.push(line);
      const answer = answers[line];
      if (answer === undefined) {
        return Promise.resolve({
          ok: false,
          error: {
            kind: "enoent",
            message: `fake runner has no answer for: ${line}`,
          },
        });
      }
      if (typeof answer === "string") {
        return Promise.resolve({ ok: true, stdout: answer, stderr: "" });
      }
      if ("error" in answer) {
        return Promise.resolve({ ok: false, error: answer.error });
      }
      return Promise.resolve({
        ok: true,
        stdout: answer.stdout,
        stderr: answer.stderr ?? "",
      });
    },
  };
}
