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
 */
export const readTextFileResult: ReadFile = async (path) => {
  try {
    return { ok: true, text: await Deno.readTextFile(path) };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const missing = e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.NotSupported;
    return { ok: false, missing, message: `${path}: ${e.message}` };
  }
};
