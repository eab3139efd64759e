import { deflateRawSync, inflateRawSync } from "node:zlib";

/**
 * The compact encoding of time-series blocks: integer timestamps as
 * delta-of-deltas and integer columns as deltas, both zigzag varints, the
 * whole compressed with deflate-raw.
 * Regular sampling makes nearly every timestamp byte a 0 and slowly moving
 * numbers give small deltas, so deflate shrinks a block to a fraction of a
 * byte per point for flat series and a byte or two for noisy ones.
 *
 * Values are integers here: the caller scales each series to its precision
 * first (see series_catalog.ts), which is what makes deltas small and the
 * encoding exact. A column may also keep fewer significant digits than
 * its precision (byte counts and rates, whose last digits are noise):
 * it is then stored as `decimalCode`s. Values may reach 2^50 in magnitude
 * (a petabyte), so that their zigzagged differences stay below 2^53; the
 * varints use arithmetic, not 32-bit bit operations.
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
  /**
   * Per column, the significant decimal digits kept (0 or absent: exact).
   * A column with digits is rounded to that many (see `roundToDigits`);
   * decoding gives the rounded values.
   */
  digits?: number[];
  /**
   * Per column, an earlier column it is stored against: each value as its
   * difference from that column's value at the same index (min, max and
   * last of a rollup against its avg), instead of from the previous value
   * of its own column. null or absent: the previous value.
   */
  ref?: (ColumnRef | null)[];
  /** set by decoding: the format the block was written in */
  version?: number;
}

/**
 * A reference column, and what is known of the sign of the differences:
 * "above" (max >= avg) and "below" (min <= avg) store them unsigned, a bit
 * less each than zigzag. Where a value breaks its promise the encoder
 * stores the column signed instead.
 */
export interface ColumnRef {
  col: number;
  sign?: "above" | "below";
}

const SIGNS = [undefined, "above", "below"] as const;

/**
 * Format 1: timestamps, then per column a presence bitmap and the deltas.
 * Format 2 adds, per column, its digits and its reference column, and
 * codes columns with digits as `decimalCode`. Blocks of both formats stay
 * readable; new blocks are format 2.
 */
const FORMAT_V1 = 1;
const FORMAT_V2 = 2;

/** 10^0 … 10^22, exact doubles; a table is faster than `**` on ingest. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * A monotonic integer code for a value rounded to `digits` significant
 * digits: exact below 10^digits, then one run of 9·10^(digits-1) codes
 * per decade (the mantissa). Neighbouring values have neighbouring codes,
 * so deltas stay small whatever the magnitude, and the order of values
 * (min <= avg <= max) is the order of their codes.
 */
export function decimalCode(v: number, digits: number): number {
  if (v < 0) return -decimalCode(-v, digits);
  const top = POW10[digits];
  if (v < top) return Math.round(v);
  // the exponent of the last kept digit: 10^(digits+e-1) <= v < 10^(digits+e)
  let e = 1;
  while (v >= POW10[digits + e]) e++;
  let m = Math.round(v / POW10[e]);
  if (m >= top) {
    e++;
    m = Math.round(v / POW10[e]);
  }
  return top + (e - 1) * (top - top / 10) + (m - top / 10);
}

/** Reverses `decimalCode`: the value rounded to `digits` significant digits. */
export function decimalValue(code: number, digits: number): number {
  if (code < 0) return -decimalValue(-code, digits);
  const top = POW10[digits];
  if (code < top) return code;
  const run = top - top / 10;
  const e = Math.floor((code - top) / run) + 1;
  const m = (code - top) % run + top / 10;
  return m * POW10[e];
}

/**
 * `v` rounded to `digits` significant digits (an integer; exact below
 * 10^digits). The relative error is at most 5·10^-digits.
 */
export const roundToDigits = (v: number, digits: number): number =>
  digits > 0 ? decimalValue(decimalCode(v, digits), digits) : Math.round(v);

function writeTimes(out: Bytes, t: number[]) {
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
}

function readTimes(r: Reader, n: number): number[] {
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
  return t;
}

/**
 * Presence bitmap first: all-present is a run of 0xff that deflate folds
 * to almost nothing.
 */
function writePresence(out: Bytes, col: (number | null)[]) {
  for (let i = 0; i < col.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8 && i + j < col.length; j++) {
      if (col[i + j] !== null) b |= 1 << j;
    }
    out.push(b);
  }
}

function readPresence(r: Reader, n: number): boolean[] {
  const present = new Array<boolean>(n);
  for (let i = 0; i < n; i += 8) {
    const b = r.byte();
    for (let j = 0; j < 8 && i + j < n; j++) {
      present[i + j] = (b >> j & 1) === 1;
    }
  }
  return present;
}

function encodeRaw(
  { t, cols, digits = [], ref = [] }: Columns,
): Uint8Array {
  const out = new Bytes();
  out.push(FORMAT_V2);
  out.uvarint(t.length);
  out.uvarint(cols.length);
  writeTimes(out, t);
  // Every column as codes first: a reference column's codes are what the
  // columns stored against it subtract.
  const codes = cols.map((col, c) => {
    const d = digits[c] ?? 0;
    return col.map((x) =>
      x === null ? null : d > 0 ? decimalCode(x, d) : Math.round(x)
    );
  });
  codes.forEach((col, c) => {
    const r = ref[c] ?? null;
    if (r !== null && !(r.col >= 0 && r.col < c)) {
      throw new RangeError(
        `Cannot encode block: column ${c} refers to ${r.col}`,
      );
    }
    const base = r === null ? null : codes[r.col];
    // A difference against the reference, or the previous value where the
    // reference has none.
    let last = 0;
    const diffs = col.map((x, i) => {
      if (x === null) return null;
      const against = base?.[i] ?? last;
      last = x;
      return x - against;
    });
    let sign = r?.sign;
    if (
      sign !== undefined &&
      diffs.some((d, i) =>
        d !== null && base?.[i] != null && (sign === "above" ? d < 0 : d > 0)
      )
    ) sign = undefined;
    out.uvarint(digits[c] ?? 0);
    out.uvarint(r === null ? 0 : 1 + r.col * 3 + SIGNS.indexOf(sign));
    writePresence(out, col);
    diffs.forEach((d, i) => {
      if (d === null) return;
      if (sign === undefined || base?.[i] == null) out.svarint(d);
      else out.uvarint(sign === "above" ? d : -d);
    });
  });
  return out.bytes();
}

function decodeV1(r: Reader): Columns {
  const n = r.uvarint();
  const ncols = r.uvarint();
  const t = readTimes(r, n);
  const cols: (number | null)[][] = [];
  for (let c = 0; c < ncols; c++) {
    const present = readPresence(r, n);
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
  return { t, cols, version: FORMAT_V1 };
}

function decodeV2(r: Reader): Columns {
  const n = r.uvarint();
  const ncols = r.uvarint();
  const t = readTimes(r, n);
  const codes: (number | null)[][] = [];
  const digits: number[] = [];
  const ref: (ColumnRef | null)[] = [];
  for (let c = 0; c < ncols; c++) {
    const d = r.uvarint();
    const b = r.uvarint();
    const col0 = b === 0 ? null : Math.floor((b - 1) / 3);
    if (col0 !== null && col0 >= c) {
      throw new RangeError(
        `Cannot decode block: column ${c} refers to ${col0}`,
      );
    }
    const sign = b === 0 ? undefined : SIGNS[(b - 1) % 3];
    digits.push(d);
    ref.push(
      col0 === null ? null : sign ? { col: col0, sign } : { col: col0 },
    );
    const base = col0 === null ? null : codes[col0];
    const present = readPresence(r, n);
    const col = new Array<number | null>(n);
    let last = 0;
    for (let i = 0; i < n; i++) {
      if (!present[i]) {
        col[i] = null;
        continue;
      }
      const against = base?.[i];
      if (against == null) last += r.svarint();
      else if (sign === undefined) last = against + r.svarint();
      else last = against + (sign === "above" ? r.uvarint() : -r.uvarint());
      col[i] = last;
    }
    codes.push(col);
  }
  const cols = codes.map((col, c) =>
    digits[c] > 0
      ? col.map((x) => x === null ? null : decimalValue(x, digits[c]))
      : col
  );
  return { t, cols, digits, ref, version: FORMAT_V2 };
}

function decodeRaw(buf: Uint8Array): Columns {
  const r = new Reader(buf);
  const version = r.byte();
  if (version === FORMAT_V1) return decodeV1(r);
  if (version === FORMAT_V2) return decodeV2(r);
  throw new RangeError(`Cannot decode block: unknown format ${version}`);
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

/**
 * Encodes and compresses columns into one block blob (deflate-raw, the
 * format of `CompressionStream("deflate-raw")`). node:zlib's synchronous
 * deflate at level 9: a block is a few kilobytes, for which a stream costs
 * more in set-up than in compressing, and level 9 finds ~2 % more.
 */
// deno-lint-ignore require-await
export async function encodeBlock(columns: Columns): Promise<Uint8Array> {
  return new Uint8Array(deflateRawSync(encodeRaw(columns), { level: 9 }));
}

/**
 * Decompresses and decodes a blob written by `encodeBlock`. Reads use
 * node:zlib's synchronous inflate of the same deflate-raw format: a chart
 * decodes dozens of small blocks, and a stream per block costs more in
 * set-up than in inflating.
 */
// deno-lint-ignore require-await
export async function decodeBlock(blob: Uint8Array): Promise<Columns> {
  return decodeRaw(new Uint8Array(inflateRawSync(blob)));
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
