/**
 * The remote_write 1.0 wire format: a `prometheus.WriteRequest` protobuf
 * (prompb/remote.proto, types.proto), snappy-compressed as a raw block.
 *
 * Repeated fields concatenate: two encoded WriteRequests joined byte for
 * byte decode as one request holding both lists of series. The queue relies
 * on this to store each sample's request once and send many in one body.
 */
import protobuf from "protobufjs";
// @ts-types="./snappyjs.d.ts"
import snappy from "snappyjs";
import type { SeriesValue } from "../metric_families.ts";

// The subset of prompb that remote_write 1.0 senders fill in.
const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: "repeated", type: "TimeSeries", id: 1 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
          },
        },
        Label: {
          fields: {
            name: { type: "string", id: 1 },
            value: { type: "string", id: 2 },
          },
        },
        Sample: {
          fields: {
            value: { type: "double", id: 1 },
            timestamp: { type: "int64", id: 2 },
          },
        },
      },
    },
  },
});
const WriteRequest = root.lookupType("prometheus.WriteRequest");

export interface WireLabel {
  name: string;
  value: string;
}

export interface WireSeries {
  labels: WireLabel[];
  samples: { value: number; timestamp: number }[];
}

/** The headers a remote_write 1.0 request carries. */
export const REMOTE_WRITE_HEADERS = {
  "Content-Encoding": "snappy",
  "Content-Type": "application/x-protobuf",
  "X-Prometheus-Remote-Write-Version": "0.1.0",
} as const;

const byName = (a: WireLabel, b: WireLabel) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * One WriteRequest holding each series at `timestampMs`. Labels are sorted
 * by name with `__name__` among them, as the protocol requires.
 */
export function encodeSeries(
  series: SeriesValue[],
  timestampMs: number,
): Uint8Array {
  const timeseries = series.map((s): WireSeries => {
    const labels: WireLabel[] = [{ name: "__name__", value: s.family.name }];
    for (const name in s.labels) labels.push({ name, value: s.labels[name] });
    labels.sort(byName);
    return { labels, samples: [{ value: s.value, timestamp: timestampMs }] };
  });
  return WriteRequest.encode(WriteRequest.fromObject({ timeseries })).finish();
}

/** Decodes an uncompressed WriteRequest; for tests and tools. */
export function decodeWriteRequest(bytes: Uint8Array): WireSeries[] {
  const message = WriteRequest.decode(bytes);
  const object = WriteRequest.toObject(message, {
    longs: Number,
    defaults: true,
  }) as { timeseries: WireSeries[] };
  return object.timeseries;
}

/** Joins encoded WriteRequests into one body (see the module comment). */
export function concatRequests(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const compress = (bytes: Uint8Array): Uint8Array<ArrayBuffer> =>
  snappy.compress(bytes);
export const uncompress = (bytes: Uint8Array): Uint8Array =>
  snappy.uncompress(bytes);
