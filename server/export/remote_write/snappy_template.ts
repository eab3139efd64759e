/**
 * A raw snappy block with variables: bytes that change from one use to the
 * next (a sample's values and timestamp). A variable's bytes go out as
 * literals, or as copies of the same variable's bytes earlier in the block
 * (the timestamp, repeated in every series), never as copies of anything
 * else, and no fixed byte is copied from them; so the block stays valid
 * whatever is written into its literal variable bytes later. Everything
 * else is compressed once.
 *
 * remote_write sends each host's series with the same labels every sample;
 * only the values and the timestamp change. Compressing each sample's 13 KB
 * with snappyjs took 70 us of the ingest writer's turn; filling in a
 * template's variables is a copy of its 3 KB and a few stores.
 *
 * The format (github.com/google/snappy, format_description.txt): the
 * uncompressed length as a varint, then elements: literals (tag 00) and
 * copies (tag 01: length 4-11, offset < 2048; tag 10: length 1-64, offset
 * < 65536) whose offsets count back from the current output position.
 * Copies here never reach back 64 KB or more, so a template of any size is
 * one block, and it can be joined to others (`concatCompressed`).
 */

/**
 * The compressed block and where its variable bytes are: every byte of a
 * variable that went out as a literal, by its offset in `block`.
 */
export interface SnappyTemplate {
  /** the block, variable bytes holding what they had in the input */
  block: Uint8Array;
  /** offsets in `block` of variable bytes (each a literal's byte) */
  varAt: Int32Array;
  /** the variable of each of those, as given in `vars` */
  varOf: Int32Array;
}

/** A byte buffer written at its end, grown as needed. */
class Output {
  buf: Uint8Array;
  length = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  push(a: number, b?: number, c?: number, d?: number, e?: number): void {
    if (this.length + 5 > this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2 + 5);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = a;
    if (b === undefined) return;
    this.buf[this.length++] = b;
    if (c === undefined) return;
    this.buf[this.length++] = c;
    if (d === undefined) return;
    this.buf[this.length++] = d;
    if (e !== undefined) this.buf[this.length++] = e;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const MIN_MATCH = 4;
const MAX_OFFSET = 65_535;
const HASH_BITS = 14;

function writeVarint(out: Output, n: number): void {
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function pushCopy(out: Output, offset: number, len: number): void {
  while (len > 0) {
    // Long matches as copies of at most 64; never leave fewer than 4 for a
    // 1-byte-offset copy (a 2-byte-offset copy takes any length from 1).
    const n = len > 64 ? (len - 64 < 4 ? 60 : 64) : len;
    if (n >= 4 && n <= 11 && offset < 2048) {
      out.push(1 | ((n - 4) << 2) | ((offset >> 8) << 5), offset & 0xff);
    } else {
      out.push(2 | ((n - 1) << 2), offset & 0xff, offset >> 8);
    }
    len -= n;
  }
}

/** The literal's tag and length bytes (then its `len` bytes follow). */
function pushLiteralHead(out: Output, len: number): void {
  const n = len - 1;
  if (n < 60) out.push(n << 2);
  else if (n < 0x100) out.push(60 << 2, n);
  else if (n < 0x10000) out.push(61 << 2, n & 0xff, n >> 8);
  else if (n < 0x1000000) out.push(62 << 2, n & 0xff, (n >> 8) & 0xff, n >> 16);
  else out.push(63 << 2, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
}

/**
 * Compresses `input`, where `vars[i]` is 0 for a fixed byte and otherwise
 * names the variable byte at `i`: bytes of the same variable hold the same
 * value in every use (a timestamp repeated in each series), so a copy may
 * read one for another; a variable that occurs once is never copied. A
 * greedy matcher of 4-symbol hashes, like snappy's own; it runs once per
 * template, not per sample.
 */
export function compressTemplate(
  input: Uint8Array,
  vars: Int32Array,
): SnappyTemplate {
  const n = input.length;
  // Fixed bytes are themselves, variables 256 + their id.
  const sym = new Int32Array(n);
  let maxVar = 0;
  for (let i = 0; i < n; i++) if (vars[i] > maxVar) maxVar = vars[i];
  const seen = new Int32Array(maxVar + 1);
  for (let i = 0; i < n; i++) {
    const v = vars[i];
    sym[i] = v === 0 ? input[i] : 256 + v;
    seen[v]++;
  }
  // How many copyable symbols (not a variable that occurs once) from each
  // position on: a match never runs into an uncopyable one.
  const run = new Int32Array(n + 1);
  for (let i = n - 1; i >= 0; i--) {
    const single = vars[i] !== 0 && seen[vars[i]] === 1;
    run[i] = single ? 0 : run[i + 1] + 1;
  }
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const hashAt = (i: number) => {
    let h = 0;
    for (let k = 0; k < MIN_MATCH; k++) {
      h = Math.imul(h ^ sym[i + k], 0x1e35a7bd);
    }
    return h >>> (32 - HASH_BITS);
  };
  const out = new Output(n + (n >> 5) + 16);
  writeVarint(out, n);
  const varAt: number[] = [], varOf: number[] = [];
  let literalFrom = 0;
  const flushLiteral = (to: number) => {
    if (to === literalFrom) return;
    pushLiteralHead(out, to - literalFrom);
    for (let i = literalFrom; i < to; i++) {
      if (vars[i] !== 0) {
        varAt.push(out.length);
        varOf.push(vars[i]);
      }
      out.push(input[i]);
    }
    literalFrom = to;
  };
  let i = 0;
  while (i < n) {
    if (run[i] < MIN_MATCH) {
      i++;
      continue;
    }
    const h = hashAt(i);
    const candidate = table[h];
    table[h] = i;
    if (candidate < 0 || i - candidate > MAX_OFFSET) {
      i++;
      continue;
    }
    // The source may overlap the target, as snappy allows.
    const limit = Math.min(run[i], run[candidate]);
    let len = 0;
    while (len < limit && sym[candidate + len] === sym[i + len]) len++;
    if (len < MIN_MATCH) {
      i++;
      continue;
    }
    flushLiteral(i);
    pushCopy(out, i - candidate, len);
    // Later matches can start inside this one.
    for (let k = i + 1; k < i + len && run[k] >= MIN_MATCH; k++) {
      table[hashAt(k)] = k;
    }
    i += len;
    literalFrom = i;
  }
  flushLiteral(n);
  return {
    block: out.bytes(),
    varAt: Int32Array.from(varAt),
    varOf: Int32Array.from(varOf),
  };
}
