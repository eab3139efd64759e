import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { roundToDigits } from "./block_codec.ts";
import { encodeHeadPoints, forEachHeadPoint } from "./head_codec.ts";
import { extractPoints, metricSpec } from "./series_catalog.ts";
import { scaleValue } from "./sample_store.ts";
import { hostStream } from "../../scripts/bench/store_samples.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/store/format1_blocks.json", import.meta.url),
  ),
);

const format2 = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/store/format2_head.json", import.meta.url),
  ),
);

const decode = (blob: Uint8Array, maxId?: number) => {
  const got: [number, number][] = [];
  forEachHeadPoint(blob, (id, v) => got.push([id, v]), maxId);
  return got;
};

Deno.test("head rows written by the first series store (format 1) still decode", () => {
  const blob = new Uint8Array(Buffer.from(fixture.head.blob, "base64"));
  const want = [...fixture.head.points]
    .sort((a, b) => a.seriesId - b.seriesId)
    .map((p) => [p.seriesId, p.scaled]);
  assert.deepEqual(decode(blob), want);
  assert.deepEqual(decode(blob, 3), want.slice(0, 3));
});

type Point = { seriesId: number; scaled: number; digits?: number };
const rounded = (points: Point[]) =>
  [...points]
    .sort((a, b) => a.seriesId - b.seriesId)
    .map((p) => [p.seriesId, roundToDigits(p.scaled, p.digits ?? 0)]);

Deno.test("head rows written in format 2 still decode, exact values exact and sizes to their digits", () => {
  for (const row of [format2.sizes, format2.exact]) {
    const blob = new Uint8Array(Buffer.from(row.blob, "base64"));
    assert.equal(blob[1], 2);
    assert.deepEqual(decode(blob), rounded(row.points));
  }
});

Deno.test("format 3 head rows keep each value to its own digits, in id order", () => {
  const points: Point[] = [
    { seriesId: 7, scaled: 7_954_198_528, digits: 4 },
    { seriesId: 5, scaled: 4512 },
    { seriesId: 6, scaled: -17 },
    { seriesId: 8, scaled: 123_456_789, digits: 3 },
    { seriesId: 9, scaled: 987_654, digits: 3 },
    { seriesId: 40, scaled: 0, digits: 4 },
    { seriesId: 41, scaled: 9_999, digits: 4 },
    { seriesId: 42, scaled: 9_999, digits: 3 },
    { seriesId: 1000, scaled: 1_125_899_906_842_624 },
  ];
  const blob = encodeHeadPoints(points);
  assert.deepEqual(blob.subarray(0, 2), new Uint8Array([0, 3]));
  const want = rounded(points);
  assert.deepEqual(decode(blob), want);
  assert.deepEqual(decode(blob, 40), want.slice(0, 6));
  // points already in id order (the usual case, not sorted again) give the same row
  const inOrder = [...points].sort((a, b) => a.seriesId - b.seriesId);
  assert.deepEqual(encodeHeadPoints(inOrder), blob);
  assert.deepEqual(decode(encodeHeadPoints([])), []);
  // one, three and up to fifteen kinds of digits: 1, 2 and 4 bits a value
  for (const kinds of [1, 3, 4, 15]) {
    const many = Array.from({ length: 37 }, (_, i) => ({
      seriesId: i + 1,
      scaled: 1_234_567_891 + i * 7_777,
      digits: i % (kinds + 1) === 0 ? undefined : 1 + i % (kinds + 1),
    }));
    assert.deepEqual(decode(encodeHeadPoints(many)), rounded(many), `${kinds}`);
  }
  assert.throws(
    () =>
      encodeHeadPoints(
        Array.from({ length: 16 }, (_, i) => ({
          seriesId: i + 1,
          scaled: 1,
          digits: i + 1,
        })),
      ),
    /16 kinds of digits/,
  );
  assert.throws(() => forEachHeadPoint(blob.subarray(0, 8), () => {}), {
    name: "RangeError",
  });
});

Deno.test("a 50-guest fast sample's head row fits one 1 KiB page", async () => {
  const stream = await hostStream(1);
  const a = stream.next("fast", 0) as unknown as Record<string, unknown>;
  const b = stream.next("fast", 10_000) as unknown as Record<string, unknown>;
  const points = extractPoints("fast", b, 10_000, {
    collectedAtMs: 0,
    payload: a,
  });
  assert.ok(points.length > 400, `${points.length} points`);
  const head = points.map((p, i) => ({
    seriesId: i + 1,
    scaled: scaleValue(p.key, p.value),
    digits: metricSpec(p.key).digits?.[0],
  }));
  const blob = encodeHeadPoints(head);
  // a table leaf keeps up to 989 bytes of a row on a 1 KiB page
  assert.ok(blob.length < 989, `${blob.length} bytes`);
  assert.deepEqual(
    decode(blob),
    head.map((p) => [p.seriesId, roundToDigits(p.scaled, p.digits ?? 0)]),
  );
});
