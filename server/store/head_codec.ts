/**
 * The `points` of a head row: the chartable numbers of one sample as
 * (series id, scaled value) pairs, ids ascending, both as varints (ids as
 * deltas). About 3 bytes a number, uncompressed: a head insert must stay
 * cheap, and compaction re-encodes the numbers into compressed blocks.
 */
import { Reader, varintWriter } from "./block_codec.ts";

export interface HeadPoint {
  seriesId: number;
  /** the value times 10^precision, an integer */
  scaled: number;
}

/** Packs points (any order) into a head blob. */
export function encodeHeadPoints(points: HeadPoint[]): Uint8Array {
  const sorted = [...points].sort((a, b) => a.seriesId - b.seriesId);
  const out = varintWriter();
  let prev = 0;
  for (const p of sorted) {
    out.uvarint(p.seriesId - prev);
    out.svarint(p.scaled);
    prev = p.seriesId;
  }
  return out.bytes().slice();
}

/**
 * Calls `fn` for every point of a head blob, in id order, stopping after
 * `maxId` (ids are ascending, so a chart of one series reads only the
 * front of each row).
 */
export function forEachHeadPoint(
  blob: Uint8Array,
  fn: (seriesId: number, scaled: number) => void,
  maxId = Infinity,
): void {
  const r = new Reader(blob);
  let id = 0;
  while (!r.done) {
    id += r.uvarint();
    if (id > maxId) return;
    fn(id, r.svarint());
  }
}
