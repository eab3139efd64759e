import * as assert from "node:assert/strict";
import { runAlertsCli } from "./alerts_cli.ts";
import {
  fastWith,
  feed,
  onlyRules,
  startHarness,
  T0,
} from "./testing/engine_harness.ts";
import { startReceiver } from "./testing/receiver.ts";
import { tempDir } from "@proxmon/shared/temp_dir";

const degraded = { name: "tank", health: "DEGRADED", degraded_vdev_count: 1 };

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
  };
}

Deno.test("alerts list, ack, silence and unsilence from the CLI reach a running engine", async () => {
  // the CLI runs on the real clock, so the engine's starts there too
  await using h = await startHarness(onlyRules("pool_unhealthy"), {
    startMs: Date.now(),
  });
  await feed(h, "pve-lab", T0, await fastWith([degraded]));
  const env = { DATABASE_URL: h.db.url };

  let r = io();
  assert.equal(await runAlertsCli(["list"], env, r.io), 0);
  assert.equal(r.out.length, 1);
  const [id, state, severity, rule, where] = r.out[0].split("\t");
  assert.deepEqual([state, severity, rule, where], [
    "firing",
    "crit",
    "pool_unhealthy",
    "pve-lab/tank",
  ]);

  r = io();
  assert.equal(await runAlertsCli(["ack", id], env, r.io), 0);
  await h.clock.advance(5000); // one engine tick reads it
  await h.engine.flush();
  assert.equal(h.engine.active()[0].state, "acknowledged");
  r = io();
  await runAlertsCli(["list"], env, r.io);
  assert.equal(r.out[0].split("\t")[1], "acknowledged");

  r = io();
  assert.equal(
    await runAlertsCli(
      ["silence", "--host", "pve-lab", "--for", "2h", "--comment", "disk swap"],
      env,
      r.io,
    ),
    0,
  );
  const silenceId = /^silence (\d+) until /.exec(r.out[0])![1];
  await h.clock.advance(5000);
  assert.equal(h.engine.silences()[0].comment, "disk swap");
  assert.equal(h.engine.active()[0].state, "silenced");
  r = io();
  assert.equal(await runAlertsCli(["unsilence", silenceId], env, r.io), 0);
  await h.clock.advance(5000);
  assert.deepEqual(h.engine.silences(), []);

  // the engine's own later writes keep the CLI's ack
  await h.clock.advance(60_000);
  await feed(
    h,
    "pve-lab",
    T0 + 80_000,
    await fastWith([{ ...degraded, degraded_vdev_count: 2 }]),
  );
  r = io();
  await runAlertsCli(["list"], env, r.io);
  assert.equal(r.out[0].split("\t")[1], "acknowledged");
});

Deno.test("alerts CLI refuses bad input with one line", async (t) => {
  await using h = await startHarness("");
  const env = { DATABASE_URL: h.db.url };
  const cases: [string[], RegExp][] = [
    [["nope"], /^proxmon alerts: usage: deno task alerts list/],
    [["ack", "x"], /ack needs a numeric ID/],
    [["ack", "99"], /no alert with ID 99/],
    [["silence", "--host", "a"], /silence needs --for DURATION/],
    [
      ["silence", "--for", "2h"],
      /at least one of --rule, --host, --object, --tag/,
    ],
    [["silence", "--hots", "a", "--for", "2h"], /Unknown option '--hots'/],
    [["unsilence", "7"], /no live silence with ID 7/],
    [["test", "ops"], /no channel named "ops" in .*\(channels: none\)/],
  ];
  for (const [args, expected] of cases) {
    await t.step(args.join(" "), async () => {
      const r = io();
      assert.equal(
        await runAlertsCli(args, {
          ...env,
          ALERTS_FILE: `${h.db.dir}/none.toml`,
        }, r.io),
        1,
      );
      assert.equal(r.err.length, 1);
      assert.match(r.err[0], expected);
    });
  }
});

Deno.test("deno task alerts test CHANNEL sends a test message and reports the receiver's answer", async () => {
  await using rx = startReceiver(() => new Response("thanks", { status: 202 }));
  await using tmp = await tempDir("proxmon-cli-");
  const dir = tmp.path;
  const file = `${dir}/alerts.toml`;
  await Deno.writeTextFile(
    file,
    `[[channel]]\nname = "ops"\ntype = "webhook"\nurl = "${rx.url}/hook"\n`,
  );
  const testOps = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "alerts", "test", "ops"],
      env: { DATABASE_URL: `file:${dir}/db.sqlite`, ALERTS_FILE: file },
      cwd: `${import.meta.dirname}/../..`,
      stdin: "null",
    }).output();
  const out = await testOps();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(stdout.trim(), "ops (webhook): delivered: HTTP 202: thanks");
  const body = JSON.parse(rx.requests[0].body);
  assert.equal(body.rule, "test");
  rx.requests.length = 0;
  await rx.down();
  const failed = await testOps();
  assert.equal(failed.code, 1);
  assert.match(
    new TextDecoder().decode(failed.stderr),
    /ops \(webhook\): FAILED: fetch failed/,
  );
});
