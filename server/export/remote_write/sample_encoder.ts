/**
 * A stored sample's remote_write request, compressed, made in the ingest
 * writer's turn (the queue row is written in the sample's transaction).
 *
 * A host sends the same series every sample: the same families with the
 * same labels, in the same order; only values and the timestamp change.
 * So each host and interval keeps a template: its last request compressed
 * once, with the values and timestamp as holes (`compressTemplate`). A
 * sample whose series match the template's (checked while the mapping
 * hands them out) is a copy of the template with its values written in;
 * any other (a guest started, a value became unreadable) is encoded in
 * full and becomes the new template. At 2,000 samples/s the full path,
 * encoding and snappyjs on every sample, was 0.2 ms each, most of the
 * ingest writer's turn.
 *
 * Given shape ids (once the remote writer has read the last one used), a
 * sample's queue row is only its values, and the template goes with it as
 * its shape (`queue_shape.ts`), stored once; the pump fills the values in.
 */
import {
  emitPayloadSeries,
  type FamilyDef,
  type HostSample,
  type Labels,
  type MappingOptions,
  payloadSeries,
} from "../metric_families.ts";
import { compressTemplate } from "./snappy_template.ts";
import { encodeShape, varintBytes } from "./queue_shape.ts";
import { encodeSeries } from "./write_request.ts";

export interface EncodedSample {
  /**
   * a snappy-compressed WriteRequest, or with `shape` the series' values
   * (8 bytes each, little-endian) to fill into it
   */
  body: Uint8Array;
  /** its series */
  samples: number;
  /** the shape the values go into (`remote_write_shapes`), as stored */
  shape?: { id: number; body: Uint8Array };
}

export interface SampleEncoder {
  /** The sample's request, or null when it maps to no series. */
  encode(sample: HostSample): EncodedSample | null;
  /** templates reused and (re)built so far */
  stats(): { reused: number; built: number };
}

interface Template {
  families: FamilyDef[];
  labels: Labels[];
  labelCounts: Int32Array;
  /** labels equal to the previous series' (the mapping shares the object) */
  sameAsPrev: Uint8Array;
  /** varint bytes of the timestamp (a later sample's may be longer) */
  tsLen: number;
  block: Uint8Array;
  /** where each series' value starts in `block` (always a literal) */
  valueAt: Int32Array;
  /** where the timestamp's bytes went out as literals, and which byte */
  tsAt: Int32Array;
  tsByte: Int32Array;
  /** its `remote_write_shapes` row, once it has an id */
  shape: { id: number; body: Uint8Array } | null;
}

/** Templates kept at most (a host has up to three: one per interval). */
const MAX_TEMPLATES = 10_000;

function labelCount(labels: Labels): number {
  let n = 0;
  for (const _ in labels) n++;
  return n;
}

function sameLabels(a: Labels, b: Labels, bCount: number): boolean {
  let n = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    n++;
  }
  return n === bCount;
}

function readVarint(buf: Uint8Array, at: number): [number, number] {
  let value = 0, scale = 1;
  for (;;) {
    const b = buf[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
}

/** The template of these series, compressed with this sample's values. */
function buildTemplate(
  series: ReturnType<typeof payloadSeries>,
  timestampMs: number,
): Template {
  const raw = encodeSeries(series, timestampMs);
  const tsLen = varintBytes(timestampMs).length;
  // Each TimeSeries ends in: 0x09, the value's 8 bytes, 0x10, timestamp.
  // Variables: 1..tsLen the timestamp's bytes (equal in every series),
  // then 8 of its own for each value.
  const vars = new Int32Array(raw.length);
  const valueVar: number[] = [];
  let at = 0, next = tsLen + 1;
  while (at < raw.length) {
    const [len, body] = readVarint(raw, at + 1);
    at = body + len;
    for (let b = 0; b < tsLen; b++) vars[at - tsLen + b] = b + 1;
    valueVar.push(next);
    for (let b = 0; b < 8; b++) vars[at - tsLen - 9 + b] = next++;
  }
  const { block, varAt, varOf } = compressTemplate(raw, vars);
  const offsetOf = new Map<number, number>();
  const tsAt: number[] = [], tsByte: number[] = [];
  varOf.forEach((v, i) => {
    if (v <= tsLen) {
      tsAt.push(varAt[i]);
      tsByte.push(v - 1);
    } else offsetOf.set(v, varAt[i]);
  });
  const labels = series.map((s) => s.labels);
  return {
    families: series.map((s) => s.family),
    labels,
    labelCounts: Int32Array.from(labels, labelCount),
    sameAsPrev: Uint8Array.from(
      labels,
      (l, i) =>
        i > 0 && sameLabels(l, labels[i - 1], labelCount(labels[i - 1]))
          ? 1
          : 0,
    ),
    tsLen,
    block,
    valueAt: Int32Array.from(valueVar, (v) => offsetOf.get(v)!),
    tsAt: Int32Array.from(tsAt),
    tsByte: Int32Array.from(tsByte),
    shape: null,
  };
}

/** Whether Float64Array's bytes are little-endian here (they are on x86 and ARM). */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** Values as a queue row holds them: 8 bytes each, little-endian. */
function valueBytes(values: Float64Array, n: number): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.slice(0, n).buffer);
  const out = new Uint8Array(n * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) view.setFloat64(i * 8, values[i], true);
  return out;
}

/** Creates an encoder with its own templates. */
export function createSampleEncoder(
  opts: MappingOptions & {
    maxTemplates?: number;
    /** a new shape id, or null while there are none (whole requests then) */
    shapeId?: () => number | null;
  },
): SampleEncoder {
  const shapeId = opts.shapeId ?? (() => null);
  /** The template's shape row, given an id the first time one is free. */
  const shapeOf = (t: Template) => {
    if (t.shape !== null) return t.shape;
    const id = shapeId();
    if (id === null) return null;
    return t.shape = { id, body: encodeShape(t) };
  };
  const mapping: MappingOptions = { datasets: opts.datasets };
  const maxTemplates = opts.maxTemplates ?? MAX_TEMPLATES;
  const templates = new Map<string, Template>();
  const counts = { reused: 0, built: 0 };
  let values = new Float64Array(256);

  return {
    encode(sample) {
      const host = sample.hostName;
      const key = `${host}\0${sample.interval}`;
      const ts = varintBytes(sample.collectedAtMs);
      const t = templates.get(key);
      let ok = t !== undefined && t.tsLen === ts.length;
      let k = 0;
      let prev: Labels | null = null;
      if (t !== undefined && values.length < t.families.length) {
        values = new Float64Array(t.families.length * 2);
      }
      emitPayloadSeries(host, sample, mapping, (family, labels, value) => {
        if (ok) {
          ok = k < t!.families.length && t!.families[k] === family && (
            labels === prev
              ? t!.sameAsPrev[k] === 1
              : sameLabels(labels, t!.labels[k], t!.labelCounts[k])
          );
          if (ok) values[k] = value;
        }
        prev = labels;
        k++;
      });
      if (ok && k === t!.families.length) {
        counts.reused++;
        const shape = shapeOf(t!);
        if (shape !== null) {
          return { body: valueBytes(values, k), samples: k, shape };
        }
        const body = t!.block.slice();
        const view = new DataView(body.buffer);
        for (let i = 0; i < k; i++) {
          view.setFloat64(t!.valueAt[i], values[i], true);
        }
        for (let i = 0; i < t!.tsAt.length; i++) {
          body[t!.tsAt[i]] = ts[t!.tsByte[i]];
        }
        return { body, samples: k };
      }
      templates.delete(key);
      const series = payloadSeries(host, sample, mapping);
      if (series.length === 0) return null;
      counts.built++;
      const built = buildTemplate(series, sample.collectedAtMs);
      if (templates.size >= maxTemplates) {
        templates.delete(templates.keys().next().value!);
      }
      templates.set(key, built);
      const shape = shapeOf(built);
      if (shape !== null) {
        const body = valueBytes(
          Float64Array.from(series, (s) => s.value),
          series.length,
        );
        return { body, samples: series.length, shape };
      }
      return { body: built.block.slice(), samples: series.length };
    },
    stats: () => ({ ...counts }),
  };
}
