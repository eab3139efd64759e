import assert from "node:assert/strict";
import { renderAgentToml } from "../server/cli.ts";
import {
  AgentConfigError,
  outboxSamplesForOneDay,
  resolveAgentConfig,
} from "./config.ts";

const PATH = "/etc/proxmon/agent.toml";
const ENV = { hostname: "pve-a" };
const MINIMAL = `
server_url = "wss://monitor.example:4000"
token = "s3cret"
host_id = "pve-01"
`;

/** The issues of the error `resolveAgentConfig` throws for this text. */
function issuesOf(toml: string): string[] {
  try {
    resolveAgentConfig(toml, PATH, ENV);
  } catch (e) {
    assert.ok(e instanceof AgentConfigError, String(e));
    return e.issues;
  }
  assert.fail("resolveAgentConfig() accepted a bad config");
}

Deno.test("resolveAgentConfig() fills every default from a minimal file", () => {
  const { config, warnings } = resolveAgentConfig(MINIMAL, PATH, ENV);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    path: PATH,
    serverUrl: "wss://monitor.example:4000/agent/ws",
    token: "s3cret",
    hostName: "pve-01",
    node: "pve-a",
    intervalsMs: { fast: 10_000, medium: 60_000, slow: 1_800_000 },
    smartIntervalMs: 1_800_000,
    commandTimeoutMs: 30_000,
    heartbeatMs: 30_000,
    outboxMaxSamples: 8640 + 1440 + 48,
    outboxPath: "/var/lib/proxmon/outbox.json",
    procDir: "/proc",
    cgroupDir: "/sys/fs/cgroup",
    pveDir: "/etc/pve",
    pveApi: null,
    concurrency: 12,
  });
});

Deno.test("resolveAgentConfig() defaults node to the hostname without its domain, as PVE does", () => {
  const { config } = resolveAgentConfig(MINIMAL, PATH, {
    hostname: "pve-a.lan.example",
  });
  assert.equal(config.node, "pve-a");
});

Deno.test("resolveAgentConfig() takes every key the file sets", () => {
  const { config } = resolveAgentConfig(
    `
server_url = "ws://10.0.0.5:4000/custom/path"
token = "t"
host_id = "pve-02"
node = "node2"
command_timeout_seconds = 5
heartbeat_seconds = 15
outbox_max_samples = 500
outbox_path = "/tmp/o.json"
proc_dir = "/host/proc"
concurrency = 8

[intervals]
fast_seconds = 5
medium_seconds = 30
slow_seconds = 600
smart_seconds = 3600
`,
    PATH,
    ENV,
  );
  assert.equal(config.serverUrl, "ws://10.0.0.5:4000/custom/path");
  assert.equal(config.node, "node2");
  assert.deepEqual(config.intervalsMs, {
    fast: 5000,
    medium: 30_000,
    slow: 600_000,
  });
  assert.equal(config.smartIntervalMs, 3_600_000);
  assert.equal(config.commandTimeoutMs, 5000);
  assert.equal(config.heartbeatMs, 15_000);
  assert.equal(config.outboxMaxSamples, 500);
  assert.equal(config.outboxPath, "/tmp/o.json");
  assert.equal(config.procDir, "/host/proc");
  assert.equal(config.concurrency, 8);
});

Deno.test("resolveAgentConfig() sizes the outbox for one day at the configured intervals", () => {
  const { config } = resolveAgentConfig(
    MINIMAL + "[intervals]\nfast_seconds = 20\n",
    PATH,
    ENV,
  );
  assert.equal(config.outboxMaxSamples, 4320 + 1440 + 48);
  assert.equal(
    outboxSamplesForOneDay({ fast: 7000, medium: 60_000, slow: 1_800_000 }),
    Math.ceil(86400 / 7) + 1440 + 48,
  );
});

Deno.test("resolveAgentConfig() names the file and the key in every error", async (t) => {
  const cases: [string, string, string][] = [
    [
      "a missing token",
      `server_url = "ws://x:4000"\nhost_id = "h"`,
      `${PATH}: token: missing`,
    ],
    [
      "an empty token",
      `server_url = "ws://x:4000"\ntoken = ""\nhost_id = "h"`,
      `${PATH}: token: must not be empty`,
    ],
    [
      "an http URL",
      `server_url = "http://x:4000"\ntoken = "t"\nhost_id = "h"`,
      `${PATH}: server_url: must be a ws:// or wss:// URL, e.g. wss://monitor.example:4000`,
    ],
    [
      "a URL that does not parse",
      `server_url = "ws://"\ntoken = "t"\nhost_id = "h"`,
      `${PATH}: server_url: must be a ws:// or wss:// URL, e.g. wss://monitor.example:4000`,
    ],
    [
      "an interval below 1 s",
      MINIMAL + "[intervals]\nmedium_seconds = 0.5\n",
      `${PATH}: intervals.medium_seconds: must be at least 1 (seconds)`,
    ],
    [
      "an interval given as a string",
      MINIMAL + `[intervals]\nfast_seconds = "10"\n`,
      `${PATH}: intervals.fast_seconds: must be a number of seconds`,
    ],
    [
      "intervals that is not a table",
      MINIMAL + `intervals = 10\n`,
      `${PATH}: intervals: must be a table`,
    ],
    [
      "a fractional outbox size",
      MINIMAL + `outbox_max_samples = 1.5\n`,
      `${PATH}: outbox_max_samples: must be a whole number`,
    ],
    [
      "a zero concurrency",
      MINIMAL + `concurrency = 0\n`,
      `${PATH}: concurrency: must be at least 1`,
    ],
    [
      "a host_id with a space",
      `server_url = "ws://x:4000"\ntoken = "t"\nhost_id = "pve 01"`,
      `${PATH}: host_id: name may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit`,
    ],
  ];
  for (const [name, toml, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(issuesOf(toml), [expected]);
    });
  }
});

Deno.test("resolveAgentConfig() reports every bad key at once", () => {
  const issues = issuesOf(
    `server_url = "ftp://x"\n[intervals]\nslow_seconds = 0\n`,
  );
  assert.deepEqual(issues, [
    `${PATH}: server_url: must be a ws:// or wss:// URL, e.g. wss://monitor.example:4000`,
    `${PATH}: token: missing`,
    `${PATH}: host_id: missing`,
    `${PATH}: intervals.slow_seconds: must be at least 1 (seconds)`,
  ]);
  const err = new AgentConfigError(issues);
  assert.ok(!err.message.includes("\n"), "the message is one line");
});

Deno.test("resolveAgentConfig() reports broken TOML with the file, line, column and key", async (t) => {
  const cases: [string, string, string][] = [
    [
      "a value left out",
      `token = "t"\nserver_url = \n`,
      `${PATH}: line 2, column 14, key server_url: not valid TOML: invalid value`,
    ],
    [
      "a string not closed",
      `server_url = "wss://monitor.example\ntoken = "t"\n`,
      `${PATH}: line 1, column 36, key server_url: not valid TOML: control characters are not allowed in strings (is a closing " missing?)`,
    ],
    [
      "a key in a table",
      `token = "t"\n\n[intervals]\nfast_seconds = 10 s\n`,
      `${PATH}: line 4, column 19, key intervals.fast_seconds: not valid TOML: each key-value declaration must be followed by an end-of-line`,
    ],
    [
      "a broken table header",
      `token = "t"\n[intervals\n`,
      `${PATH}: line 2, column 11: not valid TOML: illegal character in key`,
    ],
  ];
  for (const [name, toml, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(issuesOf(toml), [expected]);
    });
  }
});

Deno.test("resolveAgentConfig() warns about unknown keys and still resolves", () => {
  const { config, warnings } = resolveAgentConfig(
    MINIMAL + `tokn = "typo"\n[intervals]\nfast_secs = 3\n`,
    PATH,
    ENV,
  );
  assert.equal(config.intervalsMs.fast, 10_000);
  assert.deepEqual(warnings, [
    `${PATH}: tokn: unknown key, ignored`,
    `${PATH}: intervals.fast_secs: unknown key, ignored`,
  ]);
});

Deno.test("agent.toml.example resolves without warnings", async () => {
  const example = await Deno.readTextFile(
    `${import.meta.dirname}/agent.toml.example`,
  );
  const { config, warnings } = resolveAgentConfig(example, PATH, ENV);
  assert.deepEqual(warnings, []);
  assert.equal(config.hostName, "pve-01");
  assert.equal(config.serverUrl, "wss://monitor.example:4000/agent/ws");
});

Deno.test("the agent.toml that `host register` prints resolves without warnings", () => {
  // The server's renderer is the other half of this contract.
  const text = renderAgentToml({
    serverUrl: "ws://monitor:4000/agent/ws",
    hostName: "pve-07",
    token: "tok-123",
  });
  const { config, warnings } = resolveAgentConfig(text, PATH, ENV);
  assert.deepEqual(warnings, []);
  assert.equal(config.serverUrl, "ws://monitor:4000/agent/ws");
  assert.equal(config.hostName, "pve-07");
  assert.equal(config.token, "tok-123");
});

Deno.test("resolveAgentConfig() reads [pve]: pmxcfs, and the API source only with a token", () => {
  const token = "proxmon@pve!agent=5b4d1b52-6e4c-4a4f-9d1e-0c2e6d0f7a11";
  const { config, warnings } = resolveAgentConfig(
    `${MINIMAL}\n[pve]\nconfig_dir = "/srv/pve"\napi_token = "${token}"\n`,
    PATH,
    ENV,
  );
  assert.deepEqual(warnings, []);
  assert.equal(config.pveDir, "/srv/pve");
  assert.deepEqual(config.pveApi, {
    token,
    url: "https://127.0.0.1:8006/api2/json",
    caFile: "/etc/pve/pve-root-ca.pem",
  });
  const custom = resolveAgentConfig(
    `${MINIMAL}\n[pve]\napi_token = "${token}"\n` +
      `api_url = "https://pve1.example:8006/api2/json/"\nca_file = "/tmp/ca.pem"\n`,
    PATH,
    ENV,
  ).config.pveApi;
  assert.equal(custom?.url, "https://pve1.example:8006/api2/json");
  assert.equal(custom?.caFile, "/tmp/ca.pem");

  assert.deepEqual(
    issuesOf(
      `${MINIMAL}\n[pve]\napi_token = "just-a-secret"\napi_url = "http://127.0.0.1:8006"\n`,
    ),
    [
      `${PATH}: pve.api_token: must look like proxmon@pve!agent=<secret> (USER@REALM!TOKENID=SECRET)`,
      `${PATH}: pve.api_url: must be an https:// URL, e.g. https://127.0.0.1:8006/api2/json`,
    ],
  );
});
