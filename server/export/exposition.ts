/**
 * The Prometheus text exposition format (version 0.0.4): one HELP and TYPE
 * block per family, then its series. Families come out in the order they
 * first appear, each family's series together, as the format requires.
 */
import type { FamilyDef, Labels, SeriesValue } from "./metric_families.ts";
import { utf8Bytes } from "./utf8_bytes.ts";

/** The Content-Type Prometheus expects for this format. */
export const EXPOSITION_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

const LABEL_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIAL.test(value)) return value;
  return value.replace(
    /[\\"\n]/g,
    (c) => c === "\n" ? "\\n" : c === '"' ? '\\"' : "\\\\",
  );
}

function escapeHelp(text: string): string {
  if (!HELP_SPECIAL.test(text)) return text;
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value as the format spells it (NaN, +Inf and -Inf included). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(labels: Labels): string {
  let out = "";
  for (const key in labels) {
    out += `${out === "" ? "{" : ","}${key}="${escapeLabelValue(labels[key])}"`;
  }
  return out === "" ? "" : out + "}";
}

/**
 * Each family's series lines (no HELP or TYPE), in the order the families
 * first appeared. A host's latest sample renders into one of these once;
 * `joinExposition` puts a scrape together from them.
 */
export type FamilyBlocks = ReadonlyMap<FamilyDef, Uint8Array>;

/** Collects series into exposition text; see `renderExposition`. */
export interface ExpositionWriter {
  emit(family: FamilyDef, labels: Labels, value: number): void;
  /** The series so far, as exactly sized blocks per family. */
  blocks(): FamilyBlocks;
  /** The text so far, every family's series together, ending in "\n". */
  text(): string;
  /** The same as UTF-8, encoded family by family into one buffer. */
  bytes(): Uint8Array<ArrayBuffer>;
}

/** A growable byte buffer, written mostly by hand for ASCII. */
class Bytes {
  buf: Uint8Array;
  at = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  reserve(n: number) {
    if (this.at + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }
}

/**
 * A writer that groups series by family, in the order families first
 * appear, straight into one byte buffer per family. The mapping hands out
 * a guest's (or pool's) families one after another with the same labels
 * object, so the last label bytes are reused. At 65k series (100 hosts x 50
 * guests) building strings (per line, or as parts joined per family) and
 * encoding them was three quarters of a scrape's CPU.
 */
export function createExpositionWriter(): ExpositionWriter {
  const blocks = new Map<FamilyDef, { head: Uint8Array; out: Bytes }>();
  let lastLabels: Labels | null = null;
  let lastBytes: Uint8Array = new Uint8Array(0);
  const writer: ExpositionWriter = {
    emit(family, labels, value) {
      if (labels !== lastLabels) {
        lastLabels = labels;
        lastBytes = utf8Bytes(labelText(labels) + " ");
      }
      let block = blocks.get(family);
      if (block === undefined) {
        block = { head: utf8Bytes(family.name), out: new Bytes(256) };
        blocks.set(family, block);
      }
      const out = block.out, v = formatValue(value);
      out.reserve(block.head.length + lastBytes.length + v.length + 1);
      const buf = out.buf;
      buf.set(block.head, out.at);
      buf.set(lastBytes, out.at + block.head.length);
      let at = out.at + block.head.length + lastBytes.length;
      for (let i = 0; i < v.length; i++) buf[at++] = v.charCodeAt(i);
      buf[at++] = 10; // "\n"
      out.at = at;
    },
    blocks() {
      const out = new Map<FamilyDef, Uint8Array>();
      for (const [family, b] of blocks) {
        out.set(family, b.out.buf.slice(0, b.out.at));
      }
      return out;
    },
    text() {
      return new TextDecoder().decode(writer.bytes());
    },
    bytes() {
      return joinExposition([writer.blocks()])[0] ?? new Uint8Array(0);
    },
  };
  return writer;
}

/** A scrape's body, made a chunk at a time as it is sent. */
export interface ExpositionChunks {
  /** the body's length in bytes, known before any chunk is made */
  size: number;
  /** The next chunk (the last may be shorter), null after the last. */
  next(): Uint8Array<ArrayBuffer> | null;
}

/** A body's pieces in order (HELP and TYPE, then each part's lines). */
function layout(
  parts: readonly FamilyBlocks[],
): { size: number; pieces: Uint8Array[] } {
  const heads = new Map<FamilyDef, Uint8Array>();
  let size = 0;
  for (const part of parts) {
    for (const [family, lines] of part) {
      size += lines.length;
      if (heads.has(family)) continue;
      const head = utf8Bytes(
        `# HELP ${family.name} ${escapeHelp(family.help)}\n` +
          `# TYPE ${family.name} ${family.type}\n`,
      );
      heads.set(family, head);
      size += head.length;
    }
  }
  const pieces: Uint8Array[] = [];
  for (const [family, head] of heads) {
    pieces.push(head);
    for (const part of parts) {
      const lines = part.get(family);
      if (lines !== undefined && lines.length > 0) pieces.push(lines);
    }
  }
  return { size, pieces };
}

/**
 * The exposition of `parts` (as `joinExposition` makes it) written at the
 * start of a buffer from `bufferFor(size)`; returns the view of it that
 * holds the text. A reused buffer costs a copy; a fresh one of megabytes
 * costs page faults and, outside the heap, V8's full collections.
 */
export function writeExposition(
  parts: readonly FamilyBlocks[],
  bufferFor: (size: number) => Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const { size, pieces } = layout(parts);
  const out = bufferFor(size);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out.subarray(0, size);
}

/**
 * One exposition from several parts (the fleet's hosts, then proxmon's own
 * counters): each family's HELP and TYPE once, then its lines from every
 * part in turn, families in the order they first appear. Only copies
 * bytes, into chunks of `chunkBytes`, each made when asked for: a scrape
 * of the whole fleet is 6 MB, one fresh buffer that size cost more in page
 * faults than all the copying, and joining all of it before the first
 * byte went out put the 4-8 ms of copying in front of the transfer rather
 * than beside it.
 */
export function expositionChunks(
  parts: readonly FamilyBlocks[],
  chunkBytes = Infinity,
): ExpositionChunks {
  // The pieces in body order; a chunk is cut from them where it ends.
  const { size, pieces } = layout(parts);
  let left = size, piece = 0, from = 0;
  return {
    size,
    next() {
      if (left === 0) return null;
      const chunk = new Uint8Array(Math.min(chunkBytes, left));
      left -= chunk.length;
      let at = 0;
      while (at < chunk.length) {
        const bytes = pieces[piece];
        const n = Math.min(bytes.length - from, chunk.length - at);
        chunk.set(
          n === bytes.length ? bytes : bytes.subarray(from, from + n),
          at,
        );
        at += n;
        from += n;
        if (from === bytes.length) {
          piece++;
          from = 0;
        }
      }
      return chunk;
    },
  };
}

/** The whole exposition at once, as `expositionChunks` cuts it. */
export function joinExposition(
  parts: readonly FamilyBlocks[],
  chunkBytes = Infinity,
): Uint8Array<ArrayBuffer>[] {
  const body = expositionChunks(parts, chunkBytes);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  for (let c = body.next(); c !== null; c = body.next()) chunks.push(c);
  return chunks;
}

/** Renders a list of series as exposition text. */
export function renderExposition(series: Iterable<SeriesValue>): string {
  const w = createExpositionWriter();
  for (const s of series) w.emit(s.family, s.labels, s.value);
  return w.text();
}
