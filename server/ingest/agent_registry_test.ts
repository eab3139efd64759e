import assert from "node:assert/strict";
import {
  type AgentConnection,
  type AgentRegistry,
  closeAllAgents,
  createAgentRegistry,
  revokeStaleAgents,
  startTokenWatch,
} from "./agent_registry.ts";
import { fakeClock } from "@proxmon/shared/fake_clock";
import {
  createHost,
  type HostRow,
  removeHost,
  rotateToken,
} from "../store/hosts.ts";
import { memoryLogger } from "@proxmon/shared/logger";
import { openTempDatabase } from "../testing/temp_db.ts";

/** A connection that records how it was closed. */
function connection(joined: AgentConnection["joined"] = null) {
  const closes: string[] = [];
  const socket = Promise.withResolvers<void>();
  const conn: AgentConnection & { closes: string[]; peerCloses(): void } = {
    joined,
    closes,
    terminate(reason, code) {
      closes.push(`${reason}/${code}`);
      return Promise.resolve();
    },
    socketClosed: socket.promise,
    peerCloses: () => socket.resolve(),
  };
  return conn;
}

/** A connection of a stored host, added and claimed as its current one. */
function joinedConnection(agents: AgentRegistry, host: HostRow) {
  const conn = connection({
    hostId: host.id,
    hostName: host.name,
    tokenHash: host.tokenHash,
  });
  agents.add(conn);
  agents.claim(host.id, conn);
  return conn;
}

Deno.test("claim() makes a connection its host's current one and hands back the one it replaces", () => {
  const agents = createAgentRegistry();
  const a = connection({ hostId: 1, hostName: "a", tokenHash: "h" });
  const b = connection({ hostId: 1, hostName: "a", tokenHash: "h" });
  agents.add(a);
  agents.add(b);
  assert.equal(agents.claim(1, a), undefined);
  assert.equal(agents.claim(1, b), a);
  assert.equal(agents.current(1), b);
  assert.equal(
    agents.remove(a),
    false,
    "a replaced connection is not current",
  );
  assert.equal(agents.current(1), b);
  assert.equal(agents.remove(b), true);
  assert.equal(agents.current(1), undefined);
  assert.deepEqual(agents.all(), []);
});

Deno.test("closeAllAgents() closes joined and unjoined connections alike and waits for their close", async () => {
  const agents = createAgentRegistry();
  const joined = connection({ hostId: 1, hostName: "a", tokenHash: "h" });
  const waiting = connection();
  agents.add(joined);
  agents.add(waiting);
  agents.claim(1, joined);
  const clock = fakeClock(0);
  let done = false;
  const closing = closeAllAgents(agents, "server_shutdown", 1001, {
    clock,
    waitMs: 1000,
  }).then(() => done = true);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(joined.closes, ["server_shutdown/1001"]);
  assert.deepEqual(waiting.closes, ["server_shutdown/1001"]);
  joined.peerCloses();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(done, false, "still waiting for the second close");
  waiting.peerCloses();
  await closing;
  assert.equal(clock.pending(), 0);
});

Deno.test("closeAllAgents() gives up waiting for a peer that never answers the close", async () => {
  const agents = createAgentRegistry();
  const silent = connection();
  agents.add(silent);
  const clock = fakeClock(0);
  const closing = closeAllAgents(agents, "server_shutdown", 1001, {
    clock,
    waitMs: 1000,
  });
  await new Promise((r) => setTimeout(r, 5));
  await clock.advance(1000);
  await closing;
  assert.deepEqual(silent.closes, ["server_shutdown/1001"]);
});

Deno.test("revokeStaleAgents() closes connections of rotated and removed hosts only", async () => {
  await using t = await openTempDatabase();
  const made = await Promise.all(
    ["kept", "rotated", "removed"].map((n) => createHost(t.database, n, 0)),
  );
  const agents = createAgentRegistry();
  const conns = made.map(({ host }) => joinedConnection(agents, host));
  assert.equal(await revokeStaleAgents(t.database, agents), 0);
  await rotateToken(t.database, "rotated");
  await removeHost(t.database, "removed");
  assert.equal(await revokeStaleAgents(t.database, agents), 2);
  assert.deepEqual(conns.map((c) => c.closes), [
    [],
    ["unauthorized/1008"],
    ["unauthorized/1008"],
  ]);
});

Deno.test("startTokenWatch() checks every interval until stopped", async () => {
  await using t = await openTempDatabase();
  const { host } = await createHost(t.database, "pve-01", 0);
  const agents = createAgentRegistry();
  const conn = joinedConnection(agents, host);
  const clock = fakeClock(0);
  const log = memoryLogger();
  const watch = startTokenWatch({
    database: t.database,
    agents,
    clock,
    log,
    intervalMs: 1000,
  });
  await rotateToken(t.database, "pve-01");
  await clock.advance(999);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(conn.closes, []);
  await clock.advance(1);
  await watch.stop();
  assert.deepEqual(conn.closes, ["unauthorized/1008"]);
  assert.match(log.lines[0], /closed 1 agent connection/);
  assert.equal(clock.pending(), 0);
});
