/**
 * Sample storage. One row per (host, interval, collected_at); the payload is
 * the sample's `data` as JSON text, with a small chartable summary beside it.
 * Writes go through `recordSamples`, which commits a whole batch in one
 * transaction so ingest stays fast under many agents.
 */
import type { InStatement } from "@libsql/client";
import * as v from "valibot";
import {
  Interval,
  parsePayload,
  type PayloadFor,
  type SamplePayload,
} from "@proxmon/shared";
import type { Database } from "./client.ts";
import { summarize } from "./summary.ts";

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
   * A statement for the same transaction, run right after this sample's
   * insert (remote_write's queue row). Guard it with `WHERE changes() = 1`
   * so it takes effect only when the sample was new.
   */
  afterInsert?: InStatement;
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

export interface StoredSample<P = PayloadFor<Interval>> {
  id: number;
  hostId: number;
  interval: Interval;
  collectedAtMs: number;
  payload: P;
  summary: unknown;
  createdAtMs: number;
}

const INSERT_SQL = `INSERT INTO metrics
  (host_id, collected_at, interval_type, payload, summary, created_at)
  SELECT ?, ?, ?, ?, ?, ?
  WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ? AND (? IS NULL OR token_hash = ?))
  ON CONFLICT DO NOTHING`;

const placeholders = (n: number) => Array(n).fill("?").join(", ");

/**
 * Stores samples in one write transaction and returns one outcome per input,
 * in order. A replayed sample (same host, interval and collected_at) is left
 * as it is and reported as "duplicate". Every host with a sample, and every
 * id in `touch`, gets `last_seen_at = now` in the same transaction.
 */
export async function recordSamples(
  { client }: Database,
  samples: SampleInput[],
  now: number,
  touch: Iterable<number> = [],
): Promise<RecordOutcome[]> {
  const valid = samples.map((s) => v.is(Interval, s.interval));
  const hostIds = [
    ...new Set([...samples.map((s) => s.hostId), ...touch]),
  ];
  if (hostIds.length === 0) return [];
  const statements: InStatement[] = [{
    sql: `SELECT id, token_hash FROM hosts WHERE id IN (${
      placeholders(hostIds.length)
    })`,
    args: hostIds,
  }];
  samples.forEach((s, i) => {
    if (!valid[i]) return;
    const summary = summarize(s);
    statements.push({
      sql: INSERT_SQL,
      args: [
        s.hostId,
        s.collectedAtMs,
        s.interval,
        JSON.stringify(s.data),
        summary === null ? null : JSON.stringify(summary),
        now,
        s.hostId,
        s.tokenHash ?? null,
        s.tokenHash ?? null,
      ],
    });
    if (s.afterInsert) statements.push(s.afterInsert);
  });
  statements.push({
    sql: `UPDATE hosts SET last_seen_at = ? WHERE id IN (${
      placeholders(hostIds.length)
    })`,
    args: [now, ...hostIds],
  });
  const results = await client.batch(statements, "write");
  const hashes = new Map(
    results[0].rows.map((r) => [Number(r.id), String(r.token_hash)]),
  );
  let next = 1;
  return samples.map((s, i): RecordOutcome => {
    if (!valid[i]) return "invalid_interval";
    const inserted = results[next++].rowsAffected === 1;
    if (s.afterInsert) next++;
    const hash = hashes.get(s.hostId);
    if (hash === undefined) return "unknown_host";
    if (s.tokenHash !== undefined && s.tokenHash !== hash) {
      return "token_changed";
    }
    return inserted ? "stored" : "duplicate";
  });
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
    throw new Error(`metrics row ${row.id}: ${parsed.message}`);
  }
  return {
    id: Number(row.id),
    hostId: Number(row.host_id),
    interval,
    collectedAtMs: Number(row.collected_at),
    payload: parsed.payload,
    summary: row.summary === null ? null : JSON.parse(String(row.summary)),
    createdAtMs: Number(row.created_at),
  };
}

const rowInterval = (row: Row): Interval => {
  const interval = v.parse(Interval, row.interval_type);
  return interval;
};

const COLUMNS =
  "m.id, m.host_id, m.interval_type, m.collected_at, m.payload, m.summary, m.created_at";

/** The most recent sample of a host for one interval, or null. */
export async function latestSample<I extends Interval>(
  { client }: Database,
  hostId: number,
  interval: I,
): Promise<StoredSample<PayloadFor<I>> | null> {
  const rs = await client.execute({
    sql: `SELECT ${COLUMNS} FROM metrics m
      WHERE m.host_id = ? AND m.interval_type = ?
      ORDER BY m.collected_at DESC LIMIT 1`,
    args: [hostId, interval],
  });
  return rs.rows.length === 0 ? null : toStoredSample(rs.rows[0], interval);
}

/**
 * The most recent sample of every host for one interval, keyed by host id.
 * One index seek per host, so it stays cheap with a full retention window.
 */
export async function latestSamplesByHost<I extends Interval>(
  { client }: Database,
  interval: I,
): Promise<Map<number, StoredSample<PayloadFor<I>>>> {
  const rs = await client.execute({
    sql: `SELECT ${COLUMNS} FROM hosts h JOIN metrics m ON m.id = (
        SELECT id FROM metrics
        WHERE host_id = h.id AND interval_type = ?
        ORDER BY collected_at DESC LIMIT 1)`,
    args: [interval],
  });
  const samples = rs.rows.map((row) => toStoredSample(row, interval));
  return new Map(samples.map((s) => [s.hostId, s]));
}

/** Every sample row, oldest first; for tests and small exports. */
export async function allSamples(
  { client }: Database,
): Promise<StoredSample[]> {
  const rs = await client.execute(
    `SELECT ${COLUMNS} FROM metrics m ORDER BY m.collected_at, m.id`,
  );
  return rs.rows.map((row) => toStoredSample(row, rowInterval(row)));
}

/** Waits `ms` (0: one turn of the event loop) between delete batches. */
const pause = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes samples collected before `cutoffMs`, at most `batchSize` rows per
 * transaction, pausing `pauseMs` between batches. The local SQLite driver is
 * synchronous, so a batch blocks the event loop while it runs, and one turn
 * of the loop reads only so many WebSocket frames: small batches with pauses
 * let ingest keep up (see BENCHMARKS.md, retention). Returns the number of
 * rows deleted.
 */
export async function deleteOlderThan(
  { client }: Database,
  cutoffMs: number,
  batchSize = 5_000,
  pauseMs = 0,
): Promise<number> {
  let total = 0;
  for (;;) {
    const rs = await client.execute({
      sql: `DELETE FROM metrics WHERE id IN (
          SELECT id FROM metrics WHERE collected_at < ?
          ORDER BY collected_at LIMIT ?)`,
      args: [cutoffMs, batchSize],
    });
    total += rs.rowsAffected;
    if (rs.rowsAffected < batchSize) return total;
    await pause(pauseMs);
  }
}
