/**
 * /metrics against the real Prometheus tools from Debian's package:
 * promtool's linter on the output, and a Prometheus that scrapes a running
 * proxmon and answers PromQL.
 */
import assert from "node:assert/strict";
import { createApiToken } from "../auth/api_tokens.ts";
import { sampleFixture } from "../testing/samples.ts";
import { TestAgent } from "../testing/test_agent.ts";
import { startTestServer, type TestServer } from "../testing/test_server.ts";
import { requireBinary, startPrometheus } from "../testing/tsdb_servers.ts";
import { FAMILIES } from "./metric_families.ts";
import { SELF_FAMILIES } from "./self_metrics.ts";

const DASHBOARD = `${import.meta.dirname}/../../contrib/grafana/proxmon.json`;

/** Every PromQL expression of the Grafana dashboard, with its variables set. */
async function dashboardQueries(host: string): Promise<string[]> {
  const dash = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const exprs: string[] = dash.panels.flatMap((
    p: { targets?: { expr: string }[] },
  ) => (p.targets ?? []).map((t) => t.expr));
  return exprs.map((e) =>
    e.replaceAll("$host", host).replaceAll("$__rate_interval", "1m")
  );
}

/** A server with two hosts whose agents sent one sample of each interval. */
async function serverWithFleet(env: Record<string, string> = {}) {
  const t = await startTestServer({ env });
  const agents: TestAgent[] = [];
  const fast = await sampleFixture("fast");
  for (const [name, cpu] of [["pve-01", 12.5], ["pve-02", 80]] as const) {
    const token = await t.register(name);
    const agent = await TestAgent.connect(t.wsUrl);
    agents.push(agent);
    assert.equal((await agent.join(name, token)).type, "joined");
    const data = {
      fast: { ...fast, host: { ...fast.host, cpu_percent: cpu } },
      medium: await sampleFixture("medium"),
      slow: await sampleFixture("slow"),
    };
    // A guest name the format must escape, as a user could type one.
    data.fast.vms_runtime.vms[0].name = 'odd "name" \\ here';
    let ref = 0;
    for (const interval of ["fast", "medium", "slow"] as const) {
      agent.send({
        type: "sample",
        ref: ++ref,
        interval,
        collected_at: new Date().toISOString(),
        data: data[interval],
      });
      assert.equal((await agent.next()).type, "ack");
    }
  }
  return {
    t,
    async [Symbol.asyncDispose]() {
      for (const a of agents) await a.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

async function promtoolCheck(text: string) {
  const child = new Deno.Command(requireBinary("promtool"), {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
  };
}

async function scrape(t: TestServer, path: string, token?: string) {
  const res = await fetch(`${t.url}${path}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  assert.equal(res.status, 200);
  return await res.text();
}

Deno.test("promtool check metrics passes on /metrics, with and without datasets", async () => {
  await using f = await serverWithFleet({ METRICS_PUBLIC: "1" });
  for (const path of ["/metrics", "/metrics?datasets=1"]) {
    const text = await scrape(f.t, path);
    assert.ok(text.includes("proxmon_guest_cpu_ratio{"), path);
    assert.ok(text.includes('name="odd \\"name\\" \\\\ here"'), path);
    const check = await promtoolCheck(text);
    assert.equal(check.output.trim(), "", `${path}: ${check.output}`);
    assert.equal(check.code, 0, `${path}: ${check.output}`);
  }
  // The linter is live: a counter without _total is reported.
  const bad = await promtoolCheck(
    "# HELP x_bytes x\n# TYPE x_bytes counter\nx_bytes 1\n",
  );
  assert.notEqual(bad.code, 0);
});

Deno.test("a real Prometheus scrapes /metrics with an API token and answers a PromQL query for a host's CPU", async () => {
  await using f = await serverWithFleet();
  const token = await createApiToken(f.t.database, "prometheus", Date.now());
  const dir = await Deno.makeTempDir({ prefix: "proxmon-prom-test-" });
  try {
    await using prom = await startPrometheus({
      dir,
      target: new URL(f.t.url).host,
      bearerToken: token,
      scrapeIntervalSeconds: 1,
    });
    let result: Awaited<ReturnType<typeof prom.query>> = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      result = await prom.query('proxmon_host_cpu_ratio{host="pve-02"}');
      if (result.length > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(result.length, 1, "no CPU series after 20 s of scraping");
    assert.equal(result[0].metric.job, "proxmon");
    assert.equal(Number(result[0].value[1]), 0.8);
    const up = await prom.query('up{job="proxmon"}');
    assert.equal(up[0].value[1], "1");
    const hosts = await prom.query("count(proxmon_host_up == 1)");
    assert.equal(hosts[0].value[1], "2");

    // The Grafana dashboard's queries parse and, but for rates that need
    // two scrapes, find data.
    const known = new Set(
      [...Object.values(FAMILIES), ...Object.values(SELF_FAMILIES)].map((f) =>
        f.name
      ),
    );
    const queries = await dashboardQueries("pve-02");
    assert.ok(queries.length > 20);
    const empty: string[] = [];
    for (const q of queries) {
      for (const name of q.match(/proxmon_[a-z0-9_]+/g) ?? []) {
        assert.ok(known.has(name), `${q}: ${name} is not exported`);
      }
      if ((await prom.query(q)).length === 0) empty.push(q);
    }
    assert.deepEqual(empty.filter((q) => !q.includes("rate(")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
