import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Database } from "../store/client.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import {
  endAllSessions,
  endSession,
  hasSession,
  SESSION_COOKIE,
  sessionSigningKey,
  startSession,
} from "./session.ts";

function sessionApp(database: Database, now: () => number, secret = "k") {
  const opts = { database, secret, ttlMs: 60_000, now };
  const app = new Hono();
  app.post("/start", async (c) => {
    await startSession(c, opts);
    return c.body(null, 204);
  });
  app.post("/end", async (c) => {
    await endSession(c, opts);
    return c.body(null, 204);
  });
  app.get("/check", async (c) => c.text(String(await hasSession(c, opts))));
  return app;
}

function cookiePair(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

const check = async (app: Hono, cookie: string) =>
  (await app.request("/check", { headers: { cookie } })).text();

const rows = async (database: Database) =>
  Number(
    (await database.client.execute(
      "SELECT count(*) AS n FROM dashboard_sessions",
    )).rows[0].n,
  );

Deno.test("startSession() sets an HttpOnly SameSite=Strict cookie, Secure only over TLS", async () => {
  await using tmp = await openTempDatabase();
  const app = sessionApp(tmp.database, () => 0);
  const plain = await app.request("http://x/start", { method: "POST" });
  const flags = plain.headers.get("set-cookie") ?? "";
  assert.match(flags, new RegExp(`^${SESSION_COOKIE}=`));
  assert.match(flags, /HttpOnly/);
  assert.match(flags, /SameSite=Strict/);
  assert.doesNotMatch(flags, /Secure/);
  const tls = await app.request("https://x/start", { method: "POST" });
  assert.match(tls.headers.get("set-cookie") ?? "", /Secure/);
  const proxied = await app.request("http://x/start", {
    method: "POST",
    headers: { "x-forwarded-proto": "https" },
  });
  assert.match(proxied.headers.get("set-cookie") ?? "", /Secure/);
});

Deno.test("hasSession() accepts its own cookie until it expires; the next login prunes the expired row", async () => {
  await using tmp = await openTempDatabase();
  let now = 1_000;
  const app = sessionApp(tmp.database, () => now);
  const cookie = cookiePair(await app.request("/start", { method: "POST" }));
  assert.equal(await check(app, cookie), "true");
  now += 60_001;
  assert.equal(await check(app, cookie), "false");
  assert.equal(await rows(tmp.database), 1);
  await app.request("/start", { method: "POST" });
  assert.equal(await rows(tmp.database), 1); // the old one went
});

Deno.test("a session ended by logout stays ended for a copy of its cookie; endAllSessions() ends the rest", async () => {
  await using tmp = await openTempDatabase();
  const app = sessionApp(tmp.database, () => 0);
  const a = cookiePair(await app.request("/start", { method: "POST" }));
  const b = cookiePair(await app.request("/start", { method: "POST" }));
  const c = cookiePair(await app.request("/start", { method: "POST" }));
  const copied = a;
  await app.request("/end", { method: "POST", headers: { cookie: a } });
  assert.equal(await check(app, copied), "false");
  assert.equal(await check(app, b), "true");
  assert.equal(await endAllSessions(tmp.database), 2);
  assert.equal(await check(app, b), "false");
  assert.equal(await check(app, c), "false");
  assert.equal(await rows(tmp.database), 0);
});

Deno.test("hasSession() rejects a tampered cookie, one signed with another key, and a made-up id", async () => {
  await using tmp = await openTempDatabase();
  const app = sessionApp(tmp.database, () => 0, "key-one");
  const cookie = cookiePair(await app.request("/start", { method: "POST" }));
  const [name, value] = cookie.split("=");
  const [, signature] = decodeURIComponent(value).split(".");
  const forged = `${name}=${
    encodeURIComponent(`${"A".repeat(43)}.${signature}`)
  }`;
  assert.equal(await check(app, forged), "false");
  assert.equal(
    await check(sessionApp(tmp.database, () => 0, "key-two"), cookie),
    "false",
  );
  assert.equal(await check(app, cookie), "true");
  // the database holds only the id's hash, never the id
  const stored = (await tmp.database.client.execute(
    "SELECT id_hash FROM dashboard_sessions",
  )).rows.map((r) => String(r.id_hash));
  const id = decodeURIComponent(value).split(".")[0];
  assert.ok(stored.length === 1 && !stored.includes(id));
});

Deno.test("sessionSigningKey() changes with the password hash", () => {
  assert.notEqual(
    sessionSigningKey("s", "hash-a"),
    sessionSigningKey("s", "hash-b"),
  );
});
