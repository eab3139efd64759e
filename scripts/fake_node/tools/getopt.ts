/**
 * A small getopt_long, enough to read the command lines the ZFS tools
 * accept: bundled short flags (`-Hp`), short options with a value
 * (`-o x` or `-ox`) and long flags (`--json-int`). Errors carry the
 * message the C tools print, so the fakes fail the way the real ones do.
 */

export interface OptSpec {
  /** getopt string: a letter followed by ':' takes a value */
  short: string;
  /** long options without value */
  long?: string[];
}

export interface ParsedOpts {
  flags: Set<string>;
  values: Map<string, string>;
  operands: string[];
}

export type GetoptResult =
  | { ok: true; opts: ParsedOpts }
  | { ok: false; message: string };

/** Parses `args` against `spec`, stopping at the first operand like POSIX getopt. */
export function getopt(args: string[], spec: OptSpec): GetoptResult {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (!spec.long?.includes(name)) {
        return { ok: false, message: `invalid option '${arg}'\n` };
      }
      flags.add(name);
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k];
      const at = spec.short.indexOf(letter);
      if (at < 0 || letter === ":") {
        return { ok: false, message: `invalid option '${letter}'\n` };
      }
      if (spec.short[at + 1] === ":") {
        const rest = arg.slice(k + 1);
        const value = rest !== "" ? rest : args[++i];
        if (value === undefined) {
          return {
            ok: false,
            message: `missing argument for '${letter}' option\n`,
          };
        }
        values.set(letter, value);
        break;
      }
      flags.add(letter);
    }
  }
  return { ok: true, opts: { flags, values, operands: args.slice(i) } };
}
