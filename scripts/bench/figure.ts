/**
 * A benchmark figure: a measured value with the target or same-run baseline
 * it is judged against, so every reported number carries its ratio.
 */
import { round } from "./stats.ts";

/**
 * `<=`: lower is better (latency, memory); `>=`: higher is better (rate);
 * `info`: a ratio to read, with no pass or fail (a size against raw bytes).
 */
export type Goal = "<=" | ">=" | "info";

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  goal: Goal;
  /** what the value is compared with: a target, or a baseline from this run */
  against: { kind: "target" | "baseline"; label: string; value: number };
  /** value / against.value */
  ratio: number | null;
  pass: boolean | null;
  note?: string;
}

/** A figure judged against a fixed target from the issue. */
export function targetFigure(
  name: string,
  value: number | null,
  unit: string,
  goal: Goal,
  target: number,
  note?: string,
): Figure {
  return judge(name, value, unit, goal, {
    kind: "target",
    label: `${goal} ${target} ${unit}`,
    value: target,
  }, note);
}

/** A figure judged against another number measured in the same run. */
export function baselineFigure(
  name: string,
  value: number | null,
  unit: string,
  goal: Goal,
  baseline: { label: string; value: number },
  note?: string,
): Figure {
  return judge(
    name,
    value,
    unit,
    goal,
    { kind: "baseline", ...baseline },
    note,
  );
}

function judge(
  name: string,
  value: number | null,
  unit: string,
  goal: Goal,
  against: Figure["against"],
  note: string | undefined,
): Figure {
  const ratio = value === null || against.value === 0
    ? null
    : round(value / against.value, 3);
  const pass = value === null || goal === "info"
    ? null
    : goal === "<="
    ? value <= against.value
    : value >= against.value;
  return {
    name,
    value: round(value, 2),
    unit,
    goal,
    against,
    ratio,
    pass,
    ...(note ? { note } : {}),
  };
}

/** `p99 84 ms (0.34× of ≤250)`: one figure for the closing line. */
export function shortFigure(f: Figure): string {
  const v = f.value === null ? "n/a" : String(f.value);
  const r = f.ratio === null ? "n/a" : `${f.ratio}×`;
  const mark = f.pass === null ? "" : f.pass ? ", ok" : ", MISS";
  return `${f.name} ${v} ${f.unit} (${r} ${f.against.label}${mark})`;
}
