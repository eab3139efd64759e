/**
 * The connection's state machine with a fake socket and a fake clock:
 * backoff, refusals and the heartbeat are checked by moving time, not by
 * sleeping. connection_test.ts runs the connection over real sockets.
 */
import assert from "node:assert/strict";
import { fakeClock } from "@proxmon/shared/fake_clock";
import { memoryLogger } from "@proxmon/shared/logger";
import {
  type AgentWire,
  type ConnectionEvent,
  type ConnectionTiming,
  createConnection,
} from "./connection.ts";
import { Outbox } from "./outbox.ts";

const TIMING: ConnectionTiming = {
  backoffInitialMs: 1_000,
  backoffMaxMs: 8_000,
  refusedRetryMs: 300_000,
  heartbeatMs: 30_000,
  deadAfterMs: 90_000,
  maxInFlight: 100,
  skewRetryMs: 60_000,
};

/** A socket the test plays the server for. */
class FakeWire implements AgentWire {
  readyState: number = WebSocket.CONNECTING;
  sent: Record<string, unknown>[] = [];
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.serverClose(1005, "");
  }
  accept() {
    this.readyState = WebSocket.OPEN;
    this.onopen?.(new Event("open"));
  }
  reply(msg: Record<string, unknown>) {
    this.onmessage?.(
      new MessageEvent("message", { data: JSON.stringify(msg) }),
    );
  }
  serverClose(code: number, reason: string) {
    if (this.readyState === WebSocket.CLOSED) return;
    this.readyState = WebSocket.CLOSED;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }
  /** Refuses the connection as a port nobody listens on does. */
  fail() {
    this.onerror?.(new ErrorEvent("error", { message: "connection refused" }));
    this.serverClose(1006, "");
  }
}

function setup(timing: Partial<ConnectionTiming> = {}) {
  const clock = fakeClock(0);
  const log = memoryLogger();
  const wires: FakeWire[] = [];
  const events: ConnectionEvent[] = [];
  const connection = createConnection({
    url: "ws://proxmon.test/agent/ws",
    connect: () => {
      const w = new FakeWire();
      wires.push(w);
      return w;
    },
    hostName: "pve-01",
    token: "t",
    agentVersion: "0.1.0-test",
    configPath: "/etc/proxmon/agent.toml",
    outbox: new Outbox(10, log),
    deadLetters: { record: () => assert.fail("no nack expected") },
    clock,
    random: () => 0.5,
    log,
    timing: { ...TIMING, ...timing },
    onEvent: (e) => events.push(e),
  });
  const delays = () =>
    events.flatMap((e) => e.type === "reconnect_scheduled" ? [e.delayMs] : []);
  const last = () => wires[wires.length - 1];
  const join = () => {
    last().accept();
    assert.equal(last().sent[0].type, "join");
    last().reply({ type: "joined" });
  };
  return { clock, log, wires, events, connection, delays, last, join };
}

Deno.test("backoff doubles its cap while the server is away, attempts come when due, and a join resets it", async () => {
  const t = setup();
  t.connection.start();
  for (let i = 0; i < 6; i++) {
    t.last().fail();
    const due = t.delays()[i];
    await t.clock.advance(due - 1);
    assert.equal(
      t.wires.length,
      i + 1,
      `attempt ${i + 2} not before ${due} ms`,
    );
    await t.clock.advance(1);
    assert.equal(t.wires.length, i + 2, `attempt ${i + 2} at ${due} ms`);
  }
  // cap = 1 s·2^attempt up to 8 s; random 0.5 takes half of it
  assert.deepEqual(t.delays(), [500, 1000, 2000, 4000, 4000, 4000]);
  assert.match(
    t.log.lines[0],
    /^warn: lost the server at ws:\/\/proxmon\.test\/agent\/ws \(connection refused\); 0 samples waiting; reconnecting in 500 ms$/,
  );
  t.join();
  assert.ok(t.connection.joined);
  t.last().serverClose(1001, "going away");
  assert.deepEqual(t.events.at(-1), {
    type: "reconnect_scheduled",
    attempt: 0,
    delayMs: 500,
  });
  assert.match(
    t.log.lines.at(-1)!,
    /closed with code 1001 \(shutdown\): going away/,
  );
  await t.connection.stop();
});

Deno.test("a refusal is logged once per run and retried after refusedRetryMs, not in a loop", async (t) => {
  for (
    const [reason, extra, line] of [
      [
        "unauthorized",
        {},
        "server rejected host_id pve-01: check token/host_id in /etc/proxmon/agent.toml; retrying in 5 min",
      ],
      [
        "replaced",
        { by: "192.0.2.9" },
        "another agent connected as pve-01 (from 192.0.2.9); retrying in 5 min",
      ],
      [
        "protocol_unsupported",
        { protocol: 2, accepts: { min: 2, max: 3 } },
        "server at ws://proxmon.test/agent/ws does not accept this agent's protocol 1 (it speaks 2, accepts 2–3): upgrade proxmon-agent or the server; retrying in 5 min",
      ],
    ] as const
  ) {
    await t.step(reason, async () => {
      const s = setup();
      s.connection.start();
      for (let i = 0; i < 3; i++) {
        s.last().accept();
        s.last().reply({ type: "error", reason, ...extra });
        s.last().serverClose(1008, reason);
        await s.clock.advance(TIMING.refusedRetryMs - 1);
        assert.equal(s.wires.length, i + 1, "no attempt before the retry time");
        await s.clock.advance(1);
      }
      assert.equal(s.wires.length, 4);
      assert.deepEqual(s.delays(), [300_000, 300_000, 300_000]);
      assert.deepEqual(s.log.lines, [`error: ${line}`]);
      await s.connection.stop();
    });
  }
});

Deno.test("the heartbeat pings a healthy connection and replaces one silent for deadAfterMs", async () => {
  const t = setup();
  t.connection.start();
  t.join();
  for (let i = 1; i <= 5; i++) {
    await t.clock.advance(TIMING.heartbeatMs);
    assert.equal(t.last().sent.at(-1)?.type, "ping");
    t.last().reply({ type: "pong" });
  }
  assert.equal(t.wires.length, 1, "a healthy connection stays");
  assert.deepEqual(t.delays(), []);
  // From here the server says nothing.
  await t.clock.advance(TIMING.deadAfterMs - 1);
  assert.ok(t.connection.joined, "not declared dead early");
  await t.clock.advance(TIMING.heartbeatMs);
  const gone = t.events.find((e) => e.type === "disconnected");
  assert.ok(gone && gone.type === "disconnected");
  assert.match(
    gone.reason,
    /^no message from the server for (1\.5 min|\d+ s)$/,
  );
  assert.equal(t.connection.joined, false);
  await t.clock.advance(t.delays()[0]);
  assert.equal(t.wires.length, 2, "it connects again");
  await t.connection.stop();
});
