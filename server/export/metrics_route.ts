/**
 * `GET /metrics`: the fleet's latest state in the Prometheus text format.
 * Needs an API token as a Bearer header (`deno task host api-token …`),
 * whatever the dashboard's password, unless METRICS_PUBLIC=1. Datasets
 * only with `?datasets=1` (see the cardinality budget in the README).
 */
import { type Context, Hono } from "hono";
import type { AppDeps } from "../app_deps.ts";
import { verifyApiToken } from "../auth/api_tokens.ts";
import {
  createExpositionWriter,
  EXPOSITION_CONTENT_TYPE,
} from "./exposition.ts";
import { emitFleetSeries } from "./fleet_series.ts";
import {
  alertSeries,
  ingestSeries,
  remoteWriteSeries,
} from "./self_metrics.ts";

type MetricsDeps = Pick<
  AppDeps,
  "database" | "config" | "latest" | "writer" | "remoteWrite" | "alerts"
>;

async function authorized(deps: MetricsDeps, c: Context): Promise<boolean> {
  if (deps.config.metricsPublic) return true;
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match !== null && await verifyApiToken(deps.database, match[1]);
}

/** The `/metrics` route. */
export function createMetricsRoute(deps: MetricsDeps): Hono {
  const app = new Hono();
  app.get("/", async (c) => {
    if (!await authorized(deps, c)) {
      c.header("WWW-Authenticate", 'Bearer realm="proxmon"');
      return c.text(
        "unauthorized: send an API token as `Authorization: Bearer …`, or set METRICS_PUBLIC=1\n",
        401,
      );
    }
    const datasets = c.req.query("datasets") === "1";
    const [fleet, rw] = await Promise.all([
      deps.latest.fleet(),
      deps.remoteWrite?.status() ?? null,
    ]);
    const out = createExpositionWriter();
    const emit = out.emit.bind(out);
    emitFleetSeries(fleet, { datasets }, emit);
    const alerts = alertSeries(deps.alerts.rules, deps.alerts.firingCounts());
    for (const s of [...alerts, ...ingestSeries(deps.writer.stats())]) {
      emit(s.family, s.labels, s.value);
    }
    for (const s of rw === null ? [] : remoteWriteSeries(rw)) {
      emit(s.family, s.labels, s.value);
    }
    c.header("Content-Type", EXPOSITION_CONTENT_TYPE);
    c.header("Cache-Control", "no-store");
    return c.body(out.bytes());
  });
  return app;
}
