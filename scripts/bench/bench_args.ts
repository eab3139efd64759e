/** The benchmark driver's command line, parsed by `node:util` parseArgs. */
import { parseArgs } from "node:util";
import type { Adapter } from "./ingest_bench.ts";

export const BENCHES = [
  "ingest",
  "api",
  "agent",
  "retention",
  "edges",
  "remote-write",
  "store",
  "alerts",
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
  /** `--help`: print `usage` and exit 0 */
  | { ok: true; help: true; usage: string }
  | { ok: false; error: string };

export const BENCH_USAGE =
  `usage: deno task bench[:NAME] [--quick] [--adapters=deno,node] [--json=PATH]
       deno run -A scripts/bench/main.ts <ingest|api|agent|retention|edges|remote-write|store|alerts|all>... [options]

  --quick            short runs (minutes, not tens of minutes); same targets
  --adapters=LIST    WebSocket adapters the ingest benchmark measures (deno,node)
  --json=PATH        also write the JSON summary to PATH
  --help             this text`;

const ADAPTERS: readonly Adapter[] = ["deno", "node"];

/** Parses `Deno.args`; a bad word gets the usage text in the error. */
export function parseBenchArgs(argv: string[]): BenchArgsResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        quick: { type: "boolean" },
        adapters: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    return {
      ok: false,
      error: `${(err as Error).message.split(". ")[0]}\n${BENCH_USAGE}`,
    };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, help: true, usage: BENCH_USAGE };
  const out: BenchArgs = {
    benches: [],
    quick: values.quick ?? false,
    adapters: [...ADAPTERS],
    jsonPath: values.json ?? null,
  };
  if (values.adapters !== undefined) {
    const list = values.adapters.split(",");
    if (!list.every((x) => (ADAPTERS as readonly string[]).includes(x))) {
      return {
        ok: false,
        error: `bad --adapters=${values.adapters}\n${BENCH_USAGE}`,
      };
    }
    out.adapters = list as Adapter[];
  }
  for (const word of positionals) {
    if (word === "all") out.benches.push(...BENCHES);
    else if ((BENCHES as readonly string[]).includes(word)) {
      out.benches.push(word as BenchName);
    } else {
      return { ok: false, error: `unknown benchmark ${word}\n${BENCH_USAGE}` };
    }
  }
  if (out.benches.length === 0) return { ok: false, error: BENCH_USAGE };
  return { ok: true, args: out };
}
