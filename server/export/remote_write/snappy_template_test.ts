import assert from "node:assert/strict";
import { compressTemplate } from "./snappy_template.ts";
import { compress, uncompress } from "./write_request.ts";

/** A deterministic generator, so a failing case can be rerun. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Text with repeats near and far, like label bytes are. */
function repetitive(rand: () => number, n: number): Uint8Array {
  const words = ["host", "pve-01", "vmid", "guest-", "proxmon_", "__name__"];
  const out: number[] = [];
  while (out.length < n) {
    if (rand() < 0.2) out.push(Math.floor(rand() * 256));
    else {
      for (const c of words[Math.floor(rand() * words.length)]) {
        out.push(c.charCodeAt(0));
      }
    }
  }
  return Uint8Array.from(out.slice(0, n));
}

/** Writes `fill[v]` into every literal byte of variable v. */
function filled(
  t: ReturnType<typeof compressTemplate>,
  fill: Map<number, number>,
): Uint8Array {
  const block = t.block.slice();
  t.varAt.forEach((at, i) => block[at] = fill.get(t.varOf[i])!);
  return block;
}

Deno.test("compressTemplate() without variables is a snappy block that snappyjs decodes to the input, and compresses", () => {
  const rand = random(1);
  for (const n of [0, 1, 3, 4, 5, 100, 5_000, 70_000, 200_000]) {
    const input = repetitive(rand, n);
    const t = compressTemplate(input, new Int32Array(n));
    assert.deepEqual(uncompress(t.block), input, `length ${n}`);
    if (n >= 5_000) {
      // Within a third of snappyjs' own size on the same bytes.
      assert.ok(t.block.length < compress(input).length * 1.34, `length ${n}`);
    }
  }
});

Deno.test("compressTemplate(): new values in the variables' literal bytes decode to the input with those values, however the variables lie", () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rand = random(seed);
    const n = 200 + Math.floor(rand() * 20_000);
    const input = repetitive(rand, n);
    const vars = new Int32Array(n);
    // Some variables occur once (a value), some many times (a timestamp).
    const shared = 1 + Math.floor(rand() * 6);
    let nextVar = shared + 1;
    const first = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.05) vars[i] = 1 + Math.floor(rand() * shared);
      else if (r < 0.1) vars[i] = nextVar++;
      // A variable's bytes are equal within one use.
      if (vars[i] !== 0) {
        if (!first.has(vars[i])) first.set(vars[i], input[i]);
        input[i] = first.get(vars[i])!;
      }
    }
    const t = compressTemplate(input, vars);
    // The block as made decodes to the input itself.
    assert.deepEqual(uncompress(t.block), input, `seed ${seed}`);
    const fill = new Map<number, number>();
    for (let v = 1; v < nextVar; v++) fill.set(v, Math.floor(rand() * 256));
    const want = input.map((b, i) => vars[i] === 0 ? b : fill.get(vars[i])!);
    assert.deepEqual(uncompress(filled(t, fill)), want, `seed ${seed}`);
  }
});

Deno.test("compressTemplate(): a variable repeated through the input goes out as a literal once and is copied after", () => {
  // 100 records of 20 fixed bytes and a 6-byte variable (a timestamp).
  const record = new TextEncoder().encode("series{host=pve-01}:");
  const input = new Uint8Array(100 * 26);
  const vars = new Int32Array(input.length);
  for (let r = 0; r < 100; r++) {
    input.set(record, r * 26);
    for (let b = 0; b < 6; b++) {
      input[r * 26 + 20 + b] = 0x80 + b;
      vars[r * 26 + 20 + b] = b + 1;
    }
  }
  const t = compressTemplate(input, vars);
  assert.equal(t.varAt.length, 6);
  assert.deepEqual([...t.varOf], [1, 2, 3, 4, 5, 6]);
  const fill = new Map([[1, 9], [2, 8], [3, 7], [4, 6], [5, 5], [6, 4]]);
  const got = uncompress(filled(t, fill));
  for (let r = 0; r < 100; r++) {
    assert.deepEqual([...got.subarray(r * 26 + 20, r * 26 + 26)], [
      9,
      8,
      7,
      6,
      5,
      4,
    ]);
  }
  assert.ok(t.block.length < input.length / 10, `${t.block.length} bytes`);
});
