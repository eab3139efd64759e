/**
 * The public listener under hostile clients, over real sockets: connections
 * that never send a request, half requests, idle keep-alive, one address
 * holding many connections, and more connections than the server process
 * has file descriptors.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/subprocess.ts";
import { startTestServer } from "../testing/test_server.ts";
import {
  connectRaw,
  type RawConn,
  rawRequest,
  settlesWithin,
} from "../testing/raw_client.ts";
import { connectionsFor, parseFdLimit } from "./fd_limit.ts";
import { clientKey, type FrontStats, startTcpFront } from "./tcp_front.ts";
import { systemClock } from "@proxmon/shared/clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { fakeClock } from "@proxmon/shared/fake_clock";

const HEALTH = "GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
const HALF = "GET /healthz HTTP/1.1\r\nhost: x\r\n"; // no blank line: never done
/**
 * How long a test waits for the server to close what a timeout should
 * close. Much longer than any timeout here, so a loaded machine (load 10+
 * on two cores delays the server's 1 s sweep by seconds) cannot fail it,
 * while a timeout that does not work still does; how close to the timeout
 * the close comes is bench:edges' figure, not a test's.
 */
const CLOSE_WITHIN_MS = 30_000;

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, {
      // served, not fast: a loaded machine may take seconds
      signal: AbortSignal.timeout(15_000),
    });
    return res.status === 200 && (await res.json()).ok === true;
  } catch {
    return false;
  }
}

Deno.test("more idle connections than the file limit: the server survives, serves others, and closes them after the header timeout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-edge-test-" });
  const maxOpenFiles = 256;
  await using server = await startServerProcess({
    DATABASE_URL: `file:${dir}/proxmon.db`,
    HEADER_TIMEOUT_MS: "3000",
  }, { maxOpenFiles });
  const url = `http://127.0.0.1:${server.port}`;
  assert.ok(await healthy(url));

  // 400 connections (the limit is 256) from 40 addresses, 10 each: under the
  // per-client caps, so only the total cap and the timeouts protect.
  const flood: RawConn[] = [];
  for (let a = 0; a < 40; a++) {
    for (let i = 0; i < 10; i++) {
      const conn = await connectRaw(server.port, `127.0.0.${10 + a}`);
      if (i % 3 === 0) conn.socket.write(HALF);
      flood.push(conn);
    }
  }
  // Other clients are served during the flood.
  for (let i = 0; i < 5; i++) assert.ok(await healthy(url), `during, try ${i}`);

  // Every flood connection is closed by the header timeout (or earlier, to
  // make room), however much of a request it sent.
  const allClosed = await settlesWithin(
    Promise.all(flood.map((c) => c.closed)),
    CLOSE_WITHIN_MS,
  );
  assert.ok(allClosed, "flood connections still open after the timeout");
  assert.ok(await healthy(url), "after the flood");

  // Still the same process, and it said so in a few lines, not one per
  // connection.
  assert.equal(server.exited(), false, "the server exited");
  const done = await server.stop({ sig: "SIGTERM" });
  assert.equal(done.code, 0, done.stderr);
  assert.doesNotMatch(done.stderr, /Uncaught/);
  // Closed connections give their descriptors back a moment later, so a
  // loaded machine can still run out at accept now and then: the front logs
  // it (rate-limited, counted below) and goes on. Nothing else may.
  const emfile = done.stderr.split("\n").filter((l) =>
    l.includes("Too many open files")
  );
  assert.ok(
    emfile.every((l) => l.includes("accepting a connection failed")),
    emfile.join("\n"),
  );
  assert.ok(
    done.stderr.split("\n").length < 30,
    `log flooded:\n${done.stderr}`,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("one address: connections without a request are capped, others are still served", async () => {
  await using server = await startTestServer({
    env: { HEADER_TIMEOUT_MS: "2000", MAX_PENDING_PER_CLIENT: "8" },
  });
  const port = server.server.port;
  const held: RawConn[] = [];
  for (let i = 0; i < 8; i++) held.push(await connectRaw(port, "127.0.0.2"));
  // The ninth from that address is refused with a reason; another address
  // is served.
  const refused = await rawRequest(port, "127.0.0.2", HEALTH);
  assert.match(refused, /^HTTP\/1\.1 503 .*too many connections/s);
  assert.match(refused, /\r\nx-content-type-options: nosniff\r\n/);
  assert.match(
    refused,
    /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/,
  );
  assert.match(await rawRequest(port, "127.0.0.3", HEALTH), /^HTTP\/1\.1 200/);
  // None of the held ones was closed for it; the timeout closes them all.
  const stats = await server.server.edgeStats();
  assert.equal(stats.refused, 1);
  assert.equal(stats.evicted, 0);
  assert.ok(
    await settlesWithin(
      Promise.all(held.map((c) => c.closed)),
      CLOSE_WITHIN_MS,
    ),
  );
  assert.equal((await server.server.edgeStats()).headerTimeouts, 8);
  // Then that address may connect again.
  assert.match(await rawRequest(port, "127.0.0.2", HEALTH), /^HTTP\/1\.1 200/);
});

Deno.test("a request head sent byte by byte is closed at the header timeout; an idle keep-alive after the idle timeout", async () => {
  await using server = await startTestServer({
    env: { HEADER_TIMEOUT_MS: "1500", IDLE_TIMEOUT_MS: "2500" },
  });
  const port = server.server.port;
  const slow = await connectRaw(port, "127.0.0.4");
  const trickle = setInterval(() => slow.socket.write("x"), 200);
  slow.socket.write("GET /healthz HTTP/1.1\r\nx-pad: ");
  try {
    const started = Date.now();
    assert.ok(await settlesWithin(slow.closed, CLOSE_WITHIN_MS));
    assert.ok(Date.now() - started >= 1000, "closed before the timeout");
    assert.equal((await server.server.edgeStats()).headerTimeouts, 1);
  } finally {
    clearInterval(trickle);
  }

  const keepAlive = await connectRaw(port, "127.0.0.5");
  keepAlive.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
  const answered = Date.now();
  assert.equal(await settlesWithin(keepAlive.closed, 1500), false);
  assert.match(keepAlive.received(), /^HTTP\/1\.1 200/);
  // Busy beyond the header timeout, idle only after the answer.
  assert.ok(await settlesWithin(keepAlive.closed, CLOSE_WITHIN_MS));
  assert.ok(Date.now() - answered >= 2000);
  const stats = await server.server.edgeStats();
  assert.deepEqual([stats.headerTimeouts, stats.idleTimeouts], [1, 1]);
});

Deno.test("on a keep-alive connection, a later request head is held to the header timeout too; complete ones are served", async () => {
  await using server = await startTestServer({
    env: { HEADER_TIMEOUT_MS: "1500", IDLE_TIMEOUT_MS: "20000" },
  });
  const conn = await connectRaw(server.server.port, "127.0.0.8");
  const request = "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
  const answers = () => conn.received().split("HTTP/1.1 200").length - 1;
  const waitAnswers = async (n: number) => {
    const deadline = Date.now() + CLOSE_WITHIN_MS;
    while (answers() < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(answers(), n, conn.received());
  };
  // Three requests, each after the last answer, spread over more than the
  // header timeout: all served on the one connection.
  for (let i = 1; i <= 3; i++) {
    conn.socket.write(request);
    await waitAnswers(i);
    await new Promise((r) => setTimeout(r, 700));
  }
  assert.equal(await settlesWithin(conn.closed, 0), false);
  // Now a head that trickles in and never ends.
  conn.socket.write("GET /healthz HTTP/1.1\r\nx-pad: ");
  const started = Date.now();
  const trickle = setInterval(() => conn.socket.write("x"), 200);
  try {
    assert.ok(await settlesWithin(conn.closed, CLOSE_WITHIN_MS));
    assert.ok(Date.now() - started >= 1000, "closed before the timeout");
  } finally {
    clearInterval(trickle);
  }
  const stats = await server.server.edgeStats();
  assert.deepEqual([stats.headerTimeouts, stats.idleTimeouts], [1, 0]);
});

Deno.test("a WebSocket agent that keeps talking outlives the idle timeout", async () => {
  const idleMs = 3000;
  await using server = await startTestServer({
    // and a header timeout well inside the talk: frames are not heads
    env: { IDLE_TIMEOUT_MS: String(idleMs), HEADER_TIMEOUT_MS: "1000" },
  });
  // Pings every 300 ms for longer than the idle timeout. On a loaded
  // machine this process may not get to send one for seconds; then it did
  // not keep talking, and the round is run again on a new socket.
  for (let round = 1;; round++) {
    const ws = new WebSocket(server.wsUrl);
    await new Promise((r) => ws.onopen = r);
    let pongs = 0;
    ws.onmessage = () => pongs++;
    const closed = new Promise((r) => ws.onclose = r);
    let last = Date.now();
    let longestGap = 0;
    const until = last + idleMs * 1.5;
    let sent = 0;
    while (Date.now() < until) {
      ws.send(JSON.stringify({ type: "ping" }));
      sent++;
      await new Promise((r) => setTimeout(r, 300));
      longestGap = Math.max(longestGap, Date.now() - last);
      last = Date.now();
    }
    if (longestGap >= idleMs / 2 && round < 5) {
      ws.close();
      await closed;
      continue;
    }
    // every ping answered (the last ones may still be on their way)
    const answered = Promise.withResolvers<void>();
    const check = setInterval(() => pongs === sent && answered.resolve(), 20);
    assert.ok(await settlesWithin(answered.promise, CLOSE_WITHIN_MS));
    clearInterval(check);
    assert.equal((await server.server.edgeStats()).idleTimeouts, 0);
    assert.equal((await server.server.edgeStats()).headerTimeouts, 0);
    // Silent now: closed by the idle timeout.
    assert.ok(await settlesWithin(closed, CLOSE_WITHIN_MS));
    assert.equal((await server.server.edgeStats()).idleTimeouts, 1);
    return;
  }
});

Deno.test("parseFdLimit() reads /proc/self/limits; connectionsFor() leaves room for three descriptors each", () => {
  const text = Deno.readTextFileSync("/proc/self/limits");
  const limit = parseFdLimit(text);
  assert.ok(limit !== null && limit.soft > 0 && limit.hard >= limit.soft);
  assert.deepEqual(
    parseFdLimit(
      "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n",
    ),
    { soft: 1024, hard: 524288 },
  );
  assert.equal(parseFdLimit("nothing here"), null);
  assert.equal(connectionsFor({ soft: 256, hard: 256 }, 4096), 64);
  assert.equal(
    connectionsFor({ soft: 1_000_000, hard: 1_000_000 }, 4096),
    4096,
  );
});

/**
 * An upstream that answers like a WebSocket server: it reads whatever comes,
 * whether or not its answers have gone out, and queues `answerBytes` of
 * answer per chunk read.
 */
function amplifyingUpstream(answerBytes: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let received = 0;
  const conns: Deno.Conn[] = [];
  const answer = new Uint8Array(answerBytes).fill(65);
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      let queued = Promise.resolve();
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return;
          received += n;
          queued = queued.then(async () => {
            for (let off = 0; off < answer.length;) {
              off += await conn.write(answer.subarray(off));
            }
          }).catch(() => {});
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received: () => received,
    [Symbol.dispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed by the front already
        }
      }
    },
  };
}

Deno.test("a client that sends without reading its answers stops being read: the upstream gets a bounded part of what it sent", async () => {
  using upstream = amplifyingUpstream(64 * 1024);
  const front = startTcpFront({
    hostname: "127.0.0.1",
    port: 0,
    upstreamPort: upstream.port,
    headerTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    maxConnections: 100,
    maxConnectionsPerClient: 10,
    maxPendingPerClient: 10,
    clock: systemClock,
    log: memoryLogger(),
  });
  try {
    const conn = await connectRaw(front.port, "127.0.0.6");
    conn.socket.pause(); // never reads
    // 64 MiB in 64 KiB writes; every chunk the upstream reads is answered
    // with 64 KiB, so the answers fill the kernel's buffers after a few MB.
    const chunk = new Uint8Array(64 * 1024).fill(66);
    chunk.set(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    for (let i = 0; i < 1024; i++) conn.socket.write(chunk);
    // Wait until the upstream stops receiving (or has it all).
    let last = -1;
    for (let stable = 0; stable < 5;) {
      await new Promise((r) => setTimeout(r, 200));
      const now = upstream.received();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
    const sent = 1024 * chunk.length;
    assert.ok(
      upstream.received() < sent / 4,
      `the upstream got ${upstream.received()} of ${sent} bytes`,
    );
    conn.socket.destroy();
  } finally {
    await front.close();
  }
});

/**
 * A front whose time stands still before `upstreamPort`: no sweep closes
 * what the front itself leaves open, so a link it forgets stays counted.
 */
function stillFront(upstreamPort: number) {
  return startTcpFront({
    hostname: "127.0.0.1",
    port: 0,
    upstreamPort,
    headerTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    maxConnections: 100,
    maxConnectionsPerClient: 10,
    maxPendingPerClient: 10,
    clock: fakeClock(),
    log: memoryLogger(),
  });
}

/** Waits for the front to count no open connection; its counters then. */
async function allClosed(front: { stats(): Promise<FrontStats> }) {
  const deadline = Date.now() + CLOSE_WITHIN_MS;
  while ((await front.stats()).open > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return await front.stats();
}

Deno.test("after a 413 the front closes the connection, the upstream's too, though the upstream keeps it open and the client is still sending", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const upstreamClosed = Promise.withResolvers<void>();
  const answer =
    "HTTP/1.1 413 Payload Too Large\r\ncontent-length: 26\r\n\r\n" +
    '{"error":"body_too_large"}';
  (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(64 * 1024);
    await conn.read(buf);
    await conn.write(new TextEncoder().encode(answer));
    // reads on (and drops), never closes: as Deno's server after its 413
    while ((await conn.read(buf).catch(() => null)) !== null) {
      // dropped
    }
    upstreamClosed.resolve();
    conn.close();
  })();
  const front = stillFront((listener.addr as Deno.NetAddr).port);
  try {
    const conn = await connectRaw(front.port, "127.0.0.7");
    conn.socket.write(
      `POST / HTTP/1.1\r\nhost: x\r\ncontent-length: ${8 << 20}\r\n\r\n`,
    );
    // a body that goes on coming after the answer
    const chunk = "x".repeat(64 * 1024);
    const sending = setInterval(() => conn.socket.write(chunk), 5);
    try {
      assert.ok(await settlesWithin(upstreamClosed.promise, CLOSE_WITHIN_MS));
      assert.ok(await settlesWithin(conn.closed, CLOSE_WITHIN_MS));
    } finally {
      clearInterval(sending);
    }
    assert.equal(conn.received(), answer);
    const stats = await allClosed(front);
    assert.deepEqual([stats.open, stats.idleTimeouts], [0, 0]);
  } finally {
    await front.close();
    listener.close();
  }
});

Deno.test("a WebSocket upgrade with a body gets the front's own 400 (its head never reaches the upstream whole), and its connection is closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let reached = 0;
  (async () => {
    for await (const conn of listener) {
      reached++;
      // waits for the rest of the head, which never comes
      conn.readable.pipeTo(new WritableStream()).catch(() => {});
    }
  })().catch(() => {});
  const front = stillFront((listener.addr as Deno.NetAddr).port);
  try {
    const head = "GET /agent/ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n" +
      "connection: Upgrade\r\ncontent-length: 1048576\r\n\r\n";
    // the head alone, then with the start of its body in the same write
    for (const request of [head, head + "x".repeat(256 * 1024)]) {
      const conn = await connectRaw(front.port, "127.0.0.8");
      conn.socket.write(request);
      assert.ok(await settlesWithin(conn.closed, CLOSE_WITHIN_MS));
      assert.match(
        conn.received(),
        /^HTTP\/1\.1 400 [^]*bad_websocket_upgrade/,
      );
      assert.match(conn.received(), /\r\nconnection: close\r\n/);
    }
    assert.equal(reached, 0);
    // A head that comes in two reads: its first part went up already.
    const conn = await connectRaw(front.port, "127.0.0.8");
    conn.socket.write(head.slice(0, 20));
    while (reached === 0) await new Promise((r) => setTimeout(r, 10));
    conn.socket.write(head.slice(20) + "x".repeat(256 * 1024));
    assert.ok(await settlesWithin(conn.closed, CLOSE_WITHIN_MS));
    assert.match(conn.received(), /^HTTP\/1\.1 400 [^]*bad_websocket_upgrade/);
    assert.equal((await allClosed(front)).open, 0);
  } finally {
    await front.close();
    listener.close();
  }
});

Deno.test("clientKey(): an IPv4 address counts alone, IPv6 addresses by their /64", () => {
  assert.equal(clientKey("10.0.0.1"), "10.0.0.1");
  const a = clientKey("2001:db8:1:2::5");
  assert.equal(a, "2001:db8:1:2::/64");
  for (
    const same of [
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0db8:0001:0002:0:0:0:9",
      "2001:db8:1:2::1.2.3.4",
      "2001:db8:1:2::7%eth0",
    ]
  ) assert.equal(clientKey(same), a, same);
  assert.notEqual(clientKey("2001:db8:1:3::5"), a);
  assert.equal(clientKey("::1"), "0:0:0:0::/64");
  assert.equal(clientKey("fe80::1"), "fe80:0:0:0::/64");
  // not an address: counted as it is
  for (const odd of ["1::2::3", "2001:db8::zzzz", "1:2:3"]) {
    assert.equal(clientKey(odd), odd);
  }
});
