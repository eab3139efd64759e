/**
 * The front on its Worker, over real sockets: the HTTP server's thread
 * knows each connection's client before its request arrives, and a Worker
 * that fails leaves the front running on the calling thread.
 */
import assert from "node:assert/strict";
import { type MemoryLogger, memoryLogger } from "@proxmon/shared/logger";
import { rawRequest } from "../testing/raw_client.ts";
import type { TcpFront } from "./tcp_front.ts";
import { startWorkerFront } from "./worker_front.ts";

const LIMITS = {
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  maxConnections: 100,
  maxConnectionsPerClient: 20,
  maxPendingPerClient: 10,
};
const REQUEST = "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

/**
 * A front (on `workerUrl`, or the real Worker) before an upstream that
 * answers with the client the front says it serves.
 */
async function withFront(
  workerUrl: URL | undefined,
  fn: (front: TcpFront, log: MemoryLogger) => Promise<void>,
) {
  let front: TcpFront | null = null;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (_req, info) =>
      Response.json(front?.clientOf(info.remoteAddr.port) ?? null),
  );
  const log = memoryLogger();
  try {
    front = await startWorkerFront({
      ...LIMITS,
      hostname: "127.0.0.1",
      port: 0,
      upstreamPort: server.addr.port,
      trustedProxies: [],
      log,
      workerUrl,
    });
    try {
      await fn(front, log);
    } finally {
      await front.close();
    }
  } finally {
    await server.shutdown();
  }
}

const clientIn = (response: string) =>
  JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4))?.address;

Deno.test("the HTTP server's thread knows the client of every connection the Worker forwards", async () => {
  let closed: TcpFront | null = null;
  await withFront(undefined, async (front, log) => {
    closed = front;
    const answers = await Promise.all(
      [2, 3, 4, 5].map((n) => rawRequest(front.port, `127.0.0.${n}`, REQUEST)),
    );
    assert.deepEqual(answers.map(clientIn), [
      "127.0.0.2",
      "127.0.0.3",
      "127.0.0.4",
      "127.0.0.5",
    ]);
    const stats = await front.stats();
    assert.equal(stats.refused, 0);
    assert.deepEqual(log.lines, []);
  });
  await assert.rejects(closed!.stats(), /closed/);
});

for (const at of ["load", "listen"] as const) {
  Deno.test(`a front Worker that fails ${at === "load" ? "as it loads" : "after it listens"}: the front runs on the calling thread`, async () => {
    const failing = new URL(
      `../testing/failing_worker.ts?at=${at}`,
      import.meta.url,
    );
    await withFront(failing, async (front, log) => {
      if (at === "listen") {
        const end = Date.now() + 10_000;
        while (!log.lines.some((l) => /runs inline from now on/.test(l))) {
          assert.ok(Date.now() < end, log.lines.join("\n"));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      // Served again once the dead Worker's port is free (moments).
      let answer = "";
      for (let i = 0; i < 100 && answer === ""; i++) {
        answer = await rawRequest(front.port, "127.0.0.6", REQUEST).catch(
          () => new Promise<string>((r) => setTimeout(() => r(""), 100)),
        );
      }
      assert.equal(clientIn(answer), "127.0.0.6");
      assert.match(
        log.lines.join("\n"),
        /worker failed \(.*this front fails/,
      );
    });
  });
}
