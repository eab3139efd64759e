/**
 * The alert engine: rules run at ingest on each stored sample (and on a
 * tick, for host_offline and repeats), alert state lives in memory and in
 * the `alerts` table, and notifications go into the durable delivery queue.
 *
 * Windows (a rule's memory of earlier samples, pending `for` timers) are
 * kept in memory. After a restart every stored alert is loaded as it was:
 * a firing alert that was told about is not told again, and the first new
 * sample of its host resolves it if its cause cleared meanwhile.
 */
import { threadCpuClock } from "@proxmon/shared/thread_cpu";
import type { Interval, SamplePayload } from "@proxmon/shared";
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import type { Logger } from "@proxmon/shared/logger";
import {
  type AlertsConfig,
  type ChannelConfig,
  defaultSettings,
  settingsFor,
} from "./alerts_config.ts";
import {
  type AlertEvent,
  type AlertState,
  displayState,
  judge,
  newAlert,
  noticeDue,
  type NoticeKind,
  step,
} from "./alert_state.ts";
import {
  type AlertChange,
  endSilence,
  insertSilence,
  loadAcknowledged,
  loadLiveAlerts,
  loadSilences,
  type QueuedNotice,
  saveAlertChanges,
  type Silence,
  type SilenceInput,
  silenceMatches,
} from "./alert_store.ts";
import { sendMessage } from "./channels/mod.ts";
import {
  createDeliveryQueue,
  type DeliveryQueue,
  type SendFn,
} from "./delivery/delivery_queue.ts";
import { hostUrl, type Notice } from "./delivery/message.ts";
import { quietUntil } from "./delivery/quiet_hours.ts";
import { BUILTIN_RULES } from "./rules/mod.ts";
import { querySeries } from "../store/time_series.ts";
import {
  type HistoryRequest,
  type Observation,
  type RuleContext,
  type RuleDef,
  ruleSample,
  type RuleSettings,
  type Selector,
  type Severity,
} from "./rules/rule.ts";

export interface AlertEngineDeps {
  database: Database;
  clock: Clock;
  log: Logger;
  config: AlertsConfig;
  rules?: readonly RuleDef[];
  /** how often host_offline, repeats and silence ends are checked */
  tickMs?: number;
  /** the channel senders; tests may wrap them */
  send?: SendFn;
}

/** An alert as the API and the dashboard show it. */
export interface AlertView {
  id: number | null;
  rule: string;
  host: string;
  object: string | null;
  object_kind: string;
  state: ReturnType<typeof displayState>;
  severity: Severity;
  value: string;
  summary: string;
  flapping: boolean;
  pending_since: string | null;
  started_at: string | null;
  resolved_at: string | null;
  acknowledged_at: string | null;
  url: string;
}

export interface FiringCount {
  rule: string;
  severity: Severity;
  count: number;
}

/** A stored sample, as the ingest writer tells it after a commit. */
export type ObservedSample = SamplePayload & {
  hostName: string;
  collectedAtMs: number;
};

export interface AlertEngine {
  start(): Promise<void>;
  /** Runs the rules on one stored sample. Never throws, never waits. */
  observe(host: string, atMs: number, sample: SamplePayload): void;
  /** Runs the rules on the samples of one commit, in order. */
  observeAll(samples: readonly ObservedSample[]): void;
  /** Checks host_offline, repeats, silences; runs on a timer after start. */
  tick(): void;
  /** Waits until every change so far is stored and queued. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  /** pending and firing alerts, worst first */
  active(): AlertView[];
  /** firing alerts by rule and severity (for /metrics) */
  firingCounts(): FiringCount[];
  /** samples evaluated and the CPU time spent on them, since start */
  evalStats(): { samples: number; ms: number };
  acknowledge(id: number): Promise<AlertView | null>;
  silence(input: SilenceInput): Promise<Silence>;
  unsilence(id: number): Promise<boolean>;
  silences(): Silence[];
  readonly queue: DeliveryQueue;
  readonly config: AlertsConfig;
  readonly rules: readonly RuleDef[];
}

const keyOf = (rule: string, host: string, object: string) =>
  `${rule}\u0000${host}\u0000${object}`;
const iso = (ms: number | null) =>
  ms === null ? null : new Date(ms).toISOString();
const rank = (s: Severity) => (s === "crit" ? 2 : 1);

export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { database, clock, log, config } = deps;
  const rules = deps.rules ?? BUILTIN_RULES;
  const byId = new Map(rules.map((r) => [r.id, r]));
  const tickMs = deps.tickMs ?? 5000;
  const flap = config.flap;

  const alerts = new Map<string, AlertState>();
  /** rule+host → keys of its alerts, for "objects no longer reported" */
  const byRuleHost = new Map<string, Set<string>>();
  /** which interval's samples judged an alert (in memory only) */
  const judgedBy = new Map<string, Interval>();
  /** each host's rule contexts (memory and helpers), in the order of `rules` */
  /** per host, each rule's context and its byRuleHost key, made once */
  const hostContexts = new Map<
    string,
    { ctx: RuleContext; ruleHost: string }[]
  >();
  const lastSeen = new Map<string, number>();
  const lastAt = new Map<string, number>();
  let silences: Silence[] = [];

  let dirty = new Set<AlertState>();
  let changes: AlertChange[] = [];
  let notices: QueuedNotice[] = [];
  let writing: Promise<void> = Promise.resolve();
  let writeScheduled = false;
  let timer: TimerId | undefined;
  let stopped = false;
  let syncing: Promise<void> | null = null;
  const evaluated = { samples: 0, ms: 0 };
  const threadCpu = threadCpuClock();
  const loading = new Set<Promise<void>>();

  // Settings are the defaults unless alerts.toml has entries for the rule.
  const defaults = new Map(rules.map((r) => [r.id, defaultSettings(r)]));
  const hasEntries = new Set(config.rules.map((e) => e.id));
  // A rule off by default and never turned on for any object costs nothing.
  const offEverywhere = new Set(
    rules.filter((r) =>
      config.rules.some((e) =>
        e.id === r.id && e.specificity === 0 && e.set.enabled === false
      ) &&
      !config.rules.some((e) => e.id === r.id && e.set.enabled === true)
    ).map((r) => r.id),
  );
  const settings = (rule: RuleDef, sel: Selector): RuleSettings =>
    hasEntries.has(rule.id)
      ? settingsFor(rule, config.rules, sel)
      : defaults.get(rule.id)!;

  const queue = createDeliveryQueue({
    database,
    clock,
    log,
    config,
    send: deps.send ??
      ((c, m) => sendMessage(c, m, config.sendTimeoutMs)),
  });

  const silenced = (a: AlertState, now: number) =>
    silences.some((s) => silenceMatches(s, a, now));

  function track(key: string, a: AlertState) {
    alerts.set(key, a);
    const rh = `${a.rule}\u0000${a.host}`;
    let set = byRuleHost.get(rh);
    if (set === undefined) byRuleHost.set(rh, set = new Set());
    set.add(key);
  }

  function schedule() {
    if (writeScheduled || stopped) return;
    writeScheduled = true;
    setTimeout(() => {
      writeScheduled = false;
      writing = writing.then(persist);
    }, 0);
  }

  async function persist() {
    const d = [...dirty], c = changes, n = notices;
    dirty = new Set();
    changes = [];
    notices = [];
    if (d.length === 0 && c.length === 0 && n.length === 0) return;
    try {
      await saveAlertChanges(database, d, c, n, clock.now());
    } catch (err) {
      log.error("alerts: storing alert changes failed:", err);
      return;
    }
    if (n.length > 0) queue.kick();
  }

  function markDirty(
    a: AlertState,
    event: AlertEvent | "acknowledged",
    now: number,
  ) {
    a.updatedAt = now;
    dirty.add(a);
    if (event !== null) changes.push({ alert: a, event, at: now });
    schedule();
  }

  function noticeFor(a: AlertState, kind: NoticeKind): Notice {
    return {
      kind,
      rule: a.rule,
      state: kind === "resolved" ? "resolved" : "firing",
      severity: a.severity,
      host: a.host,
      object: a.object === "" ? null : a.object,
      object_kind: a.kind,
      label: a.object === "" ? null : a.label,
      summary: a.summary,
      value: a.shown,
      started_at: iso(a.startedAt ?? a.updatedAt)!,
      resolved_at: iso(a.resolvedAt),
      url: hostUrl(config.publicUrl, a.host),
    };
  }

  const wants = (c: ChannelConfig, a: AlertState) =>
    c.enabled && (c.min_severity === "warn" || a.severity === "crit");

  /** Queues whatever notification the alert is owed now. */
  function reconcile(a: AlertState, now: number) {
    const due = noticeDue(a, now, {
      silenced: silenced(a, now),
      repeatAfterMs: config.repeatAfterMs,
    });
    if (due === null) return;
    if (due !== "settle") {
      const notice = noticeFor(a, due);
      for (const c of config.channels) {
        if (!wants(c, a)) continue;
        const quiet = c.quiet_hours && a.severity !== "crit"
          ? quietUntil(c.quiet_hours, now)
          : null;
        notices.push({
          alert: a,
          channel: c.name,
          notice,
          notBefore: quiet ?? now,
        });
      }
      a.lastNotifiedAt = now;
      a.notifiedSeverity = a.severity;
    }
    a.notifiedState = due === "resolved" || due === "settle"
      ? "resolved"
      : "firing";
    markDirty(a, null, now);
  }

  /** What judgeOne decides for an object with no alert, on the defaults. */
  function isFine(rule: RuleDef, o: Observation): boolean {
    const s = defaults.get(rule.id)!;
    if (!s.enabled) return true;
    const level = rule.compare === "condition"
      ? o.level ?? null
      : judge(rule.compare, s, o.value, null);
    return level === null;
  }

  function judgeOne(
    rule: RuleDef,
    host: string,
    o: Observation,
    atMs: number,
    interval: Interval | null,
    clear = false,
  ) {
    const object = o.object ?? "";
    const key = keyOf(rule.id, host, object);
    let a = alerts.get(key);
    const s = settings(rule, {
      host,
      kind: o.kind,
      object: o.object,
      name: o.name,
      tags: o.tags,
    });
    const current = a !== undefined && a.state !== "resolved"
      ? a.severity
      : null;
    const level = !s.enabled || clear
      ? null
      : rule.compare === "condition"
      ? o.level ?? null
      : judge(rule.compare, s, o.value, current);
    if (a === undefined) {
      if (level === null) return; // the common case: fine, never was not
      a = newAlert({
        rule: rule.id,
        host,
        object,
        kind: o.kind,
        label: o.label ?? object,
        tags: [...(o.tags ?? [])],
      }, atMs);
      track(key, a);
    }
    if (interval !== null) judgedBy.set(key, interval);
    a.value = o.value;
    a.shown = o.shown;
    a.summary = o.summary;
    a.label = o.label ?? object;
    if (o.tags) a.tags = [...o.tags];
    const r = step(a, level, atMs, s.forMs, flap);
    if (r.dirty || r.event !== null) markDirty(a, r.event, atMs);
    reconcile(a, clock.now());
  }

  // History reads run one at a time: a fleet's first samples after a
  // restart ask for thousands, and all of them queued on the database's
  // one connection at once would hold ingest's commits behind them.
  let historyTail: Promise<unknown> = Promise.resolve();
  function history(
    host: string,
    q: HistoryRequest,
  ): Promise<{ t: number; v: number }[]> {
    const next = historyTail.then(() => readHistory(host, q));
    historyTail = next;
    return next;
  }

  async function readHistory(
    host: string,
    q: HistoryRequest,
  ): Promise<{ t: number; v: number }[]> {
    try {
      const rs = await database.client.execute({
        sql: "SELECT id FROM hosts WHERE name = ?",
        args: [host],
      });
      if (rs.rows.length === 0) return [];
      const result = await querySeries(database, {
        hostId: Number(rs.rows[0].id),
        keys: [{ kind: q.kind, object: q.object, metric: q.metric }],
        fromMs: q.fromMs,
        toMs: q.toMs,
        points: q.points,
        nowMs: clock.now(),
      });
      const s = result.series[0];
      return s === undefined ? [] : s.t.map((t, i) => ({ t, v: s.avg[i] }));
    } catch (err) {
      log.error(
        `alerts: reading ${q.kind} ${q.object} ${q.metric} history of ${host} failed:`,
        err,
      );
      return [];
    }
  }

  /** A rule's context on one host; made once per pair (hostContexts). */
  function context(rule: RuleDef, host: string): RuleContext {
    const memory = new Map<string, unknown>();
    const ctx: RuleContext = {
      settings: (sel) => settings(rule, { host, ...sel }),
      memory,
      history: (q) => {
        // flush() waits for these, so tests (and shutdown) see them land
        const p = history(host, q);
        const held = p.then(() => {}).finally(() => loading.delete(held));
        loading.add(held);
        return p;
      },
      previous: (object) => {
        const a = alerts.get(keyOf(rule.id, host, object ?? ""));
        return a === undefined ? null : {
          state: a.state,
          severity: a.severity,
          value: a.value === null ? null : String(a.value),
        };
      },
    };
    return ctx;
  }

  function observe(host: string, atMs: number, payload: SamplePayload) {
    const interval = payload.interval;
    const ik = `${host}\u0000${interval}`;
    if (atMs <= (lastAt.get(ik) ?? -Infinity)) return; // a replay of older samples
    lastAt.set(ik, atMs);
    lastSeen.set(host, Math.max(lastSeen.get(host) ?? 0, clock.now()));
    const sample = ruleSample(host, atMs, payload);
    let ctxs = hostContexts.get(host);
    if (ctxs === undefined) {
      ctxs = rules.map((r) => ({
        ctx: context(r, host),
        ruleHost: `${r.id}\u0000${host}`,
      }));
      hostContexts.set(host, ctxs);
    }
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (
        rule.evaluate === undefined || !rule.intervals.includes(interval) ||
        offEverywhere.has(rule.id)
      ) continue;
      let observations: Observation[] | null;
      try {
        observations = rule.evaluate(sample, ctxs[i].ctx);
      } catch (err) {
        log.error(
          `alerts: rule ${rule.id} failed on a sample of ${host}:`,
          err,
        );
        continue;
      }
      if (observations === null) continue;
      const keys = byRuleHost.get(ctxs[i].ruleHost);
      const judged = keys !== undefined && keys.size > 0;
      // The common case, every object fine and no alert of this rule on
      // this host: judged on the defaults, with no per-object key or state.
      const quiet = !judged && !hasEntries.has(rule.id);
      for (const o of observations) {
        if (quiet && isFine(rule, o)) continue;
        judgeOne(rule, host, o, atMs, interval);
      }
      // Objects judged before and gone now (a pool destroyed, a guest
      // removed) are fine from now on.
      if (!judged) continue;
      const seen = new Set(observations.map((o) => o.object ?? ""));
      for (const key of keys) {
        const a = alerts.get(key)!;
        if (seen.has(a.object) || a.state === "resolved") continue;
        const by = judgedBy.get(key);
        if (by !== undefined ? by !== interval : rule.intervals.length !== 1) {
          continue;
        }
        judgeOne(
          rule,
          host,
          {
            kind: a.kind,
            object: a.object === "" ? null : a.object,
            label: a.label,
            value: null,
            shown: "gone",
            level: null,
            summary: `${a.label || a.kind} is no longer reported`,
          },
          atMs,
          interval,
          true,
        );
      }
    }
  }

  function observeAll(samples: readonly ObservedSample[]) {
    if (stopped || samples.length === 0) return;
    // This thread's CPU time, not wall time (on a busy machine that also
    // counts the time other processes had the core) nor the process's
    // (that counts the Workers beside it). Once per batch: the call
    // itself costs as much as judging a small sample.
    const t0 = threadCpu();
    for (const s of samples) {
      try {
        observe(s.hostName, s.collectedAtMs, s);
      } catch (err) {
        log.error(`alerts: evaluating a sample of ${s.hostName} failed:`, err);
      }
    }
    evaluated.samples += samples.length;
    evaluated.ms += threadCpu() - t0;
  }

  function tick() {
    const now = clock.now();
    silences = silences.filter((s) => s.endsAt > now);
    const hosts = [...lastSeen].map(([host, lastSeenMs]) => ({
      host,
      lastSeenMs,
    }));
    for (const rule of rules) {
      if (rule.tick === undefined) continue;
      try {
        for (
          const { host, observations } of rule.tick(
            now,
            hosts,
            (sel) => settings(rule, sel),
          )
        ) {
          for (const o of observations) judgeOne(rule, host, o, now, null);
        }
      } catch (err) {
        log.error(`alerts: rule ${rule.id} failed on a tick:`, err);
      }
    }
    for (const a of alerts.values()) {
      if (a.state === "firing" || a.notifiedState === "firing") {
        reconcile(a, now);
      }
    }
  }

  /** Takes in acks and silences the CLI wrote to the database. */
  async function syncFromDatabase() {
    const now = clock.now();
    const [acks, live] = await Promise.all([
      loadAcknowledged(database),
      loadSilences(database, now),
    ]);
    silences = live;
    for (const a of alerts.values()) {
      const at = a.id === null ? undefined : acks.get(a.id);
      if (
        at !== undefined && a.state === "firing" && a.acknowledgedAt === null
      ) {
        a.acknowledgedAt = at;
      }
    }
  }

  function loop() {
    timer = clock.setTimeout(() => {
      if (stopped) return;
      syncing ??= syncFromDatabase().catch((err) =>
        log.error("alerts: reading acks and silences failed:", err)
      ).finally(() => syncing = null);
      void syncing.then(() => {
        if (!stopped) tick();
      });
      loop();
    }, tickMs);
  }

  function view(a: AlertState, now: number): AlertView {
    return {
      id: a.id,
      rule: a.rule,
      host: a.host,
      object: a.object === "" ? null : a.object,
      object_kind: a.kind,
      state: displayState(a, silenced(a, now)),
      severity: a.severity,
      value: a.shown,
      summary: a.summary,
      flapping: a.flapping,
      pending_since: iso(a.pendingSince),
      started_at: iso(a.startedAt),
      resolved_at: iso(a.resolvedAt),
      acknowledged_at: iso(a.acknowledgedAt),
      url: hostUrl(config.publicUrl, a.host),
    };
  }

  const engine: AlertEngine = {
    queue,
    config,
    rules,
    async start() {
      const now = clock.now();
      for (const a of await loadLiveAlerts(database)) {
        if (!byId.has(a.rule)) continue;
        track(keyOf(a.rule, a.host, a.object), a);
      }
      silences = await loadSilences(database, now);
      // Hosts get offline_after from this start to reconnect, except those
      // already alerted as offline, which stay so until they send.
      const hostRows = await database.client.execute(
        "SELECT name, last_seen_at FROM hosts WHERE last_seen_at IS NOT NULL",
      );
      for (const r of hostRows.rows) {
        const host = String(r.name);
        const offline = alerts.get(keyOf("host_offline", host, ""));
        lastSeen.set(
          host,
          offline?.state === "firing"
            ? Number(r.last_seen_at)
            : Math.max(Number(r.last_seen_at), now),
        );
      }
      await queue.start();
      loop();
    },
    observe(host, atMs, sample) {
      observeAll([{ ...sample, hostName: host, collectedAtMs: atMs }]);
    },
    observeAll,
    evalStats: () => ({ ...evaluated }),
    tick,
    async flush() {
      await Promise.all([...loading]);
      while (writeScheduled || dirty.size > 0 || notices.length > 0) {
        writeScheduled = false;
        writing = writing.then(persist);
        await writing;
      }
      await writing;
    },
    async stop() {
      await engine.flush();
      stopped = true;
      await syncing;
      clock.clearTimeout(timer);
      await queue.stop();
    },
    active() {
      const now = clock.now();
      return [...alerts.values()]
        .filter((a) => a.state !== "resolved")
        .sort((x, y) =>
          Number(y.state === "firing") - Number(x.state === "firing") ||
          rank(y.severity) - rank(x.severity) ||
          (x.startedAt ?? x.pendingSince ?? 0) -
            (y.startedAt ?? y.pendingSince ?? 0)
        )
        .map((a) => view(a, now));
    },
    firingCounts() {
      const counts = new Map<string, FiringCount>();
      for (const a of alerts.values()) {
        if (a.state !== "firing") continue;
        const k = `${a.rule}\u0000${a.severity}`;
        const c = counts.get(k) ??
          { rule: a.rule, severity: a.severity, count: 0 };
        c.count++;
        counts.set(k, c);
      }
      return [...counts.values()];
    },
    async acknowledge(id) {
      const a = [...alerts.values()].find((x) => x.id === id);
      if (a === undefined || a.state !== "firing") return null;
      const now = clock.now();
      if (a.acknowledgedAt === null) {
        a.acknowledgedAt = now;
        markDirty(a, "acknowledged", now);
        await engine.flush();
      }
      return view(a, now);
    },
    async silence(input) {
      const s = await insertSilence(database, input, clock.now());
      silences.push(s);
      return s;
    },
    async unsilence(id) {
      const now = clock.now();
      const ok = await endSilence(database, id, now);
      silences = silences.filter((s) => s.id !== id);
      if (ok) tick();
      return ok;
    },
    silences: () => silences.filter((s) => s.endsAt > clock.now()),
  };
  return engine;
}
