/**
 * A fresh temporary directory for a test, removed with everything in it
 * when the test's `await using` scope ends, however the test ends.
 */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/** Makes the directory (under the system's temporary folder). */
export async function tempDir(prefix = "proxmon-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}
