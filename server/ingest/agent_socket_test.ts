/**
 * The agent protocol over a real WebSocket on 127.0.0.1, run once per
 * WebSocket adapter: both must behave identically.
 */
import assert from "node:assert/strict";
import type { Interval } from "@proxmon/shared";
import type { WsAdapterName } from "../config.ts";
import type { ServerEvent } from "./event_bus.ts";
import { findHost, rotateToken } from "../store/hosts.ts";
import { headSamples, latestSample } from "../store/sample_store.ts";
import { sampleFixture } from "../testing/samples.ts";
import { TestAgent } from "../testing/test_agent.ts";
import {
  startTestServer,
  type TestServerOptions,
} from "../testing/test_server.ts";

const ADAPTERS: WsAdapterName[] = ["deno", "node"];
const JOINED = { type: "joined", protocol: 1, accepts: { min: 1, max: 1 } };
// An hour ago: inside retention and behind the server's clock, as a real
// sample's time is (the server refuses others with clock_skew).
const AT = new Date(
  Math.floor(Date.now() / 1000) * 1000 - 3_600_000 + 123,
).toISOString();
const AT_MS = Date.parse(AT);

const DATA = {
  fast: await sampleFixture("fast"),
  medium: await sampleFixture("medium"),
  slow: await sampleFixture("slow"),
};

const sample = (ref: number, over: Record<string, unknown> = {}) => ({
  type: "sample",
  ref,
  interval: "fast",
  collected_at: AT,
  data: DATA.fast,
  ...over,
});

/** A server, one registered host, and a helper to connect agents to it. */
/** Sends sample `ref` and checks that it is acked. */
async function acked(agent: TestAgent, ref: number): Promise<void> {
  agent.send(sample(ref));
  assert.deepEqual(await agent.next(), { type: "ack", ref });
}

async function setup(adapter: WsAdapterName, env: Record<string, string> = {}) {
  const opts: TestServerOptions = { adapter, env };
  const t = await startTestServer(opts);
  const token = await t.register("pve-01");
  const events: ServerEvent[] = [];
  t.server.deps.events.subscribe((e) => events.push(e));
  const connect = () => TestAgent.connect(t.wsUrl);
  const joinedAgent = async () => {
    const agent = await connect();
    assert.equal((await agent.join("pve-01", token)).type, "joined");
    return agent;
  };
  return { t, token, events, connect, joinedAgent };
}

/** Waits until `check` holds, polling; for effects of a socket close. */
async function eventually(check: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail("condition not met within 2 s");
}

for (const adapter of ADAPTERS) {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`[${adapter}] ${name}`, fn);

  test("join with the right token is answered joined and marks the host online", async () => {
    const { t, token, events, connect } = await setup(adapter);
    await using _ = t;
    await using agent = await connect();
    const before = Date.now();
    const { server_time, ...joined } = await agent.join("pve-01", token, {
      agent_version: "0.3.1",
    });
    assert.deepEqual(joined, JOINED);
    // joined carries the server's clock, for the agent's skew warning
    const serverTime = Date.parse(String(server_time));
    assert.ok(serverTime >= before - 1 && serverTime <= Date.now() + 1);
    const host = await findHost(t.database, "pve-01");
    assert.equal(host?.status, "online");
    assert.equal(host?.agentVersion, "0.3.1");
    assert.ok(host?.lastSeenAt);
    assert.deepEqual(events, [{
      type: "status",
      host: "pve-01",
      status: "online",
    }]);
  });

  test("a wrong token and an unknown host get the same unauthorized reply and a close", async () => {
    const { t, token, connect } = await setup(adapter);
    await using _ = t;
    const wrong = await connect();
    const wrongReply = await wrong.join("pve-01", token.slice(1));
    const wrongClose = await wrong.waitClosed();
    const unknown = await connect();
    const unknownReply = await unknown.join("pve-99", token);
    const unknownClose = await unknown.waitClosed();
    assert.deepEqual(wrongReply, { type: "error", reason: "unauthorized" });
    assert.deepEqual(unknownReply, wrongReply);
    assert.deepEqual(wrongClose, { code: 1008, reason: "unauthorized" });
    assert.deepEqual(unknownClose, wrongClose);
    assert.equal((await findHost(t.database, "pve-01"))?.status, "offline");
  });

  test("an agent_version with control characters is refused at join, and nothing is stored", async () => {
    const { t, token, connect } = await setup(adapter);
    await using _ = t;
    for (
      const version of [
        "0.1\u0000evil",
        "0.1\nx",
        "0.1\u001b[31m",
        "0.1\u007f",
        "0.1\u0085",
      ]
    ) {
      const agent = await connect();
      const reply = await agent.join("pve-01", token, {
        agent_version: version,
      });
      assert.equal(reply.reason, "invalid_message", JSON.stringify(version));
      assert.match(
        String(reply.message),
        /agent_version must not contain control characters/,
      );
      assert.equal((await agent.waitClosed()).code, 1008);
    }
    const host = await findHost(t.database, "pve-01");
    assert.equal(host?.status, "offline");
    assert.equal(host?.agentVersion ?? null, null);
  });

  test("a second connection for a host replaces the first, and the host stays online", async () => {
    const { t, events, joinedAgent } = await setup(adapter);
    await using _ = t;
    const first = await joinedAgent();
    await using second = await joinedAgent();
    assert.deepEqual(await first.next(), {
      type: "error",
      reason: "replaced",
      message: "another agent connected as pve-01 (from 127.0.0.1)",
      by: "127.0.0.1",
    });
    assert.deepEqual(await first.waitClosed(), {
      code: 1000,
      reason: "replaced",
    });
    await acked(second, 1);
    assert.equal((await findHost(t.database, "pve-01"))?.status, "online");
    assert.deepEqual(
      events.filter((e) => e.type === "status").map((e) =>
        e.type === "status" && e.status
      ),
      ["online", "online"],
    );
  });

  test("closing the socket marks the host offline and publishes it", async () => {
    const { t, events, joinedAgent } = await setup(adapter);
    await using _ = t;
    const agent = await joinedAgent();
    await agent.close();
    await eventually(async () =>
      (await findHost(t.database, "pve-01"))?.status === "offline"
    );
    await eventually(() => events.length === 2);
    assert.deepEqual(events[1], {
      type: "status",
      host: "pve-01",
      status: "offline",
    });
  });

  for (const interval of ["fast", "medium", "slow"] as Interval[]) {
    test(`a ${interval} sample is acked and stored with interval=${interval}`, async () => {
      const { t, joinedAgent } = await setup(adapter);
      await using _ = t;
      await using agent = await joinedAgent();
      agent.send(sample(17, { interval, data: DATA[interval] }));
      assert.deepEqual(await agent.next(), { type: "ack", ref: 17 });
      const host = await findHost(t.database, "pve-01");
      const stored = await latestSample(t.database, host!.id, interval);
      assert.deepEqual(stored?.payload, DATA[interval]);
      assert.equal(stored?.collectedAtMs, AT_MS);
    });
  }

  test("an ack means committed: another connection to the file already sees the row", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    const other = await t.openSecondConnection();
    await using agent = await joinedAgent();
    for (let ref = 0; ref < 20; ref++) {
      agent.send(
        sample(ref, {
          collected_at: new Date(AT_MS + ref * 1000).toISOString(),
        }),
      );
    }
    for (let ref = 0; ref < 20; ref++) {
      assert.deepEqual(await agent.next(), { type: "ack", ref });
      const rows = await other.client.execute({
        sql: "SELECT count(*) AS n FROM series_head WHERE collected_at = ?",
        args: [AT_MS + ref * 1000],
      });
      assert.equal(
        Number(rows.rows[0].n),
        1,
        `row ${ref} not committed at ack`,
      );
    }
  });

  test("each faulty sample gets its nack reason, nothing is stored, the socket stays open", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    const cases: [Record<string, unknown>, string][] = [
      [{ collected_at: undefined }, "missing_collected_at"],
      [{ collected_at: "21/04/2026 12:00" }, "invalid_collected_at"],
      [{ data: undefined }, "missing_data"],
      [{ interval: "weekly" }, "invalid_interval"],
      [{ data: [DATA.fast] }, "invalid_payload"],
      [{ data: "fast" }, "invalid_payload"],
    ];
    for (const [i, [over, reason]] of cases.entries()) {
      agent.send(sample(i, over));
      const reply = await agent.next();
      assert.equal(reply.type, "nack");
      assert.equal(reply.ref, i);
      assert.equal(reply.reason, reason);
      assert.equal(typeof reply.message, "string");
    }
    assert.equal((await headSamples(t.database)).length, 0);
    // One line each on the server, naming the host and the reason.
    const nacks = t.log.lines.filter((l) => l.includes("nacked"));
    assert.deepEqual(
      nacks.map((l) =>
        /^warn: nacked a sample of pve-01 \(from 127\.0\.0\.1\): (\w+): /
          .exec(l)?.[1]
      ),
      cases.map(([, reason]) => reason),
    );
    agent.send({ type: "ping" });
    assert.deepEqual(await agent.next(), { type: "pong" });
  });

  test("a sample without a usable ref gets invalid_message, since it cannot be nacked", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    agent.send(sample(-1));
    const reply = await agent.next();
    assert.equal(reply.reason, "invalid_message");
  });

  test("a replayed sample is acked again and stored once", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    await acked(agent, 1);
    await acked(agent, 2);
    assert.equal((await headSamples(t.database)).length, 1);
  });

  test("a replay after reconnecting is acked and stored once", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    const first = await joinedAgent();
    await acked(first, 1);
    await first.close();
    await using again = await joinedAgent();
    await acked(again, 1);
    assert.equal((await headSamples(t.database)).length, 1);
  });

  test("a frame over MAX_FRAME_BYTES gets frame_too_large and a 1009 close; one at the limit passes", async () => {
    const { t, joinedAgent } = await setup(adapter, {
      MAX_FRAME_BYTES: "2048",
    });
    await using _ = t;
    const agent = await joinedAgent();
    const overhead = JSON.stringify({ type: "ping", pad: "" }).length;
    const atLimit = JSON.stringify({
      type: "ping",
      pad: "x".repeat(2048 - overhead),
    });
    assert.equal(new TextEncoder().encode(atLimit).length, 2048);
    agent.send(atLimit);
    assert.deepEqual(await agent.next(), { type: "pong" });
    // multi-byte characters: under the limit in UTF-16 units, over it in bytes
    agent.send(JSON.stringify({ type: "ping", pad: "é".repeat(1100) }));
    const reply = await agent.next();
    assert.equal(reply.type, "error");
    assert.equal(reply.reason, "frame_too_large");
    assert.deepEqual(await agent.waitClosed(), {
      code: 1009,
      reason: "frame_too_large",
    });
    // the server keeps serving
    await using next = await joinedAgent();
    next.send({ type: "ping" });
    assert.deepEqual(await next.next(), { type: "pong" });
  });

  for (
    const [what, env, logged, sent, window] of [
      [
        "MAX_UNACKED_SAMPLES",
        { MAX_UNACKED_SAMPLES: "10" },
        "10 samples",
        300,
        10,
      ],
      // about 10 of the 5.9 KB fixture
      [
        "MAX_UNACKED_BYTES",
        { MAX_UNACKED_BYTES: "65536" },
        "65536 bytes",
        300,
        10,
      ],
    ] as const
  ) {
    test(`samples sent without waiting for acks beyond ${what} close the socket; within it, and after reconnecting, every one is acked`, async () => {
      const { t, joinedAgent } = await setup(adapter, env);
      await using _ = t;
      const base = Date.now() - 3_600_000;
      const flood = await joinedAgent();
      flood.sendFast(DATA.fast, base, 1, sent);
      await flood.waitClosed(10_000);
      // The server closed it (1008, after an error saying why); with frames
      // still unread, its kernel may reset the connection instead, so the
      // client can miss both, and the server's log is what says why.
      await eventually(() =>
        t.log.lines.some((l) =>
          l.includes("refused: invalid_message (more than") &&
          l.includes(logged) && l.includes("without waiting for their acks")
        )
      );
      const replies = await flood.rest();
      const refusal = replies.find((r) => r.type === "error");
      if (refusal) assert.equal(refusal.reason, "invalid_message");
      const acked = replies.filter((r) => r.type === "ack").length;
      assert.ok(acked < sent, `${acked} acked`);
      // An agent that keeps its window within the cap sends them all again:
      // nothing was lost, the ones stored before are acked as duplicates.
      await using agent = await joinedAgent();
      for (let from = 1; from <= sent; from += window) {
        agent.sendFast(DATA.fast, base, from, window);
        const got = await agent.take(window);
        assert.deepEqual(
          got.map((r) => r.type),
          Array(window).fill("ack"),
          JSON.stringify(got),
        );
      }
    });
  }

  test("answers and log lines repeat at most 200 characters of client text, with control characters escaped", async () => {
    const { t, connect, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    agent.send({ type: "x".repeat(100_000) });
    const unknown = await agent.next();
    assert.equal(unknown.reason, "unknown_type");
    assert.ok(String(unknown.message).length < 300, "echoed the type whole");
    agent.send(sample(7, { interval: "y".repeat(50_000) }));
    const nack = await agent.next();
    assert.equal(nack.type, "nack");
    assert.ok(String(nack.message).length < 300, "echoed the interval whole");
    // A claimed host name with a newline cannot forge a log line.
    await using stranger = await connect();
    const refused = await stranger.join("pve-01\nproxmon: forged line", "bad");
    assert.equal(refused.reason, "unauthorized");
    await stranger.waitClosed();
    await eventually(() =>
      t.log.lines.some((l) => l.includes("pve-01\\u000aproxmon: forged"))
    );
    assert.ok(
      !t.log.lines.some((l) =>
        l.split("\n").some((p) => /^proxmon: forged/.test(p))
      ),
      t.log.lines.join("\n"),
    );
    assert.ok(t.log.lines.every((l) => l.length < 1000), "a long log line");
  });

  test("a NUL in a sample's text (pool, guest, storage names, a status, a key) is stored as U+FFFD, read back whole, and said once in the log", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    const data = structuredClone(DATA.fast) as unknown as {
      zfs_pools: { pools: Record<string, unknown>[] };
      vms_runtime: { vms: Record<string, unknown>[] };
      storage: { storages: Record<string, unknown>[] };
    };
    data.zfs_pools.pools[0].name = "rp\u0000ool";
    data.vms_runtime.vms[0].name = "home\u0000assistant\nline";
    data.vms_runtime.vms[0].status = "run\u0000ning";
    data.storage.storages[0].name = "lo\u0000cal";
    data.vms_runtime.vms[0]["ex\u0000tra"] = 1;
    const at = new Date(Date.now() - 60_000).toISOString();
    agent.send(sample(9, { collected_at: at, data }));
    assert.deepEqual(await agent.next(), { type: "ack", ref: 9 });
    // read back through the API and straight from the tables
    const res = await fetch(`${t.url}/api/hosts/pve-01`);
    const payload = (await res.json()).samples.fast.payload;
    assert.equal(payload.zfs_pools.pools[0].name, "rp\uFFFDool");
    assert.equal(payload.vms_runtime.vms[0].name, "home\uFFFDassistant\nline");
    assert.equal(payload.storage.storages[0].name, "lo\uFFFDcal");
    const series = await t.database.client.execute(
      "SELECT DISTINCT object FROM series WHERE kind = 'pool' ORDER BY object",
    );
    assert.deepEqual(series.rows.map((r) => r.object), ["rp\uFFFDool", "tank"]);
    const status = await t.database.client.execute(
      "SELECT value FROM state_changes WHERE kind = 'guest.status' AND object = '100'",
    );
    assert.deepEqual(status.rows.map((r) => r.value), ["run\uFFFDning"]);
    assert.equal(
      t.log.lines.filter((l) => l.includes("had NUL characters")).length,
      1,
    );
  });

  test("malformed JSON gets malformed_json and the socket keeps working", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    agent.send('{"type": "sample", ');
    const reply = await agent.next();
    assert.equal(reply.type, "error");
    assert.equal(reply.reason, "malformed_json");
    await acked(agent, 5);
  });

  test("an unknown type gets unknown_type, and JSON that is not an object gets invalid_message", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    agent.send({ type: "metric:fast" });
    assert.equal((await agent.next()).reason, "unknown_type");
    agent.send({ no_type: true });
    assert.equal((await agent.next()).reason, "unknown_type");
    agent.send("[1, 2]");
    assert.equal((await agent.next()).reason, "invalid_message");
    agent.send({ type: "ping" });
    assert.deepEqual(await agent.next(), { type: "pong" });
  });

  test("messages before join are refused with not_joined, and a join still works after", async () => {
    const { t, token, connect } = await setup(adapter);
    await using _ = t;
    await using agent = await connect();
    agent.send(sample(1));
    const reply = await agent.next();
    assert.equal(reply.type, "error");
    assert.equal(reply.reason, "not_joined");
    assert.equal((await agent.join("pve-01", token)).type, "joined");
    assert.equal((await headSamples(t.database)).length, 0);
  });

  test("a sample sent right behind the join waits for the join instead of being refused", async () => {
    const { t, token, connect } = await setup(adapter);
    await using _ = t;
    await using agent = await connect();
    agent.send({
      type: "join",
      host: "pve-01",
      token,
      agent_version: "0.1.0",
      protocol: 1,
    });
    agent.send(sample(9));
    const [{ server_time: _time, ...joined }, ack] = await agent.take(2);
    assert.deepEqual(joined, JOINED);
    assert.deepEqual(ack, { type: "ack", ref: 9 });
  });

  test("a second join on a joined socket gets already_joined", async () => {
    const { t, token, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    assert.equal((await agent.join("pve-01", token)).reason, "already_joined");
  });

  test("a join for another protocol version gets protocol_unsupported and a close", async () => {
    const { t, token, connect } = await setup(adapter);
    await using _ = t;
    const agent = await connect();
    const reply = await agent.join("pve-01", token, { protocol: 2 });
    assert.equal(reply.reason, "protocol_unsupported");
    assert.equal((await agent.waitClosed()).code, 1008);
  });

  test("a join without the required fields gets invalid_message and a close", async () => {
    const { t, connect } = await setup(adapter);
    await using _ = t;
    const agent = await connect();
    agent.send({ type: "join", host: "pve-01" });
    const reply = await agent.next();
    assert.equal(reply.reason, "invalid_message");
    assert.match(String(reply.message), /token/);
    assert.equal((await agent.waitClosed()).code, 1008);
  });

  test("rotating the token from another connection closes the live socket, and the old token no longer joins", async () => {
    const { t, token, connect, joinedAgent } = await setup(adapter, {
      TOKEN_CHECK_MS: "50",
    });
    await using _ = t;
    const agent = await joinedAgent();
    const cli = await t.openSecondConnection();
    await rotateToken(cli, "pve-01");
    assert.deepEqual(await agent.next(), {
      type: "error",
      reason: "unauthorized",
    });
    assert.deepEqual(await agent.waitClosed(), {
      code: 1008,
      reason: "unauthorized",
    });
    const again = await connect();
    assert.equal((await again.join("pve-01", token)).reason, "unauthorized");
    await again.waitClosed();
  });

  test("a sample sent after a rotation is not stored even before the token check runs", async () => {
    const { t, joinedAgent } = await setup(adapter, {
      TOKEN_CHECK_MS: "600000",
    });
    await using _ = t;
    const agent = await joinedAgent();
    await rotateToken(await t.openSecondConnection(), "pve-01");
    agent.send(sample(1));
    assert.deepEqual(await agent.next(), {
      type: "error",
      reason: "unauthorized",
    });
    assert.equal((await agent.waitClosed()).code, 1008);
    assert.equal((await headSamples(t.database)).length, 0);
  });

  test("ping is answered with pong and counts as contact (last_seen_at)", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    const joinedAt = (await findHost(t.database, "pve-01"))!.lastSeenAt!;
    await new Promise((r) => setTimeout(r, 5));
    agent.send({ type: "ping" });
    assert.deepEqual(await agent.next(), { type: "pong" });
    await eventually(async () =>
      (await findHost(t.database, "pve-01"))!.lastSeenAt! > joinedAt
    );
  });

  test("a committed sample is published as an event, a replay is not", async () => {
    const { t, events, joinedAgent } = await setup(adapter);
    await using _ = t;
    await using agent = await joinedAgent();
    agent.send(sample(1, { interval: "slow", data: DATA.slow }));
    await agent.next();
    agent.send(sample(2, { interval: "slow", data: DATA.slow }));
    await agent.next();
    assert.deepEqual(events.filter((e) => e.type === "sample"), [
      { type: "sample", host: "pve-01", interval: "slow", collected_at: AT },
    ]);
  });

  test("when the database fails, the sample is not acked and the socket closes with 1011", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    const agent = await joinedAgent();
    t.database.close();
    agent.send(sample(1));
    assert.deepEqual(await agent.waitClosed(), {
      code: 1011,
      reason: "storage_failed",
    });
    assert.deepEqual(await agent.rest(), []);
    assert.ok(
      t.log.lines.some((l) =>
        l.includes("storing a sample from pve-01 failed")
      ),
    );
  });

  test("a plain GET on /agent/ws is told to upgrade", async () => {
    const { t } = await setup(adapter);
    await using _ = t;
    const res = await fetch(`${t.url}/agent/ws`);
    assert.equal(res.status, 426);
    assert.deepEqual(await res.json(), { error: "websocket_upgrade_required" });
  });

  test("shutdown acks what it received, then closes sockets with server_shutdown", async () => {
    const { t, joinedAgent } = await setup(adapter);
    await using _ = t;
    const agent = await joinedAgent();
    await acked(agent, 1);
    const stats = await t.server.shutdown();
    assert.deepEqual(await agent.next(), {
      type: "error",
      reason: "server_shutdown",
    });
    assert.equal((await agent.waitClosed()).code, 1001);
    assert.equal(stats.stored, 1);
  });
}
