import assert from "node:assert/strict";
import { type Context, Hono } from "hono";
import { getConnInfo } from "hono/deno";
import { fakeClock } from "@proxmon/shared/fake_clock";
import type { Database } from "../store/client.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { createLoginLimiter } from "./login_limiter.ts";
import {
  createClientAddress,
  peerAddress,
  trustedProxyList,
} from "./client_address.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { createApiToken } from "./api_tokens.ts";
import {
  type AuthConfig,
  type AuthDeps,
  createAuth,
  safeNext,
} from "./auth.tsx";

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
  assert.equal(safeNext("/"), "/");
  // Browsers drop tabs and newlines from URLs: each of these is
  // //evil.example/ (or /\evil.example/) to them.
  for (const c of ["\t", "\n", "\r", "\u0000", "\u000b", "\u001f", "\u007f"]) {
    assert.equal(safeNext(`/${c}/evil.example/`), "/", JSON.stringify(c));
    assert.equal(safeNext(`/${c}\\evil.example/`), "/", JSON.stringify(c));
    assert.equal(safeNext(`${c}//evil.example/`), "/", JSON.stringify(c));
  }
  // Whatever comes back is a valid, local Location: printable ASCII only.
  for (
    const bad of [
      " //evil.example/",
      "/ /evil",
      "/hosts/\u00e9",
      "/hosts/a b",
      "javascript:alert(1)",
      "\\\\evil.example",
      "/\u2028/evil.example",
    ]
  ) {
    const out = safeNext(bad);
    assert.ok(out === "/" || /^\/[^/\\][\x21-\x7e]*$/.test(out), bad);
    assert.doesNotMatch(out, /[^\x21-\x7e]/);
  }
  // Control characters inside an otherwise local path are dropped.
  assert.equal(safeNext("/hosts/pve-01\r\n?x=1"), "/hosts/pve-01?x=1");
  assert.equal(safeNext("/hosts/pve-01\r\nSet-Cookie: x=1"), "/");
});

Deno.test("POST /login with CR/LF in next redirects to a clean local path, never a 500", async () => {
  await withAuthApp({}, async ({ app }) => {
    for (const next of ["/x\r\nSet-Cookie: a=b", "/\r\n/evil.example", "\n"]) {
      const res = await app.request("http://dash/login", {
        method: "POST",
        body: new URLSearchParams({ password: PASSWORD, next }),
      });
      assert.equal(res.status, 303, JSON.stringify(next));
      const location = res.headers.get("location") ?? "";
      assert.match(location, /^\/([^/\\][\x21-\x7e]*)?$/);
      assert.equal(res.headers.get("set-cookie")?.includes("a=b"), false);
    }
  });
});

/** One login attempt from `ip` (and an optional X-Forwarded-For). */
const attempt = (
  app: Hono,
  password: string,
  ip: string,
  forwardedFor?: string,
) =>
  login(
    app,
    password,
    forwardedFor === undefined
      ? {}
      : { headers: { "x-forwarded-for": forwardedFor } },
    { remoteAddr: { hostname: ip } },
  );

/**
 * Just the login routes over `database`, with the test password and a fake
 * clock unless `deps` says otherwise.
 */
function loginRoutes(database: Database, deps: Partial<AuthDeps> = {}): Hono {
  const auth = createAuth({
    database,
    clock: fakeClock(1_700_000_000_000),
    config: { dashboardPasswordHash: HASH, sessionSecret: SECRET },
    ...deps,
  });
  return new Hono().route("/", auth.routes);
}

/** The real check, counting calls and how many run at once. */
function countingVerify() {
  const seen = { calls: 0, running: 0, maxRunning: 0 };
  const verify = async (password: string, hash: string) => {
    seen.calls++;
    seen.maxRunning = Math.max(seen.maxRunning, ++seen.running);
    try {
      return await verifyPassword(password, hash);
    } finally {
      seen.running--;
    }
  };
  return { seen, verify };
}

Deno.test("40 parallel attempts from one client: the right password as the 6th does not log in, and at most 5 are checked", async () => {
  await using tmp = await openTempDatabase();
  const { seen, verify } = countingVerify();
  const app = loginRoutes(tmp.database, { verify });
  const results = await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) => attempt(app, i === 5 ? PASSWORD : `guess-${i}`, "10.0.0.7"),
    ),
  );
  const statuses = results.map((r) => r.status);
  assert.ok(!statuses.includes(303), `logged in: ${statuses}`);
  assert.ok(seen.calls <= 5, `${seen.calls} checked`);
  assert.equal(seen.maxRunning, 1);
  assert.equal(statuses.filter((s) => s === 401).length, seen.calls);
  assert.equal(statuses.filter((s) => s === 429).length, 40 - seen.calls);
  // Every guess was counted, checked or refused while another was being
  // checked: the burst used up the client's five, so even the right
  // password now waits.
  assert.equal((await attempt(app, PASSWORD, "10.0.0.7")).status, 429);
});

Deno.test("parallel attempts from many clients: only a few scrypt checks run at once", async () => {
  await using tmp = await openTempDatabase();
  const { seen, verify } = countingVerify();
  const app = loginRoutes(tmp.database, { verify });
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => attempt(app, "x", `10.1.0.${i}`)),
  );
  assert.ok(seen.maxRunning <= 2, `${seen.maxRunning} at once`);
  assert.ok(seen.calls >= 1);
  for (const r of results) {
    assert.ok([401, 429].includes(r.status));
    if (r.status === 429) assert.equal(r.headers.get("retry-after"), "1");
  }
});

Deno.test("an IPv6 client is limited by its /64: five failures from five addresses in it lock out the sixth, not the next /64", async () => {
  await using tmp = await openTempDatabase();
  const app = loginRoutes(tmp.database);
  for (let i = 1; i <= 5; i++) {
    assert.equal((await attempt(app, "x", `2001:db8:1:2::${i}`)).status, 401);
  }
  assert.equal((await attempt(app, PASSWORD, "2001:db8:1:2::99")).status, 429);
  assert.equal((await attempt(app, PASSWORD, "2001:db8:1:3::1")).status, 303);
});

Deno.test("failures are also limited globally, with a higher cap", async () => {
  await using tmp = await openTempDatabase();
  const clock = fakeClock(1_700_000_000_000);
  const app = loginRoutes(tmp.database, {
    clock,
    globalLimiter: createLoginLimiter({ now: clock.now, maxFailures: 12 }),
  });
  // 12 clients, one failure each: no client is at its own limit...
  for (let i = 0; i < 12; i++) {
    assert.equal((await attempt(app, "x", `10.2.0.${i}`)).status, 401);
  }
  // ...but together they reached the global one.
  const limited = await attempt(app, PASSWORD, "10.2.0.99");
  assert.equal(limited.status, 429);
  await clock.advance(60_000);
  assert.equal((await attempt(app, PASSWORD, "10.2.0.99")).status, 303);
});

Deno.test("TRUSTED_PROXIES: only a trusted peer's X-Forwarded-For picks the client", async () => {
  await using tmp = await openTempDatabase();
  const app = loginRoutes(tmp.database, {
    clientAddress: createClientAddress(
      peerAddress(getConnInfo),
      trustedProxyList(["10.9.0.0/16", "::1"]),
    ),
  });
  // Behind the proxy, one user's failures do not lock out another user.
  for (let i = 0; i < 5; i++) {
    assert.equal((await attempt(app, "x", "10.9.0.1", "1.2.3.4")).status, 401);
  }
  assert.equal(
    (await attempt(app, PASSWORD, "10.9.0.1", "1.2.3.4")).status,
    429,
  );
  assert.equal(
    (await attempt(app, PASSWORD, "10.9.0.1", "1.2.3.5")).status,
    303,
  );
  // An untrusted peer cannot escape its count by inventing addresses.
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await attempt(app, "x", "192.0.2.1", `5.5.5.${i}`)).status,
      401,
    );
  }
  assert.equal(
    (await attempt(app, PASSWORD, "192.0.2.1", "5.5.5.200")).status,
    429,
  );
});

Deno.test("createClientAddress() reads X-Forwarded-For from the right, past trusted hops only", () => {
  const trusted = trustedProxyList(["10.0.0.0/8", "2001:db8::/32"]);
  const of = (peer: string, xff?: string) =>
    createClientAddress(() => peer, trusted)(
      // the one part of a Context it reads
      { req: { header: () => xff } } as unknown as Context,
    );
  assert.equal(of("192.0.2.7", "1.1.1.1"), "192.0.2.7");
  assert.equal(of("10.0.0.1", "1.1.1.1"), "1.1.1.1");
  assert.equal(of("10.0.0.1", "6.6.6.6, 1.1.1.1, 10.0.0.2"), "1.1.1.1");
  assert.equal(of("10.0.0.1", "::ffff:1.1.1.1"), "1.1.1.1");
  assert.equal(of("10.0.0.1", "not-an-ip"), "10.0.0.1");
  assert.equal(of("10.0.0.1"), "10.0.0.1");
  assert.equal(of("2001:db8::1", "2001:DB9::5"), "2001:db9::5");
  assert.equal(of("10.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
});

/** A body stream that counts how much of it was read. */
function countedBody(totalBytes: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const read = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (read.bytes >= totalBytes) return ctrl.close();
      read.bytes += chunk.length;
      ctrl.enqueue(chunk);
    },
  });
  return { read, stream };
}

Deno.test("POST /login: a locked-out client's body is not read, and any login body over 8 KiB is refused", async () => {
  await withAuthApp({}, async ({ app }) => {
    const from = { remoteAddr: { hostname: "10.3.0.1" } };
    const big = countedBody(64 * 1024 * 1024);
    const tooLarge = await app.request("http://dash/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: big.stream,
      duplex: "half",
    } as RequestInit, from);
    assert.equal(tooLarge.status, 413);
    assert.ok(big.read.bytes <= 2 * 64 * 1024, `${big.read.bytes} read`);
    // The oversized attempt counted as one of the five.
    for (let i = 0; i < 4; i++) {
      assert.equal((await login(app, "x", {}, from)).status, 401);
    }
    const locked = countedBody(64 * 1024 * 1024);
    const res = await app.request("http://dash/login", {
      method: "POST",
      body: locked.stream,
      duplex: "half",
    } as RequestInit, from);
    assert.equal(res.status, 429);
    assert.ok(locked.read.bytes <= 64 * 1024, `${locked.read.bytes} read`);
  });
});

Deno.test("logout ends the session for every copy of its cookie; a new password ends them all", async () => {
  await using tmp = await openTempDatabase();
  const clock = fakeClock(1_700_000_000_000);
  const appWith = (hash: string) => {
    const auth = createAuth({
      database: tmp.database,
      clock,
      config: { dashboardPasswordHash: hash, sessionSecret: SECRET },
    });
    const app = new Hono().route("/", auth.routes);
    app.use("/api/*", auth.requireApi);
    app.get("/api/hosts", (c) => c.json([]));
    return app;
  };
  const app = appWith(HASH);
  const api = async (a: Hono, cookie: string) =>
    (await a.request("/api/hosts", { headers: { cookie } })).status;
  const first = cookieOf(await login(app, PASSWORD));
  const copy = first;
  const second = cookieOf(await login(app, PASSWORD));
  assert.equal(await api(app, copy), 200);
  await app.request("/logout", { method: "POST", headers: { cookie: first } });
  assert.equal(await api(app, copy), 401);
  assert.equal(await api(app, second), 200);
  // The same server restarted with a new password hash: old cookies fail.
  const newHash = await hashPassword("a new password", { n: 1024, r: 8, p: 1 });
  assert.equal(await api(appWith(newHash), second), 401);
});
