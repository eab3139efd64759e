/**
 * Size and usage of the root filesystem, from `statfs(2)` through
 * `node:fs/promises`: no `df` process every fast cycle (8,640 a day at the
 * default 10 s).
 */
import { statfs as nodeStatfs } from "node:fs/promises";
import type { Outcome } from "../exec.ts";
import type { RootFs } from "./proc_parsers.ts";

export type RootFsProbe = () => Promise<Outcome<RootFs>>;

/** The fields of `fs.StatFs` the probe reads (block counts and block size). */
export interface StatFsBlocks {
  blocks: number;
  bfree: number;
  bsize: number;
}

export type StatFs = (path: string) => Promise<StatFsBlocks>;

/**
 * Size and used bytes as `df` counts them: used = blocks - bfree (blocks
 * reserved for root count as used, as df's "Used" column does).
 */
export function rootFsFromStatfs(stats: StatFsBlocks): RootFs {
  return {
    size_bytes: stats.blocks * stats.bsize,
    used_bytes: (stats.blocks - stats.bfree) * stats.bsize,
  };
}

/** Probes `path` (default `/`) with `statfs`; a failure is an error entry. */
export function statfsRootFs(
  statfs: StatFs = nodeStatfs,
  path = "/",
): RootFsProbe {
  return async () => {
    try {
      return { ok: true, value: rootFsFromStatfs(await statfs(path)) };
    } catch (e) {
      return {
        ok: false,
        error: {
          tag: "root_fs",
          message: `statfs ${path}: ${e instanceof Error ? e.message : e}`,
        },
      };
    }
  };
}
