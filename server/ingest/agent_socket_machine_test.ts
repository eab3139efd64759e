/**
 * The agent socket's state machine driven directly, through a recording
 * wire and a fake clock: timeouts are checked by moving time, not by
 * sleeping. agent_socket_test.ts runs the protocol over real sockets.
 */
import assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "@proxmon/shared";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { createAgentRegistry } from "./agent_registry.ts";
import {
  createAgentSocket,
  decodeFrame,
  MAX_SEND_BACKLOG_BYTES,
  type Wire,
} from "./agent_socket.ts";
import { createEventBus } from "./event_bus.ts";
import { createSampleWriter } from "./sample_writer.ts";
import { createHost, findHost } from "../store/hosts.ts";
import { openTempDatabase } from "../testing/temp_db.ts";

const NOW = Date.UTC(2026, 3, 21, 12);
const JOIN_TIMEOUT_MS = 10_000;

class RecordingWire implements Wire {
  sent: Record<string, unknown>[] = [];
  closes: { code: number; reason: string }[] = [];
  /** what the socket reports still queued; a test sets it */
  backlog = 0;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  bufferedAmount() {
    return this.backlog;
  }
  close(code: number, reason: string) {
    this.closes.push({ code, reason });
  }
}

async function setup() {
  const tmp = await openTempDatabase();
  const clock = fakeClock(NOW);
  const { token } = await createHost(tmp.database, "pve-01", NOW);
  const events = createEventBus();
  const deps = {
    database: tmp.database,
    clock,
    log: memoryLogger(),
    events,
    agents: createAgentRegistry(),
    writer: createSampleWriter({ database: tmp.database, clock, events }),
    config: {
      maxFrameBytes: 1 << 20,
      joinTimeoutMs: JOIN_TIMEOUT_MS,
      retentionHours: 48,
      maxUnackedSamples: 1000,
      maxUnackedBytes: 128 << 20,
    },
  };
  const open = () => {
    const wire = new RecordingWire();
    const socket = createAgentSocket(deps, "192.0.2.7");
    socket.open(wire);
    return { wire, socket };
  };
  const join = (socket: ReturnType<typeof open>["socket"]) =>
    socket.receive(JSON.stringify({
      type: "join",
      host: "pve-01",
      token,
      agent_version: "0.1.0",
      protocol: PROTOCOL_VERSION,
    }));
  return {
    tmp,
    clock,
    deps,
    open,
    join,
    async [Symbol.asyncDispose]() {
      await deps.writer.close();
      await tmp[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a socket that does not join within the join timeout gets join_timeout and a 1008 close, not a moment before", async () => {
  await using t = await setup();
  const { wire } = t.open();
  await t.clock.advance(JOIN_TIMEOUT_MS - 1);
  assert.deepEqual(wire.sent, []);
  assert.deepEqual(wire.closes, []);
  await t.clock.advance(1);
  assert.deepEqual(wire.sent, [{ type: "error", reason: "join_timeout" }]);
  assert.deepEqual(wire.closes, [{ code: 1008, reason: "join_timeout" }]);
  assert.match(
    (t.deps.log as { lines: string[] }).lines.join("\n"),
    /agent from 192\.0\.2\.7 refused: join_timeout/,
  );
  assert.equal(t.clock.pending(), 0, "no timer left behind");
});

Deno.test("a joined socket is not closed by the join timeout, and keeps answering", async () => {
  await using t = await setup();
  const { wire, socket } = t.open();
  t.join(socket);
  await t.clock.advance(0);
  const until = (check: () => boolean) => {
    const end = Date.now() + 3000;
    return (async () => {
      while (!check()) {
        if (Date.now() > end) assert.fail(JSON.stringify(wire.sent));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
  };
  await until(() => wire.sent.length === 1);
  assert.equal(wire.sent[0].type, "joined");
  await t.clock.advance(10 * JOIN_TIMEOUT_MS);
  socket.receive(JSON.stringify({ type: "ping" }));
  await until(() => wire.sent.length === 2);
  assert.deepEqual(wire.sent[1], { type: "pong" });
  assert.deepEqual(wire.closes, []);
  assert.equal((await findHost(t.tmp.database, "pve-01"))?.status, "online");
  socket.closed();
  await until(() => t.deps.agents.all().length === 0);
});

Deno.test("a socket whose answers pile up past MAX_SEND_BACKLOG_BYTES is closed instead of answered", async () => {
  await using t = await setup();
  const { wire, socket } = t.open();
  socket.receive(JSON.stringify({ type: "bogus" }));
  await t.clock.advance(0);
  assert.equal(wire.sent.length, 1, "answered while the backlog is small");
  wire.backlog = MAX_SEND_BACKLOG_BYTES;
  socket.receive(JSON.stringify({ type: "bogus" }));
  await t.clock.advance(0);
  assert.equal(wire.sent.length, 2, "at the limit, still answered");
  assert.deepEqual(wire.closes, []);
  wire.backlog = MAX_SEND_BACKLOG_BYTES + 1;
  for (let i = 0; i < 100; i++) socket.receive(JSON.stringify({ type: "x" }));
  await t.clock.advance(0);
  assert.equal(wire.sent.length, 2, "answered past the limit");
  assert.deepEqual(wire.closes, [{ code: 1008, reason: "not_reading" }]);
  const lines = (t.deps.log as { lines: string[] }).lines;
  assert.equal(
    lines.filter((l) => l.includes("does not read its answers")).length,
    1,
    lines.join("\n"),
  );
});

Deno.test("decodeFrame() says a frame may hold a NUL exactly when its text has a \\u0000 escape, the only way JSON carries one", () => {
  const decode = (value: unknown) => {
    const d = decodeFrame(JSON.stringify({ type: "sample", value }), 1 << 20);
    assert.ok(d.ok);
    return d.mayHoldNul;
  };
  assert.equal(decode("rp\u0000ool"), true);
  assert.equal(decode({ ["ex\u0000tra"]: 1 }), true);
  assert.equal(decode("plain \u0001 text"), false);
  // a backslash before "u0000" is not a NUL: checked anyway, never missed
  assert.equal(decode("C:\\u0000"), true);
  // JSON.parse refuses a raw NUL, so no frame carries one unescaped
  const raw = decodeFrame('{"type":"sample","v":"a\u0000b"}', 1 << 20);
  assert.equal(raw.ok, false);
});
