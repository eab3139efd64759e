/** Newline-delimited JSON between the bench driver and its child processes. */

/** Yields each text line of a byte stream, without the newline. */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

/** Writes one JSON value as a line. */
export async function writeJsonLine(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  value: unknown,
): Promise<void> {
  await writer.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
}
