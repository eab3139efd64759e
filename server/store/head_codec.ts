/**
 * The `points` of a head row: the chartable numbers of one sample as
 * (series id, scaled value) pairs, uncompressed: a head insert must stay
 * cheap, and compaction re-encodes the numbers into compressed blocks.
 *
 * Format 1 (rows of the first series store): per point, the id as a delta
 * from the previous one and the value, both varints; about 4 bytes a
 * number. Its first byte is never 0 (ids start at 1).
 *
 * Format 2: a 0 byte and the version, the ids as runs of consecutive ids
 * (a host's series are mostly created together, so a 50-guest sample is a
 * run or two), a bitmap of the values kept to `digits` significant digits
 * (sizes and rates, at the raw tier's digits: what compaction keeps of
 * them anyway) stored as their `decimalCode`, then the values. About 2.4
 * bytes a number: a 50-guest sample fits one 1 KiB page, where format 1
 * took a page and an overflow page, both written to the WAL and again by
 * the checkpoint.
 *
 * Format 3 (written now): as format 2, but a row may keep values to
 * several digits (sizes to 4, rates to 3): the distinct digits are listed
 * once, and each value has a code of 1, 2 or 4 bits (0: exact, k: the k-th
 * listed digits) instead of the bitmap. A row with one kind of digits
 * spends what format 2 did.
 */
import {
  decimalCode,
  decimalValue,
  Reader,
  varintWriter,
} from "./block_codec.ts";

export interface HeadPoint {
  seriesId: number;
  /** the value times 10^precision, an integer */
  scaled: number;
  /** significant digits kept; 0 or absent: exact */
  digits?: number;
}

const FORMAT_V2 = 2;
const FORMAT_V3 = 3;

/** Bits of a value's digits code when a row lists `classes` digits. */
function codeBits(classes: number): number {
  if (classes === 0) return 0;
  if (classes === 1) return 1;
  if (classes <= 3) return 2;
  if (classes <= 15) return 4;
  throw new RangeError(
    `Cannot encode head row: ${classes} kinds of digits (at most 15)`,
  );
}

/** Packs points (any order) into a head blob (format 3). */
export function encodeHeadPoints(points: HeadPoint[]): Uint8Array {
  return encodeHeadColumns(
    points.map((p) => p.seriesId),
    points.map((p) => p.scaled),
    points.map((p) => p.digits ?? 0),
  );
}

/**
 * `encodeHeadPoints` for points given as columns (ingest's path: no object
 * per point): the i-th point is `ids[i]`, `scaled[i]`, kept to `digits[i]`
 * significant digits (0: exact).
 */
export function encodeHeadColumns(
  ids: readonly number[],
  scaled: readonly number[],
  digits: readonly number[],
): Uint8Array {
  // A host's points come in series order nearly always (its series were
  // created in the order of its first sample): copying and sorting 400
  // points per 50-guest sample anyway cost more than the check.
  const n = ids.length;
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) ascending = ids[i - 1] < ids[i];
  const order = ascending
    ? null
    : Array.from({ length: n }, (_, i) => i).sort((a, b) => ids[a] - ids[b]);
  const at = (i: number) => order === null ? i : order[i];
  const out = varintWriter();
  out.push(0);
  out.push(FORMAT_V3);
  const runs: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const id = ids[at(i)];
    const run = runs.at(-1);
    if (run && run[0] + run[1] === id) run[1]++;
    else runs.push([id, 1]);
  }
  out.uvarint(runs.length);
  let next = 0;
  for (const [start, len] of runs) {
    out.uvarint(start - next);
    out.uvarint(len);
    next = start + len;
  }
  const classes: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = digits[i];
    if (d > 0 && !classes.includes(d)) classes.push(d);
  }
  out.uvarint(classes.length);
  for (const d of classes) out.uvarint(d);
  const bits = codeBits(classes.length);
  if (bits > 0) {
    const perByte = 8 / bits;
    for (let i = 0; i < n; i += perByte) {
      let b = 0;
      for (let j = 0; j < perByte && i + j < n; j++) {
        const d = digits[at(i + j)];
        if (d > 0) b |= (classes.indexOf(d) + 1) << (j * bits);
      }
      out.push(b);
    }
  }
  for (let i = 0; i < n; i++) {
    const k = at(i), d = digits[k];
    out.svarint(d > 0 ? decimalCode(scaled[k], d) : scaled[k]);
  }
  return out.bytes().slice();
}

/**
 * Calls `fn` for every point of a head blob (either format), in id order,
 * stopping after `maxId` (ids are ascending, so a chart of one series reads
 * only the front of each row). Values kept to fewer digits come rounded to
 * them.
 */
export function forEachHeadPoint(
  blob: Uint8Array,
  fn: (seriesId: number, scaled: number) => void,
  maxId = Infinity,
): void {
  const r = new Reader(blob);
  if (blob.length > 0 && blob[0] === 0) return forEachV2(r, fn, maxId);
  let id = 0;
  while (!r.done) {
    id += r.uvarint();
    if (id > maxId) return;
    fn(id, r.svarint());
  }
}

function forEachV2(
  r: Reader,
  fn: (seriesId: number, scaled: number) => void,
  maxId: number,
): void {
  r.byte();
  const version = r.byte();
  if (version !== FORMAT_V2 && version !== FORMAT_V3) {
    throw new RangeError(`Cannot decode head row: unknown format ${version}`);
  }
  const runs: [number, number][] = [];
  let count = 0;
  let next = 0;
  for (let k = r.uvarint(); k > 0; k--) {
    const start = next + r.uvarint();
    const len = r.uvarint();
    runs.push([start, len]);
    count += len;
    next = start + len;
  }
  // Format 2 is format 3 with its one digits listed (or none: a 0).
  const classes: number[] = [0];
  if (version === FORMAT_V2) {
    classes.push(r.uvarint());
  } else {
    for (let k = r.uvarint(); k > 0; k--) classes.push(r.uvarint());
  }
  const bits = version === FORMAT_V2 ? 1 : codeBits(classes.length - 1);
  const perByte = bits === 0 ? 0 : 8 / bits;
  const codes = new Uint8Array(bits === 0 ? 0 : Math.ceil(count / perByte));
  for (let i = 0; i < codes.length; i++) codes[i] = r.byte();
  const mask = (1 << bits) - 1;
  let i = 0;
  for (const [start, len] of runs) {
    for (let id = start; id < start + len; id++, i++) {
      if (id > maxId) return;
      const x = r.svarint();
      const code = bits === 0
        ? 0
        : codes[Math.floor(i / perByte)] >> (i % perByte * bits) & mask;
      const digits = classes[code];
      if (digits === undefined) {
        throw new RangeError(`Cannot decode head row: digits code ${code}`);
      }
      fn(id, digits > 0 ? decimalValue(x, digits) : x);
    }
  }
}
