/**
 * HTTP/1.1 heads as the TCP front sees them: found in a byte stream that
 * arrives in chunks of any size, and read for the few headers the front acts
 * on. Not an HTTP parser: the HTTP server behind the front parses (and
 * refuses) for real; the front only needs to know where a head ends, whether
 * a request is a WebSocket upgrade with a body, and how long an answer is.
 */

const HEAD_END = [13, 10, 13, 10];

/** A head longer than this is passed on without being read. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** The start line and the headers (names lowercased, repeats joined by ", "). */
export interface HttpHead {
  start: string;
  headers: Map<string, string>;
}

/** Reads a head (start line and headers, up to the blank line or without it). */
export function parseHttpHead(text: string): HttpHead {
  const [start, ...lines] = text.split("\r\n");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const seen = headers.get(name);
    headers.set(name, seen === undefined ? value : `${seen}, ${value}`);
  }
  return { start, headers };
}

/** The Content-Length, or null if there is none or it is not one number. */
export function contentLength(head: HttpHead): number | null {
  const value = head.headers.get("content-length");
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * A WebSocket upgrade that also has a body. The HTTP server refuses one
 * before the app sees it (Deno's with a bare 400, reset before the client
 * reads it when the body is still coming) or upgrades and reads the body as
 * frames (node:http's), so the front answers it.
 */
export function isUpgradeWithBody(head: HttpHead): boolean {
  const upgrade = head.headers.get("upgrade") ?? "";
  if (!upgrade.split(",").some((p) => p.trim().toLowerCase() === "websocket")) {
    return false;
  }
  return head.headers.has("transfer-encoding") ||
    (head.headers.has("content-length") && contentLength(head) !== 0);
}

/**
 * Finds the end of one head in a stream of chunks and keeps its bytes (the
 * first {@link MAX_HEAD_BYTES}); `reset()` for the next head.
 */
export class HeadFinder {
  #matched = 0;
  #parts: Uint8Array[] = [];
  #bytes = 0;

  /**
   * Takes the next chunk: the offset just after the head's blank line if
   * it is in this chunk, else -1 (the chunk is all head).
   */
  push(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      // a CR that breaks a match may start the next one
      this.#matched = chunk[i] === HEAD_END[this.#matched]
        ? this.#matched + 1
        : chunk[i] === 13
        ? 1
        : 0;
      if (this.#matched === 4) {
        this.#keep(chunk.subarray(0, i + 1));
        return i + 1;
      }
    }
    this.#keep(chunk);
    return -1;
  }

  /** The head found, or null if it was longer than {@link MAX_HEAD_BYTES}. */
  head(): HttpHead | null {
    if (this.#bytes > MAX_HEAD_BYTES) return null;
    const all = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const part of this.#parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return parseHttpHead(new TextDecoder().decode(all));
  }

  reset(): void {
    this.#matched = 0;
    this.#parts = [];
    this.#bytes = 0;
  }

  #keep(bytes: Uint8Array) {
    this.#bytes += bytes.length;
    // copied: the caller reuses its read buffer
    if (this.#bytes <= MAX_HEAD_BYTES) this.#parts.push(bytes.slice());
  }
}

/**
 * Finds where one message (an answer) ends in a stream of chunks, from its
 * head's Content-Length.
 */
export class MessageEnd {
  #finder = new HeadFinder();
  /** body bytes still to come once the head is read; null before */
  #rest: number | null = null;

  /**
   * Takes the next chunk: the offset just after the message's last byte if
   * it is in this chunk, -1 if the message goes on, null if its head has no
   * Content-Length (or is too long to read), so its end is not known here.
   */
  push(chunk: Uint8Array): number | null {
    let from = 0;
    if (this.#rest === null) {
      const at = this.#finder.push(chunk);
      if (at < 0) return -1;
      const head = this.#finder.head();
      const length = head && contentLength(head);
      if (length === null) return null;
      this.#rest = length;
      from = at;
    }
    const here = chunk.length - from;
    if (here < this.#rest) {
      this.#rest -= here;
      return -1;
    }
    const end = from + this.#rest;
    this.#rest = 0;
    return end;
  }
}
