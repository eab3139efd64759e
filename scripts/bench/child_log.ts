/** Captures a child process's output into a log file, for post-mortems. */

/**
 * Copies every stream into the file at `path` as chunks arrive; resolves
 * once all streams end and the file is closed.
 */
export async function pumpToFile(
  streams: ReadableStream<Uint8Array>[],
  path: string,
): Promise<void> {
  const file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    await Promise.all(streams.map(async (s) => {
      for await (const chunk of s) {
        let off = 0;
        while (off < chunk.length) off += await file.write(chunk.subarray(off));
      }
    }));
  } finally {
    file.close();
  }
}
