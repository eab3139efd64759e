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
  /**
   * Read each answer over one kept-alive socket into one reused buffer
   * (see `PooledHttp`) instead of with `fetch`.
   */
  pooled?: boolean;
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

/**
 * HTTP/1.1 GETs over one kept-alive connection, each body read into the
 * same 256 KB buffer and dropped, as Prometheus' scraper does (it reads
 * into pooled buffers). `fetch` allocates every chunk of a 6 MB `/metrics`
 * body afresh: this process's own mark-compacts every ten scrapes or so
 * (pauses up to 20 ms) were in the latencies it measured. Answers must
 * carry Content-Length (the server sets it on `/metrics`).
 */
class PooledHttp {
  #conn: Deno.TcpConn | null = null;
  #buf = new Uint8Array(256 * 1024);
  /** bytes of the next answer already read, at the buffer's start */
  #have = 0;

  constructor(readonly url: URL) {}

  async get(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; size: number }> {
    this.#conn ??= await Deno.connect({
      hostname: this.url.hostname,
      port: Number(this.url.port),
    });
    const conn = this.#conn;
    const head = [
      `GET ${path} HTTP/1.1`,
      `Host: ${this.url.host}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ].join("\r\n");
    const out = new TextEncoder().encode(head);
    for (let at = 0; at < out.length;) at += await conn.write(out.subarray(at));
    // The head: read until its blank line.
    let end = -1;
    while ((end = this.#headEnd()) < 0) await this.#fill();
    const text = new TextDecoder().decode(this.#buf.subarray(0, end));
    const status = Number(text.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
    if (length === null) throw new Error(`no Content-Length in ${text}`);
    let left = Number(length[1]);
    const size = left;
    // The body: count it and drop it, keeping what follows it.
    let at = end + 4;
    for (;;) {
      const n = Math.min(left, this.#have - at);
      left -= n;
      at += n;
      if (left === 0) break;
      this.#have = at = 0;
      await this.#fill();
    }
    this.#buf.copyWithin(0, at, this.#have);
    this.#have -= at;
    return { status, size };
  }

  #headEnd(): number {
    const b = this.#buf;
    for (let i = 0; i + 3 < this.#have; i++) {
      if (
        b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10
      ) {
        return i;
      }
    }
    return -1;
  }

  async #fill(): Promise<void> {
    if (this.#have === this.#buf.length) {
      throw new Error("answer head too long");
    }
    const n = await this.#conn!.read(this.#buf.subarray(this.#have));
    if (n === null) throw new Error("connection closed mid-answer");
    this.#have += n;
  }

  close(): void {
    this.#conn?.close();
  }
}

async function runRound(
  base: string,
  round: ApiRound,
): Promise<ApiRoundResult> {
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  let bytes = 0;
  const pooled = round.pooled ? new PooledHttp(new URL(base)) : null;
  for (let i = 0; i < round.paths.length; i++) {
    const t = performance.now();
    let res: { status: number }, size: number;
    if (pooled !== null) {
      ({ size, ...res } = await pooled.get(
        round.paths[i],
        round.headers ?? {},
      ));
    } else {
      res = await fetch(base + round.paths[i], { headers: round.headers });
      size = await bodySize(res as Response);
    }
    const ms = performance.now() - t;
    if (res.status !== 200) {
      failures.push(`${res.status} ${round.paths[i]}`);
      continue;
    }
    if (i < round.warmup) continue;
    latenciesMs.push(ms);
    bytes += size;
  }
  pooled?.close();
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
