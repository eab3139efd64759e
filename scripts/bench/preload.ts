/**
 * Builds a SQLite file that looks like N hosts reporting for H hours at the
 * default intervals, in the series store, and caches it under data/bench/
 * keyed by every parameter and by the inputs' content, so reruns reuse it.
 * The samples are written as first-version rows (`metrics`, batched inserts,
 * no server involved) and then converted once, here, by the production
 * converter: a server started on the file has nothing left to convert
 * (converting 152k rows at start took longer than a bench's 30 s start
 * timeout).
 */
import type { Client } from "@libsql/client";
import type { Interval } from "@proxmon/shared";
import {
  checkpointWal,
  type Database,
  openDatabase,
} from "../../server/store/client.ts";
import { importLegacyMetrics } from "../../server/store/legacy_import.ts";
import { storedSampleCounts } from "../../server/store/sample_count.ts";
import { type TierName, TIERS } from "../../server/store/tiers.ts";
import { BENCH_DATA_DIR, REPO_ROOT } from "./paths.ts";
import {
  loadPayload,
  loadSampleData,
  sampleFixturePath,
} from "./sample_fixtures.ts";
// seeded, so every build is identical
import { prng } from "./store_samples.ts";

export interface PreloadSpec {
  hosts: number;
  hours: number;
  /** seconds between samples; the defaults are 10, 60 and 1800 */
  intervals: Record<Interval, number>;
  hostPrefix: string;
}

/** What the series store of a preloaded file holds. */
export interface StoreContents {
  /** samples the store holds per interval (storedSampleCounts) */
  samples: Record<Interval, number>;
  series: number;
  blocks: Record<TierName, number>;
  /** samples not yet compacted: those of the raw window still open at endMs */
  headRows: number;
  stateChanges: number;
}

export interface PreloadedDb {
  path: string;
  spec: PreloadSpec;
  /** collected_at of the newest sample (epoch ms) */
  endMs: number;
  startMs: number;
  /** samples generated per interval, each converted into the store */
  generated: Record<Interval, number>;
  /** characters of JSON payload generated, what agents would have sent */
  payloadBytes: number;
  store: StoreContents;
  hostNames: string[];
  fileBytes: number;
  /** how long the build took (fill and conversion), or null when cached */
  buildMs: number | null;
  /** how long the conversion into the series store took */
  convertMs: number;
}

export const DEFAULT_INTERVALS: Record<Interval, number> = {
  fast: 10,
  medium: 60,
  slow: 1800,
};

// Bump when the generated content changes shape.
// 2: converted into the series store at build time.
const PRELOAD_VERSION = 2;
const ROWS_PER_INSERT = 150;
const ROWS_PER_TRANSACTION = 50_000;

/** The host names a spec produces, in id order. */
export function preloadHostNames(spec: PreloadSpec): string[] {
  return Array.from(
    { length: spec.hosts },
    (_, i) => `${spec.hostPrefix}${String(i + 1).padStart(3, "0")}`,
  );
}

/** The text of the files directly in `dir` whose names `keep`, by name. */
function textsIn(dir: string, keep: (name: string) => boolean) {
  return Promise.all(
    [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && keep(e.name))
      .map((e) => e.name)
      .sort()
      .map((n) => Deno.readTextFile(`${dir}/${n}`)),
  );
}

async function cacheKey(spec: PreloadSpec): Promise<string> {
  const inputs = [
    JSON.stringify({ spec, PRELOAD_VERSION }),
    ...await Promise.all(
      (["fast", "medium", "slow"] as const).map((i) =>
        Deno.readTextFile(sampleFixturePath(i))
      ),
    ),
    ...await textsIn(
      `${REPO_ROOT}/server/store/migrations`,
      (n) => n.endsWith(".sql"),
    ),
    // The converter, codecs and compaction decide what the file holds.
    ...await textsIn(
      `${REPO_ROOT}/server/store`,
      (n) => n.endsWith(".ts") && !n.endsWith("_test.ts"),
    ),
  ];
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(inputs.join("\0")),
  );
  const hex = [...new Uint8Array(digest)].map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("").slice(0, 12);
  return `preload-${spec.hosts}h-${spec.hours}hr-${hex}`;
}

/**
 * Returns the cached database for `spec`, building it first when missing or
 * when its newest sample is older than `maxAgeMs`. The caller copies the file
 * before letting a server write to it.
 */
export async function preloadDatabase(
  spec: PreloadSpec,
  opts: { maxAgeMs?: number; nowMs: number; log: (msg: string) => void },
): Promise<PreloadedDb> {
  await Deno.mkdir(BENCH_DATA_DIR, { recursive: true });
  const key = await cacheKey(spec);
  const path = `${BENCH_DATA_DIR}/${key}.db`;
  const metaPath = `${BENCH_DATA_DIR}/${key}.json`;
  await removeStale(`preload-${spec.hosts}h-${spec.hours}hr-`, key);
  try {
    const meta = JSON.parse(await Deno.readTextFile(metaPath)) as PreloadedDb;
    const fresh = opts.maxAgeMs === undefined ||
      opts.nowMs - meta.endMs <= opts.maxAgeMs;
    if (fresh && (await Deno.stat(path)).isFile) {
      opts.log(`preload: using cached ${path}`);
      return { ...meta, buildMs: null };
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const tmp = `${path}.building`;
  for (const p of [tmp, `${tmp}-wal`, `${tmp}-shm`]) {
    await Deno.remove(p).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
  const t0 = performance.now();
  // Whole seconds, so the cached file's timestamps are easy to read.
  const endMs = Math.floor(opts.nowMs / 1000) * 1000;
  const startMs = endMs - spec.hours * 3_600_000;
  opts.log(
    `preload: building ${spec.hosts} hosts x ${spec.hours} h into ${path}`,
  );
  const database = await openDatabase(`file:${tmp}`);
  let filled: Filled;
  let store: StoreContents;
  let convertMs: number;
  try {
    filled = await fill(database.client, spec, startMs, endMs, opts.log);
    const generated = filled.rows.fast + filled.rows.medium + filled.rows.slow;
    opts.log(
      `preload: ${generated} legacy rows written in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s; converting into the series store`,
    );
    // As a live server at endMs would hold them: the raw windows closed by
    // then compacted into blocks, rollups built, the open window in the
    // head. The converter also vacuums and checkpoints the file.
    let lastLog = performance.now();
    const imported = await importLegacyMetrics(database, endMs, (done) => {
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        opts.log(`preload: converted ${done}/${generated} rows`);
      }
    });
    if (!imported || imported.samples !== generated) {
      throw new Error(
        `preload: converted ${imported?.samples ?? 0} of ${generated} rows`,
      );
    }
    convertMs = imported.ms;
    store = await storeContents(database);
    await checkpointWal(database);
    opts.log(
      `preload: converted ${generated} rows in ${
        (convertMs / 1000).toFixed(1)
      } s (${Math.round(generated / (convertMs / 1000))} rows/s)`,
    );
  } finally {
    database.close();
  }
  await Deno.rename(tmp, path);
  await Deno.remove(`${tmp}-wal`).catch(() => {});
  await Deno.remove(`${tmp}-shm`).catch(() => {});
  const meta: PreloadedDb = {
    path,
    spec,
    endMs,
    startMs,
    generated: filled.rows,
    payloadBytes: filled.payloadBytes,
    store,
    hostNames: preloadHostNames(spec),
    fileBytes: (await Deno.stat(path)).size,
    buildMs: Math.round(performance.now() - t0),
    convertMs,
  };
  await Deno.writeTextFile(metaPath, JSON.stringify(meta, null, 2));
  const { blocks } = store;
  opts.log(
    `preload: ${store.series} series, blocks raw ${blocks.raw} / 1m ${
      blocks["1m"]
    } / 1h ${blocks["1h"]}, ${store.headRows} head rows, ${
      (meta.fileBytes / 2 ** 20).toFixed(0)
    } MiB, built in ${(meta.buildMs! / 1000).toFixed(1)} s`,
  );
  return meta;
}

/** Counts what the series store of a file holds. */
async function storeContents(database: Database): Promise<StoreContents> {
  const [series, blocks, head, changes] = await database.client.batch([
    "SELECT COUNT(*) AS n FROM series",
    "SELECT tier, COUNT(*) AS n FROM series_blocks GROUP BY tier",
    "SELECT COUNT(*) AS n FROM series_head",
    "SELECT COUNT(*) AS n FROM state_changes",
  ], "read");
  const perTier: Record<TierName, number> = { raw: 0, "1m": 0, "1h": 0 };
  for (const r of blocks.rows) {
    perTier[TIERS[Number(r.tier)].name] = Number(r.n);
  }
  return {
    samples: await storedSampleCounts(database),
    series: Number(series.rows[0].n),
    blocks: perTier,
    headRows: Number(head.rows[0].n),
    stateChanges: Number(changes.rows[0].n),
  };
}

/**
 * Deletes cached files of the same shape built from older inputs (fixtures
 * or migrations changed), so data/bench/ does not fill the disk.
 */
async function removeStale(prefix: string, keep: string): Promise<void> {
  for await (const e of Deno.readDir(BENCH_DATA_DIR)) {
    if (e.name.startsWith(prefix) && !e.name.startsWith(keep)) {
      await Deno.remove(`${BENCH_DATA_DIR}/${e.name}`);
    }
  }
}

interface HostMutable {
  cpu_percent: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  mem_total_bytes: number | null;
  mem_available_bytes: number | null;
  net: { rx_bytes_per_s: number | null; tx_bytes_per_s: number | null }[];
}

/**
 * Varies the chartable numbers of a fast payload in place, so charts and
 * summaries see a plausible daily curve instead of one repeated value.
 */
function wobble(host: HostMutable, t: number, rnd: () => number): void {
  const day = Math.sin((2 * Math.PI * t) / 86_400_000);
  const cpu = Math.max(0, Math.min(100, 30 + 20 * day + 15 * rnd()));
  host.cpu_percent = Math.round(cpu * 10) / 10;
  host.load1 = Math.round(cpu * 4) / 100;
  host.load5 = host.load1;
  host.load15 = host.load1;
  if (host.mem_total_bytes !== null) {
    host.mem_available_bytes = Math.round(
      host.mem_total_bytes * (0.4 + 0.1 * day + 0.05 * rnd()),
    );
  }
  for (const n of host.net) {
    n.rx_bytes_per_s = Math.round(1e6 * (1 + day + rnd()));
    n.tx_bytes_per_s = Math.round(4e5 * (1 + day + rnd()));
  }
}

interface Filled {
  rows: Record<Interval, number>;
  payloadBytes: number;
}

async function fill(
  client: Client,
  spec: PreloadSpec,
  startMs: number,
  endMs: number,
  log: (msg: string) => void,
): Promise<Filled> {
  const data = {
    fast: await loadPayload("fast"),
    medium: JSON.stringify(await loadSampleData("medium")),
    slow: JSON.stringify(await loadSampleData("slow")),
  };
  const names = preloadHostNames(spec);
  await client.batch(
    names.map((name, i) => ({
      sql:
        "INSERT INTO hosts (id, name, token_hash, status, agent_version, last_seen_at, created_at) VALUES (?, ?, ?, 'offline', 'bench', ?, ?)",
      // A hash no token can match: these hosts only serve reads.
      args: [i + 1, name, "0".repeat(64), endMs, startMs],
    })),
    "write",
  );

  const rows: Record<Interval, number> = { fast: 0, medium: 0, slow: 0 };
  let payloadBytes = 0;
  const rnd = names.map((_, i) => prng(i + 1));
  let batch: (string | number | null)[] = [];
  let inBatch = 0, inTx = 0;
  let tx = await client.transaction("write");
  const flush = async () => {
    if (inBatch === 0) return;
    const values = Array(inBatch).fill("(?, ?, ?, ?, ?, ?)").join(", ");
    await tx.execute({
      sql:
        `INSERT INTO metrics (host_id, collected_at, interval_type, payload, summary, created_at) VALUES ${values}`,
      args: batch,
    });
    inTx += inBatch;
    batch = [];
    inBatch = 0;
    if (inTx >= ROWS_PER_TRANSACTION) {
      await tx.commit();
      tx = await client.transaction("write");
      inTx = 0;
    }
  };
  const add = async (
    hostId: number,
    at: number,
    interval: Interval,
    payload: string,
    summary: string | null,
  ) => {
    batch.push(hostId, at, interval, payload, summary, at + 40);
    rows[interval]++;
    payloadBytes += payload.length + (summary?.length ?? 0);
    if (++inBatch >= ROWS_PER_INSERT) await flush();
  };

  const step = spec.intervals.fast * 1000;
  let lastLog = performance.now();
  try {
    // Time-major order, as a real fleet's rows land interleaved in the table.
    for (let t = startMs + step; t <= endMs; t += step) {
      const sec = (t - startMs) / 1000;
      for (let h = 0; h < names.length; h++) {
        // Hosts start their cycles at different moments within the interval.
        const at = t - ((h * 137) % step);
        wobble(data.fast.host, at, rnd[h]);
        await add(
          h + 1,
          at,
          "fast",
          JSON.stringify(data.fast),
          // The legacy table's summary column; the time-series store
          // derives everything from the payload when it converts the rows.
          null,
        );
        if (sec % spec.intervals.medium === 0) {
          await add(h + 1, at, "medium", data.medium, null);
        }
        if (sec % spec.intervals.slow === 0) {
          await add(h + 1, at, "slow", data.slow, null);
        }
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(
          `preload: ${
            Math.round((100 * (t - startMs)) / (endMs - startMs))
          }% (${rows.fast + rows.medium + rows.slow} rows)`,
        );
      }
    }
    await flush();
    await tx.commit();
  } finally {
    tx.close();
  }
  return { rows, payloadBytes };
}
