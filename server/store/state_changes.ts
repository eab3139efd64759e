/**
 * Reading the non-numeric state history: one row per change of a guest's
 * status, a pool's health, a version and so on (recorded by ingest, see
 * sample_store.ts), newest first.
 */
import type { Database } from "./client.ts";

export interface StateChange {
  /** unix ms: the collected_at of the sample that showed the change */
  at: number;
  /** e.g. guest.status, pool.health, host.pve_version */
  kind: string;
  /** vmid, pool or storage name; "" for the host */
  object: string;
  /** null when the object disappeared */
  value: string | null;
  /** null for the first value seen */
  previous: string | null;
}

export interface StateChangeQuery {
  hostId: number;
  /** a whole kind (`guest.status`) or a prefix up to the dot (`guest`) */
  kind?: string;
  object?: string;
  fromMs?: number;
  toMs?: number;
  /** most rows returned, newest first */
  limit?: number;
}

/** State changes of one host, newest first. */
export async function queryStateChanges(
  { client }: Database,
  q: StateChangeQuery,
): Promise<StateChange[]> {
  const prefix = q.kind !== undefined && !q.kind.includes(".");
  const rs = await client.execute({
    sql: `SELECT at, kind, object, value, previous FROM state_changes
      WHERE host_id = ?
        AND (? IS NULL OR ${prefix ? "kind LIKE ? ESCAPE '\\'" : "kind = ?"})
        AND (? IS NULL OR object = ?)
        AND at >= ? AND at < ?
      ORDER BY at DESC, id DESC LIMIT ?`,
    args: [
      q.hostId,
      q.kind ?? null,
      q.kind === undefined
        ? null
        : prefix
        ? `${q.kind.replace(/[\\%_]/g, (c) => "\\" + c)}.%`
        : q.kind,
      q.object ?? null,
      q.object ?? null,
      q.fromMs ?? 0,
      q.toMs ?? Number.MAX_SAFE_INTEGER,
      q.limit ?? 500,
    ],
  });
  return rs.rows.map((r) => ({
    at: Number(r.at),
    kind: String(r.kind),
    object: String(r.object),
    value: r.value === null ? null : String(r.value),
    previous: r.previous === null ? null : String(r.previous),
  }));
}
