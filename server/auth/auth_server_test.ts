/**
 * Login over a real socket on both WebSocket adapters: the rate limit keys
 * on the address each adapter reports, and a session opens the live events.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { hashPassword } from "./password.ts";
import { startTestServer } from "../testing/test_server.ts";
import { createWsAdapter } from "../ws/mod.ts";
import { clientAddress } from "./auth.tsx";

const PASSWORD = "pw";
const HASH = await hashPassword(PASSWORD, { n: 1024, r: 8, p: 1 });

for (const wsAdapter of ["deno", "node"] as const) {
  Deno.test(`${wsAdapter} adapter: clientAddress() reads the peer address`, async () => {
    const app = new Hono();
    app.get("/", (c) => c.text(clientAddress(c)));
    const served = await createWsAdapter({ wsAdapter, maxFrameBytes: 1024 })
      .serve(app, { hostname: "127.0.0.1", port: 0 });
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
