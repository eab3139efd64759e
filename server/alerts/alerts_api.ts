/**
 * `/api/alerts`: the active alerts, recent history, silences and channel
 * status (GET), and the actions (POST): acknowledge, silence, end a
 * silence. Actions answer JSON, or redirect back to /alerts for the
 * dashboard's plain HTML forms.
 *
 * CSRF: a request carrying a bearer token has no ambient credentials and
 * passes. Any other POST (a cookie session, or the open development mode)
 * must come from this origin: its `Origin` header must name this host, or,
 * without one, `Sec-Fetch-Site` must say same-origin. Browsers send one of
 * them on every POST and a cross-site page cannot forge either.
 */
import { Hono, type MiddlewareHandler } from "hono";
import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import type { AlertEngine } from "./engine.ts";
import { loadAlertHistory } from "./alert_store.ts";
import type { Database } from "../store/client.ts";
import type { Clock } from "@proxmon/shared/clock";

/** Refuses cross-site POSTs that would ride on a cookie. */
export const sameOriginPosts: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== "POST") return await next();
  if (/^Bearer\s+\S+$/i.test(c.req.header("authorization") ?? "")) {
    return await next();
  }
  const origin = c.req.header("origin");
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  const ok = origin !== undefined
    ? origin !== "null" && safeHost(origin) === host
    : c.req.header("sec-fetch-site") === "same-origin";
  if (!ok) {
    return c.json(
      { error: "csrf", message: "cross-site request refused" },
      403,
    );
  }
  return await next();
};

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

const optionalText = v.optional(
  v.pipe(v.string(), v.trim(), v.maxLength(200)),
);
const orNull = (x: string | undefined) => (x ? x : null);

/** The body of POST /api/alerts/silences (JSON or form). */
export const SilenceBody = v.pipe(
  v.object({
    rule: optionalText,
    host: optionalText,
    object: optionalText,
    tag: optionalText,
    comment: v.optional(v.pipe(v.string(), v.maxLength(500)), ""),
    /** "2h", "1d"… */
    duration: v.pipe(
      v.string(),
      v.check(
        (s) => (parseDuration(s) ?? 0) > 0,
        "duration must be like 30m, 2h or 7d",
      ),
    ),
  }),
  v.check(
    (s) => Boolean(s.rule || s.host || s.object || s.tag),
    "a silence needs at least one of rule, host, object, tag",
  ),
);

export interface AlertsApiDeps {
  alerts: AlertEngine;
  database: Database;
  clock: Clock;
}

const wantsHtml = (contentType: string | undefined) =>
  /application\/x-www-form-urlencoded|multipart\/form-data/.test(
    contentType ?? "",
  );

/** Builds the alerts routes (mount under /api/alerts, behind requireApi). */
export function createAlertsApi(
  { alerts, database, clock }: AlertsApiDeps,
): Hono {
  const app = new Hono();
  app.use("*", sameOriginPosts);

  app.get("/", async (c) => {
    const [history, channels] = await Promise.all([
      loadAlertHistory(
        database,
        Math.min(500, Number(c.req.query("history") ?? 50) || 50),
      ),
      alerts.queue.status(),
    ]);
    const active = alerts.active();
    const stats = alerts.evalStats();
    return c.json({
      counts: countAlerts(active),
      /** rule evaluation since start: samples and milliseconds */
      engine: { samples: stats.samples, eval_ms: Math.round(stats.ms) },
      active,
      silences: alerts.silences().map((s) => ({
        id: s.id,
        rule: s.rule,
        host: s.host,
        object: s.object,
        tag: s.tag,
        comment: s.comment,
        created_at: new Date(s.createdAt).toISOString(),
        ends_at: new Date(s.endsAt).toISOString(),
      })),
      history: history.map((h) => ({
        alert_id: h.alertId,
        at: new Date(h.at).toISOString(),
        event: h.event,
        rule: h.rule,
        host: h.host,
        object: h.object === "" ? null : h.object,
        severity: h.severity,
        value: h.value,
        summary: h.summary,
      })),
      channels: channels.map((ch) => ({
        name: ch.name,
        type: ch.type,
        queued: ch.queued,
        failed: ch.failed,
        suppressed: ch.suppressed,
        last: ch.last && { ...ch.last, at: new Date(ch.last.at).toISOString() },
        last_failure: ch.lastFailure &&
          { ...ch.lastFailure, at: new Date(ch.lastFailure.at).toISOString() },
      })),
    });
  });

  app.post("/:id/ack", async (c) => {
    const id = Number(c.req.param("id"));
    const view = Number.isSafeInteger(id) ? await alerts.acknowledge(id) : null;
    if (wantsHtml(c.req.header("content-type"))) {
      return c.redirect("/alerts", 303);
    }
    if (view === null) return c.json({ error: "alert_not_firing" }, 404);
    return c.json(view);
  });

  app.post("/silences", async (c) => {
    const html = wantsHtml(c.req.header("content-type"));
    let raw: unknown;
    try {
      raw = html ? await c.req.parseBody() : await c.req.json();
    } catch {
      return c.json({
        error: "invalid_body",
        message: "expected JSON or a form",
      }, 400);
    }
    const parsed = v.safeParse(SilenceBody, raw);
    if (!parsed.success) {
      return c.json({
        error: "invalid_silence",
        message: parsed.issues[0].message,
      }, 400);
    }
    const s = parsed.output;
    const silence = await alerts.silence({
      rule: orNull(s.rule),
      host: orNull(s.host),
      object: orNull(s.object),
      tag: orNull(s.tag),
      comment: s.comment,
      endsAt: clock.now() + parseDuration(s.duration)!,
    });
    if (html) return c.redirect("/alerts", 303);
    return c.json({
      id: silence.id,
      ends_at: new Date(silence.endsAt).toISOString(),
    }, 201);
  });

  app.post("/silences/:id/end", async (c) => {
    const id = Number(c.req.param("id"));
    const ok = Number.isSafeInteger(id) && await alerts.unsilence(id);
    if (wantsHtml(c.req.header("content-type"))) {
      return c.redirect("/alerts", 303);
    }
    if (!ok) return c.json({ error: "silence_not_found" }, 404);
    return c.json({ ended: id });
  });

  return app;
}

export interface AlertCounts {
  firing: number;
  crit: number;
  warn: number;
  pending: number;
  acknowledged: number;
  silenced: number;
}

/** Counts for the banner and the API. */
export function countAlerts(
  active: ReturnType<AlertEngine["active"]>,
): AlertCounts {
  const c: AlertCounts = {
    firing: 0,
    crit: 0,
    warn: 0,
    pending: 0,
    acknowledged: 0,
    silenced: 0,
  };
  for (const a of active) {
    if (a.state === "pending") c.pending++;
    else if (a.state === "acknowledged") c.acknowledged++;
    else if (a.state === "silenced") c.silenced++;
    if (a.state === "firing") {
      c.firing++;
      if (a.severity === "crit") c.crit++;
      else c.warn++;
    }
  }
  return c;
}
