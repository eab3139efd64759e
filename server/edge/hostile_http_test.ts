/**
 * Requests an outside probe sends, over a real socket: every response
 * carries the security headers, and broken requests are client errors
 * (400 and one log line), never a 500 with a stack trace.
 */
import assert from "node:assert/strict";
import { hashPassword } from "../auth/password.ts";
import { startTestServer } from "../testing/test_server.ts";
import { rawRequest } from "../testing/raw_client.ts";

const HASH = await hashPassword("pw-long-enough", { n: 1024, r: 8, p: 1 });

function assertSecurityHeaders(res: Response, what: string) {
  const h = res.headers;
  assert.equal(h.get("x-content-type-options"), "nosniff", what);
  assert.equal(h.get("x-frame-options"), "SAMEORIGIN", what);
  assert.match(
    h.get("content-security-policy") ?? "",
    /default-src 'self'.*frame-ancestors 'none'/,
    what,
  );
}

for (const password of [null, HASH]) {
  Deno.test(`every response has CSP, X-Frame-Options and nosniff (${password ? "password set" : "development"})`, async () => {
    await using server = await startTestServer({
      env: password ? { DASHBOARD_PASSWORD_HASH: password } : {},
    });
    const get = (path: string, init?: RequestInit) =>
      fetch(`${server.url}${path}`, { redirect: "manual", ...init });
    const paths = [
      "/",
      "/login",
      "/healthz",
      "/hosts/none",
      "/fragments/overview",
      "/fragments/hosts/none",
      "/api/hosts",
      "/api/hosts/none",
      "/assets/app.css",
      "/assets/missing.js",
      "/no/such/page",
      "/agent/ws",
    ];
    for (const path of paths) {
      const res = await get(path);
      await res.body?.cancel();
      assertSecurityHeaders(res, `${path} (${res.status})`);
    }
    // Errors too: a body over the limit, and a login refused.
    const big = await get("/api/hosts", {
      method: "POST",
      body: "x".repeat(2 * 1024 * 1024),
    });
    await big.body?.cancel();
    assert.equal(big.status, 413);
    assertSecurityHeaders(big, "413");
    const refused = await get("/login", {
      method: "POST",
      body: new URLSearchParams({ password: "nope" }),
    });
    await refused.body?.cancel();
    assertSecurityHeaders(refused, `POST /login ${refused.status}`);
  });
}

Deno.test("a WebSocket upgrade without a valid Sec-WebSocket-Key is a 400 with one log line", async () => {
  await using server = await startTestServer();
  const port = server.server.port;
  const upgrade = (headers: string) =>
    rawRequest(
      port,
      "127.0.0.2",
      `GET /agent/ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, close\r\nupgrade: websocket\r\n${headers}\r\n`,
    );
  const cases = [
    "sec-websocket-version: 13\r\n",
    "sec-websocket-key: short\r\nsec-websocket-version: 13\r\n",
    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 8\r\n",
  ];
  for (const headers of cases) {
    const res = await upgrade(headers);
    assert.match(res, /^HTTP\/1\.1 400 /, headers);
    assert.match(res, /bad_websocket_upgrade/);
    // a refused upgrade is an ordinary response, with the same headers
    assert.match(res, /\r\nx-content-type-options: nosniff\r\n/i, headers);
    assert.match(res, /\r\nx-frame-options: SAMEORIGIN\r\n/i, headers);
    assert.match(
      res,
      /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i,
    );
  }
  const lines = server.log.lines.filter((l) => l.includes("WebSocket upgrade"));
  assert.ok(lines.length >= 1 && lines.length <= cases.length);
  assert.ok(lines.every((l) => !l.includes("\n")), lines.join("|"));
  assert.ok(!server.log.lines.some((l) => l.startsWith("error:")));
  // A proper upgrade still works.
  const ws = new WebSocket(server.wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.close();
});
