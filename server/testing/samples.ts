/**
 * The sample payload fixtures (fixtures/samples/*.json), for tests and
 * benchmarks that need a valid `data` for each interval.
 */
import { type Interval, parsePayload, type PayloadFor } from "@proxmon/shared";

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
  const parsed = parsePayload(
    interval,
    JSON.parse(await sampleFixtureText(interval)),
  );
  if (!parsed.ok) {
    throw new Error(`fixtures/samples/${interval}.json: ${parsed.message}`);
  }
  return parsed.payload;
}
