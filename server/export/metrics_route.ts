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
 * The body goes out as views of at most this many bytes of its pieces
 * (nothing is copied): Deno hands each chunk on whole, and smaller ones let
 * the first bytes leave while the rest waits.
 */
const CHUNK_BYTES = 256 * 1024;

/** The pieces' bytes in order, as views of at most `max` bytes. */
function viewStream(
  pieces: readonly Uint8Array<ArrayBuffer>[],
  max: number,
): ReadableStream<Uint8Array> {
  let piece = 0, from = 0;
  return new ReadableStream<Uint8Array>({
    pull(stream) {
      while (piece < pieces.length && from === pieces[piece].length) {
        piece++;
        from = 0;
      }
      if (piece === pieces.length) return stream.close();
      const bytes = pieces[piece];
      const to = Math.min(bytes.length, from + max);
      stream.enqueue(bytes.subarray(from, to));
      from = to;
    },
  });
}

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
    // Three pieces, no family in two of them (see `FleetBody`); the
    // samples' piece is shared by every scrape until the fleet changes.
    const pieces = [fleet.state, fleet.samples, own.bytes()];
    const size = pieces.reduce((n, p) => n + p.length, 0);
    c.header("Content-Length", String(size));
    // Deno.serve says when the body has been written (its handler info is
    // Hono's env); only then may the samples' buffer be joined into again.
    const completed = (c.env as Partial<Deno.ServeHandlerInfo> | undefined)
      ?.completed;
    if (completed instanceof Promise) completed.then(fleet.sent, fleet.sent);
    return c.body(viewStream(pieces, CHUNK_BYTES));
  });
  return app;
}
