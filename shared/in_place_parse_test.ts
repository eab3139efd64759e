import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import * as v from "valibot";
import { compileInPlaceParse } from "./in_place_parse.ts";
import { type Interval, PAYLOAD_SCHEMAS } from "./samples.ts";

const FIXTURES = `${import.meta.dirname}/../fixtures/samples`;
const INTERVALS: Interval[] = ["fast", "medium", "slow"];

const fixture = async (path: string): Promise<Record<string, unknown>> =>
  JSON.parse(await Deno.readTextFile(`${FIXTURES}/${path}`));

/** Every path to an object key or array index inside `x`. */
function paths(
  x: unknown,
  at: (string | number)[] = [],
): (string | number)[][] {
  if (Array.isArray(x)) {
    return x.flatMap((item, i) => [[...at, i], ...paths(item, [...at, i])]);
  }
  if (typeof x === "object" && x !== null) {
    return Object.entries(x).flatMap(([k, item]) => [
      [...at, k],
      ...paths(item, [...at, k]),
    ]);
  }
  return [];
}

const REMOVE = Symbol("remove");
const REPLACEMENTS: unknown[] = [
  REMOVE,
  null,
  "x",
  -1,
  1.5,
  Number.NaN,
  true,
  [],
  {},
  [1],
];

/** A copy of `x` with the value at `path` replaced (or its key removed). */
function mutate(x: unknown, path: (string | number)[], to: unknown): unknown {
  const copy = structuredClone(x);
  let parent = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) {
    parent = parent[p] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (to !== REMOVE) parent[last] = to;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/**
 * The promise: a yes means valibot accepts the value and the value now is
 * valibot's output; a no leaves the value as it was. (It may say no where
 * valibot says yes: valibot then does the work.)
 */
function assertAgrees(
  schema: v.GenericSchema,
  parse: (x: unknown) => boolean,
  x: unknown,
  label: string,
): boolean {
  const before = structuredClone(x);
  const parsed = v.safeParse(schema, structuredClone(x));
  if (!parse(x)) {
    assert.deepStrictEqual(x, before, `${label}: refused, yet changed`);
    return false;
  }
  assert.ok(parsed.success, `${label}: passed in place, refused by valibot`);
  assert.deepStrictEqual(x, parsed.output, `${label}: not valibot's output`);
  return true;
}

Deno.test("compileInPlaceParse() compiles every payload schema", () => {
  for (const interval of INTERVALS) {
    assert.ok(compileInPlaceParse(PAYLOAD_SCHEMAS[interval]), interval);
  }
});

Deno.test("compileInPlaceParse() passes this version's payloads, and agrees with valibot on every one-field change of them", async () => {
  for (const interval of INTERVALS) {
    const schema = PAYLOAD_SCHEMAS[interval];
    const check = compileInPlaceParse(schema)!;
    const sample = await fixture(`${interval}.json`);
    assert.ok(
      assertAgrees(schema, check, sample, interval),
      `${interval}.json takes the fast path`,
    );
    let passed = 0, refused = 0;
    for (const path of paths(sample)) {
      for (const to of REPLACEMENTS) {
        const label = `${interval} ${path.join(".")} = ${String(to)}`;
        if (assertAgrees(schema, check, mutate(sample, path, to), label)) {
          passed++;
        } else refused++;
      }
    }
    // Both answers were exercised: changes of unchecked (loose) fields
    // pass, wrong types and missing fields with defaults do not.
    assert.ok(passed > 0 && refused > 0, `${interval}: ${passed}/${refused}`);
  }
});

Deno.test("compileInPlaceParse() completes an older agent's payload to valibot's output", async () => {
  let completed = 0;
  for (const interval of INTERVALS) {
    const schema = PAYLOAD_SCHEMAS[interval];
    const old = await fixture(`v0.1/${interval}.json`);
    const untouched = structuredClone(old);
    const parse = compileInPlaceParse(schema)!;
    assert.ok(assertAgrees(schema, parse, old, `v0.1 ${interval}`));
    if (!isDeepStrictEqual(old, untouched)) completed++;
  }
  assert.ok(completed > 0, "some v0.1 payload lacked fields with defaults");
});

Deno.test("compileInPlaceParse() says no wherever valibot's output would differ from its input", () => {
  const withDefault = v.looseObject({
    a: v.optional(v.number(), 0),
    list: v.optional(v.array(v.looseObject({ n: v.optional(v.number(), 1) }))),
    inner: v.optional(v.looseObject({ n: v.optional(v.number(), 1) }), {}),
  });
  const check = compileInPlaceParse(withDefault)!;
  const empty = {};
  assert.equal(check(empty), true);
  assert.deepStrictEqual(empty, { a: 0, inner: { n: 1 } }, "defaults filled");
  const half = { a: "wrong" };
  assert.equal(check(half), false);
  assert.deepStrictEqual(half, { a: "wrong" }, "a refusal fills nothing");
  assert.equal(check({ a: 1, b: "kept" }), true);
  assert.equal(check([]), false, "an array becomes an object");
  const proto = JSON.parse('{"a": 1, "__proto__": {"x": 1}}');
  assert.equal(check(proto), false, "valibot drops __proto__");

  const strict = compileInPlaceParse(v.object({ a: v.string() }))!;
  assert.equal(strict({ a: "x" }), true);
  assert.equal(strict({ a: "x", b: 1 }), false, "valibot strips b");

  const nullDefault = compileInPlaceParse(v.nullable(v.string(), "none"))!;
  assert.equal(nullDefault(null), false);
  assert.equal(compileInPlaceParse(v.nullable(v.string()))!(null), true);

  const piped = compileInPlaceParse(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(9)),
  )!;
  assert.deepEqual([0, 1, 9, 10, 2.5].map(piped), [
    false,
    true,
    true,
    false,
    false,
  ]);
});

Deno.test("compileInPlaceParse() returns null for what it cannot vouch for", () => {
  assert.equal(
    compileInPlaceParse(v.pipe(v.string(), v.transform((s) => s.length))),
    null,
  );
  assert.equal(compileInPlaceParse(v.fallback(v.number(), 0)), null);
  assert.equal(compileInPlaceParse(v.looseObject({ d: v.date() })), null);
});
