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

/** Packs points (any order) into a head blob (format 2). */
export function encodeHeadPoints(points: HeadPoint[]): Uint8Array {
  // A host's points come in series order nearly always (its series were
  // created in the order of its first sample): copying and sorting 400
  // points per 50-guest sample anyway cost more than the check.
  let ascending = true;
  for (let i = 1; i < points.length && ascending; i++) {
    ascending = points[i - 1].seriesId < points[i].seriesId;
  }
  const sorted = ascending
    ? points
    : [...points].sort((a, b) => a.seriesId - b.seriesId);
  const out = varintWriter();
  out.push(0);
  out.push(FORMAT_V2);
  const runs: [number, number][] = [];
  for (const p of sorted) {
    const run = runs.at(-1);
    if (run && run[0] + run[1] === p.seriesId) run[1]++;
    else runs.push([p.seriesId, 1]);
  }
  out.uvarint(runs.length);
  let next = 0;
  for (const [start, len] of runs) {
    out.uvarint(start - next);
    out.uvarint(len);
    next = start + len;
  }
  // One digits for the whole row: every coded series keeps the raw tier's.
  const digits = sorted.find((p) => p.digits)?.digits ?? 0;
  out.uvarint(digits);
  for (let i = 0; i < sorted.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8 && i + j < sorted.length; j++) {
      const d = sorted[i + j].digits ?? 0;
      if (d > 0 && d !== digits) {
        throw new RangeError(
          `Cannot encode head row: digits ${d} beside ${digits}`,
        );
      }
      if (d > 0) b |= 1 << j;
    }
    out.push(b);
  }
  for (const p of sorted) {
    out.svarint(p.digits ? decimalCode(p.scaled, p.digits) : p.scaled);
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
  if (version !== FORMAT_V2) {
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
  const digits = r.uvarint();
  const coded = new Uint8Array(Math.ceil(count / 8));
  for (let i = 0; i < coded.length; i++) coded[i] = r.byte();
  let i = 0;
  for (const [start, len] of runs) {
    for (let id = start; id < start + len; id++, i++) {
      if (id > maxId) return;
      const x = r.svarint();
      fn(
        id,
        (coded[i >> 3] >> (i & 7) & 1) === 1 ? decimalValue(x, digits) : x,
      );
    }
  }
}
