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
  expositionChunks,
} from "./exposition.ts";
import {
  alertSeries,
  ingestSeries,
  remoteWriteSeries,
} from "./self_metrics.ts";

type MetricsDeps = Pick<
  AppDeps,
  "database" | "config" | "exposition" | "writer" | "remoteWrite" | "alerts"
>;

/**
 * Response chunks: small enough to come from the allocator's free lists
 * (not fresh pages), large enough that writing them is few calls.
 */
const CHUNK_BYTES = 64 * 1024;

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
      deps.exposition.render({ datasets }),
      deps.remoteWrite?.status() ?? null,
    ]);
    const own = createExpositionWriter();
    const emit = own.emit;
    const alerts = alertSeries(deps.alerts.rules, deps.alerts.firingCounts());
    for (const s of [...alerts, ...ingestSeries(deps.writer.stats())]) {
      emit(s.family, s.labels, s.value);
    }
    for (const s of rw === null ? [] : remoteWriteSeries(rw)) {
      emit(s.family, s.labels, s.value);
    }
    c.header("Content-Type", EXPOSITION_CONTENT_TYPE);
    c.header("Cache-Control", "no-store");
    // Each chunk is made when the stream asks for it, so copying overlaps
    // sending (see `expositionChunks`).
    const body = expositionChunks([...fleet, own.blocks()], CHUNK_BYTES);
    c.header("Content-Length", String(body.size));
    return c.body(
      new ReadableStream<Uint8Array>({
        pull(stream) {
          const chunk = body.next();
          if (chunk !== null) stream.enqueue(chunk);
          else stream.close();
        },
      }),
    );
  });
  return app;
}
