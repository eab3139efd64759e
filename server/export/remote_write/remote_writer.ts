/**
 * remote_write: every stored sample's series go to REMOTE_WRITE_URL, with
 * the sample's collected_at as their timestamp, through the durable queue.
 *
 * The queue row is written in the sample's own ingest transaction, so a
 * sample that was acked is queued too, crash or not. One pump sends the
 * oldest rows in batches, up to `maxInFlight` requests at a time, and
 * removes rows only once the receiver answered 2xx to their request and to
 * every request before it, so the queue only ever loses its head. More than
 * one in flight can deliver a series' samples out of order (a later request
 * may land first): VictoriaMetrics takes that, plain Prometheus refuses them,
 * hence the default of 1 (REMOTE_WRITE_MAX_IN_FLIGHT). On this 2-core
 * machine with the receiver on loopback, 2 drained no faster than 1; it
 * pays when the receiver is a round trip away. Network errors, 5xx and 429 are retried
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
import type { HostSample } from "../metric_families.ts";
import { concatCompressed, REMOTE_WRITE_HEADERS } from "./write_request.ts";
import { createSampleEncoder } from "./sample_encoder.ts";
import { decodeShape, fillShape, type QueueShape } from "./queue_shape.ts";
import {
  deleteThrough,
  dropEnqueuedBefore,
  dropUnusedShapes,
  lastShapeId,
  type QueuedRow,
  queuedSamples,
  queueHead,
  readHead,
  readShapes,
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

/** The part that sends the queue: here, or on a Worker (`worker_pump.ts`). */
export interface Pump {
  /** Told after a commit how many series the stored samples queued. */
  stored(samples: number): void;
  /** Starts the pump (reads the queue's size first). */
  start(): Promise<void>;
  /** Stops the pump; a request in flight is awaited, its rows kept if unsent. */
  stop(): Promise<void>;
  status(): Promise<RemoteWriteStatus>;
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
  /** requests in flight at once (default: the config's, REMOTE_WRITE_MAX_IN_FLIGHT) */
  maxInFlight?: number;
  /** idle poll and first retry delay */
  pollMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /**
   * Where the pump runs instead of here: `startWorkerPump` puts it on a
   * Worker with its own connection, off the thread ingest runs on.
   */
  pump?: (deps: RemoteWriterDeps) => Pump;
}

/** What a pump needs that can cross to a Worker (no functions, no connection). */
export type PumpOptions = Pick<
  RemoteWriterDeps,
  | "config"
  | "maxSamplesPerRequest"
  | "maxInFlight"
  | "pollMs"
  | "maxBackoffMs"
  | "requestTimeoutMs"
>;

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
/** Requests' worth of rows read at once. */
const READ_AHEAD = 8;
/** Rows looked at by one read at most. */
const MAX_ROWS_PER_READ = 8_000;
/** Shapes the pump keeps decoded (a host has up to three in use). */
const MAX_CACHED_SHAPES = 10_000;
/** A snappy block of nothing: what a row that cannot be sent becomes. */
const EMPTY_REQUEST = new Uint8Array([0]);

/** Queue rows sent together, and where they are. */
interface Batch {
  rows: QueuedRow[];
  lastId: number;
  samples: number;
  /** one row of a refused batch, resent alone */
  isolated: boolean;
  state: "waiting" | "sending" | "done";
}

/**
 * The remote writer: samples' rows made on the ingest thread, sent by its
 * pump (here unless `deps.pump` says otherwise); nothing runs until
 * `start()`.
 */
export function createRemoteWriter(deps: RemoteWriterDeps): RemoteWriter {
  const { database, clock, config } = deps;
  /** the next shape id; null until `start()` read the last one stored */
  let nextShapeId: number | null = null;
  const encoder = createSampleEncoder({
    datasets: config.datasets,
    shapeId: () => nextShapeId === null ? null : nextShapeId++,
  });
  const pump = (deps.pump ?? createPump)(deps);
  let started = false;
  return {
    prepare(sample) {
      const encoded = encoder.encode(sample);
      if (encoded === null) return null;
      const { body, samples, shape } = encoded;
      return {
        queued: { enqueuedAtMs: clock.now(), samples, body, shape },
        samples,
      };
    },
    stored: (samples) => pump.stored(samples),
    async start() {
      if (started) return;
      started = true;
      // Ids above any stored: a restarted server's encoder starts afresh.
      nextShapeId = await lastShapeId(database) + 1;
      await pump.start();
    },
    stop: () => pump.stop(),
    status: () => pump.status(),
  };
}

/** The pump, on this thread: sends the queue's rows, oldest first. */
export function createPump(
  deps:
    & Pick<RemoteWriterDeps, "database" | "clock" | "log" | "fetch">
    & PumpOptions,
): Pump {
  const { database, clock, log, config } = deps;
  const doFetch = deps.fetch ?? fetch;
  const maxSamples = deps.maxSamplesPerRequest ?? 10_000;
  const maxInFlight = deps.maxInFlight ?? config.maxInFlight;
  const pollMs = deps.pollMs ?? 1_000;
  const maxBackoffMs = deps.maxBackoffMs ?? 5_000;
  const timeoutMs = deps.requestTimeoutMs ?? 30_000;
  const target = shownUrl(config.url);
  const headers = { ...REMOTE_WRITE_HEADERS, ...authHeader(config) };
  const shapes = new Map<number, QueueShape>();
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

  const sleep = (ms: number) =>
    stopping ? Promise.resolve() : new Promise<void>((resolve) => {
      wake = resolve;
      timer = clock.setTimeout(resolve, ms);
    }).finally(() => {
      clock.clearTimeout(timer);
      wake = null;
    });

  /** Drops rows queued past the bound; says whether there were any. */
  async function dropTooOld(now: number): Promise<boolean> {
    lastDropCheck = now;
    await dropUnusedShapes(database);
    const cutoff = now - config.maxAgeMs;
    const d = await dropEnqueuedBefore(database, cutoff);
    if (d.rows === 0) return false;
    counts.droppedTooOld += d.samples;
    pendingSamples = Math.max(0, pendingSamples - d.samples);
    log.warn(
      `remote_write: dropped ${d.samples} samples (${d.rows} stored samples' series) queued before ${
        new Date(cutoff).toISOString()
      }: ${target} did not take them within REMOTE_WRITE_MAX_AGE_HOURS (${
        config.maxAgeMs / 3_600_000
      } h)`,
    );
    return true;
  }

  /** Rows taken from the queue but not yet removed, in id order. */
  const window: Batch[] = [];
  /** the last id in `window` (or removed): new batches start after it */
  let claimedThrough = 0;
  let sending = 0;
  /**
   * Deletes of sent rows, in order, not waited for by the next request:
   * the database runs one call at a time and ingest's transactions come
   * first, so under load a request that waited for its predecessor's
   * delete (and its own two reads) sent barely 2 a second. A failure stops
   * the pump at its next turn, as before.
   */
  let removal: Promise<void> = Promise.resolve();
  let removalError: { err: unknown } | null = null;
  let removeThroughId = 0;
  let removedThroughId = 0;
  /** set by a failed request: the next try waits `backoff` first */
  let retryAfterBackoff = false;
  let backoff = pollMs;
  let settled: (() => void) | null = null;
  const nextSettle = () => new Promise<void>((resolve) => settled = resolve);

  const batchOf = (rows: QueuedRow[], isolated: boolean): Batch => ({
    rows,
    lastId: rows[rows.length - 1].id,
    samples: rows.reduce((n, r) => n + r.samples, 0),
    isolated,
    state: "waiting",
  });

  /** Removes the rows of the sent batches at the window's head, in order. */
  function removeSentHead() {
    let through: number | null = null;
    while (window.length > 0 && window[0].state === "done") {
      through = window.shift()!.lastId;
    }
    if (through === null) return;
    removeThroughId = through;
    // Deletes queued behind one another collapse into the newest.
    removal = removal.then(async () => {
      if (removeThroughId <= removedThroughId) return;
      const id = removeThroughId;
      await deleteThrough(database, id);
      removedThroughId = id;
    }).catch((err) => {
      removalError ??= { err };
    });
  }

  /** The receiver's answer (status and the start of its text), or why none came. */
  async function post(
    body: Uint8Array,
  ): Promise<{ status: number; text: string } | string> {
    try {
      const res = await doFetch(config.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.ok) {
        await res.body?.cancel();
        return { status: res.status, text: "" };
      }
      return { status: res.status, text: (await res.text()).slice(0, 200) };
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      return err.message;
    }
  }

  async function send(batch: Batch): Promise<void> {
    const res = await post(concatCompressed(batch.rows.map((r) => r.body)));
    if (typeof res !== "string" && res.status < 300) {
      batch.state = "done";
      counts.sentSamples += batch.samples;
      counts.sentRequests++;
      pendingSamples = Math.max(0, pendingSamples - batch.samples);
      backoff = pollMs;
      if (failingSince !== null) {
        log.info(
          `remote_write: ${target} reachable again after ${
            Math.round((clock.now() - failingSince) / 1000)
          } s; sending the backlog`,
        );
        failingSince = null;
      }
      return removeSentHead();
    }
    if (
      typeof res !== "string" && res.status >= 400 && res.status < 500 &&
      res.status !== 429
    ) {
      if (batch.rows.length > 1) {
        // Resent one stored sample at a time, one request at a time.
        const at = window.indexOf(batch);
        window.splice(at, 1, ...batch.rows.map((r) => batchOf([r], true)));
        return;
      }
      batch.state = "done";
      counts.droppedRejected += batch.samples;
      pendingSamples = Math.max(0, pendingSamples - batch.samples);
      log.error(
        `remote_write: ${target} rejected the ${batch.samples} samples of one stored sample (collected ${
          new Date(batch.rows[0].collectedAtMs).toISOString()
        }) with HTTP ${res.status} (${res.text}); dropped them, as retrying cannot help`,
      );
      return removeSentHead();
    }
    const problem = typeof res === "string"
      ? res
      : `HTTP ${res.status} ${res.text}`;
    batch.state = "waiting";
    counts.failedRequests++;
    retryAfterBackoff = true;
    if (failingSince === null) {
      failingSince = clock.now();
      log.warn(
        `remote_write: cannot push to ${target} (${problem}); the data stays queued and is retried`,
      );
    }
  }

  function start(batch: Batch) {
    batch.state = "sending";
    sending++;
    send(batch).catch((err) => {
      batch.state = "waiting";
      removalError ??= { err };
    }).finally(() => {
      sending--;
      settled?.();
    });
  }

  /**
   * Puts each row's compressed request in its body: a row of values gets
   * its shape's block with them written in. A row whose shape is missing
   * or does not fit (never written so) is dropped, counted and logged.
   */
  async function fillRequests(rows: QueuedRow[]): Promise<void> {
    const missing = [
      ...new Set(
        rows.flatMap((r) =>
          r.shapeId !== null && !shapes.has(r.shapeId) ? [r.shapeId] : []
        ),
      ),
    ];
    if (missing.length > 0) {
      if (shapes.size + missing.length > MAX_CACHED_SHAPES) shapes.clear();
      for (const [id, body] of await readShapes(database, missing)) {
        shapes.set(id, decodeShape(body));
      }
    }
    for (const r of rows) {
      if (r.shapeId === null) continue;
      const shape = shapes.get(r.shapeId);
      try {
        if (shape === undefined) throw new Error(`shape ${r.shapeId} missing`);
        r.body = fillShape(shape, r.body, r.collectedAtMs);
      } catch (err) {
        counts.droppedRejected += r.samples;
        pendingSamples = Math.max(0, pendingSamples - r.samples);
        log.error(
          `remote_write: dropped the ${r.samples} samples of queue row ${r.id} (collected ${
            new Date(r.collectedAtMs).toISOString()
          }): ${err instanceof Error ? err.message : err}`,
        );
        r.body = EMPTY_REQUEST;
        r.samples = 0;
      }
      r.shapeId = null;
    }
  }

  /** series of the smallest row of the last read */
  let smallestRow = 1;

  /** The next batch to send: one waiting in the window, else new rows. */
  async function nextBatch(): Promise<Batch | null> {
    const waiting = window.find((b) => b.state === "waiting");
    if (waiting !== undefined) return waiting;
    // Several requests' rows in one read (see `removal`), cut into batches.
    // The read looks at no more rows than the last read's smallest would
    // need: each row is about a page, and asking 8,000 rows' sizes to take
    // 700 of them made the read most of the pump's time.
    const rows = await readHead(
      database,
      maxSamples * READ_AHEAD,
      Math.min(
        MAX_ROWS_PER_READ,
        Math.ceil(maxSamples * READ_AHEAD / smallestRow) + 1,
      ),
      claimedThrough,
    );
    if (rows.length === 0) return null;
    smallestRow = Math.max(1, Math.min(...rows.map((r) => r.samples)));
    await fillRequests(rows);
    let from = 0, series = 0;
    rows.forEach((r, i) => {
      if (series > 0 && series + r.samples > maxSamples) {
        window.push(batchOf(rows.slice(from, i), false));
        from = i;
        series = 0;
      }
      series += r.samples;
    });
    window.push(batchOf(rows.slice(from), false));
    claimedThrough = rows[rows.length - 1].id;
    return window.find((b) => b.state === "waiting")!;
  }

  async function pump() {
    while (!stopping) {
      if (removalError !== null) throw removalError.err;
      const now = clock.now();
      if (sending === 0 && now - lastDropCheck >= DROP_CHECK_MS) {
        // Sent rows are gone before the queue may be read afresh.
        await removal;
        if (await dropTooOld(now)) {
          // Rows in the window may be gone: read the queue afresh.
          window.length = 0;
          claimedThrough = 0;
        }
      }
      // One at a time while the receiver fails or one stored sample at a
      // time is being resent; otherwise up to `maxInFlight`.
      const isolating = window.some((b) => b.isolated && b.state !== "done");
      const limit = failingSince !== null || isolating ? 1 : maxInFlight;
      if (sending >= limit) {
        await nextSettle();
        continue;
      }
      if (retryAfterBackoff && sending === 0) {
        retryAfterBackoff = false;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
        continue;
      }
      if (retryAfterBackoff) {
        await nextSettle();
        continue;
      }
      const batch = await nextBatch();
      if (batch !== null) start(batch);
      else if (sending > 0) await nextSettle();
      else await sleep(pollMs);
    }
    while (sending > 0) await nextSettle();
    await removal;
    if (removalError !== null) throw removalError.err;
  }

  return {
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
      settled?.();
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
