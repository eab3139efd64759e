import assert from "node:assert/strict";
import { createTestApp } from "./testing/test_app.ts";

Deno.test("GET /healthz answers ok", async () => {
  await using t = await createTestApp();
  const res = await t.app.request("/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true });
});

Deno.test("an unexpected error becomes a logged 500 with a JSON body, not a crash", async () => {
  await using t = await createTestApp();
  t.deps.database.close();
  const res = await t.app.request("/api/hosts");
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: "internal_error" });
  assert.match(t.log.lines[0], /^error: GET \/api\/hosts failed:/);
});

Deno.test("new agent sockets are refused with 503 once shutdown has begun", async () => {
  const stopping = new AbortController();
  await using t = await createTestApp(stopping.signal);
  stopping.abort();
  const res = await t.app.request("/agent/ws", {
    headers: { upgrade: "websocket" },
  });
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { error: "shutting_down" });
});

Deno.test("a declared Content-Length over the limit is a 413 whatever the method, with connection: close; one within it is served", async () => {
  await using t = await createTestApp();
  const declared = (method: string, length: number) =>
    t.app.request("/healthz", {
      method,
      headers: { "content-length": String(length) },
    });
  for (const method of ["GET", "HEAD", "DELETE"]) {
    const res = await declared(method, 64 * 1024 * 1024);
    assert.equal(res.status, 413, method);
    assert.equal(res.headers.get("connection"), "close");
    if (method !== "HEAD") {
      assert.deepEqual(await res.json(), { error: "body_too_large" });
    } else await res.body?.cancel();
  }
  const small = await declared("GET", 5);
  assert.equal(small.status, 200);
  await small.body?.cancel();
});
