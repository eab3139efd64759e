/**
 * remote_write into a real VictoriaMetrics (Debian's package) on loopback,
 * including a minute with the receiver stopped: what was stored meanwhile,
 * and an old sample an agent replays, arrive afterwards with the samples'
 * own timestamps.
 */
import assert from "node:assert/strict";
import { sampleFixture } from "../../testing/samples.ts";
import { TestAgent } from "../../testing/test_agent.ts";
import { startTestServer } from "../../testing/test_server.ts";
import { freePort, startVictoriaMetrics } from "../../testing/tsdb_servers.ts";

/** How long VictoriaMetrics stays down (the issue asks for a minute). */
const STOPPED_MS = 60_000;
const fast = await sampleFixture("fast");

async function until(what: string, ok: () => Promise<boolean>, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test("VictoriaMetrics receives remote_write with original timestamps, including what was stored while it was stopped for a minute", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-vm-test-" });
  const port = freePort();
  const vmOpts = { dataDir: `${dir}/vm-data`, logPath: `${dir}/vm`, port };
  let vm = await startVictoriaMetrics(vmOpts);
  try {
    await using t = await startTestServer({
      env: { REMOTE_WRITE_URL: `${vm.url}/api/v1/write` },
    });
    const rw = t.server.deps.remoteWrite!;
    const token = await t.register("pve-01");
    await using agent = await TestAgent.connect(t.wsUrl);
    assert.equal((await agent.join("pve-01", token)).type, "joined");
    let ref = 0;
    const sent: { at: number; cpu: number }[] = [];
    const send = async (at: number, cpu: number) => {
      agent.send({
        type: "sample",
        ref: ++ref,
        interval: "fast",
        collected_at: new Date(at).toISOString(),
        data: { ...fast, host: { ...fast.host, cpu_percent: cpu } },
      });
      assert.deepEqual(await agent.next(), { type: "ack", ref });
      sent.push({ at, cpu });
    };
    const drained = async () => (await rw.status()).pendingRequests === 0;

    await send(Date.now(), 10);
    await until("the first push", drained, 15_000);

    await vm.stop();
    const stoppedAt = Date.now();
    let cpu = 20;
    while (Date.now() - stoppedAt < STOPPED_MS) {
      await send(Date.now(), cpu++);
      await new Promise((r) => setTimeout(r, 10_000));
    }
    // An agent's outbox replaying a sample collected 10 minutes earlier.
    await send(stoppedAt - 10 * 60_000, 99);
    const down = await rw.status();
    assert.ok(down.pendingRequests >= 7, `queued: ${down.pendingRequests}`);
    assert.ok(down.failedRequests > 0);
    assert.ok(
      t.log.lines.some((l) => /remote_write: cannot push to/.test(l)),
      t.log.lines.join("\n"),
    );

    vm = await startVictoriaMetrics(vmOpts);
    await until("the backlog to drain", drained, 30_000);
    assert.equal((await rw.status()).droppedTooOld, 0);

    const exported = await vm.exportSeries(
      'proxmon_host_cpu_ratio{host="pve-01"}',
    );
    assert.equal(exported.length, 1);
    const points = exported[0].timestamps.map((ts, i) => ({
      at: ts,
      cpu: Math.round(exported[0].values[i] * 100),
    }));
    const expected = [...sent].sort((a, b) => a.at - b.at);
    assert.deepEqual(points, expected);
    // Every family of the sample arrived, not just CPU.
    const guests = await vm.exportSeries("proxmon_guest_cpu_ratio");
    assert.equal(
      guests.length,
      fast.vms_runtime.vms.filter((g) => !g.template).length,
    );
    assert.equal(guests[0].timestamps.length, sent.length);
  } finally {
    await vm.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
