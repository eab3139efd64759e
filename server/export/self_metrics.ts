/**
 * proxmon's own counters on `/metrics`: what ingest received and stored,
 * and how far remote_write is behind. Process-lifetime counters, so they
 * restart at 0 with the server, as Prometheus counters may.
 */
import type { FiringCount } from "../alerts/engine.ts";
import type { WriterStats } from "../ingest/sample_writer.ts";
import { def, type SeriesValue } from "./metric_families.ts";
import type { RemoteWriteStatus } from "./remote_write/remote_writer.ts";

export const SELF_FAMILIES = {
  alertsFiring: def(
    "proxmon_alerts_firing",
    "gauge",
    "Alerts firing now, by rule and severity (warn, crit); 0 for every rule with none.",
  ),
  ingestSamples: def(
    "proxmon_ingest_samples_total",
    "counter",
    "Agent samples this server process handled, by outcome (stored, duplicate replay, refused, failed to commit).",
  ),
  ingestBatches: def(
    "proxmon_ingest_batches_total",
    "counter",
    "Write transactions the ingest writer committed or attempted.",
  ),
  rwPendingSeries: def(
    "proxmon_remote_write_pending_samples",
    "gauge",
    "Series samples waiting in the remote_write queue.",
  ),
  rwPendingRows: def(
    "proxmon_remote_write_pending_requests",
    "gauge",
    "Stored agent samples whose series wait in the remote_write queue.",
  ),
  rwLag: def(
    "proxmon_remote_write_lag_seconds",
    "gauge",
    "Age of the oldest queued entry (0 when the queue is empty).",
  ),
  rwSent: def(
    "proxmon_remote_write_sent_samples_total",
    "counter",
    "Series samples the receiver accepted.",
  ),
  rwDropped: def(
    "proxmon_remote_write_dropped_samples_total",
    "counter",
    "Series samples given up, by reason: too_old (queued past REMOTE_WRITE_MAX_AGE_HOURS) or rejected (the receiver answered 4xx).",
  ),
  rwFailures: def(
    "proxmon_remote_write_failed_requests_total",
    "counter",
    "Requests that failed and will be retried (network error, 5xx, 429).",
  ),
} as const;

/**
 * Firing alerts by rule and severity, with a 0 for every rule and severity
 * that has none, so `proxmon_alerts_firing > 0` and its absence both mean
 * something.
 */
export function alertSeries(
  rules: readonly { id: string }[],
  firing: readonly FiringCount[],
): SeriesValue[] {
  const f = SELF_FAMILIES.alertsFiring;
  const count = new Map(
    firing.map((c) => [`${c.rule}\0${c.severity}`, c.count]),
  );
  const ids = [
    ...new Set([...rules.map((r) => r.id), ...firing.map((c) => c.rule)]),
  ];
  return ids.flatMap((rule) =>
    (["warn", "crit"] as const).map((severity) => ({
      family: f,
      labels: { rule, severity },
      value: count.get(`${rule}\0${severity}`) ?? 0,
    }))
  );
}

/** The ingest writer's counters as series. */
export function ingestSeries(stats: WriterStats): SeriesValue[] {
  const f = SELF_FAMILIES.ingestSamples;
  return [
    { family: f, labels: { outcome: "stored" }, value: stats.stored },
    { family: f, labels: { outcome: "duplicate" }, value: stats.duplicates },
    { family: f, labels: { outcome: "refused" }, value: stats.refused },
    { family: f, labels: { outcome: "failed" }, value: stats.failed },
    { family: SELF_FAMILIES.ingestBatches, labels: {}, value: stats.batches },
  ];
}

/** remote_write's queue and counters as series. */
export function remoteWriteSeries(s: RemoteWriteStatus): SeriesValue[] {
  const F = SELF_FAMILIES;
  return [
    { family: F.rwPendingSeries, labels: {}, value: s.pendingSamples },
    { family: F.rwPendingRows, labels: {}, value: s.pendingRequests },
    { family: F.rwLag, labels: {}, value: s.lagSeconds },
    { family: F.rwSent, labels: {}, value: s.sentSamples },
    {
      family: F.rwDropped,
      labels: { reason: "too_old" },
      value: s.droppedTooOld,
    },
    {
      family: F.rwDropped,
      labels: { reason: "rejected" },
      value: s.droppedRejected,
    },
    { family: F.rwFailures, labels: {}, value: s.failedRequests },
  ];
}
