/**
 * The dashboard in a real browser: Debian's chromium driven by
 * playwright-core, against the real server on 127.0.0.1 with a SQLite file,
 * fed by test agents speaking the WebSocket protocol. One browser launch for
 * the whole file; screenshots go to test-artifacts/ (git-ignored).
 */
import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import type { FastPayload, Interval } from "@proxmon/shared";
import { resolveServerConfig } from "../config.ts";
import { createHost } from "../store/hosts.ts";
import { memoryLogger } from "@proxmon/shared/logger";
import { hashPassword } from "../auth/password.ts";
import { type RunningServer, startServer } from "../server.ts";
import { sampleFixture } from "../testing/samples.ts";
import { TestAgent } from "../testing/test_agent.ts";

// Page callbacks run inside Chromium. Declaring the little of the DOM they use
// keeps lib.dom out of the workspace type check, where it breaks Deno's types.
type PageWindow = {
  getComputedStyle(el: unknown): { backgroundColor: string; display: string };
};

// Debian's chromium by default; CI runners that ship another Chromium build
// (GitHub's Ubuntu has Google Chrome) point CHROMIUM_PATH at it.
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const PASSWORD = "browser test password";
const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url);
const DAY_S = 86_400;

const fast = await sampleFixture("fast");
const medium = await sampleFixture("medium");
const slow = await sampleFixture("slow");

/** The fixture with every pool healthy and scrubbed two days ago. */
function healthyFast(nowMs: number): FastPayload {
  const data = structuredClone(fast);
  for (const pool of data.zfs_pools.pools) {
    pool.health = "ONLINE";
    pool.degraded_vdev_count = 0;
    pool.last_scrub_end = Math.floor(nowMs / 1000) - 2 * DAY_S;
  }
  return data;
}

/** The fixture as it is (tank DEGRADED), scrubbed recently. */
function degradedFast(nowMs: number): FastPayload {
  const data = structuredClone(fast);
  for (const pool of data.zfs_pools.pools) {
    pool.last_scrub_end = Math.floor(nowMs / 1000) - 3 * DAY_S;
  }
  return data;
}

let ref = 0;

/** Sends samples and waits until the server has acked every one. */
async function push(
  agent: TestAgent,
  samples: { interval: Interval; at: number; data: unknown }[],
) {
  for (const s of samples) {
    agent.send({
      type: "sample",
      ref: ++ref,
      interval: s.interval,
      collected_at: new Date(s.at).toISOString(),
      data: s.data,
    });
  }
  const replies = await agent.take(samples.length);
  for (const r of replies) assert.equal(r.type, "ack", JSON.stringify(r));
}

async function joinedAgent(
  wsUrl: string,
  name: string,
  token: string,
): Promise<TestAgent> {
  const agent = await TestAgent.connect(wsUrl);
  assert.equal((await agent.join(name, token)).type, "joined");
  return agent;
}

/**
 * Polls an attribute through the locator API until `ok` holds: the pages'
 * CSP refuses the string evals a waitForFunction with a string would need.
 */
async function waitForAttr(
  page: Page,
  selector: string,
  attr: string,
  ok: (value: string | null) => boolean,
): Promise<string | null> {
  let value: string | null = null;
  for (let i = 0; i < 150; i++) {
    value = await page.locator(selector).getAttribute(attr);
    if (ok(value)) return value;
    await page.waitForTimeout(100);
  }
  throw new Error(`${selector} [${attr}] stayed ${value}`);
}

async function start(env: Record<string, string>): Promise<RunningServer> {
  const resolved = resolveServerConfig({ HOSTNAME: "127.0.0.1", ...env });
  if (!resolved.ok) throw new Error(resolved.error);
  return await startServer(resolved.config, { log: memoryLogger() });
}

async function shoot(page: Page, name: string, fullPage = false) {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({
    path: new URL(name, ARTIFACTS).pathname,
    fullPage,
  });
}

const rowOrder = (page: Page) =>
  page.$$eval(
    "#host-rows tr.host",
    (rows) => rows.map((r) => `${r.dataset.host} ${r.className}`),
  );

Deno.test("dashboard in chromium: login, overview, live updates, charts, host detail, reconnect", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-browser-" });
  const env = {
    DATABASE_URL: `file:${dir}/proxmon.db`,
    PROXMON_ENV: "production",
    DASHBOARD_PASSWORD_HASH: await hashPassword(PASSWORD, {
      n: 1024,
      r: 8,
      p: 1,
    }),
    SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
  };
  let server = await start({ ...env, PORT: "0" });
  const base = `http://127.0.0.1:${server.port}`;
  const wsUrl = `ws://127.0.0.1:${server.port}/agent/ws`;
  const agents: TestAgent[] = [];
  let browser: Browser | undefined;
  try {
    const now = Date.now();
    const tokens = new Map<string, string>();
    for (const name of ["node-a", "node-b", "node-c"]) {
      tokens.set(
        name,
        (await createHost(server.deps.database, name, now)).token,
      );
    }
    for (const name of ["node-a", "node-b", "node-c"]) {
      const agent = await joinedAgent(wsUrl, name, tokens.get(name)!);
      agents.push(agent);
      const data = name === "node-c" ? degradedFast(now) : healthyFast(now);
      // Half an hour of history, one fast sample a minute, CPU climbing.
      const history = Array.from({ length: 30 }, (_, i) => {
        const d = structuredClone(data);
        d.host.cpu_percent = 10 + i;
        return {
          interval: "fast" as const,
          at: now - (30 - i) * 60_000,
          data: d,
        };
      });
      await push(agent, [
        ...history,
        { interval: "medium", at: now - 20_000, data: medium },
        { interval: "slow", at: now - 60_000, data: slow },
      ]);
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      colorScheme: "light",
    });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith(base)) foreign.push(r.url());
    });

    await t.step(
      "a wrong password fails and the right one logs in",
      async () => {
        await page.goto(`${base}/hosts/node-c`);
        assert.equal(new URL(page.url()).pathname, "/login");
        await page.getByLabel("Password").fill("not the password");
        await page.getByRole("button", { name: "Log in" }).click();
        await page.locator("#login-error").waitFor();
        assert.equal(
          await page.locator("#login-error").textContent(),
          "Wrong password.",
        );
        assert.equal(new URL(page.url()).pathname, "/login");

        await page.getByLabel("Password").fill(PASSWORD);
        await page.getByRole("button", { name: "Log in" }).click();
        await page.waitForURL(`${base}/hosts/node-c`);
        await page.goto(`${base}/`);
        assert.equal(new URL(page.url()).pathname, "/");
        // no open-dashboard warning (alert banners may show: tank is DEGRADED)
        assert.equal(
          await page.locator(".banner", { hasText: "No password set" })
            .count(),
          0,
        );
        // Chrome logs the wrong password's 401 page as a failed load; that
        // one is expected, anything later is not.
        assert.deepEqual(problems, [
          "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
        ]);
        problems.length = 0;
      },
    );

    await t.step(
      "the overview lists the hosts, the degraded pool highlighted and first",
      async () => {
        await page.waitForSelector("body[data-live=connected]");
        assert.deepEqual(await rowOrder(page), [
          "node-c host critical",
          "node-a host ok",
          "node-b host ok",
        ]);
        const problemsOfC = await page.locator("#host-node-c .problems")
          .textContent();
        assert.match(problemsOfC ?? "", /pool tank is DEGRADED/);
        const bg = await page.locator("#host-node-c").evaluate((el) =>
          (globalThis as unknown as PageWindow).getComputedStyle(el)
            .backgroundColor
        );
        const plain = await page.locator("#host-node-a").evaluate((el) =>
          (globalThis as unknown as PageWindow).getComputedStyle(el)
            .backgroundColor
        );
        assert.notEqual(bg, plain, "the problem row must stand out");
        assert.equal(
          await page.locator("#host-node-a td[data-label=Guests]")
            .textContent(),
          "3 / 4 running",
        );
        await shoot(page, "overview-light.png");
        await page.emulateMedia({ colorScheme: "dark" });
        await shoot(page, "overview-dark.png");
        await page.emulateMedia({ colorScheme: "light" });
      },
    );

    await t.step(
      "a sample pushed by an agent shows on the open page without a reload",
      async () => {
        await page.evaluate(() =>
          (globalThis as { marker?: boolean }).marker = true
        );
        const data = healthyFast(Date.now());
        data.host.cpu_percent = 87.6;
        data.zfs_pools.pools[0].capacity_percent = 85;
        const sent = performance.now();
        await push(agents[1], [{ interval: "fast", at: Date.now(), data }]);
        await page.locator("#host-node-b td[data-label=CPU]", {
          hasText: "88 %",
        })
          .waitFor({ timeout: 2000 });
        console.log(
          `sample to overview: ${Math.round(performance.now() - sent)} ms`,
        );
        // node-b now has a warning, so it moves above the healthy node-a.
        assert.deepEqual(await rowOrder(page), [
          "node-c host critical",
          "node-b host warning",
          "node-a host ok",
        ]);
        assert.equal(
          await page.evaluate(() =>
            (globalThis as { marker?: boolean }).marker
          ),
          true,
          "the page must not have reloaded",
        );
      },
    );

    await t.step(
      "the host detail shows guest IPs, filters guests and draws a chart",
      async () => {
        await page.getByRole("link", { name: "node-c" }).click();
        await page.waitForURL(`${base}/hosts/node-c`);
        const ips = await page.locator(
          "#guest-rows tr[data-vmid='100'] td[data-label=IPs]",
        ).textContent();
        assert.match(ips ?? "", /192\.168\.1\.20/);
        assert.match(ips ?? "", /fd00:1:2:3::20/);
        assert.match(
          await page.locator(
            "#guest-rows tr[data-vmid='201'] td[data-label=IPs]",
          ).textContent() ?? "",
          /10\.10\.0\.2/,
        );

        const cpu = page.locator("figure[data-metric=cpu]");
        await cpu.locator("canvas").waitFor();
        await page.waitForFunction(
          `Number(document.querySelector("figure[data-metric=cpu]")?.dataset.points) >= 20`,
        );
        const points = Number(await cpu.getAttribute("data-points"));
        assert.ok(
          points >= 20 && points <= 31,
          `cpu chart has ${points} points`,
        );
        await page.waitForFunction(
          `[...document.querySelectorAll("figure.chart")].every((f) => f.dataset.points)`,
        );
        assert.equal(
          await page.locator("figure[data-metric=pools] .u-legend")
            .textContent().then((t) => /rpool.*tank/s.test(t ?? "")),
          true,
        );

        await page.getByLabel("Filter guests").fill("pihole");
        assert.equal(
          await page.locator("#guest-rows tr[data-vmid]:visible").count(),
          1,
        );
        await page.getByLabel("Filter guests").fill("");
        await page.locator("#guest-table thead button", { hasText: "Name" })
          .click();
        const names = await page.$$eval(
          "#guest-rows tr[data-vmid] th",
          (ths) =>
            ths.map((th) => th.textContent?.replace("template", "").trim()),
        );
        assert.deepEqual(names, [...names].sort());
        await shoot(page, "host-light.png", true);
        await page.emulateMedia({ colorScheme: "dark" });
        await page.waitForTimeout(300);
        await shoot(page, "host-dark.png", true);
      },
    );

    await t.step("the host page follows a new sample too", async () => {
      const data = degradedFast(Date.now());
      data.host.load1 = 7.77;
      await push(agents[2], [{ interval: "fast", at: Date.now(), data }]);
      await page.locator("#host-now", { hasText: "7.77" }).waitFor({
        timeout: 2000,
      });
    });

    await t.step(
      "the live CPU chart appended the new point instead of refetching",
      async () => {
        await waitForAttr(
          page,
          "figure[data-metric=cpu]",
          "data-appended",
          (v) => Number(v) >= 1,
        );
        assert.equal(
          await page.locator("figure[data-metric=cpu]").getAttribute(
            "data-tier",
          ),
          "raw",
        );
      },
    );

    await t.step(
      "the 7d range reads a rolled-up tier and draws min–max bands",
      async () => {
        await page.locator("fieldset.ranges label", { hasText: "7d" }).click();
        await waitForAttr(
          page,
          "figure[data-metric=cpu]",
          "data-tier",
          (v) => v === "1m",
        );
        assert.equal(
          await page.locator("figure[data-metric=cpu]").getAttribute(
            "data-bands",
          ),
          "true",
        );
        assert.deepEqual(
          await page.$$eval(
            "fieldset.ranges input",
            (xs) => xs.map((x) => x.value),
          ),
          ["1h", "6h", "24h", "48h", "7d", "30d", "1y"],
        );
      },
    );

    await t.step(
      "a guest's page charts CPU, memory, network and disk and shows its status timeline",
      async () => {
        await page.locator("#guest-rows tr[data-vmid='100'] th a").click();
        await page.waitForURL(`${base}/hosts/node-c/guests/100`);
        for (
          const metric of ["guest_cpu", "guest_mem", "guest_net", "guest_disk"]
        ) {
          await waitForAttr(
            page,
            `figure[data-metric=${metric}]`,
            "data-points",
            (v) => Number(v) >= 20,
          );
        }
        assert.equal(
          await page.locator(".timeline .segment[data-status=running]").count(),
          1,
        );
        await shoot(page, "guest.png", true);
      },
    );

    await t.step("at phone width the overview turns into cards", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/`);
      const display = await page.locator("#host-node-c").evaluate((el) =>
        (globalThis as unknown as PageWindow).getComputedStyle(el).display
      );
      assert.equal(display, "block");
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      assert.equal(overflow, 0, "no horizontal scrolling at phone width");
      await shoot(page, "overview-phone-dark.png", true);
      await page.goto(`${base}/hosts/node-c`);
      await shoot(page, "host-phone-dark.png");
      await page.waitForSelector("body[data-live=connected]");
    });

    assert.deepEqual(
      problems,
      [],
      "no console errors, CSP violations or page errors",
    );
    assert.deepEqual(foreign, [], "no request leaves this server");

    await t.step(
      "a lost connection shows, and the page recovers by itself",
      async () => {
        for (const a of agents.splice(0)) await a.close();
        const port = server.port;
        await server.shutdown();
        await page.locator("#connection").waitFor({ state: "visible" });
        server = await start({ ...env, PORT: String(port) });
        await page.locator("#connection").waitFor({
          state: "hidden",
          timeout: 10_000,
        });
        const agent = await joinedAgent(wsUrl, "node-c", tokens.get("node-c")!);
        agents.push(agent);
        const data = degradedFast(Date.now());
        data.host.load1 = 3.21;
        await push(agent, [{ interval: "fast", at: Date.now(), data }]);
        await page.locator("#host-now", { hasText: "3.21" }).waitFor({
          timeout: 2000,
        });
      },
    );
  } finally {
    await browser?.close();
    for (const a of agents) await a.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
