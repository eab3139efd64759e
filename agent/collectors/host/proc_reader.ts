/**
 * File access for the host collector, injectable so tests can read fixture
 * directories. A missing or unreadable file is a result, not an exception.
 */

export type ReadResult =
  | { ok: true; text: string }
  | {
    ok: false;
    /**
     * The kernel has no such file (no ZFS module, no PSI), or offers it but
     * does not support reading it (PSI compiled in, disabled at boot).
     */
    missing: boolean;
    /** Starts with the path. */
    message: string;
  };

export type ReadFile = (path: string) => Promise<ReadResult>;

/**
 * Reads a text file. Every failure is a result: "not found", "not
 * supported", "permission denied", and Deno's own refusal (NotCapable, e.g.
 * /proc without `--allow-all`).
 *
 * The read is synchronous on purpose. The agent reads only kernel
 * pseudo-files this way (/proc, cgroupfs), which the kernel fills on read
 * without waiting on a disk: a few microseconds each. Deno runs every async
 * file operation on a pool of blocking threads, and the fast cycle's ~150
 * reads at once (three pressure files per running guest, BENCHMARKS.md
 * "Issue 11, third pass") kept about 26 more threads alive, each with its
 * stack and its glibc arena: about 2 MB of the agent's RSS, and more CPU
 * than the reads themselves.
 */
export const readTextFileResult: ReadFile = (path) => {
  try {
    return Promise.resolve({ ok: true, text: Deno.readTextFileSync(path) });
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const missing = e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotSupported;
    return Promise.resolve({
      ok: false,
      missing,
      message: `${path}: ${e.message}`,
    });
  }
};
