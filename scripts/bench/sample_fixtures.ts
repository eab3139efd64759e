/**
 * Sample payloads for the benchmarks, taken from the repository's valid
 * sample fixtures (`fixtures/samples/{fast,medium,slow}.json`), which the
 * server's own tests use, so load looks like what a real agent sends.
 */
import {
  type Interval,
  parsePayload,
  PAYLOAD_SCHEMAS,
  type PayloadFor,
} from "@proxmon/shared";
import * as v from "valibot";
import { REPO_ROOT } from "./paths.ts";

/** The path of the fixture for one interval. */
export function sampleFixturePath(interval: Interval): string {
  return `${REPO_ROOT}/fixtures/samples/${interval}.json`;
}

/**
 * Reads one interval's fixture and returns its `data` object, checked against
 * the payload schema. A fixture may hold the whole sample message or just
 * its data.
 */
export async function loadSampleData(
  interval: Interval,
): Promise<Record<string, unknown>> {
  const path = sampleFixturePath(interval);
  const raw = JSON.parse(await Deno.readTextFile(path));
  const data: Record<string, unknown> = raw?.type === "sample" && raw.data
    ? raw.data
    : raw;
  const parsed = v.safeParse(PAYLOAD_SCHEMAS[interval], data);
  if (!parsed.success) {
    throw new Error(
      `${path} is not a valid ${interval} payload: ${
        v.getDotPath(parsed.issues[0]) ?? "data"
      }: ${parsed.issues[0].message}`,
    );
  }
  return data;
}

/** One interval's fixture as the server parses it, typed. */
export async function loadPayload<I extends Interval>(
  interval: I,
): Promise<PayloadFor<I>> {
  const parsed = parsePayload(interval, await loadSampleData(interval));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.payload;
}
