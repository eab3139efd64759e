/** Test helper: a table of cases, one `t.step` each. */
import assert from "node:assert/strict";

/**
 * Runs one step per `[input, expected]` case, named `input → expected`
 * (`label` writes the input), each asserting that `fn(input)` deep-equals
 * what it expects.
 */
export async function caseSteps<I, O>(
  t: Deno.TestContext,
  cases: readonly (readonly [I, O])[],
  fn: (input: I) => O,
  label: (input: I) => string = String,
): Promise<void> {
  for (const [input, expected] of cases) {
    const shown = typeof expected === "object" && expected !== null
      ? JSON.stringify(expected)
      : String(expected);
    await t.step(
      `${label(input)} → ${shown}`,
      () => assert.deepEqual(fn(input), expected),
    );
  }
}
