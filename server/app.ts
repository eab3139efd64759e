/**
 * The Hono app, composed from sub-apps. Routes get their dependencies from
 * `deps`; nothing here opens, reads or starts anything by itself.
 *
 * Layout: `/agent/ws` (agent socket, authenticated by its own join), `/api/*`
 * (JSON; put dashboard auth in front with `api.use(...)` before the routes),
 * `/healthz`, `/metrics` (Prometheus; its own token check). The dashboard's pages mount beside them.
 */
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { pageHeaders } from "./web/page_headers.ts";
import { createAgentSocketRoutes } from "./ingest/agent_socket.ts";
import { createHistoryApi } from "./api/history.ts";
import { createHostsApi } from "./api/hosts.ts";
import { createAuth } from "./auth/auth.tsx";
import type { AppDeps } from "./app_deps.ts";
import { createDashboard } from "./web/dashboard.tsx";
import { createMetricsRoute } from "./export/metrics_route.ts";
import { tierRetention } from "./store/tiers.ts";
import { createAlertsApi } from "./alerts/alerts_api.ts";

/** Builds the server's HTTP app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    deps.log.error(`${c.req.method} ${c.req.path} failed:`, err);
    return c.json({ error: "internal_error" }, 500);
  });

  // Security headers on every response: pages, fragments, JSON, assets,
  // 404s and errors alike. Not on a WebSocket upgrade (101), whose headers
  // belong to the runtime; a refused upgrade (400, 413, 503) is an ordinary
  // response and gets them.
  app.use("*", async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return await pageHeaders(c, next);
    }
    await next();
    if (c.res.status !== 101) await pageHeaders(c, () => Promise.resolve());
  });

  // Every body is capped; POST /login reads its limiter first and has its
  // own, smaller cap after it (auth.tsx). A 413 is the connection's last
  // answer: the TCP front closes it after (edge/tcp_front.ts), as it says.
  const tooLarge = (c: Context) =>
    c.json({ error: "body_too_large" }, 413, { connection: "close" });
  const capBody = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: tooLarge,
  });
  app.use("*", async (c, next) => {
    if (c.req.method === "POST" && c.req.path === "/login") return await next();
    // bodyLimit only looks at requests with a body stream, which a GET or
    // HEAD never has here, whatever length it declares; the HTTP server
    // would read that body all the same. Refused from the head.
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > deps.config.maxBodyBytes) return tooLarge(c);
    return await capBody(c, next);
  });

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/agent", createAgentSocketRoutes(deps));
  // Before the dashboard and its auth: /metrics has its own (token or public).
  app.route("/metrics", createMetricsRoute(deps));

  const auth = createAuth({
    database: deps.database,
    clock: deps.clock,
    config: deps.config,
    warn: (m) => deps.log.warn(m),
    clientAddress: deps.clientAddress,
  });
  app.route("/", auth.routes);

  const api = new Hono();
  api.use("*", auth.requireApi);
  api.route("/hosts", createHostsApi(deps));
  api.route(
    "/hosts",
    createHistoryApi({ ...deps, retention: tierRetention(deps.config) }),
  );
  api.route("/alerts", createAlertsApi(deps));
  app.route("/api", api);

  app.route(
    "/",
    createDashboard({
      database: deps.database,
      clock: deps.clock,
      bus: deps.events,
      auth,
      signal: deps.shutdown,
      alerts: deps.alerts,
    }),
  );

  return app;
}
