/**
 * The simulated node's tools as an in-process `CommandRunner`: each command
 * line is answered by `answer()` at the runner's own notion of "now", so the
 * agent's real collectors can read the node at any past moment without a
 * process per call (the demo's history backfill takes thousands of readings).
 * Programs the node does not fake (`df`) go to `other`, answered once each:
 * their output does not depend on the simulated time.
 */
import {
  commandLine,
  type CommandResult,
  type CommandRunner,
} from "../../agent/runner.ts";
import { answer, TOOLS } from "./answer.ts";
import type { NodeModel } from "./node_model.ts";

/** Answers the node's tools at `nowMs()`; other programs through `other`, once. */
export function nodeRunner(
  model: NodeModel,
  nowMs: () => number,
  other: CommandRunner,
): CommandRunner {
  const once = new Map<string, Promise<CommandResult>>();
  return {
    run(cmd, args, opts) {
      if (!(TOOLS as readonly string[]).includes(cmd)) {
        const line = commandLine(cmd, args);
        let result = once.get(line);
        if (!result) once.set(line, result = other.run(cmd, args, opts));
        return result;
      }
      const r = answer(model, cmd, args, nowMs());
      if (r.code === 0) {
        return Promise.resolve({
          ok: true,
          stdout: r.stdout,
          stderr: r.stderr,
        });
      }
      return Promise.resolve({
        ok: false,
        error: {
          kind: "nonzero_exit",
          code: r.code,
          stdout: r.stdout,
          stderr: r.stderr,
          message: `${commandLine(cmd, args)}: exit ${r.code}`,
        },
      });
    },
  };
}
