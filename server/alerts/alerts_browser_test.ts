/**
 * The alerts on the dashboard in a real browser (Debian's chromium through
 * playwright-core) against the real server: a degraded pool arrives over
 * the agent socket, the banner and the overview row show it, and the
 * Acknowledge and Silence buttons on /alerts work (their POSTs pass the
 * same-origin check a cross-site form would fail).
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { memoryLogger } from "@proxmon/shared/logger";
import { resolveServerConfig } from "../config.ts";
import { startServer } from "../server.ts";
import { createHost } from "../store/hosts.ts";
import { TestAgent } from "../testing/test_agent.ts";
import { fastWith } from "./testing/engine_harness.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url);

Deno.test("alerts in chromium: banner, overview row, acknowledge and silence on /alerts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-alerts-browser-" });
  const resolved = resolveServerConfig({
    HOSTNAME: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `file:${dir}/db.sqlite`,
    ALERTS_FILE: `${dir}/none.toml`,
  });
  if (!resolved.ok) throw new Error(resolved.error);
  const server = await startServer(resolved.config, { log: memoryLogger() });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"],
  });
  try {
    const { token } = await createHost(
      server.deps.database,
      "pve-lab",
      Date.now(),
    );
    await using agent = await TestAgent.connect(
      `${server.url.replace("http", "ws")}/agent/ws`,
    );
    assert.equal((await agent.join("pve-lab", token)).type, "joined");
    const now = Date.now();
    agent.send({
      type: "sample",
      ref: 1,
      interval: "fast",
      collected_at: new Date(now).toISOString(),
      data: await fastWith([{
        name: "tank",
        health: "DEGRADED",
        degraded_vdev_count: 1,
        last_scrub_end: now / 1000 - 86_400,
      }]),
    });
    assert.equal((await agent.take(1))[0].type, "ack");
    await server.deps.alerts.flush();

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}/`);
    const banner = page.locator("#alert-banner");
    assert.match(await banner.innerText(), /1 alert firing \(1 crit, 0 warn\)/);
    assert.match(
      await page.locator("#host-pve-lab .host-alerts").innerText(),
      /pool_unhealthy: pool tank is DEGRADED/,
    );

    await banner.getByRole("link").click();
    await page.waitForURL(`${server.url}/alerts`);
    // a locator finds its element anew each time: the page reloads
    const row = page.locator("#active-alerts tbody tr").first();
    const text = (selector: string) => page.locator(selector).innerText();
    assert.match(
      await row.innerText(),
      /crit\s+firing\s+pool_unhealthy\s+pve-lab \/ tank/,
    );
    await row.getByRole("button", { name: "Acknowledge" }).click();
    await page.waitForLoadState();
    assert.match(await row.innerText(), /acknowledged/);
    assert.match(await text("#alert-history"), /acknowledged/);

    await row.getByRole("button", { name: "Silence" }).click();
    await page.waitForLoadState();
    assert.match(await row.innerText(), /silenced/);
    assert.match(await text("#silences"), /pool_unhealthy\s+pve-lab\s+tank/);
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({
      path: new URL("alerts_page.png", ARTIFACTS).pathname,
      fullPage: true,
    });

    await page.locator("#silences").getByRole("button", { name: "End" })
      .click();
    await page.waitForLoadState();
    assert.equal(await page.locator("#silences").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
