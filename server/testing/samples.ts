/**
 * The sample payload fixtures (fixtures/samples/*.json), for tests and
 * benchmarks that need a valid `data` for each interval.
 */
import {
  type Interval,
  parsePayload,
  type PayloadFor,
  type SamplePayload,
} from "@proxmon/shared";

const DIR = `${import.meta.dirname}/../../fixtures/samples`;

/** The text of fixtures/samples/<interval>.json. */
export function sampleFixtureText(interval: Interval): Promise<string> {
  return Deno.readTextFile(`${DIR}/${interval}.json`);
}

/**
 * A fresh copy of the valid payload for an interval, as the server parses
 * it (defaults filled in), so its type is true.
 */
export async function sampleFixture<I extends Interval>(
  interval: I,
): Promise<PayloadFor<I>> {
  return parsed(interval, JSON.parse(await sampleFixtureText(interval)));
}

function parsed<I extends Interval>(interval: I, raw: unknown): PayloadFor<I> {
  const result = parsePayload(interval, raw);
  if (!result.ok) {
    throw new Error(`fixtures/samples/${interval}.json: ${result.message}`);
  }
  return result.payload;
}

/**
 * The fixture of `interval` with `parts` in place of its sections, parsed
 * as the server parses what an agent sends, with its interval: what the
 * alert engine is given after a commit.
 */
export async function fixtureSample(
  interval: Interval,
  parts: Record<string, unknown> = {},
): Promise<SamplePayload> {
  const raw = { ...JSON.parse(await sampleFixtureText(interval)), ...parts };
  switch (interval) {
    case "fast":
      return { interval, data: parsed(interval, raw) };
    case "medium":
      return { interval, data: parsed(interval, raw) };
    case "slow":
      return { interval, data: parsed(interval, raw) };
  }
}
