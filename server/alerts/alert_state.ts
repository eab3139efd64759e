/**
 * The life of one alert (one rule and object), as pure functions over its
 * state: judging a value against warn/crit with hysteresis, stepping through
 * pending → firing → resolved with the `for` duration and flapping hold, and
 * deciding which notification is due. The engine owns the objects and the
 * database; tests drive these with made-up readings.
 */
import type {
  ObjectKind,
  RuleDef,
  RuleSettings,
  Severity,
} from "./rules/rule.ts";

export type AlertStateName = "pending" | "firing" | "resolved";

export interface AlertState {
  /** database id; null until first stored */
  id: number | null;
  rule: string;
  host: string;
  /** "" for host-wide alerts */
  object: string;
  kind: ObjectKind;
  label: string;
  tags: string[];
  state: AlertStateName;
  severity: Severity;
  value: number | null;
  shown: string;
  summary: string;
  pendingSince: number | null;
  startedAt: number | null;
  resolvedAt: number | null;
  acknowledgedAt: number | null;
  notifiedState: "firing" | "resolved" | null;
  notifiedSeverity: Severity | null;
  lastNotifiedAt: number | null;
  /** times of recent firing/resolved changes, for flapping */
  changes: number[];
  flapping: boolean;
  updatedAt: number;
  /** in memory only: whether the condition holds now, and since when */
  rawActive: boolean;
  rawSince: number;
}

export interface FlapSettings {
  changes: number;
  windowMs: number;
  stableMs: number;
}

/** What a step did that someone should hear of. */
export type AlertEvent = "firing" | "resolved" | "escalated" | null;

const rank = (s: Severity | null) => (s === "crit" ? 2 : s === "warn" ? 1 : 0);

/**
 * The level a value is at, given the level it was at: a level is reached at
 * its threshold and left only past the threshold by `hysteresis` (below for
 * "above" rules, above for "below" rules). A null value keeps the level.
 */
export function judge(
  compare: RuleDef["compare"],
  s: RuleSettings,
  value: number | null,
  current: Severity | null,
): Severity | null {
  if (value === null || Number.isNaN(value)) return current;
  const worse = compare === "below"
    ? (x: number, t: number) => x <= t
    : (x: number, t: number) => x >= t;
  const h = compare === "below" ? s.hysteresis : -s.hysteresis;
  const at = (threshold: number | null, level: Severity) =>
    threshold !== null &&
    (worse(value, threshold) ||
      (rank(current) >= rank(level) && worse(value, threshold + h)));
  if (at(s.crit, "crit")) return "crit";
  if (at(s.warn, "warn")) return "warn";
  return null;
}

/** A fresh alert for an object that has just started to look bad. */
export function newAlert(
  fields: Pick<
    AlertState,
    "rule" | "host" | "object" | "kind" | "label" | "tags"
  >,
  now: number,
): AlertState {
  return {
    ...fields,
    id: null,
    state: "resolved",
    severity: "warn",
    value: null,
    shown: "",
    summary: "",
    pendingSince: null,
    startedAt: null,
    resolvedAt: null,
    acknowledgedAt: null,
    notifiedState: null,
    notifiedSeverity: null,
    lastNotifiedAt: null,
    changes: [],
    flapping: false,
    updatedAt: now,
    rawActive: false,
    rawSince: now,
  };
}

export interface StepResult {
  event: AlertEvent;
  /** the stored fields changed (state, severity, flapping…) */
  dirty: boolean;
}

function recordChange(a: AlertState, now: number, flap: FlapSettings): void {
  a.changes = a.changes.filter((t) => t > now - flap.windowMs);
  a.changes.push(now);
  if (a.changes.length > flap.changes) a.flapping = true;
}

/**
 * Moves an alert on by one reading at `now`: `level` is the severity the
 * condition is at (null: fine). Mutates `a`.
 */
export function step(
  a: AlertState,
  level: Severity | null,
  now: number,
  forMs: number,
  flap: FlapSettings,
): StepResult {
  const active = level !== null;
  if (active !== a.rawActive) {
    a.rawActive = active;
    a.rawSince = now;
  }
  let dirty = false;
  if (a.flapping) {
    // Held in firing, silent, until the condition has been steady.
    if (now - a.rawSince < flap.stableMs) {
      if (active && level !== a.severity) {
        a.severity = level;
        dirty = true;
      }
      return { event: null, dirty };
    }
    a.flapping = false;
    a.changes = [];
    dirty = true;
  }
  if (!active) {
    if (a.state === "pending") {
      a.state = "resolved";
      a.pendingSince = null;
      return { event: null, dirty: true };
    }
    if (a.state === "firing") {
      recordChange(a, now, flap);
      if (a.flapping) return { event: null, dirty: true };
      a.state = "resolved";
      a.resolvedAt = now;
      a.acknowledgedAt = null;
      return { event: "resolved", dirty: true };
    }
    return { event: null, dirty };
  }
  if (a.state === "resolved") {
    a.state = "pending";
    a.pendingSince = now;
    a.severity = level;
    dirty = true;
  }
  if (a.state === "pending") {
    if (rank(level) > rank(a.severity)) a.severity = level;
    if (now - (a.pendingSince ?? now) < forMs) return { event: null, dirty };
    a.state = "firing";
    a.severity = level;
    a.startedAt = now;
    a.resolvedAt = null;
    a.acknowledgedAt = null;
    recordChange(a, now, flap);
    return { event: "firing", dirty: true };
  }
  // firing
  if (level !== a.severity) {
    const up = rank(level) > rank(a.severity);
    a.severity = level;
    return { event: up ? "escalated" : null, dirty: true };
  }
  return { event: null, dirty };
}

export type NoticeKind = "firing" | "resolved" | "repeat";

/**
 * Which notification an alert is owed now, if any: one when it fires (or
 * escalates to crit), one when it resolves, a repeat after `repeatAfterMs`
 * unless acknowledged, and nothing while it flaps or is silenced. A resolve
 * of a silenced alert is owed to nobody: it returns "settle", which records
 * it as told without sending.
 */
export function noticeDue(
  a: AlertState,
  now: number,
  opts: { silenced: boolean; repeatAfterMs: number },
): NoticeKind | "settle" | null {
  if (a.flapping) return null;
  if (a.state === "firing") {
    if (opts.silenced) return null;
    if (
      a.notifiedState !== "firing" ||
      rank(a.severity) > rank(a.notifiedSeverity)
    ) return "firing";
    if (
      a.acknowledgedAt === null && a.lastNotifiedAt !== null &&
      now - a.lastNotifiedAt >= opts.repeatAfterMs
    ) return "repeat";
    return null;
  }
  if (a.state === "resolved" && a.notifiedState === "firing") {
    return opts.silenced ? "settle" : "resolved";
  }
  return null;
}

/** What people see as its state: firing splits into acknowledged and silenced. */
export function displayState(
  a: AlertState,
  silenced: boolean,
): AlertStateName | "acknowledged" | "silenced" {
  if (a.state !== "firing") return a.state;
  if (silenced) return "silenced";
  return a.acknowledgedAt !== null ? "acknowledged" : "firing";
}
