/**
 * A queue row's shape (table `remote_write_shapes`): a host's compressed
 * request (`sample_encoder.ts`'s template) with where its values and
 * timestamp go, so a queue row needs to hold only the values.
 *
 * At 2,000 samples/s the 3.2 KB request per row was most of what
 * remote_write cost the ingest thread: SQLite writes each row's pages to
 * the WAL and again at the checkpoint, about 30 us a kilobyte here. The
 * values alone are 8 bytes a series (952 B for a 50-guest host's 119).
 *
 * Stored as: a version byte, the timestamp's varint length, the number of
 * values and of timestamp bytes (u32 each), then `valueAt`, `tsAt` and
 * `tsByte` (u32 each) and the block. All little-endian.
 */

/** What a queue row's values are written into. */
export interface QueueShape {
  /** a raw snappy block (see `snappy_template.ts`) */
  block: Uint8Array;
  /** where each series' value (8 bytes, little-endian) starts in `block` */
  valueAt: Int32Array;
  /** where the timestamp's varint bytes went out as literals, and which */
  tsAt: Int32Array;
  tsByte: Int32Array;
  /** the varint length of the timestamp the block was made for */
  tsLen: number;
}

const VERSION = 1;
const HEADER = 1 + 1 + 4 + 4;

/** The shape as `remote_write_shapes.body` holds it. */
export function encodeShape(shape: QueueShape): Uint8Array<ArrayBuffer> {
  const n = shape.valueAt.length, m = shape.tsAt.length;
  const out = new Uint8Array(HEADER + 4 * (n + 2 * m) + shape.block.length);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  out[1] = shape.tsLen;
  view.setUint32(2, n, true);
  view.setUint32(6, m, true);
  let at = HEADER;
  for (const list of [shape.valueAt, shape.tsAt, shape.tsByte]) {
    for (const x of list) {
      view.setUint32(at, x, true);
      at += 4;
    }
  }
  out.set(shape.block, at);
  return out;
}

/** A stored shape; throws on one this version cannot read. */
export function decodeShape(bytes: Uint8Array): QueueShape {
  if (bytes.length < HEADER || bytes[0] !== VERSION) {
    throw new Error(
      `remote_write shape of version ${
        bytes[0]
      } (${bytes.length} bytes): this server reads version ${VERSION}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(2, true), m = view.getUint32(6, true);
  let at = HEADER;
  const list = (count: number) => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++, at += 4) out[i] = view.getUint32(at, true);
    return out;
  };
  const valueAt = list(n), tsAt = list(m), tsByte = list(m);
  return { block: bytes.slice(at), valueAt, tsAt, tsByte, tsLen: bytes[1] };
}

/** The varint bytes of a non-negative integer. */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * The compressed request of a queue row: the shape's block with the row's
 * values (`values`: 8 bytes each, little-endian, in series order) and its
 * timestamp written in. Throws when they do not fit the shape.
 */
export function fillShape(
  shape: QueueShape,
  values: Uint8Array,
  timestampMs: number,
): Uint8Array<ArrayBuffer> {
  const ts = varintBytes(timestampMs);
  if (values.length !== shape.valueAt.length * 8 || ts.length !== shape.tsLen) {
    throw new Error(
      `remote_write queue row of ${values.length} value bytes at ${timestampMs} does not fit its shape (${shape.valueAt.length} values, ${shape.tsLen}-byte timestamps)`,
    );
  }
  const body = shape.block.slice();
  for (let i = 0, from = 0; i < shape.valueAt.length; i++) {
    const at = shape.valueAt[i];
    for (let b = 0; b < 8; b++) body[at + b] = values[from++];
  }
  for (let i = 0; i < shape.tsAt.length; i++) {
    body[shape.tsAt[i]] = ts[shape.tsByte[i]];
  }
  return body;
}
