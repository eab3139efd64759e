/**
 * alerts.toml (ALERTS_FILE): public_url, delivery settings, channels and rule
 * settings with overrides. Resolved once, by a pure function, into a config
 * where every field is set; an unknown or bad key is refused with one line
 * naming it. No file means the built-in rules and no channels.
 *
 * `[[rule]]` entries without a selector set a rule's settings; entries with
 * `host`, `pool`, `storage`, `guest`, `collector` and/or `tag` override them
 * for matching objects (the more selectors, the later it applies).
 */
import { parse as parseToml, TomlError } from "smol-toml";
import * as v from "valibot";
import { parseDuration } from "./duration.ts";
import type { RuleDef, RuleSettings, Selector } from "./rules/rule.ts";

export class AlertsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AlertsConfigError";
  }
}

const Duration = v.pipe(
  v.string(),
  v.check(
    (s) => parseDuration(s) !== null,
    "must be a duration like 30s, 10m, 2h or 7d",
  ),
  v.transform((s) => parseDuration(s)!),
);
const Name = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, . _ or -"),
);
const HttpUrl = v.pipe(
  v.string(),
  v.url(),
  v.regex(/^https?:\/\//, "must be an http(s) URL"),
);
const Clock = v.pipe(
  v.string(),
  v.regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM"),
);
const TimeZone = v.pipe(
  v.string(),
  v.check((tz) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone such as Europe/Berlin"),
);

const QuietHours = v.strictObject({
  start: Clock,
  end: Clock,
  timezone: v.optional(TimeZone, "UTC"),
});

const common = {
  name: Name,
  enabled: v.optional(v.boolean(), true),
  /** "crit" sends only crit alerts to this channel */
  min_severity: v.optional(v.picklist(["warn", "crit"]), "warn"),
  cap_per_hour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  group_window: v.optional(Duration),
  quiet_hours: v.optional(QuietHours),
};

const Channel = v.variant("type", [
  v.strictObject({
    ...common,
    type: v.literal("webhook"),
    url: HttpUrl,
    secret: v.optional(v.string()),
    headers: v.optional(v.record(v.string(), v.string())),
  }),
  v.strictObject({
    ...common,
    type: v.literal("ntfy"),
    /** the topic URL, e.g. https://ntfy.sh/my-topic */
    url: HttpUrl,
    token: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
  }),
  v.strictObject({
    ...common,
    type: v.literal("gotify"),
    /** the Gotify server, e.g. https://gotify.example */
    url: HttpUrl,
    token: v.string(),
  }),
  v.strictObject({
    ...common,
    type: v.literal("email"),
    host: v.string(),
    port: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
    ),
    /** starttls (port 587, upgrade required), tls (port 465) or none */
    security: v.optional(v.picklist(["starttls", "tls", "none"]), "starttls"),
    username: v.optional(v.string()),
    password: v.optional(v.string()),
    from: v.string(),
    to: v.pipe(v.array(v.string()), v.minLength(1)),
    /** a PEM file of the CA that signed the server's certificate */
    ca_file: v.optional(v.string()),
  }),
  v.strictObject({ ...common, type: v.literal("discord"), url: HttpUrl }),
  v.strictObject({ ...common, type: v.literal("slack"), url: HttpUrl }),
  v.strictObject({
    ...common,
    type: v.literal("telegram"),
    bot_token: v.string(),
    chat_id: v.union([v.string(), v.number()]),
    api_base: v.optional(HttpUrl, "https://api.telegram.org"),
  }),
]);
export type ChannelConfig = v.InferOutput<typeof Channel> & {
  cap_per_hour: number;
  group_window: number;
};
export type ChannelType = ChannelConfig["type"];
export const CHANNEL_TYPES: readonly ChannelType[] = [
  "webhook",
  "ntfy",
  "gotify",
  "email",
  "discord",
  "slack",
  "telegram",
];

const Top = v.strictObject({
  public_url: v.optional(HttpUrl),
  repeat_after: v.optional(Duration, "24h"),
  group_window: v.optional(Duration, "30s"),
  cap_per_hour: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 30),
  flap_changes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 4),
  flap_window: v.optional(Duration, "30m"),
  flap_stable: v.optional(Duration, "10m"),
  retry_initial: v.optional(Duration, "10s"),
  retry_max_interval: v.optional(Duration, "1h"),
  retry_for: v.optional(Duration, "24h"),
  send_timeout: v.optional(Duration, "15s"),
  channel: v.optional(v.array(v.record(v.string(), v.unknown())), []),
  rule: v.optional(v.array(v.record(v.string(), v.unknown())), []),
});

const SELECTOR_KEYS = [
  "host",
  "pool",
  "storage",
  "guest",
  "collector",
  "tag",
] as const;

/** One [[rule]] entry: which objects it is for, and what it sets. */
export interface RuleEntry {
  id: string;
  host?: string;
  /** object kind and name, from pool/storage/guest/collector */
  kind?: string;
  object?: string;
  tag?: string;
  set: Partial<Omit<RuleSettings, "params">> & {
    params?: Record<string, number>;
  };
  /** selector count: overrides with more apply later */
  specificity: number;
}

export interface AlertsConfig {
  /** the dashboard's address for links; null: links are relative paths */
  publicUrl: string | null;
  repeatAfterMs: number;
  capPerHour: number;
  groupWindowMs: number;
  flap: { changes: number; windowMs: number; stableMs: number };
  retry: { initialMs: number; maxIntervalMs: number; forMs: number };
  sendTimeoutMs: number;
  channels: ChannelConfig[];
  rules: RuleEntry[];
}

function keyOf(issue: v.BaseIssue<unknown>): string {
  return v.getDotPath(issue) ?? "(top level)";
}

function issueText(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.received !== "undefined") {
    return "unknown key";
  }
  if (issue.kind === "schema" && issue.received === "undefined") {
    return "missing";
  }
  return issue.message;
}

function fail(path: string, where: string, issue: v.BaseIssue<unknown>): never {
  const key = keyOf(issue);
  throw new AlertsConfigError(
    `${path}: ${where}${where && key !== "(top level)" ? "." : ""}${
      key === "(top level)" && where ? "" : key
    }: ${issueText(issue)}`,
  );
}

function ruleEntrySchema(rule: RuleDef) {
  const params: Record<string, v.GenericSchema<unknown, number>> = {};
  for (const [name, def] of Object.entries(rule.defaults.params ?? {})) {
    params[name] = v.optional(
      def.kind === "duration" ? Duration : v.number(),
    ) as v.GenericSchema<unknown, number>;
  }
  const level = v.optional(v.union([v.number(), v.literal(false)]));
  return v.strictObject({
    id: v.string(),
    enabled: v.optional(v.boolean()),
    warn: level,
    crit: level,
    hysteresis: v.optional(v.pipe(v.number(), v.minValue(0))),
    for: v.optional(Duration),
    host: v.optional(v.string()),
    pool: v.optional(v.string()),
    storage: v.optional(v.string()),
    guest: v.optional(v.union([v.string(), v.number()])),
    collector: v.optional(v.string()),
    tag: v.optional(v.string()),
    ...params,
  });
}

/**
 * Parses alerts.toml text (null: no file) against the known rules. `path` is
 * only used in messages. Throws AlertsConfigError with one line naming the
 * bad key.
 */
export function resolveAlertsConfig(
  text: string | null,
  path: string,
  rules: readonly RuleDef[],
): AlertsConfig {
  let raw: unknown = {};
  if (text !== null) {
    try {
      raw = parseToml(text);
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      throw new AlertsConfigError(
        `${path}: not valid TOML: ${err.message.split("\n")[0]}`,
      );
    }
  }
  const top = v.safeParse(Top, raw);
  if (!top.success) fail(path, "", top.issues[0]);
  const t = top.output;

  const names = new Set<string>();
  const channels = t.channel.map((entry, i): ChannelConfig => {
    const parsed = v.safeParse(Channel, entry);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      if (issue.type === "variant" && keyOf(issue) === "type") {
        throw new AlertsConfigError(
          `${path}: channel[${i}].type: must be one of ${
            CHANNEL_TYPES.join(", ")
          }`,
        );
      }
      fail(path, `channel[${i}]`, issue);
    }
    const c = parsed.output;
    if (names.has(c.name)) {
      throw new AlertsConfigError(
        `${path}: channel[${i}].name: duplicate channel name "${c.name}"`,
      );
    }
    names.add(c.name);
    return {
      ...c,
      cap_per_hour: c.cap_per_hour ?? t.cap_per_hour,
      group_window: c.group_window ?? t.group_window,
    };
  });

  const byId = new Map(rules.map((r) => [r.id, r]));
  const entries = t.rule.map((entry, i): RuleEntry => {
    const rule = byId.get(String(entry.id));
    if (rule === undefined) {
      throw new AlertsConfigError(
        `${path}: rule[${i}].id: ${
          entry.id === undefined
            ? "missing"
            : `unknown rule "${entry.id}" (known: ${
              [...byId.keys()].join(", ")
            })`
        }`,
      );
    }
    const parsed = v.safeParse(ruleEntrySchema(rule), entry);
    if (!parsed.success) fail(path, `rule[${i}]`, parsed.issues[0]);
    const e = parsed.output as Record<string, unknown>;
    const kinds = (["pool", "storage", "guest", "collector"] as const).filter((
      k,
    ) => e[k] !== undefined);
    if (kinds.length > 1) {
      throw new AlertsConfigError(
        `${path}: rule[${i}].${
          kinds[1]
        }: only one of pool, storage, guest, collector per entry`,
      );
    }
    const params: Record<string, number> = {};
    for (const name of Object.keys(rule.defaults.params ?? {})) {
      if (typeof e[name] === "number") params[name] = e[name] as number;
    }
    const set: RuleEntry["set"] = {};
    if (typeof e.enabled === "boolean") set.enabled = e.enabled;
    if (e.warn !== undefined) {
      set.warn = e.warn === false ? null : e.warn as number;
    }
    if (e.crit !== undefined) {
      set.crit = e.crit === false ? null : e.crit as number;
    }
    if (typeof e.hysteresis === "number") set.hysteresis = e.hysteresis;
    if (typeof e.for === "number") set.forMs = e.for;
    if (Object.keys(params).length > 0) set.params = params;
    return {
      id: rule.id,
      host: e.host as string | undefined,
      kind: kinds[0],
      object: kinds[0] === undefined ? undefined : String(e[kinds[0]]),
      tag: e.tag as string | undefined,
      set,
      specificity: SELECTOR_KEYS.filter((k) => e[k] !== undefined).length,
    };
  });

  return {
    publicUrl: t.public_url?.replace(/\/+$/, "") ?? null,
    repeatAfterMs: t.repeat_after,
    capPerHour: t.cap_per_hour,
    groupWindowMs: t.group_window,
    flap: {
      changes: t.flap_changes,
      windowMs: t.flap_window,
      stableMs: t.flap_stable,
    },
    retry: {
      initialMs: t.retry_initial,
      maxIntervalMs: t.retry_max_interval,
      forMs: t.retry_for,
    },
    sendTimeoutMs: t.send_timeout,
    channels,
    // stable sort: file order within the same specificity
    rules: entries.map((e, i) => ({ e, i })).sort((a, b) =>
      a.e.specificity - b.e.specificity || a.i - b.i
    ).map(({ e }) => e),
  };
}

function matches(entry: RuleEntry, sel: Selector): boolean {
  if (entry.host !== undefined && entry.host !== sel.host) return false;
  if (entry.kind !== undefined) {
    if (entry.kind !== sel.kind) return false;
    if (entry.object !== sel.object && entry.object !== sel.name) return false;
  }
  if (entry.tag !== undefined && !(sel.tags ?? []).includes(entry.tag)) {
    return false;
  }
  return true;
}

/** The rule's default settings. */
export function defaultSettings(rule: RuleDef): RuleSettings {
  const params: Record<string, number> = {};
  for (const [name, def] of Object.entries(rule.defaults.params ?? {})) {
    params[name] = def.default;
  }
  return {
    enabled: true,
    warn: rule.defaults.warn ?? null,
    crit: rule.defaults.crit ?? null,
    hysteresis: rule.defaults.hysteresis ?? 0,
    forMs: rule.defaults.forMs ?? 0,
    params,
  };
}

/** The settings of `rule` for one object: defaults, then each matching entry. */
export function settingsFor(
  rule: RuleDef,
  entries: readonly RuleEntry[],
  sel: Selector,
): RuleSettings {
  const s = defaultSettings(rule);
  for (const e of entries) {
    if (e.id !== rule.id || !matches(e, sel)) continue;
    const { params, ...rest } = e.set;
    Object.assign(s, rest);
    if (params) s.params = { ...s.params, ...params };
  }
  return s;
}
