/**
 * Issue 17 end to end: the real agent on the simulated pve-lab node (fake
 * pvesh, smartctl, sensors) sends backups, replication, temperatures and
 * SMART to a real server, and the host page shows them with their flags:
 * the failed backup, the uncovered guest, the disk under the degraded pool
 * whose reallocated count grows, and the warm NVMe; and the alert engine
 * raises backup_failed, guest_not_backed_up and smart_sectors_growing.
 */
import assert from "node:assert/strict";
import { freePort } from "@proxmon/shared/free_port";
import { waitFor } from "./process.ts";
import {
  fetchHost,
  ROOT,
  startRegisteredAgent,
  startServer,
  startSimulatedNode,
} from "./stack.ts";

Deno.test("health e2e: pve-lab's backups, replication, SMART and temperatures reach the host page with their flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-health-" });
  // the profile, with the degraded disk gaining a sector every 2 s instead of 5 min
  const profile = `${dir}/lab.toml`;
  const text = await Deno.readTextFile(
    `${ROOT}/scripts/fake_node/profiles/degraded_zfs23.toml`,
  );
  assert.ok(text.includes("reallocated_every_seconds = 300"));
  await Deno.writeTextFile(
    profile,
    text.replace(
      "reallocated_every_seconds = 300",
      "reallocated_every_seconds = 2",
    ),
  );
  const node = await startSimulatedNode(profile, dir);
  const opts = { port: freePort(), databaseUrl: `file:${dir}/proxmon.db` };
  const server = await startServer(opts);
  const agent = await startRegisteredAgent(opts, {
    name: "lab",
    node,
    dir,
    intervals: { fast: 2, medium: 3, slow: 4, smart: 4 },
  });
  try {
    const page = () => fetch(`${server.url}/hosts/lab`).then((r) => r.text());
    const html = await waitFor(
      "the host page with a rising sector count",
      async () => {
        if (agent.exited()) throw new Error("the agent exited");
        const host = await fetchHost(server.url, "lab");
        if (!host?.samples.medium || !host.samples.slow) return undefined;
        const body = await page();
        return /reallocated sectors \d+ \(\+\d+\)/.test(body)
          ? body
          : undefined;
      },
      { timeoutMs: 60_000 },
    );

    // the API carries each part, with no collector errors
    const host = (await fetchHost(server.url, "lab"))!;
    const medium = host.samples.medium!.payload as Record<
      string,
      { errors: unknown[] }
    >;
    const slow = host.samples.slow!.payload as Record<
      string,
      { errors: unknown[] }
    >;
    for (
      const part of [
        medium.backups,
        medium.replication,
        medium.temperatures,
        slow.smart,
      ]
    ) {
      assert.ok(part, "every part is present");
      assert.deepEqual(part.errors, []);
    }

    // flags in the page header
    assert.match(html, /backup of appliance \(103\) failed/);
    assert.match(html, /media \(104\) is in no backup job/);
    assert.match(
      html,
      /\/dev\/sdb \(WDC WD80EFZZ-68BTXN0\) in tank\/mirror-0: reallocated sectors/,
    );
    assert.match(html, /NVMe nvme-pci-0200 is at 6\d °C/);
    // sections
    assert.match(html, /id="host-backups"/);
    assert.match(
      html,
      /id="backups-uncovered"[^>]*>\s*Not in any backup job:\s*104 media/,
    );
    assert.match(
      html,
      /data-disk="\/dev\/sdb"[\s\S]*?tank \/ mirror-0[\s\S]*?DEGRADED/,
    );
    assert.match(html, /in standby/);
    assert.match(html, /data-job="100-0"/);
    assert.match(html, /id="host-temperatures"/);

    // and the alert engine raised their alerts
    const alerts = await waitFor("the issue-17 alerts", async () => {
      const res = await fetch(`${server.url}/api/alerts`);
      const body = await res.json() as {
        active: { rule: string; object: string | null; state: string }[];
      };
      const firing = body.active.filter((a) => a.state === "firing");
      const has = (rule: string, object: string) =>
        firing.some((a) => a.rule === rule && a.object === object);
      return has("backup_failed", "103") &&
          has("guest_not_backed_up", "104") &&
          has("smart_sectors_growing", "WD-CA1L07QZ")
        ? firing
        : undefined;
    }, { timeoutMs: 30_000 });
    assert.ok(alerts.length >= 3);
  } finally {
    await agent.stop({ graceMs: 3000 });
    await server.proc.stop({ graceMs: 3000 });
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
