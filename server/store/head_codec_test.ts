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

Deno.test("format 2 head rows keep exact values exact and sizes to their digits, in id order", () => {
  const points = [
    { seriesId: 7, scaled: 7_954_198_528, digits: 4 },
    { seriesId: 5, scaled: 4512 },
    { seriesId: 6, scaled: -17 },
    { seriesId: 8, scaled: 123_456_789, digits: 4 },
    { seriesId: 40, scaled: 0, digits: 4 },
    { seriesId: 41, scaled: 9_999, digits: 4 },
    { seriesId: 1000, scaled: 1_125_899_906_842_624 },
  ];
  const blob = encodeHeadPoints(points);
  assert.equal(blob[0], 0);
  const want = [...points]
    .sort((a, b) => a.seriesId - b.seriesId)
    .map((p) => [p.seriesId, roundToDigits(p.scaled, p.digits ?? 0)]);
  assert.deepEqual(decode(blob), want);
  assert.deepEqual(decode(blob, 40), want.slice(0, 5));
  // points already in id order (the usual case, not sorted again) give the same row
  const inOrder = [...points].sort((a, b) => a.seriesId - b.seriesId);
  assert.deepEqual(encodeHeadPoints(inOrder), blob);
  assert.deepEqual(decode(encodeHeadPoints([])), []);
  assert.throws(
    () =>
      encodeHeadPoints([
        { seriesId: 1, scaled: 1, digits: 4 },
        { seriesId: 2, scaled: 1, digits: 3 },
      ]),
    /digits 3 beside 4/,
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
