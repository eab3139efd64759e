/**
 * Login over a real socket on both WebSocket adapters: the rate limit keys
 * on the address each adapter reports, and a session opens the live events.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { hashPassword } from "./password.ts";
import { startTestServer } from "../testing/test_server.ts";
import { createWsAdapter } from "../ws/mod.ts";
import { peerAddress } from "./client_address.ts";
import { rawRequest } from "../testing/raw_client.ts";
import { runScript } from "../testing/subprocess.ts";

const PASSWORD = "pw";
const HASH = await hashPassword(PASSWORD, { n: 1024, r: 8, p: 1 });

// Before the loop: its node-adapter tests swap the global Response.
Deno.test("`deno task host logout-all` ends the sessions of a running server", async () => {
  await using server = await startTestServer({
    env: { DASHBOARD_PASSWORD_HASH: HASH },
  });
  const res = await fetch(`${server.url}/login`, {
    method: "POST",
    body: new URLSearchParams({ password: PASSWORD }),
    redirect: "manual",
  });
  await res.body?.cancel();
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  const api = async () => {
    const r = await fetch(`${server.url}/api/hosts`, { headers: { cookie } });
    await r.body?.cancel();
    return r.status;
  };
  assert.equal(await api(), 200);
  const out = await runScript("cli.ts", ["logout-all"], {
    DATABASE_URL: server.config.databaseUrl,
  });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "ended 1 dashboard session\n");
  assert.equal(await api(), 401);
});

for (const wsAdapter of ["deno", "node"] as const) {
  parallelLoginTest(wsAdapter);
  Deno.test(`${wsAdapter} adapter: getConnInfo gives the peer address`, async () => {
    const app = new Hono();
    const adapter = createWsAdapter({ wsAdapter, maxFrameBytes: 1024 });
    const peer = peerAddress(adapter.getConnInfo);
    app.get("/", (c) => c.text(peer(c) ?? "none"));
    const served = await adapter.serve(app, { hostname: "127.0.0.1", port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${served.port}/`);
      assert.equal(await res.text(), "127.0.0.1");
    } finally {
      await served.close();
    }
  });

  Deno.test(`${wsAdapter} adapter: a session opens /events, and failed logins end in 429`, async () => {
    await using server = await startTestServer({
      adapter: wsAdapter,
      env: { DASHBOARD_PASSWORD_HASH: HASH },
    });
    const login = async (password: string) => {
      const res = await fetch(`${server.url}/login`, {
        method: "POST",
        body: new URLSearchParams({ password }),
        redirect: "manual",
      });
      await res.body?.cancel();
      return res;
    };

    const ok = await login(PASSWORD);
    assert.equal(ok.status, 303);
    const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0];
    const stream = await fetch(`${server.url}/events`, { headers: { cookie } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^event: hello/);
    await reader.cancel();

    for (let i = 0; i < 5; i++) {
      assert.equal((await login("wrong")).status, 401);
    }
    const limited = await login(PASSWORD);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
  });
}

/** A raw POST /login from a chosen loopback address; returns the status. */
async function loginFrom(
  port: number,
  from: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const body = new URLSearchParams({ password }).toString();
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  const res = await rawRequest(
    port,
    from,
    `POST /login HTTP/1.1\r\nhost: x\r\nconnection: close\r\n` +
      `content-type: application/x-www-form-urlencoded\r\n` +
      `content-length: ${body.length}\r\n${extra}\r\n${body}`,
  );
  return Number(/^HTTP\/1\.1 (\d+)/.exec(res)?.[1]);
}

/**
 * Registered inside the loop above: @hono/node-server swaps the global
 * Response once it serves, so every deno-adapter test must come first.
 */
function parallelLoginTest(wsAdapter: "deno" | "node") {
  Deno.test(`${wsAdapter} adapter: 40 parallel logins over real sockets, the right password 6th: none logs in, each address counted apart, X-Forwarded-For only from TRUSTED_PROXIES`, async () => {
    await using server = await startTestServer({
      adapter: wsAdapter,
      env: {
        DASHBOARD_PASSWORD_HASH: HASH,
        TRUSTED_PROXIES: "127.0.0.9",
        MAX_PENDING_PER_CLIENT: "64",
      },
    });
    const port = server.server.port;
    const statuses = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => loginFrom(port, "127.0.0.2", i === 5 ? PASSWORD : "wrong"),
      ),
    );
    assert.ok(!statuses.includes(303), String(statuses));
    assert.ok(statuses.filter((s) => s === 401).length <= 5, String(statuses));
    // The address behind the TCP front is the real one: another is free.
    assert.equal(await loginFrom(port, "127.0.0.3", PASSWORD), 303);
    // Spend the rest of 127.0.0.2's five; then it is locked out.
    for (let i = 0; i < 5; i++) await loginFrom(port, "127.0.0.2", "wrong");
    assert.equal(await loginFrom(port, "127.0.0.2", PASSWORD), 429);
    // X-Forwarded-For from an untrusted peer changes nothing...
    const xff = { "x-forwarded-for": "198.51.100.1" };
    assert.equal(await loginFrom(port, "127.0.0.2", PASSWORD, xff), 429);
    // ...from the trusted proxy it names the client.
    for (let i = 0; i < 5; i++) {
      assert.equal(await loginFrom(port, "127.0.0.9", "wrong", xff), 401);
    }
    assert.equal(await loginFrom(port, "127.0.0.9", PASSWORD, xff), 429);
    assert.equal(
      await loginFrom(port, "127.0.0.9", PASSWORD, {
        "x-forwarded-for": "198.51.100.2",
      }),
      303,
    );
  });
}
