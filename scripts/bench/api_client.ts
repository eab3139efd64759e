/**
 * An HTTP client process for the API benchmark: requests each path in turn,
 * one at a time, and reports per-request latency (request sent to body
 * read). Run by the bench driver with an ApiClientPlan as line 1 on stdin.
 */
import { lines } from "./lines.ts";

export interface ApiRound {
  label: string;
  /** requested in order, each once; the first `warmup` are not counted */
  paths: string[];
  warmup: number;
  /** sent with every request of the round (e.g. Authorization) */
  headers?: Record<string, string>;
}

export interface ApiClientPlan {
  baseUrl: string;
  rounds: ApiRound[];
}

export interface ApiRoundResult {
  label: string;
  latenciesMs: number[];
  /** non-200 answers, with status and path */
  failures: string[];
  meanBytes: number;
}

/**
 * Reads the whole body as it arrives, the way a scraper does (Prometheus
 * copies it into a pooled buffer), without joining it into one fresh
 * buffer: for a 6 MB `/metrics` body, `arrayBuffer()` alone added about
 * 11 ms of this process's time to each request.
 */
async function bodySize(res: Response): Promise<number> {
  let size = 0;
  if (res.body === null) return size;
  for await (const chunk of res.body) size += chunk.length;
  return size;
}

async function runRound(
  base: string,
  round: ApiRound,
): Promise<ApiRoundResult> {
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let bytes = 0;
  for (let i = 0; i < round.paths.length; i++) {
    const t = performance.now();
    const res = await fetch(base + round.paths[i], { headers: round.headers });
    const size = await bodySize(res);
    const ms = performance.now() - t;
    if (res.status !== 200) {
      failures.push(`${res.status} ${round.paths[i]}`);
      continue;
    }
    if (i < round.warmup) continue;
    latenciesMs.push(ms);
    bytes += size;
  }
  return {
    label: round.label,
    latenciesMs,
    failures: failures.slice(0, 10),
    meanBytes: latenciesMs.length ? Math.round(bytes / latenciesMs.length) : 0,
  };
}

async function main(): Promise<void> {
  const first = await lines(Deno.stdin.readable).next();
  if (first.done) throw new Error("no plan on stdin");
  const plan = JSON.parse(first.value) as ApiClientPlan;
  const results: ApiRoundResult[] = [];
  for (const round of plan.rounds) {
    results.push(await runRound(plan.baseUrl, round));
  }
  console.log(JSON.stringify(results));
}

if (import.meta.main) await main();
