/**
 * The operator's CLI, run as `deno task host …`, `deno task hash-password`
 * and `deno task backup PATH`. `deno task host` alone lists the commands;
 * every command takes `--help`. Arguments are parsed by `node:util`
 * `parseArgs`.
 *
 * It reads the server's settings from the environment (DATABASE_URL, PORT,
 * HOSTNAME, PUBLIC_URL, RETENTION_HOURS). It never creates a database: only
 * the server does, so a wrong DATABASE_URL is reported, not filled.
 * Bad input prints one line on stderr and exits 1.
 */
import { parseArgs } from "node:util";
import { systemClock } from "@proxmon/shared/clock";
import { resolveServerConfig, type ServerConfig } from "./config.ts";
import {
  ApiTokenError,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "./auth/api_tokens.ts";
import {
  type Database,
  DatabaseError,
  filePath,
  openDatabase,
} from "./store/client.ts";
import {
  createHost,
  HostError,
  type HostRow,
  listHosts,
  removeHost,
  rotateToken,
} from "./store/hosts.ts";
import { hashPassword } from "./auth/password.ts";
import { endAllSessions } from "./auth/session.ts";
import { pruneNow } from "./store/retention.ts";
import { tierRetention } from "./store/tiers.ts";

/** Shorter passwords are refused by `hash-password`. */
export const MIN_PASSWORD_LENGTH = 8;

/** A refusal to show as one line on stderr. */
class UsageError extends Error {}

type Env = Record<string, string | undefined>;

interface Context {
  args: string[];
  flags: { yes: boolean };
  env: Env;
  config: ServerConfig;
  /** warnings for stderr; stdout stays clean for `> agent.toml` */
  warn(line: string): void;
}

interface CommandSpec {
  /**
   * what follows the command's name when it is typed (`NAME [--yes]`): its
   * positional arguments, each needed, then options in brackets
   */
  args?: string;
  summary: string;
  /** lines after the summary in `--help` */
  details?: string[];
  /** accepts `--yes` */
  yes?: boolean;
  /** null: runs without the database */
  run(ctx: Context, database: Database | null): Promise<string>;
}

const COMMANDS: Record<string, CommandSpec> = {
  register: {
    args: "NAME",
    summary: "create a host and print a ready agent.toml with its token",
    details: [
      "server_url is PUBLIC_URL's address with /agent/ws, else ws://HOSTNAME (or this",
      "machine's name):PORT; with neither PUBLIC_URL nor PORT set, check it.",
      "The token is shown only this once; `rotate` makes a new one.",
    ],
    async run(ctx, database) {
      const { host, token } = await createHost(
        database!,
        ctx.args[0],
        systemClock.now(),
      );
      return renderAgentToml({
        serverUrl: agentUrl(ctx),
        hostName: host.name,
        token,
      });
    },
  },
  list: {
    summary: "every host with status, agent version and last contact",
    run: async (_ctx, database) => formatHosts(await listHosts(database!)),
  },
  rotate: {
    args: "NAME",
    summary:
      "new token (printed in a fresh agent.toml); the old one stops at once",
    async run(ctx, database) {
      const hostName = ctx.args[0];
      const token = await rotateToken(database!, hostName);
      return renderAgentToml({ serverUrl: agentUrl(ctx), hostName, token });
    },
  },
  remove: {
    args: "NAME [--yes]",
    summary: "delete a host and all its history",
    details: [
      "Asks for confirmation on a terminal; elsewhere --yes is required.",
    ],
    yes: true,
    async run(ctx, database) {
      const hostName = ctx.args[0];
      if (!ctx.flags.yes) {
        await confirm(`remove ${hostName} and all its history?`);
      }
      await removeHost(database!, hostName);
      return `removed ${hostName} and its metrics\n`;
    },
  },
  prune: {
    summary:
      "delete samples older than RETENTION_HOURS, and rollups past their retention, now",
    async run(ctx, database) {
      const { blocks, headRows, cutoffMs } = await pruneNow({
        database: database!,
        nowMs: systemClock.now(),
        retention: tierRetention(ctx.config),
      });
      return `deleted ${headRows} samples and ${blocks.raw} raw, ${
        blocks["1m"]
      } 1-minute and ${blocks["1h"]} hourly blocks (raw before ${
        iso(cutoffMs)
      })\n`;
    },
  },
  "api-token": {
    args: "NAME",
    summary:
      "create a token for `Authorization: Bearer` on /api/* and print it",
    details: [
      "Only the token is printed, so TOKEN=$(deno task --quiet host api-token x) works;",
      "it is shown only this once.",
    ],
    async run(ctx, database) {
      const token = await createApiToken(
        database!,
        ctx.args[0],
        systemClock.now(),
      );
      return `${token}\n`;
    },
  },
  "api-tokens": {
    summary: "list API token names and creation times (never the tokens)",
    async run(_ctx, database) {
      const tokens = await listApiTokens(database!);
      if (tokens.length === 0) {
        return "no API tokens; create one with `deno task host api-token NAME`\n";
      }
      return formatTable([
        ["NAME", "CREATED"],
        ...tokens.map((t) => [t.name, iso(t.createdAt)]),
      ]);
    },
  },
  "logout-all": {
    summary: "end every dashboard session (copied cookies too) at once",
    async run(_ctx, database) {
      const n = await endAllSessions(database!);
      return `ended ${n} dashboard session${n === 1 ? "" : "s"}\n`;
    },
  },
  "revoke-api-token": {
    args: "NAME",
    summary: "delete an API token; requests using it fail from then on",
    async run(ctx, database) {
      await revokeApiToken(database!, ctx.args[0]);
      return `revoked API token ${ctx.args[0]}\n`;
    },
  },
  backup: {
    args: "PATH",
    summary:
      "write a consistent copy of the database to PATH, while the server runs",
    details: [
      "Uses SQLite's VACUUM INTO: the copy is compact and complete, and PATH must",
      "not exist yet. Restore: stop the server, put the copy at DATABASE_URL's",
      "path, remove any proxmon.db-wal and proxmon.db-shm beside it, start again.",
      "Also `deno task backup PATH`.",
    ],
    async run(ctx, database) {
      return await backup(database!, ctx.args[0]);
    },
  },
  "hash-password": {
    summary:
      "read a dashboard password (hidden on a terminal, else stdin), print its scrypt hash",
    details: [
      `At least ${MIN_PASSWORD_LENGTH} characters. Put the hash in DASHBOARD_PASSWORD_HASH.`,
      "Also `deno task hash-password`.",
    ],
    async run() {
      const password = await readPassword();
      if (password === "") {
        throw new UsageError("the password must not be empty");
      }
      if ([...password].length < MIN_PASSWORD_LENGTH) {
        throw new UsageError(
          `the password must be at least ${MIN_PASSWORD_LENGTH} characters`,
        );
      }
      return `${await hashPassword(password)}\n`;
    },
  },
};

const NO_DATABASE = new Set(["hash-password"]);

/** How a command is typed after `deno task host`. */
const usage = (name: string) =>
  [name, COMMANDS[name].args].filter(Boolean).join(" ");

/** The positional arguments a command needs, by name (`["NAME"]`). */
const positional = (spec: CommandSpec) =>
  (spec.args ?? "").split(" ").filter((w) => w !== "" && !w.startsWith("["));

/** `deno task host` alone, or with --help: every command on one line. */
export function overview(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => usage(n).length));
  return [
    "usage: deno task host COMMAND [ARGS]   (every command takes --help)",
    "",
    ...names.map((n) => `  ${usage(n).padEnd(width)}  ${COMMANDS[n].summary}`),
    "",
    "Settings come from the environment, as the server reads them: DATABASE_URL,",
    "PORT, HOSTNAME, PUBLIC_URL, RETENTION_HOURS (see README.md).",
    "",
  ].join("\n");
}

function commandHelp(name: string): string {
  const spec = COMMANDS[name];
  return [
    `usage: deno task host ${usage(name)}`,
    "",
    `${spec.summary[0].toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.details ?? []),
    "",
  ].join("\n");
}

const USAGE_HINT = "`deno task host --help` lists the commands";

export interface AgentTomlFields {
  serverUrl: string;
  hostName: string;
  token: string;
}

/** The agent.toml printed by `host register` and `host rotate`. */
export function renderAgentToml(
  { serverUrl, hostName, token }: AgentTomlFields,
): string {
  return [
    `# /etc/proxmon/agent.toml for ${hostName} (chmod 600: it holds the token).`,
    "# The token is shown only now; `deno task host rotate` makes a new one.",
    "# Use wss:// when the server is behind a TLS proxy.",
    `server_url = ${JSON.stringify(serverUrl)}`,
    `host_id = ${JSON.stringify(hostName)}`,
    `token = ${JSON.stringify(token)}`,
    "# The PVE node name, if it differs from this machine's hostname:",
    `# node = ${JSON.stringify(hostName)}`,
    "",
  ].join("\n");
}

const WILDCARDS = ["0.0.0.0", "::"];

/**
 * The URL an agent should dial: from PUBLIC_URL when set (https → wss),
 * else this server's HOSTNAME (or machine name) and PORT, with a warning
 * when PORT was left at its default, since the CLI cannot know the port the
 * server really uses.
 */
function agentUrl(ctx: Context): string {
  const { config } = ctx;
  if (config.publicUrl !== null) {
    const url = new URL(config.publicUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/agent/ws`;
    return url.toString();
  }
  const hostname = ctx.env.HOSTNAME?.trim();
  const host = !hostname || WILDCARDS.includes(hostname)
    ? Deno.hostname()
    : hostname.includes(":")
    ? `[${hostname}]`
    : hostname;
  const url = `ws://${host}:${config.port}/agent/ws`;
  if (!ctx.env.PORT?.trim()) {
    ctx.warn(
      `server_url ${url} uses the default port ${config.port}: check it, or set PUBLIC_URL to the server's address (e.g. https://monitor.example)`,
    );
  }
  return url;
}

const iso = (ms: number | null) =>
  ms === null ? "never" : new Date(ms).toISOString();

function formatTable(table: string[][]): string {
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((r) => r[i].length))
  );
  return table.map((r) =>
    r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n") + "\n";
}

function formatHosts(rows: HostRow[]): string {
  if (rows.length === 0) {
    return "no hosts; add one with `deno task host register NAME`\n";
  }
  return formatTable([
    ["NAME", "STATUS", "AGENT", "LAST SEEN"],
    ...rows.map((h) => [
      h.name,
      h.status,
      h.agentVersion ?? "-",
      iso(h.lastSeenAt),
    ]),
  ]);
}

/** `VACUUM INTO`: a consistent, compact copy, taken while others write. */
async function backup(database: Database, path: string): Promise<string> {
  if (!database.url.startsWith("file:")) {
    throw new UsageError(
      "backup copies a local file database; back up a remote libSQL database with its own tools",
    );
  }
  const exists = await Deno.lstat(path).then(() => true, (err) => {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  });
  if (exists) {
    throw new UsageError(`${path} already exists: choose a new file name`);
  }
  const started = Date.now();
  try {
    await database.client.execute({ sql: "VACUUM INTO ?", args: [path] });
  } catch (err) {
    throw new UsageError(
      `could not write the backup to ${path}: ${
        err instanceof Error ? err.message.split("\n")[0] : String(err)
      }`,
    );
  }
  const { size } = await Deno.stat(path);
  return `backed up ${filePath(database.url)} to ${path} (${
    (size / 1024 / 1024).toFixed(1)
  } MiB, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`;
}

/** Reads one line from a terminal; anything but y/yes cancels. */
async function confirm(question: string): Promise<void> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      `${
        question.replace(/\?$/, "")
      }: add --yes to confirm (no terminal to ask on)`,
    );
  }
  await Deno.stderr.write(new TextEncoder().encode(`${question} [y/N] `));
  const buf = new Uint8Array(256);
  const n = await Deno.stdin.read(buf);
  const answer = new TextDecoder().decode(buf.subarray(0, n ?? 0)).trim();
  if (!/^y(es)?$/i.test(answer)) throw new UsageError("cancelled");
}

/** Reads a password: hidden from a terminal, else all of stdin. */
async function readPassword(): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    const text = await new Response(Deno.stdin.readable).text();
    return text.replace(/\r?\n$/, "");
  }
  await Deno.stderr.write(new TextEncoder().encode("password: "));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  try {
    const buf = new Uint8Array(1);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 13 || buf[0] === 10) break;
      if (buf[0] === 3) throw new UsageError("cancelled");
      if (buf[0] === 127) bytes.pop();
      else bytes.push(buf[0]);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(new TextEncoder().encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Parses `COMMAND [ARGS] [--yes] [--help]`; unknown options are refused. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        yes: { type: "boolean", short: "y" },
      },
    });
  } catch (err) {
    // parseArgs' TypeError says which option; keep its first sentence.
    throw new UsageError(
      `${(err as Error).message.split(". ")[0]}; ${USAGE_HINT}`,
    );
  }
}

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: string[], env: Env): Promise<number> {
  const out = (text: string) =>
    Deno.stdout.write(new TextEncoder().encode(text));
  try {
    const { values, positionals } = parseCommandLine(argv);
    const [command, ...args] = positionals;
    if (command === undefined) {
      await out(overview());
      return 0;
    }
    const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : null;
    if (spec === null) {
      throw new UsageError(`unknown command "${command}"; ${USAGE_HINT}`);
    }
    if (values.help) {
      await out(commandHelp(command));
      return 0;
    }
    if (values.yes && !spec.yes) {
      throw new UsageError(`host ${command} takes no --yes`);
    }
    const needed = positional(spec);
    if (args.length !== needed.length) {
      throw new UsageError(
        needed.length === 0
          ? `host ${command} takes no arguments`
          : `host ${command} needs exactly one ${needed.join(" ")}`,
      );
    }
    // The CLI manages hosts before a dashboard password exists, so it does
    // not insist on one even where the server would.
    const resolved = resolveServerConfig({ ...env, PROXMON_ENV: undefined });
    if (!resolved.ok) throw new UsageError(resolved.error);
    const ctx: Context = {
      args,
      flags: { yes: values.yes ?? false },
      env,
      config: resolved.config,
      warn: (line) => console.error(`proxmon: warning: ${line}`),
    };
    if (NO_DATABASE.has(command)) {
      await out(await spec.run(ctx, null));
      return 0;
    }
    const database = await openDatabase(resolved.config.databaseUrl, {
      authToken: resolved.config.databaseAuthToken ?? undefined,
      create: false,
    });
    try {
      await out(await spec.run(ctx, database));
    } finally {
      database.close();
    }
    return 0;
  } catch (err) {
    if (
      !(err instanceof UsageError || err instanceof HostError ||
        err instanceof ApiTokenError || err instanceof DatabaseError)
    ) throw err;
    console.error(`proxmon: ${err.message}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, Deno.env.toObject()));
}
