/**
 * The agent's connection against the real server, for what needs both ends:
 * two agents claiming one host, and a protocol the server does not accept.
 * Each side's log lines are checked, since they are what an admin sees.
 */
import assert from "node:assert/strict";
import { systemClock } from "@proxmon/shared/clock";
import { memoryLogger } from "@proxmon/shared/logger";
import { ErrorMessage } from "@proxmon/shared";
import * as v from "valibot";
import {
  type ConnectionEvent,
  createConnection,
  refusalLine,
} from "../agent/connection.ts";
import { Outbox } from "../agent/outbox.ts";
import { startTestServer } from "../server/testing/test_server.ts";
import { TestAgent } from "../server/testing/test_agent.ts";

async function until(check: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function agentFor(url: string, token: string) {
  const log = memoryLogger();
  const events: ConnectionEvent[] = [];
  const connection = createConnection({
    url,
    hostName: "pve-01",
    token,
    agentVersion: "0.1.0-test",
    configPath: "/etc/proxmon/agent.toml",
    outbox: new Outbox(10, log),
    deadLetters: { record: () => assert.fail("no sample is sent") },
    clock: systemClock,
    random: Math.random,
    log,
    timing: { backoffInitialMs: 20, backoffMaxMs: 50, refusedRetryMs: 60_000 },
    onEvent: (e) => events.push(e),
  });
  return { connection, log, events };
}

Deno.test("two agents as one host: the replaced one learns from where, logs it once and backs off instead of taking over again", async () => {
  await using server = await startTestServer();
  const token = await server.register("pve-01");
  const first = agentFor(server.wsUrl, token);
  const second = agentFor(server.wsUrl, token);
  try {
    first.connection.start();
    await until(() => first.connection.joined, "the first agent to join");
    second.connection.start();
    await until(
      () => first.events.some((e) => e.type === "refused"),
      "the first agent to be replaced",
    );
    assert.ok(second.connection.joined);
    // It would have taken over again within 50 ms on the usual backoff.
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(second.connection.joined, "the second agent stays joined");
    const joins = first.events.filter((e) => e.type === "joined").length;
    assert.equal(joins, 1, "the first agent did not rejoin");
    assert.deepEqual(first.log.lines.filter((l) => l.startsWith("error")), [
      "error: another agent connected as pve-01 (from 127.0.0.1); retrying in 1 min",
    ]);
    const delays = first.events.flatMap((e) =>
      e.type === "reconnect_scheduled" ? [e.delayMs] : []
    );
    assert.deepEqual(delays, [60_000]);
    const serverLines = server.log.lines.filter((l) =>
      l.includes("agent pve-01")
    );
    assert.equal(serverLines.length, 3, serverLines.join("\n"));
    assert.match(
      serverLines[0],
      /^info: agent pve-01 \(from 127\.0\.0\.1\) joined \(agent 0\.1\.0-test, protocol 1\)$/,
    );
    assert.match(
      serverLines[1],
      /^warn: agent pve-01 \(from 127\.0\.0\.1\) refused: replaced \(another agent connected as pve-01 \(from 127\.0\.0\.1\)\)$/,
    );
    assert.match(
      serverLines[2],
      /^info: agent pve-01 \(from 127\.0\.0\.1\) joined/,
    );
  } finally {
    await first.connection.stop();
    await second.connection.stop();
  }
});

Deno.test("an agent speaking a protocol the server does not accept is refused with the range, which the agent logs in one line", async () => {
  await using server = await startTestServer();
  const token = await server.register("pve-01");
  const agent = await TestAgent.connect(server.wsUrl);
  const reply = await agent.join("pve-01", token, { protocol: 99 });
  assert.deepEqual(await agent.waitClosed(), {
    code: 1008,
    reason: "protocol_unsupported",
  });
  const error = v.parse(ErrorMessage, reply);
  assert.deepEqual(
    { protocol: error.protocol, accepts: error.accepts },
    { protocol: 1, accepts: { min: 1, max: 1 } },
  );
  assert.deepEqual(
    server.log.lines.filter((l) => l.includes("refused")),
    [
      "warn: agent pve-01 (from 127.0.0.1) refused: protocol_unsupported " +
      "(the agent speaks protocol 99; this server speaks 1 and accepts 1)",
    ],
  );
  const line = refusalLine(error, {
    url: server.wsUrl,
    hostName: "pve-01",
    configPath: "/etc/proxmon/agent.toml",
  }, "5 min");
  assert.deepEqual(line, {
    reason: "protocol_unsupported",
    line: `server at ${server.wsUrl} does not accept this agent's protocol 1 ` +
      "(it speaks 1, accepts 1): upgrade proxmon-agent or the server; " +
      "retrying in 5 min",
  });
});

Deno.test("joined carries the server's protocol and the range it accepts", async () => {
  await using server = await startTestServer();
  const token = await server.register("pve-01");
  await using agent = await TestAgent.connect(server.wsUrl);
  const reply = await agent.join("pve-01", token);
  assert.equal(reply.type, "joined");
  assert.equal(reply.protocol, 1);
  assert.deepEqual(reply.accepts, { min: 1, max: 1 });
});
