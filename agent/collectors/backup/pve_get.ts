/**
 * One `GET` of the PVE API as the backup, replication and task collectors
 * need it: a path plus query parameters, answered with the `data` member.
 * Today it goes through `pvesh` (each call a Perl start-up, so callers cache);
 * an API-token source can implement the same function.
 */
import type { Exec, Outcome } from "../exec.ts";
import { runJson } from "../exec.ts";
import type { Command } from "../commands.ts";

export type PveParams = Record<string, string | number>;

/** Reads `path` with `params`; failures come back as an error entry tagged `tag`. */
export type PveGet = (
  path: string,
  params: PveParams,
  tag: string,
) => Promise<Outcome<unknown>>;

/** `pvesh get PATH --key value … --output-format json`. */
export function pveshGetWith(path: string, params: PveParams): Command {
  const args = ["get", path];
  for (const [key, value] of Object.entries(params)) {
    args.push(`--${key}`, String(value));
  }
  args.push("--output-format", "json");
  return { cmd: "pvesh", args };
}

/** A `PveGet` that runs `pvesh` through the collectors' runner. */
export function pveshSource(exec: Exec): PveGet {
  return (path, params, tag) => runJson(exec, pveshGetWith(path, params), tag);
}
