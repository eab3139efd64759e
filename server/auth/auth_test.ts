import assert from "node:assert/strict";
import { Hono } from "hono";
import { fakeClock } from "@proxmon/shared/fake_clock";
import type { Database } from "../store/client.ts";
import { hashPassword } from "./password.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createApiToken } from "./api_tokens.ts";
import { type AuthConfig, createAuth, safeNext } from "./auth.tsx";

// A cheap scrypt cost keeps the suite fast; the format is the real one.
const PASSWORD = "correct horse";
const HASH = await hashPassword(PASSWORD, { n: 1024, r: 8, p: 1 });
const SECRET = "s".repeat(32);

interface Harness {
  app: Hono;
  database: Database;
  clock: ReturnType<typeof fakeClock>;
  warnings: string[];
}

async function withAuthApp(
  config: Partial<AuthConfig>,
  fn: (h: Harness) => Promise<void>,
) {
  await using tmp = await openTempDatabase();
  const database = tmp.database;
  const clock = fakeClock(1_700_000_000_000);
  const warnings: string[] = [];
  const auth = createAuth({
    database,
    clock,
    config: {
      dashboardPasswordHash: HASH,
      sessionSecret: SECRET,
      ...config,
    },
    warn: (m) => warnings.push(m),
  });
  const app = new Hono();
  app.route("/", auth.routes);
  app.use("/api/*", auth.requireApi);
  app.get("/api/hosts", (c) => c.json([]));
  app.use("/", auth.requirePage);
  app.get("/", (c) => c.text("overview"));
  await fn({ app, database, clock, warnings });
}

const login = (
  app: Hono,
  password: string,
  init: RequestInit = {},
  env?: unknown,
) =>
  app.request("http://dash/login", {
    method: "POST",
    body: new URLSearchParams({ password, next: "/hosts/pve-01" }),
    ...init,
  }, env);

const cookieOf = (res: Response) =>
  (res.headers.get("set-cookie") ?? "").split(";")[0];

Deno.test("POST /login refuses a wrong password and logs in with the right one", async () => {
  await withAuthApp({}, async ({ app }) => {
    const wrong = await login(app, "nope");
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /Wrong password/);

    const right = await login(app, PASSWORD);
    assert.equal(right.status, 303);
    assert.equal(right.headers.get("location"), "/hosts/pve-01");
    const flags = right.headers.get("set-cookie") ?? "";
    assert.match(flags, /HttpOnly/);
    assert.match(flags, /SameSite=Strict/);
    assert.match(flags, /Path=\//);
    assert.doesNotMatch(flags, /Secure/);

    const page = await app.request("/", {
      headers: { cookie: cookieOf(right) },
    });
    assert.equal(page.status, 200);
    assert.equal(await page.text(), "overview");
  });
});

Deno.test("POST /login marks the cookie Secure behind a TLS proxy", async () => {
  await withAuthApp({}, async ({ app }) => {
    const res = await login(app, PASSWORD, {
      headers: { "x-forwarded-proto": "https" },
    });
    assert.match(res.headers.get("set-cookie") ?? "", /Secure/);
  });
});

Deno.test("pages redirect to the login page and /api answers 401 without a session", async () => {
  await withAuthApp({}, async ({ app }) => {
    const page = await app.request("/");
    assert.equal(page.status, 302);
    assert.equal(page.headers.get("location"), "/login?next=%2F");
    const api = await app.request("/api/hosts");
    assert.equal(api.status, 401);
    assert.deepEqual(await api.json(), { error: "unauthorized" });
    assert.match(api.headers.get("www-authenticate") ?? "", /^Bearer/);
    const forged = await app.request("/api/hosts", {
      headers: { cookie: "proxmon_session=99999999999999.AAAA" },
    });
    assert.equal(forged.status, 401);
  });
});

Deno.test("a session stops working when it expires", async () => {
  await withAuthApp({ sessionTtlMs: 60_000 }, async ({ app, clock }) => {
    const cookie = cookieOf(await login(app, PASSWORD));
    assert.equal(
      (await app.request("/api/hosts", { headers: { cookie } })).status,
      200,
    );
    await clock.advance(60_001);
    assert.equal(
      (await app.request("/api/hosts", { headers: { cookie } })).status,
      401,
    );
  });
});

Deno.test("POST /login answers 429 with Retry-After after five failures from one client", async () => {
  await withAuthApp({}, async ({ app, clock }) => {
    const from = (ip: string) => ({ remoteAddr: { hostname: ip } });
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await login(app, "guess", {}, from("10.0.0.9"))).status,
        401,
      );
    }
    const limited = await login(app, PASSWORD, {}, from("10.0.0.9"));
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "60");
    assert.equal(limited.headers.get("set-cookie"), null);
    // Another client is not punished for this one's guesses.
    assert.equal(
      (await login(app, PASSWORD, {}, from("10.0.0.10"))).status,
      303,
    );
    await clock.advance(60_000);
    assert.equal(
      (await login(app, PASSWORD, {}, from("10.0.0.9"))).status,
      303,
    );
  });
});

Deno.test("a Bearer API token opens /api but not the pages", async () => {
  await withAuthApp({}, async ({ app, database }) => {
    const token = await createApiToken(database, "script", 1);
    const ok = await app.request("/api/hosts", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(ok.status, 200);
    const bad = await app.request("/api/hosts", {
      headers: { authorization: `Bearer ${token.slice(1)}` },
    });
    assert.equal(bad.status, 401);
    const page = await app.request("/", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(page.status, 302);
  });
});

Deno.test("POST /logout clears the session cookie", async () => {
  await withAuthApp({}, async ({ app }) => {
    const cookie = cookieOf(await login(app, PASSWORD));
    const out = await app.request("/logout", {
      method: "POST",
      headers: { cookie },
    });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get("location"), "/login");
    assert.match(
      out.headers.get("set-cookie") ?? "",
      /proxmon_session=;.*Max-Age=0/,
    );
  });
});

Deno.test("without a password hash everything is open and /login goes home", async () => {
  await withAuthApp(
    { dashboardPasswordHash: null, sessionSecret: null },
    async ({ app, warnings }) => {
      assert.equal((await app.request("/")).status, 200);
      assert.equal((await app.request("/api/hosts")).status, 200);
      const loginPage = await app.request("/login");
      assert.equal(loginPage.status, 302);
      assert.equal(loginPage.headers.get("location"), "/");
      assert.deepEqual(warnings, []);
    },
  );
});

Deno.test("createAuth() warns when it has to make up a session secret", async () => {
  await withAuthApp({ sessionSecret: null }, async ({ app, warnings }) => {
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /SESSION_SECRET/);
    // The made-up secret still signs working sessions.
    const cookie = cookieOf(await login(app, PASSWORD));
    assert.equal((await app.request("/", { headers: { cookie } })).status, 200);
  });
});

Deno.test("safeNext() keeps only local paths", () => {
  assert.equal(safeNext("/hosts/a?x=1"), "/hosts/a?x=1");
  assert.equal(safeNext("//evil.example/"), "/");
  assert.equal(safeNext("/\\evil.example/"), "/");
  assert.equal(safeNext("https://evil.example/"), "/");
  assert.equal(safeNext(undefined), "/");
});
