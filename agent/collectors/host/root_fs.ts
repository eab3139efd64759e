/**
 * Size and usage of the root filesystem. Deno 2.x has no `Deno.statfs`, so
 * today this runs `df`; should a later Deno add `statfs` with the usual
 * fields (`blocks`, `bfree`, `bsize`), it is used instead and saves a process.
 */
import { DF_ROOT } from "../commands.ts";
import { type Exec, type Outcome, runText } from "../exec.ts";
import { parseDf, type RootFs } from "./proc_parsers.ts";

export type RootFsProbe = () => Promise<Outcome<RootFs>>;

const TAG = "root_fs";

/** Reads the root filesystem through `df -B1 --output=size,used /`. */
export function dfRootFs(exec: Exec): RootFsProbe {
  return async () => {
    const out = await runText(exec, DF_ROOT, TAG);
    if (!out.ok) return out;
    const value = parseDf(out.value);
    return value ? { ok: true, value } : {
      ok: false,
      error: {
        tag: TAG,
        message: `df: unexpected output ${JSON.stringify(out.value)}`,
      },
    };
  };
}

type StatFs = (path: string) => Promise<unknown>;

/** Converts a statfs result in the node/POSIX shape, or null if it has another shape. */
export function rootFsFromStatfs(stats: unknown): RootFs | null {
  if (typeof stats !== "object" || stats === null) return null;
  const { blocks, bfree, bsize } = stats as Record<string, unknown>;
  if (![blocks, bfree, bsize].every((n) => typeof n === "number")) return null;
  const [b, f, s] = [blocks, bfree, bsize] as number[];
  return { size_bytes: b * s, used_bytes: (b - f) * s };
}

/** `Deno.statfs` where this Deno has it, else `df` through the runner. */
export function chooseRootFsProbe(exec: Exec): RootFsProbe {
  const statfs: unknown = Reflect.get(Deno, "statfs");
  const df = dfRootFs(exec);
  if (typeof statfs !== "function") return df;
  return async () => {
    const value = rootFsFromStatfs(await (statfs as StatFs)("/"));
    return value ? { ok: true, value } : df();
  };
}
