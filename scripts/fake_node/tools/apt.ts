import type { NodeModel } from "../node_model.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";

const CLI_WARNING =
  "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n";

/**
 * The fake `apt list --upgradable`: "Listing..." then one line per package
 * on stdout, apt's CLI-stability warning on stderr, as apt prints them when
 * stdout is not a terminal.
 */
export function apt(model: NodeModel, args: string[]): ToolResult {
  if (args.length === 0) {
    return fail("apt 2.6.1 (amd64)\nUsage: apt [options] command\n", 1);
  }
  const [command, ...rest] = args;
  if (command !== "list") {
    const known = [
      "install",
      "remove",
      "update",
      "upgrade",
      "full-upgrade",
      "search",
      "show",
    ];
    if (known.includes(command)) {
      return fail(
        `${CLI_WARNING}fake apt: '${command}' is not simulated\n`,
        100,
      );
    }
    return fail(`E: Invalid operation ${command}\n`, 100);
  }
  if (rest.length !== 1 || rest[0] !== "--upgradable") {
    const bad = rest.find((a) => a !== "--upgradable");
    return fail(
      bad?.startsWith("-")
        ? `E: Command line option '${bad}' is not understood in combination with the other options.\n`
        : `${CLI_WARNING}fake apt: only 'apt list --upgradable' is simulated\n`,
      100,
    );
  }
  const lines = model.updates.map((u) =>
    `${u.package}/${u.suite} ${u.version} ${u.arch} [upgradable from: ${u.from}]\n`
  );
  // apt adds this notice when exactly one package matches
  const notice = lines.length === 1
    ? "N: There is 1 additional version. Please use the '-a' switch to see it\n"
    : "";
  return ok(`Listing...\n${lines.join("")}`, CLI_WARNING + notice);
}
