import * as assert from "node:assert/strict";
import { createApiToken } from "../auth/api_tokens.ts";
import { createTestApp } from "../testing/test_app.ts";
import { fastWith } from "./testing/engine_harness.ts";

const degraded = { name: "tank", health: "DEGRADED", degraded_vdev_count: 1 };
const ORIGIN = "http://localhost";

async function appWithAlert() {
  const t = await createTestApp();
  t.deps.alerts.observe("pve-lab", Date.now(), {
    interval: "fast",
    data: await fastWith([degraded]),
  });
  await t.deps.alerts.flush();
  return t;
}

Deno.test("GET /api/alerts lists the active alert with counts, history and channels", async () => {
  await using t = await appWithAlert();
  const res = await t.app.request("/api/alerts");
  assert.equal(res.status, 200);
  const body = await res.json();
  const unhealthy = body.active.find((a: { rule: string }) =>
    a.rule === "pool_unhealthy"
  );
  assert.equal(unhealthy.host, "pve-lab");
  assert.equal(unhealthy.object, "tank");
  assert.equal(unhealthy.state, "firing");
  assert.equal(unhealthy.severity, "crit");
  assert.ok(body.counts.crit >= 1);
  assert.ok(
    body.history.some((h: { event: string; rule: string }) =>
      h.event === "firing" && h.rule === "pool_unhealthy"
    ),
  );
  assert.deepEqual(body.channels, []);
});

Deno.test("POST actions refuse cross-site requests and accept same-origin ones", async () => {
  await using t = await appWithAlert();
  const id = t.deps.alerts.active().find((a) => a.rule === "pool_unhealthy")!
    .id!;
  const post = (path: string, headers: Record<string, string>, body?: string) =>
    t.app.request(`${ORIGIN}${path}`, { method: "POST", headers, body });

  let res = await post(`/api/alerts/${id}/ack`, {
    origin: "https://evil.example",
  });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error, "csrf");
  res = await post(`/api/alerts/${id}/ack`, {}); // neither Origin nor Sec-Fetch-Site
  assert.equal(res.status, 403);
  assert.equal(
    t.deps.alerts.active().find((a) => a.id === id)!.state,
    "firing",
  );

  res = await post(`/api/alerts/${id}/ack`, { origin: ORIGIN });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).state, "acknowledged");

  // a bearer token carries no ambient credentials, so no origin is needed
  const token = await createApiToken(t.db.database, "script", Date.now());
  res = await post("/api/alerts/silences", {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
  }, JSON.stringify({ host: "pve-lab", duration: "2h", comment: "disk swap" }));
  assert.equal(res.status, 201);
  const { id: silenceId } = await res.json();
  assert.equal(t.deps.alerts.silences()[0].comment, "disk swap");

  // the dashboard's forms: same origin, redirected back to /alerts
  res = await post(`/api/alerts/silences/${silenceId}/end`, {
    "sec-fetch-site": "same-origin",
    "content-type": "application/x-www-form-urlencoded",
  }, "");
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/alerts");
  assert.deepEqual(t.deps.alerts.silences(), []);

  res = await post("/api/alerts/silences", {
    origin: ORIGIN,
    "content-type": "application/json",
  }, JSON.stringify({ duration: "2h" }));
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).message,
    /at least one of rule, host, object, tag/,
  );
});

Deno.test("every page shows the alert banner; overview rows and /alerts show the alert", async () => {
  await using t = await appWithAlert();
  const alerts = await (await t.app.request("/alerts")).text();
  assert.match(alerts, /id="alert-banner"/);
  assert.match(alerts, /pool tank is DEGRADED/);
  assert.match(alerts, /Acknowledge/);
  const missing = await t.app.request("/hosts/nope");
  assert.match(await missing.text(), /alerts? firing/);
});
