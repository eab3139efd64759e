/** `server/cli.ts` as a real process against a real database file. */
import assert from "node:assert/strict";
import { resolveAgentConfig } from "../agent/config.ts";
import { openDatabase } from "./store/client.ts";
import { authenticateHost, createHost, findHost } from "./store/hosts.ts";
import { hashToken } from "./auth/token_hash.ts";
import { headSamples, recordSamples } from "./store/sample_store.ts";
import { storedSampleCounts } from "./store/sample_count.ts";
import { verifyPassword } from "./auth/password.ts";
import { sampleFixture } from "./testing/samples.ts";
import { runScript } from "./testing/subprocess.ts";
import { TestAgent } from "./testing/test_agent.ts";
import { startTestServer } from "./testing/test_server.ts";

/** A database as `serve` leaves it, and the CLI's environment for it. */
async function tempEnv() {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-cli-test-" });
  const env = { DATABASE_URL: `file:${dir}/proxmon.db`, PORT: "4321" };
  (await openDatabase(env.DATABASE_URL)).close();
  return {
    dir,
    env,
    cli: (...args: string[]) => runScript("cli.ts", args, env),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Exit 1 and exactly one line on stderr matching `pattern`. */
function assertRefused(
  run: { code: number; stdout: string; stderr: string },
  pattern: RegExp,
) {
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  assert.equal(run.stderr.split("\n").filter(Boolean).length, 1, run.stderr);
  assert.match(run.stderr, pattern);
}

Deno.test("host register prints an agent.toml the agent accepts, with a token that joins", async () => {
  await using t = await tempEnv();
  const run = await t.cli("register", "pve-01");
  assert.equal(run.code, 0, run.stderr);
  const { config } = resolveAgentConfig(run.stdout, "agent.toml", {
    hostname: "pve1",
  });
  assert.equal(config.hostName, "pve-01");
  assert.match(config.serverUrl, /^ws:\/\/[^/]+:4321\/agent\/ws$/);
  assert.match(config.token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(run.stdout, /^# node = "pve-01"$/m);

  const db = await openDatabase(t.env.DATABASE_URL);
  const host = await findHost(db, "pve-01");
  assert.equal(host?.tokenHash, hashToken(config.token));
  assert.ok(await authenticateHost(db, "pve-01", config.token));
  db.close();
});

Deno.test("host register refuses a duplicate, empty, spaced or slashed name in one stderr line, exit 1", async (t) => {
  await using e = await tempEnv();
  assert.equal((await e.cli("register", "pve-01")).code, 0);
  const cases: [string[], RegExp][] = [
    [
      ["register", "pve-01"],
      /^proxmon: a host named "pve-01" already exists\n$/,
    ],
    [
      ["register", ""],
      /^proxmon: invalid host name "": name must not be empty\n$/,
    ],
    [
      ["register", "pve 02"],
      /^proxmon: invalid host name "pve 02": name may hold only/,
    ],
    [
      ["register", "pve/02"],
      /^proxmon: invalid host name "pve\/02": name may hold only/,
    ],
    [["register"], /^proxmon: host register needs exactly one NAME\n$/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(JSON.stringify(args), async () => {
      assertRefused(await e.cli(...args), pattern);
    });
  }
});

Deno.test("host rotate, remove and a bad command refuse unknown input in one stderr line, exit 1", async (t) => {
  await using e = await tempEnv();
  const cases: [string[], RegExp][] = [
    [["rotate", "pve-99"], /^proxmon: no host named "pve-99"\n$/],
    [
      ["remove", "pve-99"],
      /^proxmon: remove pve-99 and all its history: add --yes to confirm \(no terminal to ask on\)\n$/,
    ],
    [["remove", "pve-99", "--yes"], /^proxmon: no host named "pve-99"\n$/],
    [
      ["frobnicate"],
      /^proxmon: unknown command "frobnicate"; `deno task host --help` lists the commands\n$/,
    ],
    [["list", "--frob"], /^proxmon: Unknown option '--frob'/],
    [["list", "extra"], /^proxmon: host list takes no arguments\n$/],
    [["list", "--yes"], /^proxmon: host list takes no --yes\n$/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(JSON.stringify(args), async () => {
      assertRefused(await e.cli(...args), pattern);
    });
  }
});

Deno.test("host list shows every host with its status", async () => {
  await using t = await tempEnv();
  assert.match((await t.cli("list")).stdout, /^no hosts/);
  await t.cli("register", "pve-02");
  await t.cli("register", "pve-01");
  const run = await t.cli("list");
  assert.equal(run.code, 0);
  const lines = run.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^NAME\s+STATUS\s+AGENT\s+LAST SEEN$/);
  assert.match(lines[1], /^pve-01\s+offline\s+-\s+never$/);
  assert.match(lines[2], /^pve-02\s+offline/);
});

Deno.test("host rotate closes a live agent connection of a running server, and its old token stops working", async () => {
  await using server = await startTestServer({ env: { TOKEN_CHECK_MS: "50" } });
  const oldToken = await server.register("pve-01");
  const agent = await TestAgent.connect(server.wsUrl);
  assert.equal((await agent.join("pve-01", oldToken)).type, "joined");

  const run = await runScript("cli.ts", ["rotate", "pve-01"], {
    DATABASE_URL: server.config.databaseUrl,
  });
  assert.equal(run.code, 0, run.stderr);
  const newToken = run.stdout.match(/^token = "(.+)"$/m)?.[1];
  assert.ok(newToken && newToken !== oldToken);

  assert.deepEqual(await agent.next(), {
    type: "error",
    reason: "unauthorized",
  });
  assert.equal((await agent.waitClosed()).code, 1008);
  const retry = await TestAgent.connect(server.wsUrl);
  assert.equal((await retry.join("pve-01", oldToken)).reason, "unauthorized");
  await retry.waitClosed();
  await using fresh = await TestAgent.connect(server.wsUrl);
  assert.equal((await fresh.join("pve-01", newToken)).type, "joined");
});

Deno.test("host remove --yes deletes the host and its metrics", async () => {
  await using t = await tempEnv();
  const db = await openDatabase(t.env.DATABASE_URL);
  const { host } = await createHost(db, "pve-01", Date.now());
  await createHost(db, "pve-02", Date.now());
  await recordSamples(db, [{
    hostId: host.id,
    interval: "slow",
    collectedAtMs: Date.now(),
    data: await sampleFixture("slow"),
  }], Date.now());
  const refused = await t.cli("remove", "pve-01");
  assert.equal(refused.code, 1);
  assert.ok(await findHost(db, "pve-01"), "removed without --yes");
  const run = await t.cli("remove", "pve-01", "--yes");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "removed pve-01 and its metrics\n");
  assert.equal(await findHost(db, "pve-01"), null);
  assert.ok(await findHost(db, "pve-02"));
  assert.equal((await headSamples(db)).length, 0);
  db.close();
});

Deno.test("host prune deletes samples older than RETENTION_HOURS now", async () => {
  await using t = await tempEnv();
  const db = await openDatabase(t.env.DATABASE_URL);
  const { host } = await createHost(db, "pve-01", Date.now());
  const slow = await sampleFixture("slow");
  const hoursAgo = (h: number) => ({
    hostId: host.id,
    interval: "slow" as const,
    collectedAtMs: Date.now() - h * 3_600_000,
    data: slow,
  });
  await recordSamples(
    db,
    [hoursAgo(3), hoursAgo(2.5), hoursAgo(1)],
    Date.now(),
  );
  const run = await runScript("cli.ts", ["prune"], {
    ...t.env,
    RETENTION_HOURS: "2",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^deleted 2 samples and 0 raw, 0 1-minute and 0 hourly blocks \(raw before \d{4}-\d\d-\d\dT/,
  );
  assert.equal((await headSamples(db)).length, 1);
  db.close();
});

Deno.test("hash-password reads stdin and prints a scrypt hash that verifies", async () => {
  const run = await runScript("cli.ts", ["hash-password"], {}, "s3cret pass\n");
  assert.equal(run.code, 0, run.stderr);
  const hash = run.stdout.trim();
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword("s3cret pass", hash), true);
  assert.equal(await verifyPassword("s3cret pass\n", hash), false);
});

Deno.test("hash-password refuses an empty password", async () => {
  assertRefused(
    await runScript("cli.ts", ["hash-password"], {}, "\n"),
    /^proxmon: the password must not be empty\n$/,
  );
});

Deno.test("hash-password refuses a password shorter than 8 characters", async () => {
  assertRefused(
    await runScript("cli.ts", ["hash-password"], {}, "seven77\n"),
    /^proxmon: the password must be at least 8 characters\n$/,
  );
  const eight = await runScript("cli.ts", ["hash-password"], {}, "eight888\n");
  assert.equal(eight.code, 0, eight.stderr);
});

Deno.test("`host` alone and `host --help` list every command, exit 0", async () => {
  for (const args of [[], ["--help"], ["-h"]]) {
    const run = await runScript("cli.ts", args, {});
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^usage: deno task host COMMAND/);
    for (
      const command of [
        "register NAME",
        "list",
        "rotate NAME",
        "remove NAME [--yes]",
        "prune",
        "api-token NAME",
        "api-tokens",
        "revoke-api-token NAME",
        "backup PATH",
        "hash-password",
      ]
    ) {
      assert.match(
        run.stdout,
        new RegExp(`^  ${command.replace(/[[\]]/g, "\\$&")} `, "m"),
      );
    }
  }
});

Deno.test("every command prints its --help and exits 0, without touching a database", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-cli-test-" });
  const env = { DATABASE_URL: `file:${dir}/none/proxmon.db` };
  const commands = [
    "register",
    "list",
    "rotate",
    "remove",
    "prune",
    "api-token",
    "api-tokens",
    "revoke-api-token",
    "backup",
    "hash-password",
  ];
  for (const command of commands) {
    await t.step(command, async () => {
      const run = await runScript("cli.ts", [command, "--help"], env);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^usage: deno task host ${command}`));
    });
  }
  assert.equal(await Deno.stat(`${dir}/none`).catch(() => null), null);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the host CLI never creates a database: a missing one is named, with what to set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-cli-test-" });
  for (const command of [["list"], ["register", "pve-01"], ["api-tokens"]]) {
    const run = await runScript("cli.ts", command, {
      DATABASE_URL: `file:${dir}/data/proxmon.db`,
    });
    assertRefused(
      run,
      new RegExp(
        `^proxmon: no database at ${dir}/data/proxmon\\.db \\(set DATABASE_URL\\)\\n$`,
      ),
    );
  }
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  // The default: data/proxmon.db below the working directory.
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${import.meta.dirname}/cli.ts`, "list"],
    cwd: dir,
    env: {},
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(child.code, 1);
  assert.equal(
    new TextDecoder().decode(child.stderr),
    "proxmon: no database at data/proxmon.db (set DATABASE_URL)\n",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("database problems are one line naming the path and what to do, for the CLI and the server", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "proxmon-cli-test-" });
  const junk = `${dir}/junk.db`;
  await Deno.writeTextFile(junk, "this is no SQLite file\n".repeat(200));
  await Deno.mkdir(`${dir}/folder.db`);
  const cases: [string, RegExp][] = [
    [
      `file:${junk}`,
      new RegExp(`^${junk} is not an SQLite database: set DATABASE_URL`),
    ],
    [
      `file:${dir}/folder.db`,
      new RegExp(`^${dir}/folder\\.db is a folder, not a database file`),
    ],
    // /proc takes no new files, even from root
    [
      "file:/proc/proxmon.db",
      /^cannot open or create \/proc\/proxmon\.db: check that its folder exists and is writable/,
    ],
    [
      "file:/proc/self/proxmon/proxmon.db",
      /^cannot create the folder \/proc\/self\/proxmon for /,
    ],
  ];
  for (const [url, pattern] of cases) {
    await t.step(url, async () => {
      const cli = await runScript("cli.ts", ["list"], { DATABASE_URL: url });
      // the CLI does not create a missing file; it names it instead
      const cliPattern = url.includes("/proc/")
        ? /^proxmon: no database at \/proc\//
        : new RegExp(`^proxmon: ${pattern.source.slice(1)}`);
      assertRefused(cli, cliPattern);
      const server = await runScript("main.ts", [], {
        DATABASE_URL: url,
        HOSTNAME: "127.0.0.1",
        PORT: "0",
      });
      assert.equal(server.code, 1, server.stdout);
      // besides the no-password warning, one line and no stack trace
      const lines = server.stderr.split("\n").filter((l) =>
        l && !l.startsWith("warning: DASHBOARD_PASSWORD_HASH")
      );
      assert.equal(lines.length, 1, server.stderr);
      assert.match(
        lines[0],
        new RegExp(`^proxmon: cannot start: ${pattern.source.slice(1)}`),
      );
    });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("host register takes server_url from PUBLIC_URL, else warns that the default port should be checked", async () => {
  await using t = await tempEnv();
  const shared = await runScript("cli.ts", ["register", "pve-01"], {
    DATABASE_URL: t.env.DATABASE_URL,
    PUBLIC_URL: "https://monitor.example/proxmon/",
  });
  assert.equal(shared.code, 0, shared.stderr);
  assert.match(
    shared.stdout,
    /^server_url = "wss:\/\/monitor\.example\/proxmon\/agent\/ws"$/m,
  );
  assert.equal(shared.stderr, "");

  const guessed = await runScript("cli.ts", ["register", "pve-02"], {
    DATABASE_URL: t.env.DATABASE_URL,
  });
  assert.equal(guessed.code, 0, guessed.stderr);
  const url = `ws://${Deno.hostname()}:4000/agent/ws`;
  assert.ok(guessed.stdout.includes(`server_url = "${url}"`), guessed.stdout);
  assert.match(
    guessed.stderr,
    /^proxmon: warning: server_url .* uses the default port 4000: check it, or set PUBLIC_URL/,
  );

  // PORT set (as in tempEnv): the CLI trusts it and says nothing.
  const told = await t.cli("register", "pve-03");
  assert.equal(told.stderr, "");
});

Deno.test("host api-tokens lists names and creation times, never the tokens", async () => {
  await using t = await tempEnv();
  assert.match((await t.cli("api-tokens")).stdout, /^no API tokens/);
  const before = Date.now();
  const tokens = [
    (await t.cli("api-token", "grafana")).stdout.trim(),
    (await t.cli("api-token", "backup-script")).stdout.trim(),
  ];
  const run = await t.cli("api-tokens");
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^NAME\s+CREATED$/);
  assert.match(lines[1], /^backup-script\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  assert.match(lines[2], /^grafana\s+\d{4}-/);
  const created = Date.parse(lines[2].split(/\s+/)[1]);
  assert.ok(created >= before - 1000 && created <= Date.now());
  for (const token of tokens) {
    assert.ok(token.length > 20 && !run.stdout.includes(token));
  }
});

Deno.test("host remove asks on a terminal: 'n' keeps the host, 'y' removes it", async () => {
  await using t = await tempEnv();
  const db = await openDatabase(t.env.DATABASE_URL);
  await createHost(db, "pve-01", Date.now());
  // script(1) gives the CLI a terminal; the answer arrives on its stdin.
  const onTerminal = async (answer: string) => {
    const child = new Deno.Command("script", {
      args: [
        "-qec",
        `${Deno.execPath()} run -A ${import.meta.dirname}/cli.ts remove pve-01`,
        "/dev/null",
      ],
      env: t.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    // answer once the question is up; a terminal keeps early input anyway
    await writer.write(new TextEncoder().encode(`${answer}\n`));
    const out = await child.output().finally(() => writer.close());
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  };
  const no = await onTerminal("n");
  assert.match(no.text, /remove pve-01 and all its history\? \[y\/N\]/);
  assert.match(no.text, /proxmon: cancelled/);
  assert.equal(no.code, 1);
  assert.ok(await findHost(db, "pve-01"));
  const yes = await onTerminal("y");
  assert.equal(yes.code, 0, yes.text);
  assert.match(yes.text, /removed pve-01 and its metrics/);
  assert.equal(await findHost(db, "pve-01"), null);
  db.close();
});

Deno.test("backup PATH copies the database while the server runs and ingests; an existing PATH is refused", async () => {
  await using server = await startTestServer();
  const token = await server.register("pve-01");
  const agent = await TestAgent.connect(server.wsUrl);
  assert.equal((await agent.join("pve-01", token)).type, "joined");
  const fast = await sampleFixture("fast");
  const base = Date.now() - 3_600_000; // inside retention, behind the clock
  const send = async (from: number, n: number) => {
    agent.sendFast(fast, base, from, n);
    for (let i = 0; i < n; i++) assert.equal((await agent.next()).type, "ack");
  };
  await send(0, 50);
  const dir = await Deno.makeTempDir({ prefix: "proxmon-backup-" });
  const path = `${dir}/copy.db`;
  const env = { DATABASE_URL: server.config.databaseUrl };
  // ingest goes on while the copy is taken
  const [run] = await Promise.all([
    runScript("cli.ts", ["backup", path], env),
    send(50, 50),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^backed up .* to ${path} \\(`));
  const copy = await openDatabase(`file:${path}`, { create: false });
  // in the head or, once maintenance compacted their closed window, in blocks
  const stored = (await storedSampleCounts(copy)).fast;
  const rows = await headSamples(copy);
  copy.close();
  // a consistent snapshot: every sample acked before it started, whole rows
  assert.ok(stored >= 50 && stored <= 100, `${stored} samples`);
  assert.ok(rows.every((r) => r.collectedAtMs >= base));

  assertRefused(
    await runScript("cli.ts", ["backup", path], env),
    new RegExp(`^proxmon: ${path} already exists: choose a new file name\\n$`),
  );
  await agent.close();
  await Deno.remove(dir, { recursive: true });
});
