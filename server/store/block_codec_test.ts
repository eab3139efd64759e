import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import {
  type Columns,
  decimalCode,
  decimalValue,
  decodeBlock,
  encodeBlock,
  roundToDigits,
} from "./block_codec.ts";
import { encodeTierBlock } from "./compaction.ts";
import { decodeTierBlock } from "./series_read.ts";
import { metricSpec } from "./series_catalog.ts";
import type { Rollup } from "./rollup.ts";
import { prng } from "../../scripts/bench/store_samples.ts";

const fixture = JSON.parse(
  await Deno.readTextFile(
    new URL("../../fixtures/store/format1_blocks.json", import.meta.url),
  ),
);
const blob = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

Deno.test("format 1 blocks written by the old encoder still decode", async () => {
  for (const name of ["raw", "rollup", "gaps"]) {
    const f = fixture[name];
    const got = await decodeBlock(blob(f.blob));
    assert.deepEqual(got.version, 1, name);
    assert.deepEqual(got.t, f.t, name);
    assert.deepEqual(got.cols, f.cols, name);
  }
  // As tier blocks: format 1 rollups hold min, avg, max, last, n.
  const r = await decodeTierBlock(1, blob(fixture.rollup.blob));
  const [min, avg, max, last, n] = fixture.rollup.cols;
  assert.deepEqual(r, { t: fixture.rollup.t, min, avg, max, last, n });
  const raw = await decodeTierBlock(0, blob(fixture.raw.blob));
  assert.deepEqual(raw.avg, fixture.raw.cols[0]);
  assert.deepEqual(raw.n, fixture.raw.cols[0].map(() => 1));
});

Deno.test("decimalCode() is monotonic, exact below 10^digits, and keeps its digits", () => {
  const rnd = prng(3);
  for (const digits of [3, 4]) {
    const top = 10 ** digits;
    for (let v = -2 * top; v < 2 * top; v++) {
      assert.deepEqual(
        decimalCode(v + 1, digits) - decimalCode(v, digits) >= 0,
        true,
      );
    }
    for (let v = 0; v < top; v++) assert.deepEqual(roundToDigits(v, digits), v);
    let prevValue = -Infinity;
    let prevCode = -Infinity;
    const values = Array.from(
      { length: 20_000 },
      () => Math.round(Math.exp(rnd() * Math.log(2 ** 52))),
    ).sort((a, b) => a - b);
    for (const v of values) {
      const code = decimalCode(v, digits);
      const back = decimalValue(code, digits);
      // at most half a unit of the last kept digit off
      assert.ok(
        Math.abs(back - v) <= 0.5 * 10 ** -(digits - 1) * v,
        `${v} -> ${back} at ${digits} digits`,
      );
      assert.deepEqual(roundToDigits(back, digits), back, "idempotent");
      assert.deepEqual(decimalCode(-v, digits), -code);
      assert.ok(code >= prevCode, `order at ${v}`);
      if (v > prevValue) prevValue = v;
      prevCode = code;
    }
  }
  // Around a decade the codes run on without a gap or a jump.
  assert.deepEqual(decimalCode(9_999, 4), 9_999);
  assert.deepEqual(decimalCode(10_000, 4), 10_000);
  assert.deepEqual(decimalCode(10_004, 4), 10_000);
  assert.deepEqual(decimalCode(10_005, 4), 10_001);
  assert.deepEqual(decimalValue(10_001, 4), 10_010);
  assert.deepEqual(decimalCode(99_995, 4), decimalCode(100_000, 4));
  assert.deepEqual(roundToDigits(2_147_483_648, 4), 2_147_000_000);
  assert.deepEqual(roundToDigits(1_234_567, 3), 1_230_000);
});

Deno.test("format 2 round-trips exact columns, nulls and references", async () => {
  const c: Columns = {
    t: [0, 10_000, 20_001, 29_999, 40_000],
    cols: [
      [100, 90, null, 1_125_899_906_842_624, -5],
      [50, null, 40, 1_125_899_906_842_600, -9],
      [150, 95, 60, 1_125_899_906_842_624, 3],
      [100, 95, null, 1, -9],
    ],
    ref: [null, { col: 0, sign: "below" }, { col: 0, sign: "above" }, {
      col: 0,
    }],
  };
  const got = await decodeBlock(await encodeBlock(c));
  assert.deepEqual(got.version, 2);
  assert.deepEqual(got.t, c.t);
  assert.deepEqual(got.cols, c.cols);
});

Deno.test("format 2 stores a column whose differences break their sign signed, and decodes it", async () => {
  // "below" promised, but the second value is above its reference.
  const c: Columns = {
    t: [0, 1, 2],
    cols: [[10, 20, 30], [5, 25, 30]],
    ref: [null, { col: 0, sign: "below" }],
  };
  const got = await decodeBlock(await encodeBlock(c));
  assert.deepEqual(got.cols, c.cols);
  assert.deepEqual(got.ref, [null, { col: 0 }]);
});

Deno.test("format 2 with digits gives each value rounded to them", async () => {
  const rnd = prng(11);
  const values = Array.from(
    { length: 720 },
    () => Math.round(2e9 * (1 + 0.02 * rnd())),
  );
  const got = await decodeBlock(
    await encodeBlock({
      t: values.map((_, i) => i * 10_000),
      cols: [values, values],
      digits: [4, 0],
    }),
  );
  assert.deepEqual(got.cols[0], values.map((v) => roundToDigits(v, 4)));
  assert.deepEqual(got.cols[1], values);
});

Deno.test("a block refuses a reference to a later column, and a truncated blob", async () => {
  await assert.rejects(
    () => encodeBlock({ t: [0], cols: [[1], [2]], ref: [{ col: 1 }, null] }),
    { name: "RangeError", message: /refers to 1/ },
  );
  const good = await encodeBlock({ t: [0, 1], cols: [[1, 2]] });
  const raw = new Uint8Array(inflateRawSync(good));
  await assert.rejects(
    () =>
      decodeBlock(
        new Uint8Array(deflateRawSync(raw.subarray(0, raw.length - 1))),
      ),
    { name: "RangeError", message: /truncated/ },
  );
});

/** Rollup entries like a busy guest's hour: values that move together. */
function rollupOf(seed: number, level: number, entries: number): Rollup {
  const rnd = prng(seed);
  const r: Rollup = { t: [], min: [], avg: [], max: [], last: [], n: [] };
  for (let i = 0; i < entries; i++) {
    const avg = level * (1 + 0.1 * Math.sin(i / 10) + 0.02 * rnd());
    r.t.push(i * 3_600_000);
    r.avg.push(avg);
    r.min.push(Math.round(avg * (0.8 + 0.1 * rnd())));
    r.max.push(Math.round(avg * (1.1 + 0.3 * rnd())));
    r.last.push(Math.round(avg * (0.9 + 0.2 * rnd())));
    r.n.push(i === 0 ? 200 : 360);
  }
  return r;
}

Deno.test("rollup tier blocks keep sizes and rates to the tier's digits and percentages exact", async () => {
  const rate = metricSpec({ kind: "guest", object: "101", metric: "net_in" });
  const mem = metricSpec({ kind: "guest", object: "101", metric: "mem" });
  const cpu = metricSpec({ kind: "guest", object: "101", metric: "cpu" });
  for (
    const [spec, level] of [[rate, 3e6], [mem, 4e9], [cpu, 4_000]] as const
  ) {
    const r = rollupOf(5, level, 168);
    for (const tier of [1, 2] as const) {
      const got = await decodeTierBlock(
        tier,
        await encodeTierBlock(tier, r, spec),
      );
      const d = spec.digits?.[tier] ?? 0;
      const keep = (xs: number[]) => xs.map((x) => roundToDigits(x, d));
      assert.deepEqual(got.t, r.t);
      assert.deepEqual(got.n, r.n);
      assert.deepEqual(got.avg, keep(r.avg.map(Math.round)));
      assert.deepEqual(got.min, keep(r.min));
      assert.deepEqual(got.max, keep(r.max));
      assert.deepEqual(got.last, keep(r.last));
      for (let i = 0; i < r.t.length; i++) {
        assert.ok(got.min[i] <= got.avg[i] && got.avg[i] <= got.max[i]);
        // the bound each unit promises
        const bound = d === 0 ? 0.5 : 0.5 * 10 ** -(d - 1) * r.avg[i];
        assert.ok(Math.abs(got.avg[i] - r.avg[i]) <= bound + 0.5);
      }
    }
  }
  assert.deepEqual(cpu.digits, undefined);
});

Deno.test("raw tier blocks of a size keep 4 digits: a fraction of the exact block", async () => {
  const spec = metricSpec({ kind: "guest", object: "101", metric: "mem" });
  const rnd = prng(9);
  const t = Array.from({ length: 720 }, (_, i) => i * 10_000);
  const v = t.map(() => Math.round(4e9 * (0.5 + 0.02 * rnd())));
  const r: Rollup = { t, min: v, avg: v, max: v, last: v, n: v.map(() => 1) };
  const lossy = await encodeTierBlock(0, r, spec);
  const exact = await encodeBlock({ t, cols: [v] });
  const got = await decodeTierBlock(0, lossy);
  assert.deepEqual(got.avg, v.map((x) => roundToDigits(x, 4)));
  assert.ok(
    lossy.length < exact.length / 2,
    `${lossy.length} vs ${exact.length}`,
  );
});
