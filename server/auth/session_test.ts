import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  hasSession,
  SESSION_COOKIE,
  sessionSigningKey,
  startSession,
} from "./session.ts";

function sessionApp(now: () => number, secret = "k") {
  const opts = { secret, ttlMs: 60_000, now };
  const app = new Hono();
  app.post("/start", async (c) => {
    await startSession(c, opts);
    return c.body(null, 204);
  });
  app.get("/check", async (c) => c.text(String(await hasSession(c, opts))));
  return app;
}

function cookiePair(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

Deno.test("startSession() sets an HttpOnly SameSite=Strict cookie, Secure only over TLS", async () => {
  const app = sessionApp(() => 0);
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

Deno.test("hasSession() accepts its own cookie until it expires", async () => {
  let now = 1_000;
  const app = sessionApp(() => now);
  const cookie = cookiePair(await app.request("/start", { method: "POST" }));
  const check = async () =>
    (await app.request("/check", { headers: { cookie } })).text();
  assert.equal(await check(), "true");
  now += 60_001;
  assert.equal(await check(), "false");
});

Deno.test("hasSession() rejects a tampered cookie and one signed with another key", async () => {
  const app = sessionApp(() => 0, "key-one");
  const cookie = cookiePair(await app.request("/start", { method: "POST" }));
  const [name, value] = cookie.split("=");
  const [, signature] = decodeURIComponent(value).split(".");
  const forged = `${name}=${encodeURIComponent(`99999999999999.${signature}`)}`;
  const check = async (a: Hono, c: string) =>
    (await a.request("/check", { headers: { cookie: c } })).text();
  assert.equal(await check(app, forged), "false");
  assert.equal(await check(sessionApp(() => 0, "key-two"), cookie), "false");
  assert.equal(await check(app, cookie), "true");
});

Deno.test("sessionSigningKey() changes with the password hash", () => {
  assert.notEqual(
    sessionSigningKey("s", "hash-a"),
    sessionSigningKey("s", "hash-b"),
  );
});
