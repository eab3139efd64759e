import { inflateRawSync } from "node:zlib";

/**
 * The compact encoding of time-series blocks: integer timestamps as
 * delta-of-deltas and integer columns as deltas, both zigzag varints, the
 * whole compressed with the built-in `deflate-raw` CompressionStream.
 * Regular sampling makes nearly every timestamp byte a 0 and slowly moving
 * numbers give small deltas, so deflate shrinks a block to a fraction of a
 * byte per point for flat series and a byte or two for noisy ones.
 *
 * Values are integers here: the caller scales each series to its precision
 * first (see series_catalog.ts), which is what makes deltas small and the
 * encoding exact. Numbers go up to 2^53, so the varints use arithmetic,
 * not 32-bit bit operations.
 */

/** A growable byte buffer for varints. */
class Bytes {
  buf = new Uint8Array(256);
  len = 0;
  push(b: number) {
    if (this.len === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  /** unsigned varint, 7 bits a byte, for any safe integer >= 0 */
  uvarint(n: number) {
    while (n >= 128) {
      this.push((n % 128) | 128);
      n = Math.floor(n / 128);
    }
    this.push(n);
  }
  /** zigzag varint for a signed safe integer */
  svarint(n: number) {
    this.uvarint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** Reads what `Bytes` wrote; throws on truncated input. */
export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) {
        throw new RangeError("Cannot decode block: truncated varint");
      }
      const b = this.buf[this.pos++];
      n += (b & 127) * mul;
      if (b < 128) return n;
      mul *= 128;
    }
  }
  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  byte(): number {
    if (this.pos >= this.buf.length) {
      throw new RangeError("Cannot decode block: truncated");
    }
    return this.buf[this.pos++];
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

/** A writer for the small uncompressed records of the head table. */
export function varintWriter() {
  return new Bytes();
}

/** Integer columns that share one list of timestamps. */
export interface Columns {
  /** unix ms, ascending */
  t: number[];
  /** each the same length as `t`; null where the series had no value */
  cols: (number | null)[][];
}

const FORMAT_VERSION = 1;

function encodeRaw({ t, cols }: Columns): Uint8Array {
  const out = new Bytes();
  out.push(FORMAT_VERSION);
  out.uvarint(t.length);
  out.uvarint(cols.length);
  let prev = 0;
  let prevDelta = 0;
  t.forEach((x, i) => {
    if (i === 0) out.svarint(x);
    else {
      const d = x - prev;
      out.svarint(d - prevDelta);
      prevDelta = d;
    }
    prev = x;
  });
  for (const col of cols) {
    // Presence bitmap first: all-present is a run of 0xff that deflate
    // folds to almost nothing.
    for (let i = 0; i < col.length; i += 8) {
      let b = 0;
      for (let j = 0; j < 8 && i + j < col.length; j++) {
        if (col[i + j] !== null) b |= 1 << j;
      }
      out.push(b);
    }
    let last = 0;
    for (const x of col) {
      if (x === null) continue;
      out.svarint(x - last);
      last = x;
    }
  }
  return out.bytes();
}

function decodeRaw(buf: Uint8Array): Columns {
  const r = new Reader(buf);
  const version = r.byte();
  if (version !== FORMAT_VERSION) {
    throw new RangeError(`Cannot decode block: unknown format ${version}`);
  }
  const n = r.uvarint();
  const ncols = r.uvarint();
  const t = new Array<number>(n);
  let prev = 0;
  let delta = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0) prev = r.svarint();
    else {
      delta += r.svarint();
      prev += delta;
    }
    t[i] = prev;
  }
  const cols: (number | null)[][] = [];
  for (let c = 0; c < ncols; c++) {
    const present = new Array<boolean>(n);
    for (let i = 0; i < n; i += 8) {
      const b = r.byte();
      for (let j = 0; j < 8 && i + j < n; j++) {
        present[i + j] = (b >> j & 1) === 1;
      }
    }
    const col = new Array<number | null>(n);
    let last = 0;
    for (let i = 0; i < n; i++) {
      if (!present[i]) col[i] = null;
      else {
        last += r.svarint();
        col[i] = last;
      }
    }
    cols.push(col);
  }
  return { t, cols };
}

async function pipe(
  bytes: Uint8Array,
  stream: CompressionStream | DecompressionStream,
): Promise<Uint8Array> {
  const out = new Response(
    new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream),
  );
  return new Uint8Array(await out.arrayBuffer());
}

/** Encodes and compresses columns into one block blob. */
export function encodeBlock(columns: Columns): Promise<Uint8Array> {
  return pipe(encodeRaw(columns), new CompressionStream("deflate-raw"));
}

/**
 * Decompresses and decodes a blob written by `encodeBlock`. Reads use
 * node:zlib's synchronous inflate of the same deflate-raw format: a chart
 * decodes dozens of small blocks, and a stream per block costs more in
 * set-up than in inflating.
 */
export function decodeBlock(blob: Uint8Array): Promise<Columns> {
  return Promise.resolve(decodeRaw(new Uint8Array(inflateRawSync(blob))));
}

/** Compresses any bytes with deflate-raw (for payload text). */
export function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new CompressionStream("deflate-raw"));
}

/** Reverses `deflate`. */
export function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  return pipe(bytes, new DecompressionStream("deflate-raw"));
}

/** A BLOB column as the driver returns it (an ArrayBuffer), as bytes. */
export const blobOf = (x: unknown): Uint8Array =>
  x instanceof Uint8Array ? x : new Uint8Array(x as ArrayBuffer);
