/**
 * The remote_write queue table (schema: `remoteWriteQueue`). Rows are
 * appended in the ingest transaction (sample_store.ts `QueuedWrite`) and removed from the head only (sent,
 * rejected or too old), so ids between the first and the last are all
 * present and the queue's length is a primary-key lookup.
 */
import type { Database } from "../../store/client.ts";
import { blobOf } from "../../store/block_codec.ts";

export interface QueuedRow {
  id: number;
  collectedAtMs: number;
  enqueuedAtMs: number;
  samples: number;
  /** a compressed WriteRequest, or with `shapeId` the values for that shape */
  body: Uint8Array;
  shapeId: number | null;
}

/**
 * The oldest rows after `afterId` (those not yet taken by a request in
 * flight), up to `maxRows`, stopping once `maxSamples` series are reached
 * (at least one row, however large).
 */
export async function readHead(
  { client }: Database,
  maxSamples: number,
  maxRows: number,
  afterId = 0,
): Promise<QueuedRow[]> {
  // Sizes first, bodies only for the rows that fit.
  const sizes = await client.execute({
    sql:
      "SELECT id, samples FROM remote_write_queue WHERE id > ? ORDER BY id LIMIT ?",
    args: [afterId, maxRows],
  });
  if (sizes.rows.length === 0) return [];
  let total = 0, last = Number(sizes.rows[0].id);
  for (const r of sizes.rows) {
    const samples = Number(r.samples);
    if (total > 0 && total + samples > maxSamples) break;
    total += samples;
    last = Number(r.id);
  }
  const rs = await client.execute({
    sql: `SELECT id, collected_at, enqueued_at, samples, body, shape_id
      FROM remote_write_queue WHERE id BETWEEN ? AND ? ORDER BY id`,
    args: [Number(sizes.rows[0].id), last],
  });
  return rs.rows.map((r) => ({
    id: Number(r.id),
    collectedAtMs: Number(r.collected_at),
    enqueuedAtMs: Number(r.enqueued_at),
    samples: Number(r.samples),
    body: blobOf(r.body),
    shapeId: r.shape_id === null ? null : Number(r.shape_id),
  }));
}

/** The highest shape id stored, 0 when there is none. */
export async function lastShapeId({ client }: Database): Promise<number> {
  const rs = await client.execute(
    "SELECT COALESCE(MAX(id), 0) AS id FROM remote_write_shapes",
  );
  return Number(rs.rows[0].id);
}

/** The stored shapes of these ids (those that exist), by id. */
export async function readShapes(
  { client }: Database,
  ids: readonly number[],
): Promise<Map<number, Uint8Array>> {
  const rs = await client.execute({
    sql: `SELECT id, body FROM remote_write_shapes
      WHERE id IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(ids)],
  });
  return new Map(rs.rows.map((r) => [Number(r.id), blobOf(r.body)]));
}

/**
 * Removes the shapes no queue row uses. One still in use by the encoder
 * comes back with its next row (each row's transaction writes its shape
 * unless it is there), so nothing but the queue needs to be asked.
 */
export async function dropUnusedShapes({ client }: Database): Promise<number> {
  const rs = await client.execute(
    `DELETE FROM remote_write_shapes WHERE id NOT IN (
      SELECT shape_id FROM remote_write_queue WHERE shape_id IS NOT NULL)`,
  );
  return rs.rowsAffected;
}

/** Removes every row up to and including `lastId`. */
export async function deleteThrough(
  { client }: Database,
  lastId: number,
): Promise<void> {
  await client.execute({
    sql: "DELETE FROM remote_write_queue WHERE id <= ?",
    args: [lastId],
  });
}

export interface Dropped {
  rows: number;
  samples: number;
}

/**
 * Removes rows enqueued before `cutoffMs`, oldest first, in batches so a
 * long backlog never holds the write lock for long.
 */
export async function dropEnqueuedBefore(
  { client }: Database,
  cutoffMs: number,
  batchSize = 1_000,
): Promise<Dropped> {
  const dropped: Dropped = { rows: 0, samples: 0 };
  for (;;) {
    const rs = await client.execute({
      sql: `DELETE FROM remote_write_queue WHERE id IN (
          SELECT id FROM remote_write_queue WHERE enqueued_at < ?
          ORDER BY id LIMIT ?)
        RETURNING samples`,
      args: [cutoffMs, batchSize],
    });
    dropped.rows += rs.rows.length;
    for (const r of rs.rows) dropped.samples += Number(r.samples);
    if (rs.rows.length < batchSize) return dropped;
  }
}

export interface QueueHead {
  rows: number;
  /** enqueued_at of the oldest row, null when empty */
  oldestEnqueuedAtMs: number | null;
}

/** Length and oldest row, from the primary key alone. */
export async function queueHead({ client }: Database): Promise<QueueHead> {
  const rs = await client.execute(
    `SELECT q.id AS first, q.enqueued_at,
        (SELECT MAX(id) FROM remote_write_queue) AS last
      FROM remote_write_queue q ORDER BY q.id LIMIT 1`,
  );
  if (rs.rows.length === 0) return { rows: 0, oldestEnqueuedAtMs: null };
  const r = rs.rows[0];
  return {
    rows: Number(r.last) - Number(r.first) + 1,
    oldestEnqueuedAtMs: Number(r.enqueued_at),
  };
}

/** Series in the whole queue; a full scan, so only at start-up. */
export async function queuedSamples({ client }: Database): Promise<number> {
  const rs = await client.execute(
    "SELECT COALESCE(SUM(samples), 0) AS n FROM remote_write_queue",
  );
  return Number(rs.rows[0].n);
}
