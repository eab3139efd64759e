import * as assert from "node:assert/strict";
import { signBody } from "./channels/webhook.ts";
import {
  fastWith,
  feed,
  onlyRules,
  rows,
  startHarness,
  T0,
} from "./testing/engine_harness.ts";
import { startReceiver } from "./testing/receiver.ts";

const SEC = 1000;
const MIN = 60 * SEC;

const webhook = (url: string, extra = "") => `
public_url = "https://monitor.example"
retry_initial = "10s"
[[channel]]
name = "ops"
type = "webhook"
url = "${url}/hook"
secret = "s3cret"
${extra}
`;

const healthy = { name: "tank", health: "ONLINE", degraded_vdev_count: 0 };
const degraded = { name: "tank", health: "DEGRADED", degraded_vdev_count: 1 };

Deno.test("a pool that degrades for 20 samples, then recovers: one firing and one resolved webhook", async () => {
  await using rx = startReceiver();
  await using h = await startHarness(
    webhook(rx.url) + onlyRules("pool_unhealthy"),
  );
  let t = T0;
  await feed(h, "pve-lab", t, await fastWith([healthy]));
  assert.equal(rx.requests.length, 0);
  for (let i = 0; i < 21; i++) {
    t += 10 * SEC;
    await h.clock.advance(10 * SEC);
    await feed(h, "pve-lab", t, await fastWith([degraded]));
  }
  t += 10 * SEC;
  await h.clock.advance(40 * SEC); // past the group window after the firing
  await feed(h, "pve-lab", t, await fastWith([healthy]));
  await h.clock.advance(40 * SEC);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 2);
  const [fire, resolve] = rx.requests.map((r) => JSON.parse(r.body));
  assert.partialDeepStrictEqual(fire, {
    rule: "pool_unhealthy",
    state: "firing",
    severity: "crit",
    host: "pve-lab",
    object: "tank",
    value: "DEGRADED",
    started_at: new Date(T0 + 10 * SEC).toISOString(),
    url: "https://monitor.example/hosts/pve-lab",
  });
  assert.match(fire.summary, /pool tank is DEGRADED/);
  assert.equal(resolve.state, "resolved");
  assert.equal(resolve.value, "ONLINE");
  // the signature is the HMAC of the exact body bytes
  for (const r of rx.requests) {
    assert.equal(
      r.headers.get("x-proxmon-signature"),
      signBody("s3cret", r.body),
    );
  }
  const log = await rows(h, "SELECT ok, count FROM delivery_log ORDER BY id");
  assert.deepEqual(log.map((r) => [r.ok, r.count]), [[1, 1], [1, 1]]);
});

Deno.test("after a restart a firing alert is not sent again, and one whose cause cleared meanwhile resolves", async () => {
  await using rx = startReceiver();
  const toml = webhook(rx.url) + onlyRules("pool_unhealthy");
  await using h = await startHarness(toml);
  await feed(h, "pve-lab", T0, await fastWith([degraded]));
  assert.equal(rx.requests.length, 1);
  await h.restart();
  await h.clock.advance(MIN);
  await feed(h, "pve-lab", T0 + MIN, await fastWith([degraded]));
  await h.clock.advance(MIN);
  assert.equal(rx.requests.length, 1, "nothing new while it keeps firing");
  assert.equal(h.engine.active()[0].state, "firing");
  // down again; the pool is repaired meanwhile
  await h.restart();
  await h.clock.advance(10 * MIN);
  await feed(h, "pve-lab", T0 + 11 * MIN, await fastWith([healthy]));
  await rx.waitFor(2);
  assert.equal(JSON.parse(rx.requests[1].body).state, "resolved");
  assert.deepEqual(h.engine.active(), []);
});

Deno.test("a receiver down for 2 minutes gets the notification once it is back", async () => {
  await using rx = startReceiver();
  await using h = await startHarness(
    webhook(rx.url) + onlyRules("pool_unhealthy"),
  );
  await rx.down();
  await feed(h, "pve-lab", T0, await fastWith([degraded]));
  // retries at +10 s, +20 s, +40 s, +80 s (backoff doubling from 10 s)
  for (let s = 0; s < 120; s += 5) await h.clock.advance(5 * SEC);
  await h.engine.queue.idle();
  const failed = await rows(h, "SELECT ok FROM delivery_log");
  assert.ok(failed.length >= 3 && failed.every((r) => r.ok === 0));
  const status = (await h.engine.queue.status())[0];
  assert.equal(status.queued, 1);
  assert.equal(status.last?.ok, false);
  rx.up();
  for (let s = 0; s < 180; s += 5) await h.clock.advance(5 * SEC);
  await rx.waitFor(1);
  assert.equal(rx.requests.length, 1);
  assert.equal(JSON.parse(rx.requests[0].body).state, "firing");
  assert.equal((await h.engine.queue.status())[0].queued, 0);
});

Deno.test("alerts within 30 s of a send go out as one message; the hourly cap ends in one digest", async () => {
  await using rx = startReceiver();
  await using h = await startHarness(
    webhook(rx.url, "cap_per_hour = 3") + onlyRules("guest_down"),
  );
  const vms = (stopped: number[]) =>
    fastWith([healthy], (p) => {
      p.vms_runtime.vms = Array.from({ length: 8 }, (_, i) => ({
        ...p.vms_runtime.vms[0],
        vmid: 100 + i,
        name: `vm${i}`,
        template: false,
        status: stopped.includes(100 + i) ? "stopped" : "running",
      }));
    });
  let t = T0;
  await feed(h, "pve", t, await vms([]));
  await feed(h, "pve", t += SEC, await vms([100]));
  assert.equal(rx.requests.length, 1); // the first goes at once
  await h.clock.advance(5 * SEC);
  await feed(h, "pve", t += 5 * SEC, await vms([100, 101]));
  await h.clock.advance(5 * SEC);
  await feed(h, "pve", t += 5 * SEC, await vms([100, 101, 102]));
  assert.equal(rx.requests.length, 1);
  await h.clock.advance(25 * SEC);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 2);
  const grouped = JSON.parse(rx.requests[1].body);
  assert.deepEqual(grouped.alerts.map((a: { object: string }) => a.object), [
    "101",
    "102",
  ]);
  // a third message uses up the cap of 3; the next ones are held back
  const down = [100, 101, 102];
  for (const id of [103, 104, 105, 106]) {
    down.push(id);
    await h.clock.advance(40 * SEC);
    await feed(h, "pve", t += 40 * SEC, await vms(down));
  }
  assert.equal(rx.requests.length, 3);
  const status = (await h.engine.queue.status())[0];
  assert.equal(status.suppressed, 3);
  await h.clock.advance(60 * MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 4);
  const digest = JSON.parse(rx.requests[3].body);
  assert.equal(digest.suppressed, 3);
  assert.match(digest.text, /3 more notifications suppressed/);
});

Deno.test("acknowledging stops repeats; silences stop notifications until they end", async () => {
  await using rx = startReceiver();
  await using h = await startHarness(
    `repeat_after = "1h"\n` + webhook(rx.url) + onlyRules("pool_unhealthy"),
  );
  await feed(h, "a", T0, await fastWith([degraded]));
  await feed(h, "b", T0, await fastWith([degraded]));
  await h.clock.advance(MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 2); // b's waited for the group window
  const a = h.engine.active().find((x) => x.host === "a")!;
  const acked = await h.engine.acknowledge(a.id!);
  assert.equal(acked?.state, "acknowledged");
  await h.clock.advance(61 * MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 3, "only b repeats");
  const repeat = JSON.parse(rx.requests[2].body);
  assert.equal(repeat.host, "b");
  assert.equal(repeat.kind, "repeat");

  const silence = await h.engine.silence({
    rule: null,
    host: "c",
    object: null,
    tag: null,
    comment: "maintenance",
    endsAt: T0 + 3 * 60 * MIN,
  });
  await feed(h, "c", T0 + 62 * MIN, await fastWith([degraded]));
  await h.clock.advance(MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 3);
  assert.equal(
    h.engine.active().find((x) => x.host === "c")?.state,
    "silenced",
  );
  assert.equal(await h.engine.unsilence(silence.id), true);
  await h.engine.flush();
  await h.clock.advance(MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 4);
  assert.equal(JSON.parse(rx.requests[3].body).host, "c");
});

Deno.test("quiet hours defer warn notifications to their end, and crit goes out at once", async () => {
  await using rx = startReceiver();
  // 12:00 UTC is 14:00 in Berlin (summer): inside 13:00-15:00
  await using h = await startHarness(
    webhook(
      rx.url,
      `[channel.quiet_hours]\nstart = "13:00"\nend = "15:00"\ntimezone = "Europe/Berlin"`,
    ) + onlyRules("pool_unhealthy", "guest_down"),
  );
  const data = (status: string, health: string) =>
    fastWith([{ ...degraded, health }], (p) => {
      p.vms_runtime.vms = [{
        ...p.vms_runtime.vms[0],
        template: false,
        status,
      }];
    });
  await feed(h, "pve", T0, await data("running", "ONLINE"));
  await feed(h, "pve", T0 + SEC, await data("stopped", "ONLINE")); // warn
  assert.equal(rx.requests.length, 0);
  await h.clock.advance(40 * SEC);
  await feed(h, "pve", T0 + 41 * SEC, await data("stopped", "FAULTED")); // crit
  await rx.waitFor(1);
  assert.equal(JSON.parse(rx.requests[0].body).rule, "pool_unhealthy");
  await h.clock.advance(60 * MIN);
  await h.engine.queue.idle();
  assert.equal(rx.requests.length, 2);
  const late = JSON.parse(rx.requests[1].body);
  assert.equal(late.rule, "guest_down");
  assert.ok(rx.requests[1].at >= 0);
});
