/**
 * The connection, outbox and reporter together against a real WebSocket
 * server on 127.0.0.1 (agent/test_server.ts).
 */
import assert from "node:assert/strict";
import type { SampleMessage } from "@proxmon/shared";
import { systemClock } from "@proxmon/shared/clock";
import {
  backoffDelayMs,
  type ConnectionEvent,
  type ConnectionTiming,
  createConnection,
  formatDelay,
} from "./connection.ts";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { Outbox, type OutboxSample } from "./outbox.ts";
import {
  DeadLetters,
  type DeadLetterSink,
  readDeadLetters,
} from "./dead_letter.ts";
import { createReporter } from "./reporter.ts";
import {
  startTestServer,
  TEST_HOST,
  TEST_TOKEN,
  type TestServer,
  until,
} from "./testing/test_server.ts";

const TIMING: ConnectionTiming = {
  backoffInitialMs: 20,
  backoffMaxMs: 160,
  refusedRetryMs: 150,
  heartbeatMs: 1_000,
  deadAfterMs: 3_000,
  maxInFlight: 100,
  skewRetryMs: 200,
};

const key = (s: { interval: string; collected_at: string }) =>
  `${s.interval}@${s.collected_at}`;

function sample(i: number): OutboxSample {
  return {
    interval: "fast",
    collected_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    data: { i },
  };
}

/** A port nothing listens on: bound once by a server that then closed. */
async function closedPort(): Promise<number> {
  const server = startTestServer();
  await server.close();
  return server.port;
}

function agent(
  url: string,
  outbox: Outbox,
  extra: {
    timing?: Partial<ConnectionTiming>;
    random?: () => number;
    deadLetters?: DeadLetterSink;
  } = {},
) {
  const log = memoryLogger();
  // Tests that expect no nack get a sink that fails them if one comes.
  const deadLetters = extra.deadLetters ?? {
    record: (_: OutboxSample, reason: string) =>
      assert.fail(`unexpected nack: ${reason}`),
  };
  const events: ConnectionEvent[] = [];
  const connection = createConnection({
    url,
    hostName: TEST_HOST,
    token: TEST_TOKEN,
    agentVersion: "0.1.0-test",
    configPath: "/etc/proxmon/agent.toml",
    outbox,
    deadLetters,
    clock: systemClock,
    random: extra.random ?? Math.random,
    log,
    timing: { ...TIMING, ...extra.timing },
    onEvent: (e) => events.push(e),
  });
  const delays = () =>
    events.flatMap((e) => e.type === "reconnect_scheduled" ? [e.delayMs] : []);
  return { connection, log, events, delays };
}

Deno.test("backoffDelayMs() doubles its cap up to the maximum, with full jitter", async (t) => {
  const cases: [number, number, number][] = [
    // attempt, random, expected
    [0, 0.5, 500],
    [1, 0.5, 1000],
    [3, 0.5, 4000],
    [6, 0.5, 30_000],
    [7, 0.5, 30_000],
    [30, 0.999, 59_940],
    [4, 0, 0],
  ];
  for (const [attempt, r, expected] of cases) {
    await t.step(`attempt ${attempt}, random ${r} → ${expected} ms`, () => {
      assert.equal(backoffDelayMs(attempt, () => r, 1_000, 60_000), expected);
    });
  }
});

Deno.test("formatDelay() reads like a person wrote it", () => {
  assert.equal(formatDelay(250), "250 ms");
  assert.equal(formatDelay(4_200), "4.2 s");
  assert.equal(formatDelay(300_000), "5 min");
});

Deno.test("samples collected while the server is away arrive after it returns, in order, once each", async () => {
  let server: TestServer = startTestServer();
  const port = server.port;
  const outbox = new Outbox(100, memoryLogger());
  const { connection } = agent(server.url, outbox);
  const produced: OutboxSample[] = [];
  const reporterClock = fakeClock(Date.UTC(2025, 5, 1));
  let n = 0;
  const collect = () => Promise.resolve({ n: n++ });
  const reporter = createReporter({
    collect: { fast: collect, medium: collect, slow: collect },
    intervalsMs: { fast: 1_000, medium: 5_000, slow: 60_000 },
    clock: reporterClock,
    onSample: (s) => {
      produced.push(s);
      outbox.add(s);
      connection.flush();
    },
    log: memoryLogger(),
  });
  try {
    connection.start();
    await until(() => connection.joined, "the first join");
    reporter.start();
    await reporterClock.advance(3_000);
    assert.equal(produced.length, 6);
    await until(() => outbox.size === 0, "the first samples to be acked");
    assert.deepEqual(server.received.map(key), produced.map(key));

    await server.close();
    await until(() => !connection.joined, "the agent to notice");
    await reporterClock.advance(5_000); // five fast and one medium sample
    assert.equal(outbox.size, 6, "the outbox holds what the server missed");

    server = startTestServer({ port });
    await until(() => outbox.size === 0, "the outbox to drain");
    assert.deepEqual(
      server.received.map(key),
      produced.slice(6).map(key),
      "exactly the missed samples, in order, once each",
    );
    assert.deepEqual(
      server.received.map((m) => m.data),
      [6, 7, 8, 9, 10, 11].map((i) => ({ n: i })),
    );
  } finally {
    await reporter.stop();
    await connection.stop();
    await server.close();
  }
});

Deno.test("samples in flight when the socket drops are sent again and stored once", async () => {
  let server = startTestServer({ holdAcks: true });
  const port = server.port;
  const outbox = new Outbox(100, memoryLogger());
  for (let i = 0; i < 4; i++) outbox.add(sample(i));
  const { connection } = agent(server.url, outbox);
  try {
    connection.start();
    await until(() => server.received.length === 4, "four unacked samples");
    await server.close();
    server = startTestServer({ port });
    outbox.add(sample(4));
    connection.flush();
    await until(() => outbox.size === 0, "the outbox to drain");
    assert.deepEqual(
      server.stored.map((m) => m.data.i),
      [0, 1, 2, 3, 4],
    );
  } finally {
    await connection.stop();
    await server.close();
  }
});

Deno.test("the outbox bound drops the oldest samples while the server is away", async () => {
  const port = await closedPort();
  const log = memoryLogger();
  const outbox = new Outbox(3, log);
  const { connection } = agent(`ws://127.0.0.1:${port}/agent/ws`, outbox);
  let server: TestServer | undefined;
  try {
    connection.start();
    for (let i = 0; i < 5; i++) {
      outbox.add(sample(i));
      connection.flush();
    }
    assert.equal(outbox.stats.dropped, 2);
    server = startTestServer({ port });
    await until(() => outbox.size === 0, "the outbox to drain");
    assert.deepEqual(server.received.map((m) => m.data.i), [2, 3, 4]);
    assert.match(log.lines[0], /^warn: outbox full \(3 samples\)/);
  } finally {
    await connection.stop();
    await server?.close();
  }
});

Deno.test("a nacked sample goes to the dead letters with its reason, counted in its log line; the rest are stored", async () => {
  const server = startTestServer({
    nack: (m: SampleMessage) =>
      m.data.i === 1 || m.data.i === 3 ? "invalid_payload" : undefined,
  });
  const dir = await Deno.makeTempDir();
  const log = memoryLogger();
  const path = `${dir}/outbox.dead_letters.jsonl`;
  const deadLetters = new DeadLetters(path, log, systemClock);
  const outbox = new Outbox(10, log);
  for (let i = 0; i < 4; i++) outbox.add(sample(i));
  const { connection } = agent(server.url, outbox, { deadLetters });
  try {
    connection.start();
    await until(() => outbox.size === 0, "the outbox to drain");
    await deadLetters.flushed();
    assert.deepEqual(server.stored.map((m) => m.data.i), [0, 2]);
    assert.equal(outbox.stats.nacked, 2);
    assert.deepEqual(log.lines, [
      "warn: server refused fast sample from 2025-01-01T00:00:01.000Z " +
      `(invalid_payload); kept in ${path} (1 refused since start)`,
      "warn: server refused fast sample from 2025-01-01T00:00:03.000Z " +
      `(invalid_payload); kept in ${path} (2 refused since start)`,
    ]);
    const letters = await readDeadLetters(path);
    assert.deepEqual(letters.map((l) => [l.reason, l.data]), [
      ["invalid_payload", { i: 1 }],
      ["invalid_payload", { i: 3 }],
    ]);
    assert.deepEqual(letters[0].collected_at, sample(1).collected_at);
  } finally {
    await connection.stop();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no more than maxInFlight samples wait for an ack at once", async () => {
  const server = startTestServer({ holdAcks: true });
  const outbox = new Outbox(20, memoryLogger());
  for (let i = 0; i < 10; i++) outbox.add(sample(i));
  const { connection } = agent(server.url, outbox, {
    timing: { maxInFlight: 3 },
  });
  try {
    connection.start();
    await until(() => server.received.length === 3, "the first window");
    // Give a window-ignoring agent the chance to send more.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(server.received.length, 3);
    server.releaseAcks();
    await until(() => outbox.size === 0, "the outbox to drain");
    assert.deepEqual(
      server.received.map((m) => m.data.i),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  } finally {
    await connection.stop();
    await server.close();
  }
});
