/**
 * The time-series store's public surface, for the API, the dashboard and
 * other modules (alerts, exports):
 *
 * - ingest: `recordSamples` (durable before it resolves; what an ack means)
 * - latest state: `latestSample`, `latestSamplesByHost`
 * - series: `listSeries`, `querySeries` (bucketed, tier chosen from span and
 *   points, values in real units, min/avg/max/last per bucket)
 * - state changes: `queryStateChanges`
 * - history straight into the tiers: `writeSeriesHistory`
 * - background work: `startMaintenance` (compaction, rollups, retention)
 * - checks: `storedSampleCounts` (samples held, head and blocks alike)
 *
 * Series are named (kind, object, metric), listed in `METRICS`.
 */
export {
  latestSample,
  latestSamplesByHost,
  type RecordOutcome,
  recordSamples,
  type SampleInput,
  type StoredSample,
} from "./sample_store.ts";
export {
  listSeries,
  querySeries,
  type SeriesData,
  type SeriesQuery,
  type SeriesResult,
} from "./series_query.ts";
export {
  queryStateChanges,
  type StateChange,
  type StateChangeQuery,
} from "./state_changes.ts";
export { METRICS, type SeriesKey, type SeriesKind } from "./series_catalog.ts";
export {
  DEFAULT_RETENTION,
  type TierName,
  type TierRetention,
  tierRetention,
} from "./tiers.ts";
export { writeSeriesHistory } from "./backfill.ts";
export { startMaintenance } from "./maintenance.ts";
export { storedSampleCounts } from "./sample_count.ts";
