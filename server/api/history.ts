/**
 * `GET /api/hosts/:name/history?metric=…` — chart series for one host.
 * Time is `range` back from now (1h, 6h, 24h, 48h, 7d, 30d, 1y; default
 * 1h), or an explicit `from`/`to` (ISO-8601 or unix ms). `points` (2..2000,
 * default 300) is how many buckets the window is split into; the store
 * picks the tier (raw, 1-minute, hourly) from that. `stat` (avg, min, max;
 * default avg) says what each bucket's value is. Guest metrics need
 * `vmid`, `pool_capacity` needs `pool`, `storage_used` needs `storage`.
 *
 * `GET /api/hosts/:name/events` — state changes (guest status, pool
 * health, versions…), newest first, filtered by `kind` (`guest.status`, or
 * `guest` for every guest kind), `object`, `from`, `to` and `limit`.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { Clock } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import {
  HistoryMetric,
  HistoryRange,
  HistoryStat,
  loadHistory,
  objectParam,
  rangeMs,
} from "../store/history.ts";
import { findHost } from "../store/hosts.ts";
import { queryStateChanges } from "../store/state_changes.ts";
import type { TierRetention } from "../store/tiers.ts";

const MAX_SPAN_MS = 366 * 24 * 3_600_000;

const Instant = v.pipe(
  v.string(),
  v.transform((s) => (/^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s))),
  v.check(
    (n: number) => Number.isFinite(n),
    "must be an ISO-8601 time or unix milliseconds",
  ),
);

const Whole = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,9}$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min),
    v.maxValue(max),
  );

const Name = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

const Query = v.object({
  metric: HistoryMetric,
  range: v.optional(HistoryRange),
  from: v.optional(Instant),
  to: v.optional(Instant),
  points: v.optional(Whole(2, 2000), "300"),
  stat: v.optional(HistoryStat, "avg"),
  vmid: v.optional(Whole(0, 999_999_999)),
  pool: v.optional(Name),
  storage: v.optional(Name),
});

const EventsQuery = v.object({
  kind: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z_.]{1,60}$/, "must be like guest.status")),
  ),
  object: v.optional(Name),
  from: v.optional(Instant),
  to: v.optional(Instant),
  limit: v.optional(Whole(1, 5000), "500"),
});

export interface HistoryApiDeps {
  database: Database;
  clock: Clock;
  /** tier retention, for choosing the tier; defaults to 48 h / 30 d / 1 y */
  retention?: TierRetention;
}

function invalid(message: string) {
  return { error: "invalid_query", message };
}

function firstIssue(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]) {
  const issue = issues[0];
  const key = v.getDotPath(issue) ?? "query";
  return invalid(`${key}: ${issue.message}`);
}

/** The history and events routes, to mount under `/api/hosts`. */
export function createHistoryApi(deps: HistoryApiDeps): Hono {
  const app = new Hono();
  app.get("/:name/history", async (c) => {
    const parsed = v.safeParse(Query, c.req.query());
    if (!parsed.success) return c.json(firstIssue(parsed.issues), 400);
    const q = parsed.output;
    const now = deps.clock.now();
    const toMs = q.to ?? now;
    const fromMs = q.from ?? toMs - rangeMs(q.range ?? "1h");
    if (fromMs >= toMs) return c.json(invalid("from must be before to"), 400);
    if (toMs - fromMs > MAX_SPAN_MS) {
      return c.json(invalid("the time span may be at most 366 days"), 400);
    }
    const needs = objectParam(q.metric);
    if (needs && q[needs] === undefined) {
      return c.json(invalid(`${needs}: required for metric ${q.metric}`), 400);
    }
    const host = await findHost(deps.database, c.req.param("name"));
    if (!host) return c.json({ error: "host_not_found" }, 404);
    const history = await loadHistory(deps.database, {
      hostId: host.id,
      metric: q.metric,
      fromMs,
      toMs,
      points: q.points,
      nowMs: now,
      stat: q.stat,
      vmid: q.vmid,
      pool: q.pool,
      storage: q.storage,
      retention: deps.retention,
    });
    return c.json({ host: host.name, ...history });
  });
  app.get("/:name/events", async (c) => {
    const parsed = v.safeParse(EventsQuery, c.req.query());
    if (!parsed.success) return c.json(firstIssue(parsed.issues), 400);
    const q = parsed.output;
    const host = await findHost(deps.database, c.req.param("name"));
    if (!host) return c.json({ error: "host_not_found" }, 404);
    const events = await queryStateChanges(deps.database, {
      hostId: host.id,
      kind: q.kind,
      object: q.object,
      fromMs: q.from,
      toMs: q.to,
      limit: q.limit,
    });
    return c.json({
      host: host.name,
      events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    });
  });
  return app;
}
