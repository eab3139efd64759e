/**
 * The process's open-file limit. Every connection costs descriptors. The
 * Deno runtime itself raises the soft limit to the hard one at start
 * (measured: `ulimit -S -n 256` before `deno run` gives a process with the
 * hard limit as its soft one), so all the server does is read the limit it
 * got and size its connection cap from it. `LimitNOFILE` in
 * `server/proxmon.service` sets the hard limit.
 */

export interface FdLimit {
  soft: number;
  hard: number;
}

/** Reads "Max open files" from /proc/self/limits text; null if absent. */
export function parseFdLimit(text: string): FdLimit | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!m) return null;
  const num = (s: string) => s === "unlimited" ? Infinity : Number(s);
  return { soft: num(m[1]), hard: num(m[2]) };
}

/** The current limit, or null where /proc is not readable. */
export function readFdLimit(): FdLimit | null {
  try {
    return parseFdLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return null;
  }
}

/**
 * Connections the server may hold with `limit` descriptors: each proxied
 * connection costs up to three (client, upstream, and the HTTP server's
 * side of upstream), after a reserve for the database, logs and runtime.
 */
export function connectionsFor(limit: FdLimit | null, cap: number): number {
  const soft = limit?.soft ?? 1024;
  const reserve = 64;
  return Math.max(8, Math.min(cap, Math.floor((soft - reserve) / 3)));
}
