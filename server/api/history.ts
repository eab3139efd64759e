/**
 * `GET /api/hosts/:name/history?metric=…` — chart series for one host.
 * Time is `range` back from now (1h, 6h, 24h, 48h; default 1h), or an
 * explicit `from`/`to` (ISO-8601 or unix ms). `points` (2..2000, default
 * 300) is how many buckets the window is averaged into.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { Clock } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import {
  HistoryMetric,
  HistoryRange,
  loadHistory,
  rangeMs,
} from "../store/history.ts";
import { findHost } from "../store/hosts.ts";

const MAX_SPAN_MS = 31 * 24 * 3_600_000;

const Instant = v.pipe(
  v.string(),
  v.transform((s) => (/^\d{1,15}$/.test(s) ? Number(s) : Date.parse(s))),
  v.check(
    (n: number) => Number.isFinite(n),
    "must be an ISO-8601 time or unix milliseconds",
  ),
);

const Query = v.object({
  metric: HistoryMetric,
  range: v.optional(HistoryRange),
  from: v.optional(Instant),
  to: v.optional(Instant),
  points: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,5}$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(2),
      v.maxValue(2000),
    ),
    "300",
  ),
});

export interface HistoryApiDeps {
  database: Database;
  clock: Clock;
}

function invalid(message: string) {
  return { error: "invalid_query", message };
}

/** The history route, to mount under `/api/hosts`. */
export function createHistoryApi(deps: HistoryApiDeps): Hono {
  const app = new Hono();
  app.get("/:name/history", async (c) => {
    const parsed = v.safeParse(Query, c.req.query());
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const key = v.getDotPath(issue) ?? "query";
      return c.json(invalid(`${key}: ${issue.message}`), 400);
    }
    const q = parsed.output;
    const toMs = q.to ?? deps.clock.now();
    const fromMs = q.from ?? toMs - rangeMs(q.range ?? "1h");
    if (fromMs >= toMs) return c.json(invalid("from must be before to"), 400);
    if (toMs - fromMs > MAX_SPAN_MS) {
      return c.json(invalid("the time span may be at most 31 days"), 400);
    }
    const host = await findHost(deps.database, c.req.param("name"));
    if (!host) return c.json({ error: "host_not_found" }, 404);
    const history = await loadHistory(deps.database, {
      hostId: host.id,
      metric: q.metric,
      fromMs,
      toMs,
      points: q.points,
    });
    return c.json({ host: host.name, ...history });
  });
  return app;
}
