/**
 * The tolerant payload parser. A sample from an agent older or newer than
 * the server must be stored, not refused: missing fields get their schema
 * default, unknown fields are kept, and a field with the wrong type is
 * replaced by its default and named in its collector's `errors` with the
 * tag `schema`. Only a `data` that is not an object cannot be stored.
 */
import * as v from "valibot";
import {
  type CollectorError,
  type Interval,
  PAYLOAD_SCHEMAS,
  type PayloadFor,
} from "./samples.ts";
import { compileInPlaceParse } from "./in_place_parse.ts";

/** The tag of a collector error that says a field had the wrong type. */
export const SCHEMA_ERROR_TAG = "schema";

// Each pass removes every field the previous one refused, and a removed
// field takes its default, which the schema always accepts; a list item that
// is not even an object goes. Two passes settle any input; the bound only
// guards against a schema that lacks a default.
const MAX_PASSES = 8;

const DROPPED = Symbol("dropped list item");

// What a payload of this very version passes without valibot's copy; null
// (valibot every time) if a schema ever holds a kind in_place_parse.ts lacks.
const PAYLOAD_CHECKS = {
  fast: compileInPlaceParse(PAYLOAD_SCHEMAS.fast),
  medium: compileInPlaceParse(PAYLOAD_SCHEMAS.medium),
  slow: compileInPlaceParse(PAYLOAD_SCHEMAS.slow),
};

interface Refusal {
  /** top-level key of the payload: the collector */
  collector: string | null;
  message: string;
}

/**
 * Removes what an issue points at from the (copied) input. A field that is
 * there is deleted, so its default applies. A field that is missing has no
 * default (it names a list item), so the list item it belongs to is marked
 * to be dropped, as is a list item of the wrong type. Returns the outcome,
 * or null when nothing can be removed (the payload itself is wrong).
 */
function removeAt(issue: v.BaseIssue<unknown>): "default" | "dropped" | null {
  const path = issue.path;
  if (!path || path.length === 0) return null;
  const leaf = path[path.length - 1];
  if (leaf.type !== "array" && leaf.value !== undefined) {
    delete (leaf.input as Record<PropertyKey, unknown>)[leaf.key as string];
    return "default";
  }
  const item = path.findLast((p) => p.type === "array");
  if (!item) return null;
  (item.input as unknown[])[item.key as number] = DROPPED;
  return "dropped";
}

function dropMarked(value: unknown): void {
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) {
      if (value[i] === DROPPED) value.splice(i, 1);
      else dropMarked(value[i]);
    }
  } else if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) dropMarked(child);
  }
}

function describe(
  issue: v.BaseIssue<unknown>,
  outcome: "default" | "dropped",
): Refusal {
  const first = issue.path?.[0];
  return {
    collector: first && first.type === "object" ? String(first.key) : null,
    message: `${v.getDotPath(issue) ?? "data"}: ${issue.message}; ${
      outcome === "dropped" ? "item dropped" : "stored as its default"
    }`,
  };
}

export type PayloadParse<I extends Interval> =
  | { ok: true; payload: PayloadFor<I> }
  | { ok: false; message: string };

/**
 * Parses `data` against the interval's schema, tolerating what can be
 * tolerated. Fails only when it is not an object. A `data` this version's
 * schema accepts as it is, give or take defaults, gets those defaults in
 * place and is returned itself, not a copy (see in_place_parse.ts): the
 * caller owns it. Otherwise `data` is not modified.
 */
export function parsePayload<I extends Interval>(
  interval: I,
  data: unknown,
): PayloadParse<I> {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, message: "data must be a JSON object" };
  }
  // The common case, a payload of this very version, costs one walk.
  if (PAYLOAD_CHECKS[interval]?.(data)) {
    return { ok: true, payload: typed(data) };
  }
  const schema = PAYLOAD_SCHEMAS[interval];
  let result = v.safeParse(schema, data);
  if (result.success) return { ok: true, payload: typed(result.output) };

  // Issues point into the input they were found in: repair a copy.
  const input: unknown = structuredClone(data);
  result = v.safeParse(schema, input);
  // By path: a wrong-typed name, once removed, shows up again as missing,
  // and the second note (item dropped) replaces the first.
  const refusals = new Map<string, Refusal>();
  for (let pass = 0; pass < MAX_PASSES && !result.success; pass++) {
    for (const issue of result.issues) {
      const outcome = removeAt(issue);
      if (outcome === null) {
        return { ok: false, message: `${interval} payload: ${issue.message}` };
      }
      refusals.set(v.getDotPath(issue) ?? "", describe(issue, outcome));
    }
    dropMarked(input);
    result = v.safeParse(schema, input);
  }
  if (!result.success) {
    const issue = result.issues[0];
    return {
      ok: false,
      message: `${interval} payload: ${
        v.getDotPath(issue) ?? "data"
      }: ${issue.message}`,
    };
  }
  const payload: Record<string, unknown> = result.output;
  for (const r of refusals.values()) {
    const error: CollectorError = { tag: SCHEMA_ERROR_TAG, message: r.message };
    const target = r.collector === null ? null : payload[r.collector];
    if (isCollector(target)) target.errors.push(error);
    else {
      // A top-level field that is no collector of this schema: keep the
      // note beside the payload rather than lose it.
      const extra = (payload.errors ??= []) as CollectorError[];
      extra.push(error);
    }
  }
  return { ok: true, payload: typed(payload) };
}

/**
 * `PAYLOAD_SCHEMAS[interval]` has the union of the three outputs as its
 * type; the schema chosen by `interval` makes the output `PayloadFor<I>`.
 */
function typed<I extends Interval>(output: unknown): PayloadFor<I> {
  return output as PayloadFor<I>;
}

function isCollector(x: unknown): x is { errors: CollectorError[] } {
  return typeof x === "object" && x !== null &&
    Array.isArray((x as { errors?: unknown }).errors);
}
