/**
 * The operator's CLI, run as `deno task host …` and `deno task hash-password`:
 *
 *   host register NAME   create a host, print a ready agent.toml with its token
 *   host list            every host with status and last contact
 *   host rotate NAME     new token; the old one stops working at once
 *   host remove NAME     delete a host and its metrics
 *   host prune           delete samples older than RETENTION_HOURS now
 *   host api-token NAME  create a token for `Authorization: Bearer` on /api/*
 *                        and print it; it is shown only this once
 *   host revoke-api-token NAME
 *                        delete an API token
 *   hash-password        read a password on stdin, print its scrypt hash
 *
 * It uses DATABASE_URL (and PORT for the printed server_url) like the server.
 * Bad input prints one line on stderr and exits 1.
 */
import { systemClock } from "@proxmon/shared/clock";
import { resolveServerConfig, type ServerConfig } from "./config.ts";
import {
  ApiTokenError,
  createApiToken,
  revokeApiToken,
} from "./auth/api_tokens.ts";
import { type Database, openDatabase } from "./store/client.ts";
import {
  createHost,
  HostError,
  type HostRow,
  listHosts,
  removeHost,
  rotateToken,
} from "./store/hosts.ts";
import { hashPassword } from "./auth/password.ts";
import { pruneNow } from "./store/retention.ts";
import { tierRetention } from "./store/tiers.ts";

const USAGE =
  "usage: deno task host register NAME | list | rotate NAME | remove NAME | prune | api-token NAME | revoke-api-token NAME; deno task hash-password";

const HOST_COMMANDS = [
  "register",
  "list",
  "rotate",
  "remove",
  "prune",
  "api-token",
  "revoke-api-token",
];

/** A refusal to show as one line on stderr. */
class UsageError extends Error {}

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

function agentUrl(config: ServerConfig): string {
  const host = ["0.0.0.0", "::"].includes(config.hostname)
    ? Deno.hostname()
    : config.hostname;
  return `ws://${host}:${config.port}/agent/ws`;
}

const iso = (ms: number | null) =>
  ms === null ? "never" : new Date(ms).toISOString();

function formatHosts(rows: HostRow[]): string {
  if (rows.length === 0) {
    return "no hosts; add one with `deno task host register NAME`\n";
  }
  const table = [
    ["NAME", "STATUS", "AGENT", "LAST SEEN"],
    ...rows.map((
      h,
    ) => [h.name, h.status, h.agentVersion ?? "-", iso(h.lastSeenAt)]),
  ];
  const widths = table[0].map((_, i) =>
    Math.max(...table.map((r) => r[i].length))
  );
  return table.map((r) =>
    r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()
  ).join("\n") + "\n";
}

function name(args: string[], command: string): string {
  if (args.length !== 1) {
    throw new UsageError(`host ${command} needs exactly one NAME`);
  }
  return args[0];
}

async function hostCommand(
  command: string,
  args: string[],
  database: Database,
  config: ServerConfig,
): Promise<string> {
  switch (command) {
    case "register": {
      const { host, token } = await createHost(
        database,
        name(args, command),
        systemClock.now(),
      );
      return renderAgentToml({
        serverUrl: agentUrl(config),
        hostName: host.name,
        token,
      });
    }
    case "rotate": {
      const hostName = name(args, command);
      const token = await rotateToken(database, hostName);
      return renderAgentToml({ serverUrl: agentUrl(config), hostName, token });
    }
    case "remove": {
      const hostName = name(args, command);
      await removeHost(database, hostName);
      return `removed ${hostName} and its metrics\n`;
    }
    case "list":
      return formatHosts(await listHosts(database));
    case "prune": {
      const { blocks, headRows, cutoffMs } = await pruneNow({
        database,
        nowMs: systemClock.now(),
        retention: tierRetention(config),
      });
      return `deleted ${headRows} samples and ${blocks.raw} raw, ${
        blocks["1m"]
      } 1-minute and ${blocks["1h"]} hourly blocks (raw before ${
        iso(cutoffMs)
      })\n`;
    }
    case "api-token": {
      const tokenName = name(args, command);
      const token = await createApiToken(
        database,
        tokenName,
        systemClock.now(),
      );
      // The token alone, so `TOKEN=$(deno task host api-token x)` works.
      return `${token}\n`;
    }
    case "revoke-api-token": {
      const tokenName = name(args, command);
      await revokeApiToken(database, tokenName);
      return `revoked API token ${tokenName}\n`;
    }
    default:
      throw new UsageError(USAGE);
  }
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

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
): Promise<number> {
  try {
    const [command, ...args] = argv;
    if (command === "hash-password") {
      const password = await readPassword();
      if (password === "") {
        throw new UsageError("the password must not be empty");
      }
      console.log(await hashPassword(password));
      return 0;
    }
    if (!HOST_COMMANDS.includes(command)) {
      throw new UsageError(
        command === undefined
          ? USAGE
          : `unknown command "${command}"; ${USAGE}`,
      );
    }
    // The CLI manages hosts before a dashboard password exists, so it does
    // not insist on one even where the server would.
    const resolved = resolveServerConfig({ ...env, PROXMON_ENV: undefined });
    if (!resolved.ok) throw new UsageError(resolved.error);
    const database = await openDatabase(resolved.config.databaseUrl, {
      authToken: resolved.config.databaseAuthToken ?? undefined,
    });
    try {
      const out = await hostCommand(command, args, database, resolved.config);
      await Deno.stdout.write(new TextEncoder().encode(out));
    } finally {
      database.close();
    }
    return 0;
  } catch (err) {
    if (
      !(err instanceof UsageError || err instanceof HostError ||
        err instanceof ApiTokenError)
    ) throw err;
    console.error(`proxmon: ${err.message}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, Deno.env.toObject()));
}
