/**
 * pool_full_forecast: a straight line fitted to the last `window` (7 days)
 * of a pool's capacity reaches 100 % within `warn` days (crit: `crit`
 * days). It needs `min_history` of readings first, so one busy hour does
 * not predict a full pool. The window is kept in memory and seeded from the
 * stored history at start (see ../engine.ts).
 */
import { addPoint, daysUntilFull, type Point } from "./forecast.ts";
import { defineRule } from "./rule.ts";

/** One point per this step keeps 7 days at about 2,000 points per pool. */
export const FORECAST_STEP_MS = 5 * 60_000;

export const poolFullForecast = defineRule({
  id: "pool_full_forecast",
  description:
    "a linear fit of the last 7 days of a pool's capacity says it is full within warn days",
  intervals: ["fast"],
  compare: "below",
  defaults: {
    warn: 14,
    crit: 3,
    hysteresis: 1,
    params: {
      window: {
        kind: "duration",
        default: 7 * 86_400_000,
        description: "how much capacity history the line is fitted to",
      },
      min_history: {
        kind: "duration",
        default: 86_400_000,
        description: "the least history needed before forecasting",
      },
    },
  },
  evaluate(sample, ctx) {
    const zfs = sample.section("zfs_pools");
    if (zfs === null) return null;
    return zfs.pools.map((pool) => {
      const { window, min_history } = ctx.settings({
        kind: "pool",
        object: pool.name,
      }).params;
      let points = ctx.memory.get(pool.name) as Point[] | undefined;
      if (points === undefined) {
        const fresh: Point[] = points = [];
        ctx.memory.set(pool.name, fresh);
        // First sight since start: the stored capacity history fills the
        // window; the readings that arrive meanwhile stay after it.
        void ctx.history({
          kind: "pool",
          object: pool.name,
          metric: "capacity",
          fromMs: sample.atMs - window,
          toMs: sample.atMs,
          // hourly buckets: the store keeps them a year, and an hour's
          // resolution is plenty for a line over days
          points: Math.ceil(window / 3_600_000),
        }).then((older) => {
          const first = fresh[0]?.t ?? Infinity;
          fresh.unshift(...older.filter((p) => p.t < first));
        });
      }
      if (pool.capacity_percent !== null) {
        addPoint(
          points,
          { t: sample.atMs, v: pool.capacity_percent },
          window,
          FORECAST_STEP_MS,
        );
      }
      const span = points.length > 1 ? points.at(-1)!.t - points[0].t : 0;
      const days = span >= min_history
        ? daysUntilFull(points, sample.atMs)
        : null;
      const shown = days === null
        ? "not enough history"
        : days === Infinity
        ? "not filling up"
        : `full in ${days < 1 ? "under a day" : `${Math.round(days)} days`}`;
      return {
        kind: "pool",
        object: pool.name,
        // Infinity compares as "fine"; null keeps the state as it is
        value: days,
        shown,
        summary: `pool ${pool.name}: ${shown} at the rate of the last ${
          Math.round(span / 86_400_000)
        } days`,
      };
    });
  },
});
