import assert from "node:assert/strict";
import {
  escapeLabelValue,
  formatValue,
  renderExposition,
} from "./exposition.ts";
import type { FamilyDef } from "./metric_families.ts";

const a: FamilyDef = {
  name: "a_bytes",
  type: "gauge",
  help: "A \\ with\nnewline.",
};
const b: FamilyDef = { name: "b_total", type: "counter", help: "B." };

Deno.test("renderExposition() writes one HELP/TYPE block per family with its series together", () => {
  const text = renderExposition([
    { family: a, labels: { host: "x" }, value: 1 },
    { family: b, labels: {}, value: 2 },
    { family: a, labels: { host: "y" }, value: 3.5 },
  ]);
  assert.equal(
    text,
    [
      "# HELP a_bytes A \\\\ with\\nnewline.",
      "# TYPE a_bytes gauge",
      'a_bytes{host="x"} 1',
      'a_bytes{host="y"} 3.5',
      "# HELP b_total B.",
      "# TYPE b_total counter",
      "b_total 2",
      "",
    ].join("\n"),
  );
});

Deno.test("escapeLabelValue() escapes backslash, double quote and newline only", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd é'), 'a\\\\b\\"c\\nd é');
  assert.equal(escapeLabelValue("plain"), "plain");
});

Deno.test("formatValue() spells the special floats as the format does", () => {
  assert.deepEqual(
    [NaN, Infinity, -Infinity, 0.25, 1e21].map(formatValue),
    ["NaN", "+Inf", "-Inf", "0.25", "1e+21"],
  );
});

Deno.test("createExpositionWriter() bytes() is the text as UTF-8, multi-byte label values included", async () => {
  const { createExpositionWriter } = await import("./exposition.ts");
  const w = createExpositionWriter();
  for (let i = 0; i < 50; i++) {
    w.emit(a, { host: i % 7 === 0 ? `hôte-€-${i}` : `h${i}` }, i);
    w.emit(b, { host: `h${i}` }, i / 3);
  }
  assert.deepEqual(w.bytes(), new TextEncoder().encode(w.text()));
});

Deno.test("expositionChunks() says the body's size first, then cuts the joined parts into chunks one at a time", async () => {
  const { createExpositionWriter, expositionChunks, joinExposition } =
    await import("./exposition.ts");
  const parts = [0, 1, 2].map((p) => {
    const w = createExpositionWriter();
    for (let i = 0; i < 50; i++) {
      w.emit(i % 2 ? a : b, { host: `h${p}`, i: String(i) }, i + p / 10);
    }
    return w.blocks();
  });
  const whole = joinExposition(parts)[0];
  for (const chunkBytes of [1, 7, 64, 1_000, whole.length, 1 << 20]) {
    const body = expositionChunks(parts, chunkBytes);
    assert.equal(body.size, whole.length);
    const chunks: Uint8Array[] = [];
    for (let c = body.next(); c !== null; c = body.next()) chunks.push(c);
    assert.equal(body.next(), null);
    const last = chunks.pop()!;
    assert.ok(chunks.every((c) => c.length === chunkBytes));
    assert.ok(last.length > 0 && last.length <= chunkBytes);
    assert.deepEqual(
      new Uint8Array([...chunks.flatMap((c) => [...c]), ...last]),
      whole,
      `chunks of ${chunkBytes}`,
    );
  }
  const text = new TextDecoder().decode(whole);
  // Each family's HELP once, its series from every part together.
  assert.equal(text.match(/# HELP a_bytes/g)?.length, 1);
  assert.match(text, /b_total\{host="h2",i="48"\} 48\.2\n# HELP a_bytes/);
  assert.match(text, /a_bytes\{host="h2",i="49"\} 49\.2\n$/);
});
