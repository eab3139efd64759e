/**
 * File access for the host collector, injectable so tests can read fixture
 * directories. A missing or unreadable file is a result, not an exception.
 */

export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; message: string };

export type ReadFile = (path: string) => Promise<ReadResult>;

/**
 * Reads a text file; "not found", "permission denied" and Deno's own
 * refusal (NotCapable, e.g. /proc without `--allow-all`) become results
 * whose message starts with the path.
 */
export const readTextFileResult: ReadFile = async (path) => {
  try {
    return { ok: true, text: await Deno.readTextFile(path) };
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.NotCapable
    ) {
      return { ok: false, message: `${path}: ${e.message}` };
    }
    throw e;
  }
};
