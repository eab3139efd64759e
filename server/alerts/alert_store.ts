/**
 * The alerts' rows in the database: loading them at start, writing a batch
 * of changes (alert rows, their events and the notifications they owe) in
 * one transaction, silences, and the history the alerts page shows.
 */
import type { InStatement, Row } from "@libsql/client";
import type { Database } from "../store/client.ts";
import type { AlertEvent, AlertState } from "./alert_state.ts";
import type { Notice } from "./delivery/message.ts";

const UPSERT =
  `INSERT INTO alerts (rule, host, object, object_kind, tags, state,
  severity, value, shown, summary, pending_since, started_at, resolved_at,
  acknowledged_at, notified_state, notified_severity, last_notified_at,
  changes, flapping, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (rule, host, object) DO UPDATE SET object_kind = excluded.object_kind,
  tags = excluded.tags, state = excluded.state, severity = excluded.severity,
  value = excluded.value, shown = excluded.shown, summary = excluded.summary,
  pending_since = excluded.pending_since, started_at = excluded.started_at,
  resolved_at = excluded.resolved_at,
  acknowledged_at = CASE WHEN excluded.acknowledged_at IS NULL
    AND excluded.state = 'firing' AND alerts.state = 'firing'
    AND alerts.started_at IS excluded.started_at
    THEN alerts.acknowledged_at ELSE excluded.acknowledged_at END,
  notified_state = excluded.notified_state,
  notified_severity = excluded.notified_severity,
  last_notified_at = excluded.last_notified_at, changes = excluded.changes,
  flapping = excluded.flapping, updated_at = excluded.updated_at
  RETURNING id`;

const ALERT_ID =
  `(SELECT id FROM alerts WHERE rule = ? AND host = ? AND object = ?)`;

const finite = (
  n: number | null,
) => (n !== null && Number.isFinite(n) ? n : null);

function upsert(a: AlertState): InStatement {
  return {
    sql: UPSERT,
    args: [
      a.rule,
      a.host,
      a.object,
      a.kind,
      JSON.stringify(a.tags),
      a.state,
      a.severity,
      finite(a.value),
      a.shown,
      a.summary,
      a.pendingSince,
      a.startedAt,
      a.resolvedAt,
      a.acknowledgedAt,
      a.notifiedState,
      a.notifiedSeverity,
      a.lastNotifiedAt,
      JSON.stringify(a.changes),
      a.flapping ? 1 : 0,
      a.updatedAt,
    ],
  };
}

export interface AlertChange {
  alert: AlertState;
  event: AlertEvent | "acknowledged";
  at: number;
}

export interface QueuedNotice {
  alert: AlertState;
  channel: string;
  notice: Notice;
  /** unix ms before which it must not go out (quiet hours) */
  notBefore: number;
}

/**
 * Writes the changed alerts, their events and their notifications in one
 * transaction, and sets the ids of alerts stored for the first time.
 */
export async function saveAlertChanges(
  { client }: Database,
  dirty: AlertState[],
  events: AlertChange[],
  notices: QueuedNotice[],
  now: number,
): Promise<void> {
  if (dirty.length === 0 && events.length === 0 && notices.length === 0) return;
  const statements: InStatement[] = dirty.map(upsert);
  for (const e of events) {
    if (e.event === null) continue;
    statements.push({
      sql:
        `INSERT INTO alert_events (alert_id, at, event, severity, value, summary)
        VALUES (${ALERT_ID}, ?, ?, ?, ?, ?)`,
      args: [
        e.alert.rule,
        e.alert.host,
        e.alert.object,
        e.at,
        e.event,
        e.alert.severity,
        e.alert.shown,
        e.alert.summary,
      ],
    });
  }
  for (const n of notices) {
    statements.push({
      sql: `INSERT INTO deliveries (channel, alert_id, kind, severity, body,
        created_at, next_attempt_at, attempts, status)
        VALUES (?, ${ALERT_ID}, ?, ?, ?, ?, ?, 0, 'queued')`,
      args: [
        n.channel,
        n.alert.rule,
        n.alert.host,
        n.alert.object,
        n.notice.kind,
        n.notice.severity,
        JSON.stringify(n.notice),
        now,
        Math.max(now, n.notBefore),
      ],
    });
  }
  const results = await client.batch(statements, "write");
  dirty.forEach((a, i) => {
    const id = results[i].rows[0]?.id;
    if (id !== undefined && id !== null) a.id = Number(id);
  });
}

const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));
const str = (x: unknown) => (x === null || x === undefined ? null : String(x));

function toState(r: Row): AlertState {
  const state = String(r.state) as AlertState["state"];
  const updatedAt = Number(r.updated_at);
  return {
    id: Number(r.id),
    rule: String(r.rule),
    host: String(r.host),
    object: String(r.object),
    kind: String(r.object_kind),
    label: String(r.object),
    tags: JSON.parse(String(r.tags)),
    state,
    severity: String(r.severity) as AlertState["severity"],
    value: num(r.value),
    shown: String(r.shown),
    summary: String(r.summary),
    pendingSince: num(r.pending_since),
    startedAt: num(r.started_at),
    resolvedAt: num(r.resolved_at),
    acknowledgedAt: num(r.acknowledged_at),
    notifiedState: str(r.notified_state) as AlertState["notifiedState"],
    notifiedSeverity: str(
      r.notified_severity,
    ) as AlertState["notifiedSeverity"],
    lastNotifiedAt: num(r.last_notified_at),
    changes: JSON.parse(String(r.changes)),
    flapping: Number(r.flapping) === 1,
    updatedAt,
    rawActive: state !== "resolved",
    rawSince: updatedAt,
  };
}

/** Every stored alert that is not resolved, plus resolved ones still owed a notice. */
export async function loadLiveAlerts(
  { client }: Database,
): Promise<AlertState[]> {
  const rs = await client.execute(
    `SELECT * FROM alerts WHERE state != 'resolved' OR notified_state = 'firing'
      OR rule IN ('vdev_errors')`,
  );
  return rs.rows.map(toState);
}

/** The stored alert of one rule, host and object, if any (for rules' baselines). */
export async function loadAlert(
  { client }: Database,
  id: number,
): Promise<AlertState | null> {
  const rs = await client.execute({
    sql: `SELECT * FROM alerts WHERE id = ?`,
    args: [id],
  });
  return rs.rows.length ? toState(rs.rows[0]) : null;
}

/** Acknowledgements made outside this process (the CLI), by alert id. */
export async function loadAcknowledged(
  { client }: Database,
): Promise<Map<number, number>> {
  const rs = await client.execute(
    `SELECT id, acknowledged_at FROM alerts WHERE state = 'firing' AND acknowledged_at IS NOT NULL`,
  );
  return new Map(rs.rows.map((r) => [Number(r.id), Number(r.acknowledged_at)]));
}

export interface Silence {
  id: number;
  rule: string | null;
  host: string | null;
  object: string | null;
  tag: string | null;
  comment: string;
  createdAt: number;
  endsAt: number;
}

export type SilenceInput = Omit<Silence, "id" | "createdAt">;

function toSilence(r: Row): Silence {
  return {
    id: Number(r.id),
    rule: str(r.rule),
    host: str(r.host),
    object: str(r.object),
    tag: str(r.tag),
    comment: String(r.comment),
    createdAt: Number(r.created_at),
    endsAt: Number(r.ends_at),
  };
}

export async function loadSilences(
  { client }: Database,
  now: number,
): Promise<Silence[]> {
  const rs = await client.execute({
    sql: `SELECT * FROM silences WHERE ends_at > ? ORDER BY id`,
    args: [now],
  });
  return rs.rows.map(toSilence);
}

export async function insertSilence(
  { client }: Database,
  s: SilenceInput,
  now: number,
): Promise<Silence> {
  const rs = await client.execute({
    sql:
      `INSERT INTO silences (rule, host, object, tag, comment, created_at, ends_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    args: [s.rule, s.host, s.object, s.tag, s.comment, now, s.endsAt],
  });
  return toSilence(rs.rows[0]);
}

/** Ends a silence now; false when there is no such live silence. */
export async function endSilence(
  { client }: Database,
  id: number,
  now: number,
): Promise<boolean> {
  const rs = await client.execute({
    sql: `UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?`,
    args: [now, id, now],
  });
  return rs.rowsAffected > 0;
}

/** True when a silence covers the alert (every field it sets matches). */
export function silenceMatches(
  s: Silence,
  a: AlertState,
  now: number,
): boolean {
  return s.endsAt > now &&
    (s.rule === null || s.rule === a.rule) &&
    (s.host === null || s.host === a.host) &&
    (s.object === null || s.object === a.object || s.object === a.label) &&
    (s.tag === null || a.tags.includes(s.tag));
}

export interface HistoryEntry {
  alertId: number;
  at: number;
  event: string;
  rule: string;
  host: string;
  object: string;
  severity: string;
  value: string | null;
  summary: string;
}

/** The latest alert events, newest first. */
export async function loadAlertHistory(
  { client }: Database,
  limit: number,
): Promise<HistoryEntry[]> {
  const rs = await client.execute({
    sql: `SELECT e.alert_id, e.at, e.event, e.severity, e.value, e.summary,
        a.rule, a.host, a.object
      FROM alert_events e JOIN alerts a ON a.id = e.alert_id
      ORDER BY e.id DESC LIMIT ?`,
    args: [limit],
  });
  return rs.rows.map((r) => ({
    alertId: Number(r.alert_id),
    at: Number(r.at),
    event: String(r.event),
    rule: String(r.rule),
    host: String(r.host),
    object: String(r.object),
    severity: String(r.severity),
    value: str(r.value),
    summary: String(r.summary),
  }));
}
