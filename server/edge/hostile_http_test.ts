/**
 * Requests an outside probe sends, over a real socket: every response
 * carries the security headers, broken requests are client errors (400 and
 * one log line), never a 500 with a stack trace, and a body refused ends its
 * connection at once.
 */
import assert from "node:assert/strict";
import { hashPassword } from "../auth/password.ts";
import { startTestServer } from "../testing/test_server.ts";
import {
  connectRaw,
  rawRequest,
  settlesWithin,
} from "../testing/raw_client.ts";

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

/**
 * How long a test waits for a connection the server should close at once
 * after its answer: well inside the idle timeout these tests set (60 s), so
 * a connection left to the idle timeout fails, while a loaded machine does
 * not.
 */
const PROMPTLY_MS = 15_000;
const IDLE_ENV = { IDLE_TIMEOUT_MS: "60000", HEADER_TIMEOUT_MS: "50000" };
const MIB = 1024 * 1024;

/** A body in chunked transfer coding, in 64 KiB chunks, with its last chunk. */
function chunked(bytes: number): string {
  const piece = "x".repeat(64 * 1024);
  const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`;
  return chunk.repeat(Math.ceil(bytes / piece.length)) + "0\r\n\r\n";
}

/**
 * Sends `request` on a new connection (after a GET /healthz and its answer,
 * with `afterHealth`): what came back, and whether the server closed the
 * connection in time.
 */
async function probe(
  port: number,
  from: string,
  request: string,
  afterHealth = false,
) {
  const conn = await connectRaw(port, from);
  if (afterHealth) {
    conn.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    const deadline = Date.now() + PROMPTLY_MS;
    while (!conn.received().includes('{"ok":true}') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  conn.socket.write(request);
  const closed = await settlesWithin(conn.closed, PROMPTLY_MS);
  conn.socket.destroy();
  return { closed, received: conn.received() };
}

Deno.test("a body over the limit, chunked or with a Content-Length, is a 413 and the connection is closed after it, not left to the idle timeout", async (t) => {
  await using server = await startTestServer({ env: IDLE_ENV });
  const port = server.server.port;
  const post = "POST /api/hosts HTTP/1.1\r\nhost: x\r\n";
  const cases = [
    ["chunked", `${post}transfer-encoding: chunked\r\n\r\n${chunked(2 * MIB)}`],
    [
      "chunked, still sending",
      `${post}transfer-encoding: chunked\r\n\r\n` +
      `${(8 * MIB).toString(16)}\r\n${"x".repeat(2 * MIB)}`,
    ],
    [
      "Content-Length",
      `${post}content-length: ${2 * MIB}\r\n\r\n` +
      "x".repeat(2 * MIB),
    ],
    ["Content-Length, head only", `${post}content-length: ${2 * MIB}\r\n\r\n`],
  ];
  let n = 20;
  for (const [name, request] of cases) {
    await t.step(name, async () => {
      const { closed, received } = await probe(port, `127.0.0.${n++}`, request);
      assert.match(received, /^HTTP\/1\.1 413 /, name);
      assert.match(received, /body_too_large/);
      assert.match(received, /\r\nx-content-type-options: nosniff\r\n/i);
      assert.ok(closed, `${name}: still open ${PROMPTLY_MS} ms after its 413`);
    });
  }
  assert.equal((await server.server.edgeStats()).idleTimeouts, 0);
  // The connections went; the server still serves.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

Deno.test("a WebSocket upgrade that carries a body is a 400 with the security headers, and the connection is closed; one without a body still upgrades", async (t) => {
  await using server = await startTestServer({ env: IDLE_ENV });
  const port = server.server.port;
  const upgrade =
    "GET /agent/ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\n" +
    "upgrade: websocket\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "sec-websocket-version: 13\r\n";
  const cases = [
    [
      "2 MiB Content-Length",
      `${upgrade}content-length: ${2 * MIB}\r\n\r\n` +
      "x".repeat(2 * MIB),
    ],
    [
      "2 MiB chunked",
      `${upgrade}transfer-encoding: chunked\r\n\r\n` +
      chunked(2 * MIB),
    ],
    ["10 bytes", `${upgrade}content-length: 10\r\n\r\n0123456789`],
    // the upgrade as the second request on a keep-alive connection
    [
      "after a request",
      `${upgrade}content-length: ${2 * MIB}\r\n\r\n${"x".repeat(2 * MIB)}`,
    ],
  ];
  let n = 30;
  for (const [name, request] of cases) {
    await t.step(name, async () => {
      const again = name === "after a request";
      const { closed, received } = await probe(
        port,
        `127.0.0.${n++}`,
        request,
        again,
      );
      const answer = again
        ? received.slice(received.indexOf("HTTP/1.1", 1))
        : received;
      if (again) assert.match(received, /^HTTP\/1\.1 200 /);
      assert.match(
        answer,
        /^HTTP\/1\.1 (400|413) /,
        `${name}: ${received.slice(0, 80)}`,
      );
      assert.match(answer, /bad_websocket_upgrade/);
      assert.match(answer, /\r\nx-content-type-options: nosniff\r\n/i);
      assert.match(answer, /\r\nx-frame-options: SAMEORIGIN\r\n/i);
      assert.match(
        answer,
        /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/i,
      );
      assert.ok(
        closed,
        `${name}: still open ${PROMPTLY_MS} ms after its answer`,
      );
    });
  }
  // An agent's upgrade, with no body, still works.
  const ws = new WebSocket(server.wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const pong = new Promise((r) => ws.onmessage = (ev) => r(ev.data));
  ws.send(JSON.stringify({ type: "ping" }));
  assert.match(String(await pong), /pong/);
  ws.close();
});

Deno.test("a GET that declares a body over the limit is a 413 from its head, before a byte of the body is sent", async () => {
  await using server = await startTestServer({ env: IDLE_ENV });
  const port = server.server.port;
  let n = 40;
  for (const path of ["/healthz", "/api/hosts", "/", "/agent/ws"]) {
    const { closed, received } = await probe(
      port,
      `127.0.0.${n++}`,
      `GET ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${64 * MIB}\r\n\r\n`,
    );
    assert.match(
      received,
      /^HTTP\/1\.1 413 /,
      `${path}: ${received.slice(0, 80)}`,
    );
    assert.match(received, /body_too_large/);
    assert.ok(closed, `${path}: still open ${PROMPTLY_MS} ms after its 413`);
  }
  // A GET with a small body declared is served as before.
  const small = await probe(
    port,
    "127.0.0.49",
    "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello",
  );
  assert.match(small.received, /^HTTP\/1\.1 200 /);
});
