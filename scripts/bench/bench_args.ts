/** The benchmark driver's command line, parsed by a pure function. */
import type { Adapter } from "./ingest_bench.ts";

export const BENCHES = [
  "ingest",
  "api",
  "agent",
  "retention",
  "edges",
  "remote-write",
] as const;
export type BenchName = typeof BENCHES[number];

export interface BenchArgs {
  benches: BenchName[];
  quick: boolean;
  adapters: Adapter[];
  /** also write the JSON summary here */
  jsonPath: string | null;
}

export type BenchArgsResult =
  | { ok: true; args: BenchArgs }
  | { ok: false; error: string };

const USAGE =
  "usage: main.ts <ingest|api|agent|retention|edges|remote-write|all> [--quick] [--adapters=deno,node] [--json=PATH]";

/** Parses `Deno.args`; an unknown word gets the usage line as the error. */
export function parseBenchArgs(argv: string[]): BenchArgsResult {
  const out: BenchArgs = {
    benches: [],
    quick: false,
    adapters: ["deno", "node"],
    jsonPath: null,
  };
  for (const a of argv) {
    if (a === "--quick") out.quick = true;
    else if (a.startsWith("--adapters=")) {
      const list = a.slice("--adapters=".length).split(",");
      if (list.some((x) => x !== "deno" && x !== "node") || !list.length) {
        return { ok: false, error: `bad ${a}\n${USAGE}` };
      }
      out.adapters = list as Adapter[];
    } else if (a.startsWith("--json=")) out.jsonPath = a.slice(7);
    else if (a === "all") out.benches.push(...BENCHES);
    else if ((BENCHES as readonly string[]).includes(a)) {
      out.benches.push(a as BenchName);
    } else return { ok: false, error: `unknown argument ${a}\n${USAGE}` };
  }
  if (out.benches.length === 0) return { ok: false, error: USAGE };
  return { ok: true, args: out };
}
