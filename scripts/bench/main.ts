/**
 * Benchmark driver.
 *
 *   deno run -A scripts/bench/main.ts <NAME...|all> [--quick]
 *     [--adapters=deno,node] [--json=PATH] [--help]
 *
 * (the names: BENCHES in bench_args.ts)
 *
 * Progress goes to stderr; stdout gets the JSON summary, then one line per
 * benchmark with its headline figures. Exits 1 when a target was missed.
 */
import { runAgentBench } from "./agent_bench.ts";
import { runApiBench } from "./api_bench.ts";
import { runIngestBench } from "./ingest_bench.ts";
import { runEdgesBench } from "./edges_bench.ts";
import { allPassed, type BenchReport } from "./report.ts";
import { runRetentionBench } from "./retention_bench.ts";
import { runRemoteWriteBench } from "./remote_write_bench.ts";
import { type BenchName, parseBenchArgs } from "./bench_args.ts";
import { runStoreBench } from "./store_bench.ts";
import { runAlertsBench } from "./alerts_bench.ts";

type BenchRunner = (
  opts: { quick: boolean; log: (msg: string) => void },
) => Promise<BenchReport>;

/** Every benchmark but ingest, which also takes the adapters. */
const RUNNERS: Record<Exclude<BenchName, "ingest">, BenchRunner> = {
  api: runApiBench,
  agent: runAgentBench,
  retention: runRetentionBench,
  edges: runEdgesBench,
  "remote-write": runRemoteWriteBench,
  store: runStoreBench,
  alerts: runAlertsBench,
};

async function main(): Promise<number> {
  const parsed = parseBenchArgs(Deno.args);
  if (!parsed.ok) {
    console.error(parsed.error);
    return 2;
  }
  if ("help" in parsed) {
    console.log(parsed.usage);
    return 0;
  }
  const args = parsed.args;
  const log = (msg: string) =>
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const reports: BenchReport[] = [];
  for (const bench of args.benches) {
    log(`== ${bench}${args.quick ? " --quick" : ""}`);
    reports.push(
      bench === "ingest"
        ? await runIngestBench({
          quick: args.quick,
          adapters: args.adapters,
          log,
        })
        : await RUNNERS[bench]({ quick: args.quick, log }),
    );
    log(reports[reports.length - 1].line);
  }
  const summary = {
    command: `deno run -A scripts/bench/main.ts ${Deno.args.join(" ")}`,
    reports,
  };
  const json = JSON.stringify(summary, null, 2);
  if (args.jsonPath) await Deno.writeTextFile(args.jsonPath, json + "\n");
  console.log(json);
  for (const r of reports) console.log(r.line);
  return allPassed(reports) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
