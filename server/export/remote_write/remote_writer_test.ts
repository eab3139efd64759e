import assert from "node:assert/strict";
import { systemClock } from "@proxmon/shared/clock";
import { fakeClock } from "@proxmon/shared/fake_clock";
import type { RemoteWriteConfig } from "../../config.ts";
import { createEventBus } from "../../ingest/event_bus.ts";
import {
  createSampleWriter,
  type SampleWriter,
} from "../../ingest/sample_writer.ts";
import { memoryLogger } from "@proxmon/shared/logger";
import { createHost } from "../../store/hosts.ts";
import { sampleFixture } from "../../testing/samples.ts";
import { openTempDatabase } from "../../testing/temp_db.ts";
import { payloadSeries } from "../metric_families.ts";
import { createRemoteWriter, type RemoteWriterDeps } from "./remote_writer.ts";
import { workerPump } from "./worker_pump.ts";
import { dropUnusedShapes, queueHead } from "./remote_write_queue.ts";
import {
  decodeWriteRequest,
  uncompress,
  type WireSeries,
} from "./write_request.ts";

const fast = await sampleFixture("fast");

/** Submits pve-01's fast fixture at `collectedAtMs`, its host's CPU at `cpu`. */
const submitter =
  (writer: SampleWriter, hostId: number) => (collectedAtMs: number, cpu = 10) =>
    writer.submit({
      hostId,
      hostName: "pve-01",
      interval: "fast",
      collectedAtMs,
      data: { ...fast, host: { ...fast.host, cpu_percent: cpu } },
    });
const T0 = Date.UTC(2026, 0, 1, 12);

/** A loopback remote_write receiver that answers `status()` and decodes what it took. */
function receiver() {
  const got: WireSeries[] = [];
  const requests: { headers: Headers }[] = [];
  let status = 204;
  // Like Prometheus: one sample it refuses fails the whole request.
  let refuse = (_: WireSeries) => false;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      requests.push({ headers: req.headers });
      const series = decodeWriteRequest(uncompress(body));
      if (series.some(refuse)) {
        return new Response("out of order sample", { status: 400 });
      }
      if (status < 300) got.push(...series);
      return new Response(status < 300 ? null : "nope", { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/api/v1/write`,
    got,
    requests,
    answer(s: number) {
      status = s;
    },
    refuseWhen(fn: (ts: WireSeries) => boolean) {
      refuse = fn;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

async function setup(
  config: Partial<RemoteWriteConfig> & { url: string },
  clock = systemClock,
  maxSamplesPerRequest?: number,
  pump?: RemoteWriterDeps["pump"],
) {
  const db = await openTempDatabase();
  const log = memoryLogger();
  const rw = createRemoteWriter({
    database: db.database,
    clock,
    log,
    config: {
      auth: null,
      maxAgeMs: 24 * 3_600_000,
      datasets: false,
      maxInFlight: 2,
      worker: false,
      ...config,
    },
    pollMs: 20,
    maxBackoffMs: 50,
    maxSamplesPerRequest,
    pump,
  });
  const writer = createSampleWriter({
    database: db.database,
    clock,
    events: createEventBus(),
    tap: rw,
  });
  const { host } = await createHost(db.database, "pve-01", T0);
  const submit = submitter(writer, host.id);
  return {
    db,
    log,
    rw,
    submit,
    async [Symbol.asyncDispose]() {
      await rw.stop();
      await writer.close();
      await db[Symbol.asyncDispose]();
    },
  };
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a stored sample is queued in its own transaction, and a replay is not queued again", async () => {
  await using s = await setup({ url: "http://127.0.0.1:9/unused" });
  assert.equal(await s.submit(T0), "stored");
  assert.equal(await s.submit(T0), "duplicate");
  const head = await queueHead(s.db.database);
  assert.equal(head.rows, 1);
  const series = payloadSeries("pve-01", { interval: "fast", data: fast }, {
    datasets: false,
  });
  const status = await s.rw.status();
  assert.equal(status.pendingRequests, 1);
  assert.equal(status.pendingSamples, series.length);
});

Deno.test("the pump sends the queued series with the samples' own timestamps and sorted labels", async () => {
  await using r = receiver();
  await using s = await setup({
    url: r.url,
    auth: { type: "bearer", token: "tok" },
  });
  await s.submit(T0, 11);
  await s.submit(T0 + 10_000, 22);
  await s.rw.start();
  await until(
    "both samples sent",
    async () => (await s.rw.status()).pendingRequests === 0,
  );
  const cpu = r.got.filter((ts) =>
    ts.labels.some((l) =>
      l.name === "__name__" && l.value === "proxmon_host_cpu_ratio"
    )
  );
  assert.deepEqual(cpu.map((ts) => ts.samples), [
    [{ value: 0.11, timestamp: T0 }],
    [{ value: 0.22, timestamp: T0 + 10_000 }],
  ]);
  for (const ts of r.got) {
    const names = ts.labels.map((l) => l.name);
    assert.deepEqual(names, [...names].sort());
  }
  const h = r.requests[0].headers;
  assert.equal(h.get("content-encoding"), "snappy");
  assert.equal(h.get("content-type"), "application/x-protobuf");
  assert.equal(h.get("x-prometheus-remote-write-version"), "0.1.0");
  assert.equal(h.get("authorization"), "Bearer tok");
  const status = await s.rw.status();
  assert.equal(status.sentSamples, r.got.length);
  assert.equal(status.pendingSamples, 0);
});

Deno.test("up to REMOTE_WRITE_MAX_IN_FLIGHT requests go at once, and rows leave the queue only once every request before them succeeded", async () => {
  const held: { at: number; answer: (status: number) => void }[] = [];
  let open = 0, most = 0, done = false;
  const delivered: number[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      const at = decodeWriteRequest(uncompress(body))[0].samples[0].timestamp;
      most = Math.max(most, ++open);
      const status = done
        ? 204
        : await new Promise<number>((answer) => held.push({ at, answer }));
      open--;
      if (status < 300) delivered.push(at);
      return new Response(null, { status });
    },
  );
  const url = `http://127.0.0.1:${server.addr.port}/api/v1/write`;
  // One stored sample per request, so each row is its own request.
  await using s = await setup({ url, maxInFlight: 3 }, systemClock, 1);
  const times = [0, 1, 2, 3, 4].map((i) => T0 + i * 10_000);
  for (const at of times) await s.submit(at);
  const rows = async () => (await queueHead(s.db.database)).rows;
  // Whatever fails below, no request is left hanging.
  using _ = {
    [Symbol.dispose]() {
      done = true;
      for (const h of held) h.answer(204);
    },
  };
  await s.rw.start();
  await until("three requests", () => held.length === 3);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(held.length, 3, "no fourth while three are in flight");
  assert.deepEqual(held.map((h) => h.at), times.slice(0, 3), "oldest first");
  held[1].answer(204);
  held[2].answer(204);
  await until("the next two", () => held.length === 5);
  assert.equal(await rows(), 5, "the first is unanswered: nothing is removed");
  held[0].answer(204);
  await until("the first three removed", async () => await rows() === 2);
  // The fourth fails: it is sent again once the fifth is answered (one
  // request at a time while the receiver fails), and only then removed.
  held[3].answer(503);
  held[4].answer(204);
  await until("the fourth again", () => held.length === 6);
  assert.equal(held[5].at, times[3]);
  assert.equal(await rows(), 2);
  held[5].answer(204);
  await until("an empty queue", async () => await rows() === 0);
  assert.equal(most, 3);
  assert.deepEqual(delivered.toSorted(), times);
  const status = await s.rw.status();
  assert.equal(status.failedRequests, 1);
  assert.equal(status.sentRequests, 5);
});

Deno.test("a receiver answering 503 delays the data, which is delivered once it recovers", async () => {
  await using r = receiver();
  r.answer(503);
  await using s = await setup({ url: r.url });
  await s.submit(T0);
  await s.rw.start();
  await until(
    "three failed tries",
    async () => (await s.rw.status()).failedRequests >= 3,
  );
  assert.equal((await s.rw.status()).pendingRequests, 1);
  assert.ok(
    s.log.lines.some((l) => /cannot push to .*HTTP 503.*stays queued/.test(l)),
  );
  r.answer(200);
  await until(
    "delivery",
    async () => (await s.rw.status()).pendingRequests === 0,
  );
  assert.ok(r.got.length > 0);
  assert.ok(s.log.lines.some((l) => /reachable again/.test(l)));
});

Deno.test("a receiver refusing a request with 400 loses only the stored sample it refuses, counted and logged", async () => {
  await using r = receiver();
  // The sample collected at T0 + 10 s is refused, as an out-of-order one is.
  r.refuseWhen((ts) => ts.samples.some((x) => x.timestamp === T0 + 10_000));
  await using s = await setup({ url: r.url });
  await s.submit(T0, 1);
  await s.submit(T0 + 10_000, 2);
  await s.submit(T0 + 20_000, 3);
  await s.rw.start();
  await until(
    "the queue to empty",
    async () => (await s.rw.status()).pendingRequests === 0,
  );
  const status = await s.rw.status();
  const perSample = payloadSeries("pve-01", { interval: "fast", data: fast }, {
    datasets: false,
  }).length;
  assert.equal(status.droppedRejected, perSample);
  assert.equal(status.sentSamples, 2 * perSample);
  const times = new Set(
    r.got.flatMap((ts) => ts.samples.map((x) => x.timestamp)),
  );
  assert.deepEqual([...times].sort(), [T0, T0 + 20_000]);
  assert.ok(
    s.log.lines.some((l) =>
      l.includes(
        `collected ${new Date(T0 + 10_000).toISOString()}) with HTTP 400`,
      )
    ),
  );
});

Deno.test("data queued longer than the bound is dropped oldest first, counted and logged", async () => {
  const clock = fakeClock(T0);
  await using s = await setup(
    { url: "http://127.0.0.1:9/unreachable", maxAgeMs: 3_600_000 },
    clock,
  );
  await s.submit(T0);
  clock.jump(30 * 60_000);
  await s.submit(T0 + 30 * 60_000);
  clock.jump(45 * 60_000); // the first is 75 min old, the second 45
  await s.rw.start();
  await until("the drop", async () => (await s.rw.status()).droppedTooOld > 0);
  const status = await s.rw.status();
  assert.equal(status.pendingRequests, 1, "only the entry past the bound goes");
  assert.equal(status.droppedTooOld, status.pendingSamples);
  assert.ok(
    s.log.lines.some((l) =>
      /dropped \d+ samples .* within REMOTE_WRITE_MAX_AGE_HOURS \(1 h\)/.test(l)
    ),
  );
});

Deno.test("concatCompressed() joins compressed WriteRequests into one that decodes to all their series, without recompressing", async () => {
  const { concatCompressed, compress, encodeSeries } = await import(
    "./write_request.ts"
  );
  const a = payloadSeries("pve-01", { interval: "fast", data: fast }, {
    datasets: false,
  });
  const b = payloadSeries("pve-02", { interval: "fast", data: fast }, {
    datasets: false,
  });
  const joined = concatCompressed([
    compress(encodeSeries(a, T0)),
    compress(encodeSeries(b, T0 + 1)),
  ]);
  const decoded = decodeWriteRequest(uncompress(joined));
  assert.equal(decoded.length, a.length + b.length);
  assert.deepEqual(decoded[0].labels[0], {
    name: "__name__",
    value: a[0].family.name,
  });
  assert.deepEqual(decoded[a.length].samples, [{
    value: b[0].value,
    timestamp: T0 + 1,
  }]);
  assert.ok(
    decoded[a.length].labels.some((l) =>
      l.name === "host" && l.value === "pve-02"
    ),
  );
});

Deno.test("rows hold only the values, their shape stored once; a restarted writer sends what the last one queued; unused shapes go and come back with their next row", async () => {
  await using r = receiver();
  await using db = await openTempDatabase();
  const { database } = db;
  const { host } = await createHost(database, "pve-01", T0);
  const log = memoryLogger();
  const start = async () => {
    const rw = createRemoteWriter({
      database,
      clock: systemClock,
      log,
      config: {
        url: r.url,
        auth: null,
        maxAgeMs: 24 * 3_600_000,
        datasets: false,
        maxInFlight: 1,
        worker: false,
      },
      pollMs: 20,
      maxBackoffMs: 50,
    });
    await rw.start();
    const writer = createSampleWriter({
      database,
      clock: systemClock,
      events: createEventBus(),
      tap: rw,
    });
    const submit = submitter(writer, host.id);
    return {
      rw,
      submit,
      stop: async () => {
        await rw.stop();
        await writer.close();
      },
    };
  };
  const rows = async () =>
    (await database.client.execute(
      "SELECT shape_id, samples, length(body) AS bytes FROM remote_write_queue ORDER BY id",
    )).rows.map((x) => ({
      shape: x.shape_id,
      samples: Number(x.samples),
      bytes: Number(x.bytes),
    }));
  const shapeIds = async () =>
    (await database.client.execute(
      "SELECT id FROM remote_write_shapes ORDER BY id",
    )).rows.map((x) => Number(x.id));

  r.answer(503); // nothing leaves yet
  const first = await start();
  for (let i = 0; i < 3; i++) {
    assert.equal(await first.submit(T0 + i * 10_000, 10 + i), "stored");
  }
  const queued = await rows();
  assert.equal(queued.length, 3);
  assert.ok(
    queued.every((q) => q.shape !== null && q.shape === queued[0].shape),
  );
  assert.ok(queued.every((q) => q.bytes === q.samples * 8), "values only");
  assert.deepEqual(await shapeIds(), [Number(queued[0].shape)]);
  await first.stop();

  r.answer(204);
  const second = await start();
  assert.equal(await second.submit(T0 + 30_000, 40), "stored");
  const after = await rows();
  assert.notEqual(after[3].shape, after[0].shape, "a new process, a new id");
  await until(
    "four samples delivered",
    async () => (await queueHead(database)).rows === 0,
  );
  const cpu = r.got.filter((x) =>
    x.labels[0].value === "proxmon_host_cpu_ratio"
  ).map((x) => [x.samples[0].timestamp, x.samples[0].value]);
  assert.deepEqual(cpu, [
    [T0, 0.1],
    [T0 + 10_000, 0.11],
    [T0 + 20_000, 0.12],
    [T0 + 30_000, 0.4],
  ]);
  const perSample = payloadSeries("pve-01", { interval: "fast", data: fast }, {
    datasets: false,
  }).length;
  assert.equal(r.got.length, 4 * perSample);

  assert.equal(await dropUnusedShapes(database), 2, "both shapes unused now");
  assert.deepEqual(await shapeIds(), []);
  assert.equal(await second.submit(T0 + 40_000, 50), "stored");
  assert.deepEqual(await shapeIds(), [Number(after[3].shape)]);
  await until("the fifth delivered", () => r.got.length === 5 * perSample);
  assert.ok(
    r.got.some((x) =>
      x.labels[0].value === "proxmon_host_cpu_ratio" &&
      x.samples[0].value === 0.5 && x.samples[0].timestamp === T0 + 40_000
    ),
  );
  await second.stop();
  assert.equal((await second.rw.status()).droppedRejected, 0);
});

Deno.test("on a Worker with its own connection, the pump sends what ingest queued, answers status, logs through the server's logger and stops", async () => {
  await using r = receiver();
  r.answer(503);
  await using s = await setup(
    { url: r.url },
    systemClock,
    undefined,
    workerPump,
  );
  await s.rw.start();
  for (let i = 0; i < 5; i++) {
    assert.equal(await s.submit(T0 + i * 10_000, 10 + i), "stored");
  }
  await until(
    "the receiver's 503 logged",
    () => s.log.lines.some((l) => l.includes("cannot push")),
  );
  const waiting = await s.rw.status();
  assert.equal(waiting.pendingRequests, 5);
  assert.ok(waiting.failedRequests >= 1);
  r.answer(204);
  await until(
    "the queue empty",
    async () => (await s.rw.status()).pendingRequests === 0,
  );
  const cpu = r.got.filter((x) =>
    x.labels[0].value === "proxmon_host_cpu_ratio"
  )
    .map((x) => [x.samples[0].timestamp, x.samples[0].value]);
  assert.deepEqual(
    cpu,
    [0, 1, 2, 3, 4].map((i) => [T0 + i * 10_000, (10 + i) / 100]),
  );
  const done = await s.rw.status();
  assert.equal(done.sentSamples, r.got.length);
  await s.rw.stop();
  assert.equal((await s.rw.status()).pendingRequests, 0, "read after stop");
});
