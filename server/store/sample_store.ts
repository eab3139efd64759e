/**
 * Ingest into the time-series store. One write transaction per batch puts,
 * for each sample: one row in the head table (its chartable numbers, packed),
 * the newest full payload per host and interval in `latest_samples`, and one
 * `state_changes` row per non-numeric value that changed. The transaction is
 * what makes an ack mean "durable"; compaction later moves head rows into
 * compressed blocks (compaction.ts).
 */
import type { InStatement, InValue } from "@libsql/client";
import * as v from "valibot";
import {
  Interval,
  parsePayload,
  type PayloadFor,
  type SamplePayload,
} from "@proxmon/shared";
import type { Database } from "./client.ts";
import { encodeHeadColumns } from "./head_codec.ts";
import {
  diffStates,
  extractPoints,
  extractStates,
  metricSpec,
  type Point,
  type SeriesKey,
  seriesKeyString,
  type StateValue,
} from "./series_catalog.ts";
import type { CachedLatest, HostCache, SeriesRun } from "./store_cache.ts";

/**
 * A remote_write queue row (table `remote_write_queue`) that rides along
 * with a sample: the sample's series, encoded for the receiver.
 */
export interface QueuedWrite {
  enqueuedAtMs: number;
  /** series in `body` */
  samples: number;
  /** snappy-compressed WriteRequest, or the values `shape` takes */
  body: Uint8Array;
  /** written in the same transaction unless its id is there already */
  shape?: { id: number; body: Uint8Array };
}

/** A parsed sample to store; `data` is the payload of its interval. */
export type SampleInput = SamplePayload & {
  hostId: number;
  collectedAtMs: number;
  /**
   * The token hash the sender authenticated with. When set, the sample is
   * stored only if the host still has this hash, so a rotated token cannot
   * slip a write in between rotation and the socket being closed.
   */
  tokenHash?: string;
  /**
   * A remote_write queue row, written in the same transaction when (and
   * only when) the sample is new.
   */
  queued?: QueuedWrite;
};

/**
 * What happened to one sample: stored, or already there (a replay), or
 * refused because its host is gone, its token was rotated, or its interval
 * is not fast/medium/slow.
 */
export type RecordOutcome =
  | "stored"
  | "duplicate"
  | "unknown_host"
  | "token_changed"
  | "invalid_interval";

/** A host's newest sample of one interval, as `latest_samples` holds it. */
export interface StoredSample<P = PayloadFor<Interval>> {
  hostId: number;
  interval: Interval;
  collectedAtMs: number;
  payload: P;
}

/**
 * How often the full fast and medium payloads of a host go to
 * latest_samples (slow ones always do). Their numbers and state changes
 * are durable with every sample; rewriting 20 KB payloads every 10 s or
 * every minute was most of the store's disk writes. After a crash the
 * stored payload may be this much older than the last sample: until the
 * next sample arrives (seconds), pages show it, and a state that changed
 * in between may be recorded as changed a second time.
 */
export const LATEST_WRITE_MS = 5 * 60_000;

/**
 * How often a host's `last_seen_at` is written. A row update per sample was
 * a page write per commit; the offline rule and the pages need it to the
 * minute, not to the second.
 */
export const SEEN_WRITE_MS = 30_000;

const placeholders = (n: number) => Array(n).fill("?").join(", ");
/** Bound values per statement; SQLite allows 32,766. */
const MAX_ARGS = 30_000;

/** Only samples the head does not hold yet (checked before it is written). */
const NEW_SAMPLE = `AND NOT EXISTS (SELECT 1 FROM series_head s
  WHERE s.host_id = v.column1 AND s.interval_type = v.column3
    AND s.collected_at = v.column4)`;

/**
 * `head`, then `rows` as a VALUES list `v` (host id, token hash or null,
 * interval, collected_at, …) joined to the host they belong to, then
 * `tail`: as few statements as the bound-value limit allows. A removed
 * host or a rotated token matches no host row and inserts nothing.
 */
function insertRows(
  head: string,
  rows: InValue[][],
  tail: string,
): InStatement[] {
  if (rows.length === 0) return [];
  const width = rows[0].length;
  const tuple = `(${Array(width).fill("?").join(", ")})`;
  return powerOfTwoChunks(rows, Math.floor(MAX_ARGS / width)).map((part) => ({
    sql: `${head}
      FROM (VALUES ${Array(part.length).fill(tuple).join(", ")}) AS v
      JOIN hosts h ON h.id = v.column1
        AND (v.column2 IS NULL OR h.token_hash = v.column2)
      WHERE 1 ${tail}`,
    args: part.flat(),
  }));
}

/** The remote_write shapes the batch's queue rows use, each once. */
function shapeRows(rows: Prepared[]): InStatement[] {
  const shapes = new Map<number, Uint8Array>();
  for (const p of rows) {
    const shape = p.sample.queued?.shape;
    if (shape) shapes.set(shape.id, shape.body);
  }
  // One statement per power of two of them, like the other inserts.
  return powerOfTwoChunks([...shapes], 256).map((part) => ({
    sql: `INSERT OR IGNORE INTO remote_write_shapes (id, body) VALUES ${
      Array(part.length).fill("(?, ?)").join(", ")
    }`,
    args: part.flat(),
  }));
}

/** Scales a value to its series' precision (an integer). */
export function scaleValue(key: SeriesKey, value: number): number {
  return Math.round(value * 10 ** metricSpec(key).precision);
}

/** How each point's value goes into a head row: its scale and digits. */
function headCoding(points: Point[]): Pick<SeriesRun, "scale" | "digits"> {
  const scale: number[] = [], digits: number[] = [];
  for (const { key } of points) {
    const spec = metricSpec(key);
    scale.push(10 ** spec.precision);
    digits.push(spec.digits?.[0] ?? 0);
  }
  return { scale, digits };
}

/** A sample's head row, its points coded as `coding` (its run's, if alike). */
function headRow(
  points: Point[],
  ids: (number | undefined)[],
  coding: Pick<SeriesRun, "scale" | "digits">,
): Uint8Array {
  const kept: number[] = [], scaled: number[] = [], digits: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const id = ids[i];
    if (id === undefined) continue;
    kept.push(id);
    scaled.push(Math.round(points[i].value * coding.scale[i]));
    digits.push(coding.digits[i]);
  }
  return encodeHeadColumns(kept, scaled, digits);
}

/** Most rows of one multi-row INSERT (5 bound values each; SQLite allows 32,766). */
const ROWS_PER_INSERT = 500;

/**
 * `items` in chunks of powers of two, each at most `max`, largest first
 * (37 → 32, 4, 1): statements of a few row counts only, whose prepared
 * statements the connection keeps, instead of a new text per batch size.
 */
function powerOfTwoChunks<T>(items: T[], max: number): T[][] {
  const cap = 2 ** Math.floor(Math.log2(Math.max(1, max)));
  const out: T[][] = [];
  let i = 0;
  while (i < items.length) {
    const left = items.length - i;
    const size = Math.min(cap, 2 ** Math.floor(Math.log2(left)));
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

function rowKey(r: Record<string, unknown>): string {
  return seriesKeyString({
    kind: r.kind as SeriesKey["kind"],
    object: String(r.object),
    metric: String(r.metric),
  });
}

/**
 * Loads the series ids and latest samples of every host not yet in the
 * cache, all in one read: a fleet reconnecting after a server restart is
 * a thousand hosts in the first batch.
 */
async function loadHosts(
  { client, cache }: Database,
  hostIds: Iterable<number>,
): Promise<void> {
  const missing = [...new Set(hostIds)].filter((id) => !cache.hosts.has(id));
  if (missing.length === 0) return;
  const reads = chunks(missing, ROWS_PER_INSERT).flatMap((ids) => [
    {
      sql: `SELECT host_id, id, kind, object, metric FROM series
        WHERE host_id IN (${placeholders(ids.length)})`,
      args: ids,
    },
    {
      sql: `SELECT host_id, interval_type, collected_at, payload
        FROM latest_samples WHERE host_id IN (${placeholders(ids.length)})`,
      args: ids,
    },
  ]);
  const results = await client.batch(reads, "read");
  const loaded = new Map<number, HostCache>(
    missing.map((id) => [id, { series: new Map(), latest: {} }]),
  );
  for (let i = 0; i < results.length; i += 2) {
    for (const r of results[i].rows) {
      loaded.get(Number(r.host_id))!.series.set(rowKey(r), Number(r.id));
    }
    for (const r of results[i + 1].rows) {
      const interval = v.parse(Interval, r.interval_type);
      const parsed = parsePayload(interval, JSON.parse(String(r.payload)));
      if (!parsed.ok) continue;
      const payload = parsed.payload as unknown as Record<string, unknown>;
      loaded.get(Number(r.host_id))!.latest[interval] = {
        collectedAtMs: Number(r.collected_at),
        payload,
        states: extractStates(interval, payload),
        persistedAtMs: Number(r.collected_at),
      };
    }
  }
  // Another call may have loaded some meanwhile; keep the first.
  for (const [id, entry] of loaded) {
    if (!cache.hosts.has(id)) cache.hosts.set(id, entry);
  }
}

/** Loads a host's series ids and latest samples into the cache, once. */
export async function hostCache(
  database: Database,
  hostId: number,
): Promise<HostCache> {
  await loadHosts(database, [hostId]);
  return database.cache.hosts.get(hostId)!;
}

/**
 * Gives every key a series id, inserting the missing series of all hosts in
 * one transaction of multi-row INSERTs. A host removed meanwhile gets none
 * (the EXISTS), and its samples are then refused by the write's guard.
 */
async function ensureSeries(
  database: Database,
  wanted: Map<number, SeriesKey[]>,
): Promise<void> {
  const rows: { hostId: number; key: SeriesKey; str: string }[] = [];
  for (const [hostId, keys] of wanted) {
    const entry = database.cache.hosts.get(hostId)!;
    const seen = new Set<string>();
    for (const key of keys) {
      const str = seriesKeyString(key);
      if (entry.series.has(str) || seen.has(str)) continue;
      seen.add(str);
      rows.push({ hostId, key, str });
    }
  }
  if (rows.length === 0) return;
  const statements: InStatement[] = chunks(rows, ROWS_PER_INSERT).map((
    part,
  ) => ({
    sql: `INSERT INTO series (host_id, kind, object, metric)
      SELECT v.column1, v.column2, v.column3, v.column4
      FROM (VALUES ${part.map(() => "(?, ?, ?, ?)").join(", ")}) AS v
      WHERE EXISTS (SELECT 1 FROM hosts WHERE id = v.column1)
      ON CONFLICT DO NOTHING
      RETURNING id, host_id, kind, object, metric`,
    args: part.flatMap((
      r,
    ) => [r.hostId, r.key.kind, r.key.object, r.key.metric]),
  }));
  const results = await database.client.batch(statements, "write");
  const assign = (r: Record<string, unknown>) =>
    database.cache.hosts.get(Number(r.host_id))?.series.set(
      rowKey(r),
      Number(r.id),
    );
  for (const rs of results) rs.rows.forEach(assign);
  // A row that already existed (written by another process) returns
  // nothing from the INSERT; read those back.
  const unresolved = [
    ...new Set(
      rows.filter((r) => !database.cache.hosts.get(r.hostId)!.series.has(r.str))
        .map((r) => r.hostId),
    ),
  ];
  if (unresolved.length === 0) return;
  const rs = await database.client.execute({
    sql: `SELECT host_id, id, kind, object, metric FROM series
      WHERE host_id IN (${placeholders(unresolved.length)})`,
    args: unresolved,
  });
  rs.rows.forEach(assign);
}

interface Prepared {
  index: number;
  sample: SampleInput;
  points: Point[];
  /** the series id of each point; undefined until the series exists */
  ids: (number | undefined)[];
  /** set when the sample is the newest of its interval: becomes latest */
  latest: CachedLatest | null;
  /** write it to latest_samples in this batch */
  persist: boolean;
  changes: { change: StateValue; previous: string | null }[];
}

/**
 * Works out each sample's points and state changes, in time order per
 * host, against the cache plus the batch's earlier samples.
 */
async function prepare(
  database: Database,
  samples: { index: number; sample: SampleInput }[],
): Promise<Prepared[]> {
  const sorted = [...samples].sort((a, b) =>
    a.sample.collectedAtMs - b.sample.collectedAtMs
  );
  await loadHosts(database, sorted.map((s) => s.sample.hostId));
  const overlay = new Map<number, Partial<Record<Interval, CachedLatest>>>();
  const out: Prepared[] = [];
  for (const { index, sample } of sorted) {
    // loadHosts put it there; a host removed meanwhile keeps its entry.
    const entry = database.cache.hosts.get(sample.hostId)!;
    const mine = overlay.get(sample.hostId) ?? {};
    overlay.set(sample.hostId, mine);
    const current = mine[sample.interval] ?? entry.latest[sample.interval];
    const prevFast = mine.fast ?? entry.latest.fast ?? null;
    const newer = !current || sample.collectedAtMs > current.collectedAtMs;
    // Guest rates need the previous fast sample; an older replay gets none.
    const points = extractPoints(
      sample.interval,
      sample.data,
      sample.collectedAtMs,
      newer && prevFast && prevFast.collectedAtMs < sample.collectedAtMs
        ? prevFast
        : null,
    );
    let latest: CachedLatest | null = null;
    const changes: Prepared["changes"] = [];
    if (newer) {
      const states = extractStates(sample.interval, sample.data);
      const diff = diffStates(current?.states ?? null, states);
      const before = diff.length === 0 ? new Map() : new Map(
        (current?.states ?? []).map((s) => [`${s.kind}\t${s.object}`, s.value]),
      );
      for (const change of diff) {
        changes.push({
          change,
          previous: before.get(`${change.kind}\t${change.object}`) ?? null,
        });
      }
      latest = {
        collectedAtMs: sample.collectedAtMs,
        payload: sample.data,
        states,
        persistedAtMs: current?.persistedAtMs ?? null,
      };
      mine[sample.interval] = latest;
    }
    out.push({
      index,
      sample,
      points,
      ids: seriesIdsOf(entry, sample.interval, points),
      latest,
      changes,
      persist: false,
    });
  }
  // Only the newest of a batch per host and interval can be the latest row.
  // Fast payloads, the big and frequent ones, are written at most once per
  // LATEST_WRITE_MS; in between the cache serves them (see latestSample).
  const newest = new Map<string, Prepared>();
  for (const p of out) {
    if (p.latest) newest.set(`${p.sample.hostId}\t${p.sample.interval}`, p);
  }
  for (const p of newest.values()) {
    const at = p.latest!.persistedAtMs;
    p.persist = p.sample.interval === "slow" || at === null ||
      p.sample.collectedAtMs - at >= LATEST_WRITE_MS;
    if (p.persist) p.latest!.persistedAtMs = p.sample.collectedAtMs;
  }
  const wanted = new Map<number, SeriesKey[]>();
  for (const p of out) {
    p.ids.forEach((id, i) => {
      if (id !== undefined) return;
      const list = wanted.get(p.sample.hostId) ?? [];
      list.push(p.points[i].key);
      wanted.set(p.sample.hostId, list);
    });
  }
  if (wanted.size > 0) {
    await ensureSeries(database, wanted);
    for (const p of out) {
      if (!p.ids.includes(undefined)) continue;
      const entry = database.cache.hosts.get(p.sample.hostId)!;
      p.ids = p.points.map((pt) => entry.series.get(seriesKeyString(pt.key)));
    }
  }
  for (const p of out) {
    const entry = database.cache.hosts.get(p.sample.hostId)!;
    // A sample that matched the run is the run; only a new one is kept.
    const runs = entry.runs ??= {};
    if (p.ids === runs[p.sample.interval]?.ids) continue;
    if (p.ids.includes(undefined)) continue;
    runs[p.sample.interval] = {
      keys: p.points.map((pt) => pt.key),
      ids: p.ids as number[],
      ...headCoding(p.points),
    };
  }
  return out;
}

/** The series ids of a sample's points, from the host's last run if alike. */
function seriesIdsOf(
  entry: HostCache,
  interval: Interval,
  points: Point[],
): (number | undefined)[] {
  const run = entry.runs?.[interval];
  if (run && run.keys.length === points.length) {
    let same = true;
    for (let i = 0; i < points.length && same; i++) {
      const a = points[i].key, b = run.keys[i];
      same = a.metric === b.metric && a.object === b.object &&
        a.kind === b.kind;
    }
    if (same) return run.ids;
  }
  return points.map((pt) => entry.series.get(seriesKeyString(pt.key)));
}

/**
 * Stores samples in one write transaction and returns one outcome per input,
 * in order. A replayed sample (same host, interval and collected_at) is left
 * as it is and reported as "duplicate". Every host with a sample, and every
 * id in `touch`, gets `last_seen_at = now` in the same transaction.
 */
export async function recordSamples(
  database: Database,
  samples: SampleInput[],
  now: number,
  touch: Iterable<number> = [],
  /** false when importing old samples: last_seen_at stays as it is */
  opts: { touchHosts?: boolean } = {},
): Promise<RecordOutcome[]> {
  const { client } = database;
  const valid = samples.map((s) => v.is(Interval, s.interval));
  const hostIds = [
    ...new Set([...samples.map((s) => s.hostId), ...touch]),
  ];
  if (hostIds.length === 0) return [];
  // One JSON argument rather than a placeholder per id: the text stays the
  // same whatever the batch, so its prepared statement is reused.
  const hostsSql = {
    sql: `SELECT id, token_hash FROM hosts
      WHERE id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(hostIds)],
  };
  // Points and changes are only worked out for samples that can be stored;
  // the guards in the write below catch a host removed meanwhile.
  const before = new Map(
    (await client.execute(hostsSql)).rows.map((
      r,
    ) => [Number(r.id), String(r.token_hash)]),
  );
  const storable = samples.flatMap((sample, index) => {
    const hash = before.get(sample.hostId);
    if (!valid[index] || hash === undefined) return [];
    if (sample.tokenHash !== undefined && sample.tokenHash !== hash) return [];
    return [{ index, sample }];
  });
  const prepared = await prepare(database, storable);

  // The write is a handful of multi-row statements, whatever the batch
  // size: preparing one statement per sample cost more than running it.
  // Each joins `hosts` to drop the rows of a host removed (or a token
  // rotated) since the read above; inside the transaction that cannot
  // change. Rows that depend on a sample being new (its state changes and
  // remote_write entry) run before the head insert and check that the head
  // does not hold it yet.
  const seen = new Set<string>();
  const rows: Prepared[] = [];
  for (const p of prepared) {
    const id =
      `${p.sample.hostId}\t${p.sample.interval}\t${p.sample.collectedAtMs}`;
    if (seen.has(id)) continue; // the same sample twice in one batch
    seen.add(id);
    rows.push(p);
  }
  const key = (p: Prepared) => [
    p.sample.hostId,
    p.sample.tokenHash ?? null,
    p.sample.interval,
    p.sample.collectedAtMs,
  ];
  const statements: InStatement[] = [hostsSql];
  statements.push(
    ...insertRows(
      `INSERT INTO remote_write_queue (collected_at, enqueued_at, samples, body, shape_id)
        SELECT v.column4, v.column5, v.column6, v.column7, v.column8`,
      rows.flatMap((p) => {
        const q = p.sample.queued;
        return q
          ? [[
            ...key(p),
            q.enqueuedAtMs,
            q.samples,
            q.body,
            q.shape?.id ?? null,
          ]]
          : [];
      }),
      NEW_SAMPLE,
    ),
    ...shapeRows(rows),
    ...insertRows(
      `INSERT INTO state_changes (host_id, at, kind, object, value, previous)
        SELECT v.column1, v.column4, v.column5, v.column6, v.column7, v.column8`,
      rows.flatMap((p) =>
        p.changes.map(({ change, previous }) => [
          ...key(p),
          change.kind,
          change.object,
          change.value,
          previous,
        ])
      ),
      NEW_SAMPLE,
    ),
  );
  const headFrom = statements.length;
  statements.push(
    ...insertRows(
      `INSERT INTO series_head (host_id, interval_type, collected_at, points)
        SELECT v.column1, v.column3, v.column4, v.column5`,
      rows.map((p) => {
        const run = database.cache.hosts.get(p.sample.hostId)?.runs
          ?.[p.sample.interval];
        const coding = run?.ids === p.ids ? run : headCoding(p.points);
        return [...key(p), headRow(p.points, p.ids, coding)];
      }),
      `ON CONFLICT DO NOTHING
        RETURNING host_id, interval_type, collected_at`,
    ),
  );
  const headTo = statements.length;
  statements.push(
    ...insertRows(
      `INSERT INTO latest_samples (host_id, interval_type, collected_at, payload)
        SELECT v.column1, v.column3, v.column4, v.column5`,
      rows.filter((p) => p.persist).map((p) => [
        ...key(p),
        JSON.stringify(p.sample.data),
      ]),
      `ON CONFLICT (host_id, interval_type) DO UPDATE
        SET collected_at = excluded.collected_at, payload = excluded.payload
        WHERE excluded.collected_at > latest_samples.collected_at`,
    ),
  );
  const seenAt = database.cache.seenWrittenAt;
  const stale = opts.touchHosts === false
    ? []
    : hostIds.filter((id) =>
      !(now - (seenAt.get(id) ?? -Infinity) < SEEN_WRITE_MS)
    );
  if (stale.length > 0) {
    statements.push({
      sql: `UPDATE hosts SET last_seen_at = ?
        WHERE id IN (SELECT value FROM json_each(?))`,
      args: [now, JSON.stringify(stale)],
    });
  }
  const results = await client.batch(statements, "write");
  const hashes = new Map(
    results[0].rows.map((r) => [Number(r.id), String(r.token_hash)]),
  );
  const inserted = new Set(
    results.slice(headFrom, headTo).flatMap((rs) =>
      rs.rows.map((r) => `${r.host_id}\t${r.interval_type}\t${r.collected_at}`)
    ),
  );
  const outcomes = samples.map((s, i): RecordOutcome => {
    if (!valid[i]) return "invalid_interval";
    const hash = hashes.get(s.hostId);
    if (hash === undefined) return "unknown_host";
    if (s.tokenHash !== undefined && s.tokenHash !== hash) {
      return "token_changed";
    }
    // Stored by this batch: the head insert returned it, for this index
    // (a sample sent twice in one batch is stored once).
    const id = `${s.hostId}\t${s.interval}\t${s.collectedAtMs}`;
    if (inserted.delete(id)) return "stored";
    return "duplicate";
  });
  // The commit happened: the cache may now follow it.
  for (const id of stale) seenAt.set(id, now);
  for (const p of prepared) {
    if (!p.latest || outcomes[p.index] !== "stored") continue;
    const entry = database.cache.hosts.get(p.sample.hostId)!;
    const cur = entry.latest[p.sample.interval];
    if (!cur || cur.collectedAtMs < p.latest.collectedAtMs) {
      entry.latest[p.sample.interval] = p.latest;
    }
  }
  return outcomes;
}

type Row = Record<string, unknown>;

/**
 * A row as a typed sample. The payload is parsed again, tolerantly, rather
 * than cast: a row stored by an older server lacks the fields added since,
 * and the parse gives them their defaults. (It never fails: what was stored
 * was an object.)
 */
function toStoredSample<I extends Interval>(
  row: Row,
  interval: I,
): StoredSample<PayloadFor<I>> {
  const parsed = parsePayload(interval, JSON.parse(String(row.payload)));
  if (!parsed.ok) {
    throw new Error(
      `latest ${interval} sample of host ${row.host_id}: ${parsed.message}`,
    );
  }
  return {
    hostId: Number(row.host_id),
    interval,
    collectedAtMs: Number(row.collected_at),
    payload: parsed.payload,
  };
}

/** The most recent sample of a host for one interval, or null. */
export async function latestSample<I extends Interval>(
  { client, cache }: Database,
  hostId: number,
  interval: I,
): Promise<StoredSample<PayloadFor<I>> | null> {
  // Ingest's cache is never older than the row, and may be newer.
  const cached = cache.hosts.get(hostId)?.latest[interval];
  if (cached) return fromCache(hostId, interval, cached);
  const rs = await client.execute({
    sql: `SELECT host_id, interval_type, collected_at, payload
      FROM latest_samples WHERE host_id = ? AND interval_type = ?`,
    args: [hostId, interval],
  });
  return rs.rows.length === 0 ? null : toStoredSample(rs.rows[0], interval);
}

function fromCache<I extends Interval>(
  hostId: number,
  interval: I,
  c: CachedLatest,
): StoredSample<PayloadFor<I>> {
  return {
    hostId,
    interval,
    collectedAtMs: c.collectedAtMs,
    payload: c.payload as unknown as PayloadFor<I>,
  };
}

/**
 * Writes every latest payload the cache holds beyond its row (fast
 * payloads between two LATEST_WRITE_MS writes). Runs with maintenance and
 * at shutdown.
 */
export async function flushLatest(database: Database): Promise<number> {
  const statements: InStatement[] = [];
  const done: CachedLatest[] = [];
  for (const [hostId, entry] of database.cache.hosts) {
    for (const [interval, c] of Object.entries(entry.latest)) {
      if (!c || c.persistedAtMs === c.collectedAtMs) continue;
      statements.push({
        sql:
          `INSERT INTO latest_samples (host_id, interval_type, collected_at, payload)
          SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ?)
          ON CONFLICT (host_id, interval_type) DO UPDATE
          SET collected_at = excluded.collected_at, payload = excluded.payload
          WHERE excluded.collected_at > latest_samples.collected_at`,
        args: [
          hostId,
          interval,
          c.collectedAtMs,
          JSON.stringify(c.payload),
          hostId,
        ],
      });
      done.push(c);
    }
  }
  if (statements.length === 0) return 0;
  await database.client.batch(statements, "write");
  for (const c of done) c.persistedAtMs = c.collectedAtMs;
  return statements.length;
}

/** The most recent sample of every host for one interval, keyed by host id. */
export async function latestSamplesByHost<I extends Interval>(
  { client, cache }: Database,
  interval: I,
): Promise<Map<number, StoredSample<PayloadFor<I>>>> {
  const rs = await client.execute({
    sql: `SELECT host_id, interval_type, collected_at, payload
      FROM latest_samples WHERE interval_type = ?`,
    args: [interval],
  });
  const samples = rs.rows.map((row) => toStoredSample(row, interval));
  const byHost = new Map(samples.map((s) => [s.hostId, s]));
  for (const [hostId, entry] of cache.hosts) {
    const c = entry.latest[interval];
    if (c) byHost.set(hostId, fromCache(hostId, interval, c));
  }
  return byHost;
}

/** A sample that ingest holds in the head table, not yet compacted. */
export interface HeadSample {
  hostId: number;
  interval: Interval;
  collectedAtMs: number;
  points: Uint8Array;
}

/** Every head row, oldest first; for tests and the compactor's checks. */
export async function headSamples(
  { client }: Database,
): Promise<HeadSample[]> {
  const rs = await client.execute(
    `SELECT host_id, interval_type, collected_at, points FROM series_head
      ORDER BY collected_at, host_id, interval_type`,
  );
  return rs.rows.map((r) => ({
    hostId: Number(r.host_id),
    interval: r.interval_type as Interval,
    collectedAtMs: Number(r.collected_at),
    points: new Uint8Array(r.points as ArrayBuffer),
  }));
}
