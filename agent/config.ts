/**
 * agent.toml → a validated config with every field resolved. Pure: the
 * caller reads the file and passes the hostname, so tests need no disk.
 */
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { HostName, type Interval } from "@proxmon/shared";

/** Defaults for every optional key, also used by `--once` without a file. */
export const AGENT_DEFAULTS = {
  configPath: "/etc/proxmon/agent.toml",
  fastSeconds: 10,
  mediumSeconds: 60,
  slowSeconds: 1800,
  /** SMART is read on the slow cycle, at most this often */
  smartSeconds: 1800,
  commandTimeoutSeconds: 30,
  heartbeatSeconds: 30,
  procDir: "/proc",
  cgroupDir: "/sys/fs/cgroup",
  pveDir: "/etc/pve",
  pveApiUrl: "https://127.0.0.1:8006/api2/json",
  pveCaFile: "/etc/pve/pve-root-ca.pem",
  outboxPath: "/var/lib/proxmon/outbox.json",
  // The first medium cycle on a 50-guest node (no guest config cached yet)
  // makes ~91 pvesh calls of ~0.3 s each: 4 at a time took 8.6 s, 10 at a
  // time 4.6-5.4 s, 12 at a time 4.3-4.4 s (`deno task bench:agent`).
  concurrency: 12,
} as const;

/** The agent's settings, every field present, durations in milliseconds. */
export interface AgentConfig {
  /** The file the settings came from, for messages that say what to fix. */
  path: string;
  /** The WebSocket endpoint, `/agent/ws` appended when the URL has no path. */
  serverUrl: string;
  token: string;
  hostName: string;
  /** The PVE node name used in `pvesh` paths; defaults to the short hostname. */
  node: string;
  intervalsMs: Record<Interval, number>;
  /** How often the slow cycle reads SMART (smartctl), at most. */
  smartIntervalMs: number;
  commandTimeoutMs: number;
  heartbeatMs: number;
  outboxMaxSamples: number;
  outboxPath: string;
  procDir: string;
  /** Where cgroup v2 is mounted, for each running guest's pressure files. */
  cgroupDir: string;
  /** Where pmxcfs is mounted, for guest config files. */
  pveDir: string;
  /** The PVE API source, when `[pve] api_token` is set; else pvesh. */
  pveApi: { url: string; token: string; caFile: string } | null;
  concurrency: number;
}

export interface ResolvedAgentConfig {
  config: AgentConfig;
  /** Non-fatal findings such as unknown keys, one line each. */
  warnings: string[];
}

/** What the environment contributes to the defaults. */
export interface ConfigEnv {
  hostname: string;
}

/** A config that cannot be used; each issue names the file and the key. */
export class AgentConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join("; "));
    this.name = "AgentConfigError";
  }
}

const DAY_SECONDS = 86_400;

/**
 * How many samples make 24 h at the given intervals: the outbox default, so
 * a server outage of a day loses nothing (10128 at the default intervals).
 */
export function outboxSamplesForOneDay(
  intervalsMs: Record<Interval, number>,
): number {
  return Object.values(intervalsMs).reduce(
    (sum, ms) => sum + Math.ceil(DAY_SECONDS * 1000 / ms),
    0,
  );
}

const text = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "must not be empty"),
);
const seconds = v.pipe(
  v.number("must be a number of seconds"),
  v.minValue(1, "must be at least 1 (seconds)"),
);
const count = (min: number, max: number) =>
  v.pipe(
    v.number("must be a whole number"),
    v.integer("must be a whole number"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

const ServerUrl = v.pipe(
  v.string("must be a string"),
  v.check(
    (s) => /^wss?:\/\//i.test(s) && URL.canParse(s),
    "must be a ws:// or wss:// URL, e.g. wss://monitor.example:4000",
  ),
);

const Intervals = v.object({
  fast_seconds: v.optional(seconds),
  medium_seconds: v.optional(seconds),
  slow_seconds: v.optional(seconds),
  smart_seconds: v.optional(seconds),
}, "must be a table");

// USER@REALM!TOKENID=SECRET, as `pveum user token add` prints its parts.
const ApiToken = v.pipe(
  v.string("must be a string"),
  v.regex(
    /^[^\s@!=]+@[^\s@!=]+![A-Za-z][A-Za-z0-9._-]*=[0-9a-fA-F-]{8,}$/,
    "must look like proxmon@pve!agent=<secret> (USER@REALM!TOKENID=SECRET)",
  ),
);

const Pve = v.object({
  config_dir: v.optional(text),
  api_token: v.optional(ApiToken),
  api_url: v.optional(v.pipe(
    v.string("must be a string"),
    v.check(
      (s) => /^https:\/\//i.test(s) && URL.canParse(s),
      "must be an https:// URL, e.g. https://127.0.0.1:8006/api2/json",
    ),
  )),
  ca_file: v.optional(text),
}, "must be a table");

const AgentToml = v.object({
  server_url: ServerUrl,
  token: text,
  host_id: HostName,
  node: v.optional(text),
  intervals: v.optional(Intervals),
  command_timeout_seconds: v.optional(seconds),
  heartbeat_seconds: v.optional(seconds),
  outbox_max_samples: v.optional(count(1, 10_000_000)),
  outbox_path: v.optional(text),
  proc_dir: v.optional(text),
  cgroup_dir: v.optional(text),
  concurrency: v.optional(count(1, 64)),
  pve: v.optional(Pve),
});

/** Keys not in the schema are accepted with a warning, so typos surface. */
function unknownKeys(
  raw: Record<string, unknown>,
  schema: { entries: Record<string, unknown> },
  prefix: string,
): string[] {
  return Object.keys(raw)
    .filter((key) => !(key in schema.entries))
    .map((key) => `${prefix}${key}`);
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (issue.kind === "schema" && issue.received === "undefined") {
    return "missing";
  }
  return issue.message;
}

/** Appends the agent endpoint when the URL names only the server. */
function endpointUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.pathname === "" || url.pathname === "/") url.pathname = "/agent/ws";
  return url.toString();
}

/**
 * Parses and validates agent.toml text. `path` is only used in messages.
 * Throws {@link AgentConfigError} listing every bad key; unknown keys come
 * back as `warnings`.
 */
export function resolveAgentConfig(
  tomlText: string,
  path: string,
  env: ConfigEnv,
): ResolvedAgentConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(tomlText);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    throw new AgentConfigError([describeTomlError(tomlText, path, err)]);
  }
  const parsed = v.safeParse(AgentToml, raw, { abortEarly: false });
  if (!parsed.success) {
    throw new AgentConfigError(parsed.issues.map((issue) => {
      const key = v.getDotPath(issue) ?? "(top level)";
      return `${path}: ${key}: ${describeIssue(issue)}`;
    }));
  }
  const toml = parsed.output;
  const unknown = unknownKeys(raw, AgentToml, "");
  if (isTable(raw.intervals)) {
    unknown.push(...unknownKeys(raw.intervals, Intervals, "intervals."));
  }
  if (isTable(raw.pve)) {
    unknown.push(...unknownKeys(raw.pve, Pve, "pve."));
  }
  const warnings = unknown.map((key) =>
    `${path}: ${key}: unknown key, ignored`
  );

  const d = AGENT_DEFAULTS;
  const intervalsMs = {
    fast: (toml.intervals?.fast_seconds ?? d.fastSeconds) * 1000,
    medium: (toml.intervals?.medium_seconds ?? d.mediumSeconds) * 1000,
    slow: (toml.intervals?.slow_seconds ?? d.slowSeconds) * 1000,
  };
  return {
    warnings,
    config: {
      path,
      serverUrl: endpointUrl(toml.server_url),
      token: toml.token,
      hostName: toml.host_id,
      // PVE names a node after the hostname up to its first dot.
      node: toml.node ?? env.hostname.split(".")[0],
      intervalsMs,
      smartIntervalMs: (toml.intervals?.smart_seconds ?? d.smartSeconds) * 1000,
      commandTimeoutMs:
        (toml.command_timeout_seconds ?? d.commandTimeoutSeconds) * 1000,
      heartbeatMs: (toml.heartbeat_seconds ?? d.heartbeatSeconds) * 1000,
      outboxMaxSamples: toml.outbox_max_samples ??
        outboxSamplesForOneDay(intervalsMs),
      outboxPath: toml.outbox_path ?? d.outboxPath,
      procDir: toml.proc_dir ?? d.procDir,
      cgroupDir: toml.cgroup_dir ?? d.cgroupDir,
      pveDir: toml.pve?.config_dir ?? d.pveDir,
      pveApi: toml.pve?.api_token
        ? {
          token: toml.pve.api_token,
          url: (toml.pve.api_url ?? d.pveApiUrl).replace(/\/+$/, ""),
          caFile: toml.pve.ca_file ?? d.pveCaFile,
        }
        : null,
      concurrency: toml.concurrency ?? d.concurrency,
    },
  };
}

/**
 * A TOML syntax error as one line: the file, line and column, the key whose
 * line it is (with its table, as the other messages name keys), the parser's
 * reason, and a hint where the reason is cryptic.
 */
export function describeTomlError(
  tomlText: string,
  path: string,
  err: TomlError,
): string {
  const reason = err.message.split("\n")[0].replace(
    /^Invalid TOML document: /,
    "",
  );
  const lines = tomlText.split(/\r?\n/);
  const source = lines[err.line - 1] ?? "";
  const key = source.match(/^\s*([A-Za-z0-9_.\-"' ]+?)\s*=/)?.[1]
    ?.replace(/["'\s]/g, "");
  // the table the line belongs to: the last [header] above it
  const table = lines.slice(0, err.line - 1).reverse()
    .map((l) => l.match(/^\s*\[+\s*([^\]]+?)\s*\]+/)?.[1])
    .find((t) => t !== undefined);
  const where = `line ${err.line}, column ${err.column}`;
  const named = key ? `, key ${table ? `${table}.` : ""}${key}` : "";
  // An unclosed "…" runs into the line break, which TOML calls a control
  // character; say what the person most likely did.
  const hint = /control characters/.test(reason) &&
      (source.split('"').length - 1) % 2 === 1
    ? ` (is a closing " missing?)`
    : "";
  return `${path}: ${where}${named}: not valid TOML: ${reason}${hint}`;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
