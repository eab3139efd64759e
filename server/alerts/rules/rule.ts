/**
 * What an alert rule is. A rule is one file in this folder exporting a
 * `RuleDef`, listed once in `mod.ts`; the engine (../engine.ts) does the
 * rest: settings and overrides from alerts.toml, warn/crit with hysteresis,
 * `for` durations, state in the database and notifications.
 *
 * A rule only looks at one stored sample (and, if it must, at what it kept
 * from earlier samples of the same host in `ctx.memory`) and says, for each
 * object it judges, the value it measured or, for a yes/no rule, the
 * severity now. Objects it judged before and leaves out now are resolved.
 */
import type {
  FastPayload,
  HostMetrics,
  Interval,
  MediumPayload,
  SamplePayload,
  SlowPayload,
} from "@proxmon/shared";

export type Severity = "warn" | "crit";

/** The kinds of object an alert is about; rules may add their own. */
export type ObjectKind =
  | "host"
  | "pool"
  | "storage"
  | "guest"
  | "collector"
  | (string & Record<never, never>);

/** Which object an override or silence is for. */
export interface Selector {
  host: string;
  kind: ObjectKind;
  /** pool, storage or collector name; guest vmid as text; null for the host */
  object: string | null;
  /** a guest's name, which overrides may use instead of its vmid */
  name?: string;
  tags?: readonly string[];
}

/** One object's reading, as a rule judges it. */
export interface Observation {
  kind: ObjectKind;
  /** see Selector.object */
  object: string | null;
  /** shown to people: "tank", "web01 (101)" */
  label?: string;
  /** a guest's name, for overrides by name */
  name?: string;
  tags?: readonly string[];
  /**
   * For "above"/"below" rules: the measured value the engine compares with
   * warn and crit (null: unknown now, so the alert keeps its state).
   */
  value: number | null;
  /** the value as people read it: "92 %", "DEGRADED", "never" */
  shown: string;
  /** For "condition" rules only: the severity now, or null when fine. */
  level?: Severity | null;
  /** one line: what is wrong (or what was), e.g. "pool tank is DEGRADED" */
  summary: string;
}

/** Settings of a rule for one object, after overrides. */
export interface RuleSettings {
  enabled: boolean;
  warn: number | null;
  crit: number | null;
  /** how far back past a level a value must go before that level clears */
  hysteresis: number;
  /** how long a level must hold before the alert fires */
  forMs: number;
  /** rule-specific settings, durations in ms */
  params: Record<string, number>;
}

/** A rule-specific setting and how alerts.toml writes it. */
export interface ParamDef {
  kind: "duration" | "number";
  default: number;
  description: string;
}

/** What the engine remembers of an object's alert, for rules that need it. */
export interface PreviousAlert {
  state: "pending" | "firing" | "resolved";
  severity: Severity;
  value: string | null;
}

export interface RuleContext {
  /** the settings for this object, with overrides applied */
  settings(sel: Omit<Selector, "host">): RuleSettings;
  /** kept for this rule and host across samples, in memory only */
  memory: Map<string, unknown>;
  /** the stored alert of this rule, host and object, if any */
  previous(object: string | null): PreviousAlert | null;
  /**
   * Stored history of one series of this host (from the time-series store),
   * bucketed to at most `points`; resolves to [] when there is none or the
   * read fails (the engine logs it). For windows longer than the process
   * has been up, e.g. pool_full_forecast's 7 days.
   */
  history(q: HistoryRequest): Promise<{ t: number; v: number }[]>;
}

export interface HistoryRequest {
  kind: "host" | "guest" | "pool" | "storage" | "dataset";
  object: string;
  metric: string;
  fromMs: number;
  toMs: number;
  points: number;
}

/**
 * Every section of a payload a rule may read, by its key, typed as
 * shared/samples.ts types it (fast, medium and slow keys together).
 */
export interface Sections {
  host: FastPayload["host"];
  zfs_pools: FastPayload["zfs_pools"];
  storage: FastPayload["storage"];
  vms_runtime: FastPayload["vms_runtime"];
  zfs_datasets: MediumPayload["zfs_datasets"];
  vms_detail: MediumPayload["vms_detail"];
  backups: NonNullable<MediumPayload["backups"]>;
  replication: NonNullable<MediumPayload["replication"]>;
  temperatures: NonNullable<MediumPayload["temperatures"]>;
  system_info: SlowPayload["system_info"];
  smart: NonNullable<SlowPayload["smart"]>;
}
export type SectionKey = keyof Sections;

/** One sample of one host, as rules read it. */
export interface RuleSample {
  host: string;
  interval: Interval;
  /** the sample's collected_at, unix ms */
  atMs: number;
  /** the payload, every key (for rules over all collectors) */
  data: Readonly<Record<string, unknown>>;
  /**
   * One section of the payload, as the edge parsed it; null when this
   * sample has none (another interval's key, or an agent that does not
   * collect it).
   */
  section<K extends SectionKey>(key: K): Sections[K] | null;
}

export interface TickHost {
  host: string;
  /** unix ms of its last stored sample */
  lastSeenMs: number;
}

export interface RuleDef {
  /** the id in alerts.toml, notifications and the API */
  id: string;
  /** what it watches, for the example config and the alerts page */
  description: string;
  /** the intervals whose samples it reads; [] for tick-only rules */
  intervals: readonly Interval[];
  /**
   * "above": bad when value ≥ warn/crit; "below": bad when value ≤ warn/crit;
   * "condition": the rule sets `level` itself.
   */
  compare: "above" | "below" | "condition";
  defaults: {
    warn?: number | null;
    crit?: number | null;
    hysteresis?: number;
    forMs?: number;
    params?: Record<string, ParamDef>;
  };
  /** Judges one sample; null when it has nothing to say about this one. */
  evaluate?(sample: RuleSample, ctx: RuleContext): Observation[] | null;
  /**
   * Judges on the engine's clock (every few seconds), for rules about the
   * absence of samples. Returns observations per host.
   */
  tick?(
    nowMs: number,
    hosts: readonly TickHost[],
    settings: (sel: Selector) => RuleSettings,
  ): { host: string; observations: Observation[] }[];
}

/** Lets a rule file be typed without repeating the interface. */
export const defineRule = (rule: RuleDef): RuleDef => rule;

/** How each section is read from a sample of the interval that carries it. */
const READ: {
  [K in SectionKey]: (p: SamplePayload) => Sections[K] | undefined;
} = {
  host: (p) => p.interval === "fast" ? p.data.host : undefined,
  zfs_pools: (p) => p.interval === "fast" ? p.data.zfs_pools : undefined,
  storage: (p) => p.interval === "fast" ? p.data.storage : undefined,
  vms_runtime: (p) => p.interval === "fast" ? p.data.vms_runtime : undefined,
  zfs_datasets: (p) =>
    p.interval === "medium" ? p.data.zfs_datasets : undefined,
  vms_detail: (p) => p.interval === "medium" ? p.data.vms_detail : undefined,
  backups: (p) => p.interval === "medium" ? p.data.backups : undefined,
  replication: (p) => p.interval === "medium" ? p.data.replication : undefined,
  temperatures: (p) =>
    p.interval === "medium" ? p.data.temperatures : undefined,
  system_info: (p) => p.interval === "slow" ? p.data.system_info : undefined,
  smart: (p) => p.interval === "slow" ? p.data.smart : undefined,
};

/**
 * Creates the per-sample view rules read. The payload was parsed against
 * its interval's schema at the edge (shared/payload_parser.ts: defaults
 * filled in, wrong types replaced), and its type came along.
 */
export function ruleSample(
  host: string,
  atMs: number,
  sample: SamplePayload,
): RuleSample {
  return {
    host,
    interval: sample.interval,
    atMs,
    data: sample.data,
    section<K extends SectionKey>(key: K): Sections[K] | null {
      const read: (p: SamplePayload) => Sections[K] | undefined = READ[key];
      return read(sample) ?? null;
    },
  };
}

/** "92 %" with at most one decimal. */
export const percent = (n: number): string => `${Math.round(n * 10) / 10} %`;

/** One object a percent rule measured, and how its summary reads. */
export interface PercentReading {
  kind: ObjectKind;
  /** see Selector.object */
  object: string | null;
  /** percent; null when unknown now */
  value: number | null;
  /** the summary line, given the value as shown ("92 %", or "?") */
  summary(shown: string): string;
}

/**
 * A rule on a percentage read from one section of the fast sample, bad at
 * or above warn / crit. `read` gives each object's reading; the rule shows
 * the value as "92 %", or "unknown" (and "?" in the summary) when null.
 */
export function percentAboveRule<K extends SectionKey>(def: {
  id: string;
  description: string;
  defaults: RuleDef["defaults"];
  /** the payload key it reads */
  section: K;
  read(section: Sections[K]): PercentReading[];
}): RuleDef {
  return defineRule({
    id: def.id,
    description: def.description,
    intervals: ["fast"],
    compare: "above",
    defaults: def.defaults,
    evaluate(sample) {
      const section = sample.section(def.section);
      if (section === null) return null;
      return def.read(section).map(({ kind, object, value, summary }) => ({
        kind,
        object,
        value,
        shown: value === null ? "unknown" : percent(value),
        summary: summary(value === null ? "?" : percent(value)),
      }));
    },
  });
}

/**
 * A percent rule on the host itself (the fast sample's `host`), at or above
 * 90 / 95 % for 15 minutes by default; `what` starts its summary
 * ("CPU at 92 %").
 */
export function hostPercentRule(def: {
  id: string;
  description: string;
  value(host: HostMetrics): number | null;
  what: string;
}): RuleDef {
  return percentAboveRule({
    id: def.id,
    description: def.description,
    defaults: { warn: 90, crit: 95, hysteresis: 5, forMs: 15 * 60_000 },
    section: "host",
    read: (host) => [{
      kind: "host",
      object: null,
      value: def.value(host),
      summary: (shown) => `${def.what} at ${shown}`,
    }],
  });
}

/**
 * A yes/no rule on one section of one interval's sample, with no
 * thresholds: `judge` sets each observation's `level`. Nothing is judged
 * when the sample lacks the section, or when `judge` returns null.
 */
export function conditionRule<K extends SectionKey>(def: {
  id: string;
  description: string;
  interval: Interval;
  /** the payload key it reads */
  section: K;
  judge(section: Sections[K], sample: RuleSample): Observation[] | null;
}): RuleDef {
  return defineRule({
    id: def.id,
    description: def.description,
    intervals: [def.interval],
    compare: "condition",
    defaults: {},
    evaluate(sample) {
      const section = sample.section(def.section);
      return section === null ? null : def.judge(section, sample);
    },
  });
}
