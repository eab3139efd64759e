/** The agent's command line: flags in, a typed request out. Pure. */
import { parseArgs } from "node:util";
import { AGENT_DEFAULTS } from "./config.ts";

export const USAGE = `Usage: proxmon-agent [options]

Collects Proxmox VE node metrics and streams them to a proxmon server.

Options:
  --config PATH    agent config (default ${AGENT_DEFAULTS.configPath})
  --once           collect one sample per interval, print them as JSON
                   ({"fast":…,"medium":…,"slow":…}) and exit; never connects.
                   Says on stderr how many commands ran and which failed;
                   exits 3 when no PVE or ZFS command produced data
  --node NAME      PVE node name (overrides the config; with --once, lets the
                   agent run without a config file)
  --proc-dir DIR   read host metrics from DIR instead of /proc
  --version        print the version and exit
  --help           print this help and exit
`;

export interface CliArgs {
  mode: "run" | "once" | "help" | "version";
  /** Set only when given on the command line. */
  configPath?: string;
  node?: string;
  procDir?: string;
}

/** A command line the agent cannot act on. */
export class CliArgsError extends Error {
  constructor(message: string) {
    super(`${message} (see --help)`);
    this.name = "CliArgsError";
  }
}

/** Parses `Deno.args`; throws {@link CliArgsError} for unknown flags. */
export function parseCliArgs(args: string[]): CliArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        once: { type: "boolean" },
        node: { type: "string" },
        "proc-dir": { type: "string" },
        version: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (err) {
    // node:util reports bad flags as TypeErrors carrying an ERR_PARSE_ARGS_* code.
    if (!(err instanceof TypeError)) throw err;
    throw new CliArgsError(err.message);
  }
  for (const flag of ["config", "node", "proc-dir"] as const) {
    if (values[flag] === "") throw new CliArgsError(`--${flag} needs a value`);
  }
  const mode = values.help
    ? "help"
    : values.version
    ? "version"
    : values.once
    ? "once"
    : "run";
  return {
    mode,
    configPath: values.config,
    node: values.node,
    procDir: values["proc-dir"],
  };
}
