/**
 * remote_write: every stored sample's series go to REMOTE_WRITE_URL, with
 * the sample's collected_at as their timestamp, through the durable queue.
 *
 * The queue row is written in the sample's own ingest transaction, so a
 * sample that was acked is queued too, crash or not. One pump sends the
 * oldest rows in batches, one request at a time, and removes them only
 * once the receiver answered 2xx. Network errors, 5xx and 429 are retried
 * with backoff (capped like Prometheus' 5 s); other 4xx mean the receiver
 * will never take the data. Prometheus refuses a whole request for one
 * out-of-order sample, so a refused batch is resent one stored sample at a
 * time and only the samples still refused are dropped and counted. Rows
 * queued longer than `maxAgeMs` are dropped, counted and logged.
 */
import type { QueuedWrite } from "../../store/sample_store.ts";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { RemoteWriteConfig } from "../../config.ts";
import type { Database } from "../../store/client.ts";
import type { Logger } from "@proxmon/shared/logger";
import { type HostSample, payloadSeries } from "../metric_families.ts";
import {
  compress,
  concatCompressed,
  encodeSeries,
  REMOTE_WRITE_HEADERS,
} from "./write_request.ts";
import {
  deleteThrough,
  dropEnqueuedBefore,
  queuedSamples,
  queueHead,
  readHead,
} from "./remote_write_queue.ts";

export interface RemoteWriteStatus {
  pendingRequests: number;
  pendingSamples: number;
  /** age of the oldest queued row, seconds; 0 when empty */
  lagSeconds: number;
  sentSamples: number;
  sentRequests: number;
  droppedTooOld: number;
  droppedRejected: number;
  failedRequests: number;
}

export interface PreparedEntry {
  queued: QueuedWrite;
  samples: number;
}

export interface RemoteWriter {
  /** The queue row for a sample, written in its ingest transaction. */
  prepare(sample: HostSample): PreparedEntry | null;
  /** Told after a commit how many series the stored samples queued. */
  stored(samples: number): void;
  /** Starts the pump (reads the queue's size first). */
  start(): Promise<void>;
  /** Stops the pump; a request in flight is awaited, its rows kept if unsent. */
  stop(): Promise<void>;
  status(): Promise<RemoteWriteStatus>;
}

export interface RemoteWriterDeps {
  database: Database;
  clock: Clock;
  log: Logger;
  config: RemoteWriteConfig;
  fetch?: typeof fetch;
  /** series per request (default 10,000) */
  maxSamplesPerRequest?: number;
  /** idle poll and first retry delay */
  pollMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
}

/** The receiver's address without credentials, for logs. */
export function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function authHeader(config: RemoteWriteConfig): Record<string, string> {
  const a = config.auth;
  if (a === null) return {};
  if (a.type === "bearer") return { Authorization: `Bearer ${a.token}` };
  const raw = new TextEncoder().encode(`${a.username}:${a.password}`);
  return { Authorization: `Basic ${btoa(String.fromCharCode(...raw))}` };
}

const DROP_CHECK_MS = 60_000;

type Attempt = "sent" | "rejected" | "failed" | "empty";

/** Creates the remote writer; nothing runs until `start()`. */
export function createRemoteWriter(deps: RemoteWriterDeps): RemoteWriter {
  const { database, clock, log, config } = deps;
  const doFetch = deps.fetch ?? fetch;
  const maxSamples = deps.maxSamplesPerRequest ?? 10_000;
  const pollMs = deps.pollMs ?? 1_000;
  const maxBackoffMs = deps.maxBackoffMs ?? 5_000;
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  const target = shownUrl(config.url);
  const headers = { ...REMOTE_WRITE_HEADERS, ...authHeader(config) };
  const counts = {
    sentSamples: 0,
    sentRequests: 0,
    droppedTooOld: 0,
    droppedRejected: 0,
    failedRequests: 0,
  };
  let pendingSamples = 0;
  let stopping = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let timer: TimerId | undefined;
  let lastDropCheck = -Infinity;
  let failingSince: number | null = null;
  /** after a 4xx, rows up to this id go one at a time (see the top) */
  let isolateThrough = 0;

  const sleep = (ms: number) =>
    stopping ? Promise.resolve() : new Promise<void>((resolve) => {
      wake = resolve;
      timer = clock.setTimeout(resolve, ms);
    }).finally(() => {
      clock.clearTimeout(timer);
      wake = null;
    });

  async function dropTooOld(now: number) {
    lastDropCheck = now;
    const cutoff = now - config.maxAgeMs;
    const d = await dropEnqueuedBefore(database, cutoff);
    if (d.rows === 0) return;
    counts.droppedTooOld += d.samples;
    pendingSamples = Math.max(0, pendingSamples - d.samples);
    log.warn(
      `remote_write: dropped ${d.samples} samples (${d.rows} stored samples' series) queued before ${
        new Date(cutoff).toISOString()
      }: ${target} did not take them within REMOTE_WRITE_MAX_AGE_HOURS (${
        config.maxAgeMs / 3_600_000
      } h)`,
    );
  }

  async function attempt(): Promise<Attempt> {
    let rows = await readHead(database, maxSamples, 1_000);
    if (rows.length === 0) return "empty";
    if (rows[0].id <= isolateThrough) rows = rows.slice(0, 1);
    const samples = rows.reduce((n, r) => n + r.samples, 0);
    const body = concatCompressed(rows.map((r) => r.body));
    const lastId = rows[rows.length - 1].id;
    let problem: string;
    try {
      const res = await doFetch(config.url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = res.ok ? "" : (await res.text()).slice(0, 200);
      if (res.ok) await res.body?.cancel();
      if (res.ok) {
        await deleteThrough(database, lastId);
        counts.sentSamples += samples;
        counts.sentRequests++;
        pendingSamples = Math.max(0, pendingSamples - samples);
        return "sent";
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        if (rows.length > 1) {
          isolateThrough = lastId;
          return "rejected";
        }
        await deleteThrough(database, lastId);
        counts.droppedRejected += samples;
        pendingSamples = Math.max(0, pendingSamples - samples);
        log.error(
          `remote_write: ${target} rejected the ${samples} samples of one stored sample (collected ${
            new Date(rows[0].collectedAtMs).toISOString()
          }) with HTTP ${res.status} (${text}); dropped them, as retrying cannot help`,
        );
        return "rejected";
      }
      problem = `HTTP ${res.status} ${text}`;
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      problem = err.message;
    }
    counts.failedRequests++;
    if (failingSince === null) {
      failingSince = clock.now();
      log.warn(
        `remote_write: cannot push to ${target} (${problem}); the data stays queued and is retried`,
      );
    }
    return "failed";
  }

  async function pump() {
    let backoff = pollMs;
    while (!stopping) {
      const now = clock.now();
      if (now - lastDropCheck >= DROP_CHECK_MS) await dropTooOld(now);
      const result = await attempt();
      if (result === "failed") {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
        continue;
      }
      if (failingSince !== null) {
        log.info(
          `remote_write: ${target} reachable again after ${
            Math.round((clock.now() - failingSince) / 1000)
          } s; sending the backlog`,
        );
        failingSince = null;
      }
      backoff = pollMs;
      if (result === "empty") await sleep(pollMs);
    }
  }

  return {
    prepare(sample) {
      const series = payloadSeries(sample.hostName, sample, {
        datasets: config.datasets,
      });
      if (series.length === 0) return null;
      const body = compress(encodeSeries(series, sample.collectedAtMs));
      return {
        queued: { enqueuedAtMs: clock.now(), samples: series.length, body },
        samples: series.length,
      };
    },
    stored(samples) {
      pendingSamples += samples;
      // An idle pump sleeps; new data needs no wait. A failing pump keeps
      // its backoff, or an outage would turn every commit into a request.
      if (failingSince === null) wake?.();
    },
    async start() {
      if (loop !== null) return;
      pendingSamples = await queuedSamples(database);
      loop = pump().catch((err) => {
        log.error("remote_write: the pump stopped:", err);
      });
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
    },
    async status() {
      const head = await queueHead(database);
      return {
        ...counts,
        pendingRequests: head.rows,
        pendingSamples: head.rows === 0 ? 0 : pendingSamples,
        lagSeconds: head.oldestEnqueuedAtMs === null
          ? 0
          : Math.max(0, (clock.now() - head.oldestEnqueuedAtMs) / 1000),
      };
    },
  };
}
