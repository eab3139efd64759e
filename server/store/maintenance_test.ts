import assert from "node:assert/strict";
import { fakeClock } from "@proxmon/shared/fake_clock";
import type { Logger } from "@proxmon/shared/logger";
import { createHost } from "./hosts.ts";
import { headSamples } from "./sample_store.ts";
import { startMaintenance } from "./maintenance.ts";
import { DEFAULT_RETENTION } from "./tiers.ts";
import { openTempDatabase } from "../testing/temp_db.ts";
import { cpuAt, fillFast, readHostCpu } from "../testing/series_samples.ts";

const T0 = Date.UTC(2026, 3, 20); // a day boundary
const HOUR = 3_600_000;

function collectingLog() {
  const lines: string[] = [];
  const at = (level: string) => (m: string, err?: unknown) =>
    void lines.push(`${level} ${m}${err === undefined ? "" : ` ${err}`}`);
  const log: Logger = {
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { log, lines };
}

/** Waits until `done()` or throws after `ms` (a Worker's reply is real I/O). */
async function until(
  done: () => boolean | Promise<boolean>,
  ms = 20_000,
) {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (
  const c of [
    { name: "on its Worker", worker: true, url: undefined },
    { name: "on this thread", worker: false, url: undefined },
    // A Worker that cannot open the file leaves the work to this thread.
    {
      name: "on this thread when the Worker cannot start",
      worker: true,
      url: "file:/nonexistent-proxmon-dir/proxmon.db",
    },
  ]
) {
  Deno.test(`maintenance ${c.name} moves closed windows into blocks, and stops`, async () => {
    await using tmp = await openTempDatabase();
    const { host } = await createHost(tmp.database, "pve-01", T0);
    const times = await fillFast(tmp.database, {
      hostId: host.id,
      fromMs: T0,
      count: 5 * 360,
      stepMs: 10_000,
    });
    const expected = times.map((t, i) => [t, cpuAt(i)]);
    const clock = fakeClock(T0 + 5 * HOUR + 10 * 60_000);
    const { log, lines } = collectingLog();
    const database = c.url === undefined
      ? tmp.database
      : { ...tmp.database, url: c.url };
    const maintenance = startMaintenance({
      database,
      clock,
      log,
      retention: { ...DEFAULT_RETENTION, rawMs: 400 * 24 * HOUR },
      intervalMs: 60_000,
      worker: c.worker,
    });
    try {
      await clock.advance(0);
      // windows 00-02 and 02-04 are closed; 04-06 is still open
      await until(async () => (await headSamples(tmp.database)).length === 360);
      await until(() => lines.some((l) => l.startsWith("info store:")));
      assert.deepEqual(await readHostCpu(tmp.database, host.id), expected);
      assert.match(lines.join("\n"), /compacted 1440 samples/);
      if (c.url !== undefined) {
        assert.match(lines.join("\n"), /worker did not start/);
      } else {
        assert.doesNotMatch(lines.join("\n"), /^error/m);
      }
    } finally {
      await maintenance.stop();
    }
    // stopped: later timers run nothing
    await clock.advance(120_000);
    assert.equal((await headSamples(tmp.database)).length, 360);
  });
}
