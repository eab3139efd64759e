/**
 * A parse in place compiled from a valibot schema: true when valibot would
 * accept the value, and then the value itself has become what valibot would
 * return (a missing key with a default gets it, in place), so the caller
 * may use it as the schema's output; false, with the value untouched, when
 * valibot would refuse it or change it some other way (strip a key, put a
 * default in place of a null, transform).
 *
 * Why: `v.safeParse` copies every object and array of its input and wraps
 * each value in a dataset object. On a 50-guest sample (20 KB of JSON) that
 * was a quarter of ingest's CPU, and most of its garbage. A payload from an
 * agent of this very version passes here; anything else (an older agent's
 * missing field, a wrong type, a key valibot would drop) answers false, and
 * the caller runs valibot, whose result and issues stay the authority.
 *
 * Only the schema kinds the payload schemas use are compiled. A schema with
 * anything else (a transformation, a fallback, an unknown kind) compiles to
 * null, and the caller always runs valibot.
 */
import type * as v from "valibot";

export type InPlaceParse = (value: unknown) => boolean;

type Check = (value: unknown) => boolean;

/** Shared by one compiled schema's walks (a walk is synchronous). */
interface Pass {
  /** keys filled with their default in this walk, undone if it fails */
  filled: [Record<string, unknown>, string][];
}

/**
 * The parts of a valibot schema or action this file reads. valibot's own
 * types describe each kind's properties separately; one loose shape keeps
 * the walk below short.
 */
interface Node {
  kind: string;
  type: string;
  entries?: Record<string, Node>;
  item?: Node;
  wrapped?: Node;
  key?: Node;
  value?: Node;
  options?: readonly unknown[];
  literal?: unknown;
  default?: unknown;
  fallback?: unknown;
  pipe?: readonly Node[];
  requirement?: unknown;
}

// valibot drops these keys when it copies an object (`_isValidObjectKey`).
const UNSAFE_KEYS = ["__proto__", "prototype", "constructor"];

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** Compiles `schema`, or returns null when it uses a kind not handled here. */
export function compileInPlaceParse(
  schema: v.GenericSchema,
): InPlaceParse | null {
  const pass: Pass = { filled: [] };
  // valibot's schemas are plain objects that describe themselves.
  const root = compileNode(schema as unknown as Node, pass);
  if (!root) return null;
  pass.filled = []; // what compiling the defaults' checks filled
  return (x) => {
    const ok = root(x);
    // A refused value is left as it came.
    if (!ok) { for (const [obj, key] of pass.filled) delete obj[key]; }
    if (pass.filled.length > 0) pass.filled = [];
    return ok;
  };
}

function compileNode(node: Node, pass: Pass): Check | null {
  if ("fallback" in node && node.fallback !== undefined) return null;
  if (node.pipe) return compilePipe(node.pipe, pass);
  switch (node.type) {
    case "string":
      return (x) => typeof x === "string";
    case "number":
      return (x) => typeof x === "number" && !Number.isNaN(x);
    case "boolean":
      return (x) => typeof x === "boolean";
    case "unknown":
    case "any":
      return () => true;
    case "literal": {
      const lit = node.literal;
      return (x) => x === lit;
    }
    case "picklist": {
      const options = node.options ?? [];
      return (x) => options.includes(x);
    }
    case "optional":
      return wrap(node, pass, (x) => x === undefined);
    case "nullable":
      return wrap(node, pass, (x) => x === null);
    case "nullish":
      return wrap(node, pass, (x) => x === null || x === undefined);
    case "array":
      return compileArray(node, pass);
    case "record":
      return compileRecord(node, pass);
    case "loose_object":
      return compileObject(node, pass, true);
    case "object":
      return compileObject(node, pass, false);
    default:
      return null;
  }
}

/**
 * optional, nullable, nullish: an empty value that is there passes only
 * when there is no default to put in its place (a missing key is the
 * object's to fill).
 */
function wrap(
  node: Node,
  pass: Pass,
  empty: (x: unknown) => boolean,
): Check | null {
  const inner = node.wrapped && compileNode(node.wrapped, pass);
  if (!inner) return null;
  const keepsEmpty = node.default === undefined;
  return (x) => (empty(x) ? keepsEmpty : inner(x));
}

function compileArray(node: Node, pass: Pass): Check | null {
  const item = node.item && compileNode(node.item, pass);
  if (!item) return null;
  return (x) => {
    if (!Array.isArray(x)) return false;
    for (let i = 0; i < x.length; i++) if (!item(x[i])) return false;
    return true;
  };
}

function compileRecord(node: Node, pass: Pass): Check | null {
  const key = node.key && compileNode(node.key, pass);
  const value = node.value && compileNode(node.value, pass);
  if (!key || !value) return null;
  return (x) => {
    if (!isRecord(x)) return false;
    for (const k in x) {
      if (!Object.hasOwn(x, k) || UNSAFE_KEYS.includes(k)) return false;
      if (!key(k) || !value(x[k])) return false;
    }
    return true;
  };
}

const OPTIONAL_TYPES = ["optional", "nullish", "exact_optional"];

/** What a missing key does: nothing, take a default, or fail. */
type Missing =
  | { kind: "skip" }
  | { kind: "fill"; value: () => unknown }
  | { kind: "fail" };

function missingOf(entry: Node, check: Check): Missing {
  if (!OPTIONAL_TYPES.includes(entry.type)) return { kind: "fail" };
  const d = entry.default;
  if (d === undefined) return { kind: "skip" };
  // A default valibot computes, or one its own schema refuses: valibot's.
  if (typeof d === "function" || !check(structuredClone(d))) {
    return { kind: "fail" };
  }
  // valibot's output holds a copy of an object default, never the schema's
  // own instance, completed as its schema completes it.
  return typeof d === "object" && d !== null
    ? {
      kind: "fill",
      value: () => {
        const copy = structuredClone(d);
        check(copy);
        return copy;
      },
    }
    : { kind: "fill", value: () => d };
}

function compileObject(node: Node, pass: Pass, loose: boolean): Check | null {
  const names = Object.keys(node.entries ?? {});
  const entries: { name: string; check: Check; missing: Missing }[] = [];
  for (const name of names) {
    const entry = node.entries![name];
    const check = compileNode(entry, pass);
    if (!check) return null;
    entries.push({ name, check, missing: missingOf(entry, check) });
  }
  const unsafe = UNSAFE_KEYS.filter((k) => !names.includes(k));
  return (x) => {
    if (!isRecord(x)) return false;
    for (const e of entries) {
      // valibot asks `in`, not own: the same for a JSON object
      if (e.name in x) {
        if (!e.check(x[e.name])) return false;
      } else if (e.missing.kind === "fill") {
        x[e.name] = e.missing.value();
        pass.filled.push([x, e.name]);
      } else if (e.missing.kind === "fail") return false;
    }
    if (loose) {
      for (const k of unsafe) if (Object.hasOwn(x, k)) return false;
    } else {
      for (const k in x) if (!names.includes(k)) return false;
    }
    return true;
  };
}

/** A pipe: its schema, then validation actions; any transformation: null. */
function compilePipe(pipe: readonly Node[], pass: Pass): Check | null {
  const [first, ...actions] = pipe;
  // The first item is the schema the pipe was made of, without the pipe.
  const base = compileNode({ ...first, pipe: undefined }, pass);
  if (!base) return null;
  const checks: Check[] = [];
  for (const a of actions) {
    if (a.kind === "metadata") continue;
    if (a.kind !== "validation") return null;
    const c = compileAction(a);
    if (!c) return null;
    checks.push(c);
  }
  return (x) => {
    if (!base(x)) return false;
    for (const c of checks) if (!c(x)) return false;
    return true;
  };
}

function compileAction(a: Node): Check | null {
  const req = a.requirement;
  switch (a.type) {
    case "integer":
      return (x) => Number.isInteger(x);
    case "finite":
      return (x) => Number.isFinite(x);
    case "min_value":
      return (x) => (x as number) >= (req as number);
    case "max_value":
      return (x) => (x as number) <= (req as number);
    case "min_length":
      return (x) => (x as string | unknown[]).length >= (req as number);
    case "max_length":
      return (x) => (x as string | unknown[]).length <= (req as number);
    case "regex":
      return (x) => (req as RegExp).test(x as string);
    default:
      return null;
  }
}
