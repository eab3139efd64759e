/**
 * File access for the host collector, injectable so tests can read fixture
 * directories. A missing or unreadable file is a result, not an exception.
 */

export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; message: string };

export type ReadFile = (path: string) => Promise<ReadResult>;

/** Reads a text file; "not found" and "permission denied" become results. */
export const readTextFileResult: ReadFile = async (path) => {
  try {
    return { ok: true, text: await Deno.readTextFile(path) };
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied
    ) {
      return { ok: false, message: `${path}: ${e.message}` };
    }
    throw e;
  }
};
