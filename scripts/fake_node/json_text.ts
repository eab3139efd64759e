/**
 * JSON text the way the real tools print it. `JSON.stringify` cannot do
 * either thing needed here: OpenZFS prints unsigned 64-bit GUIDs beyond
 * 2^53 (kept exact as bigint), and pvesh's `json` format sorts object keys.
 */

export type JsonValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | JsonValue[]
  | JsonObject;

/** An object whose `undefined` members are left out when printed. */
export type JsonObject = { [key: string]: JsonValue | undefined };

export interface JsonTextOptions {
  /** Sort object keys, as Perl's JSON `canonical` does for pvesh. */
  sortKeys?: boolean;
}

/** Serialises one compact line (no trailing newline); `undefined` members are left out. */
export function jsonText(value: JsonValue, opts: JsonTextOptions = {}): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new RangeError(`Cannot print non-finite number ${value} as JSON`);
    }
    return JSON.stringify(value);
  }
  if (typeof value === "string" || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => jsonText(item, opts)).join(",")}]`;
  }
  const keys = Object.keys(value).filter((key) => value[key] !== undefined);
  if (opts.sortKeys) keys.sort();
  const members = keys.map((key) =>
    `${JSON.stringify(key)}:${jsonText(value[key] as JsonValue, opts)}`
  );
  return `{${members.join(",")}}`;
}
