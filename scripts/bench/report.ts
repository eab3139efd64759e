/**
 * What each benchmark returns and how it is printed: one JSON summary, then
 * one line with the headline figures.
 */
import { type Figure, shortFigure } from "./figure.ts";

export interface Machine {
  cores: number;
  /** 1, 5 and 15 minute load averages when the benchmark started */
  loadavgAtStart: number[];
  loadavgAtEnd: number[];
  denoVersion: string;
}

export interface BenchReport {
  bench: string;
  quick: boolean;
  startedAt: string;
  durationS: number;
  machine: Machine;
  /** what --quick or the machine changed from the set-up */
  deviations: string[];
  figures: Figure[];
  details: Record<string, unknown>;
  /** the closing one-line figure */
  line: string;
}

/** The start of a report: when and where it runs. */
export function beginReport(): {
  startedAt: string;
  t0: number;
  loadavg: number[];
} {
  return {
    startedAt: new Date().toISOString(),
    t0: performance.now(),
    loadavg: Deno.loadavg(),
  };
}

/** Completes a report begun with {@link beginReport}. */
export function finishReport(
  begun: ReturnType<typeof beginReport>,
  rest: {
    bench: string;
    quick: boolean;
    deviations: string[];
    figures: Figure[];
    details: Record<string, unknown>;
    headline: Figure[];
    extra?: string;
  },
): BenchReport {
  const line = `${rest.bench}${rest.quick ? " (quick)" : ""}: ` +
    rest.headline.map(shortFigure).join("; ") +
    (rest.extra ? `; ${rest.extra}` : "");
  return {
    bench: rest.bench,
    quick: rest.quick,
    startedAt: begun.startedAt,
    durationS: Math.round((performance.now() - begun.t0) / 100) / 10,
    machine: {
      cores: navigator.hardwareConcurrency,
      loadavgAtStart: begun.loadavg,
      loadavgAtEnd: Deno.loadavg(),
      denoVersion: Deno.version.deno,
    },
    deviations: rest.deviations,
    figures: rest.figures,
    details: rest.details,
    line,
  };
}

/** True when every figure that has a verdict passed. */
export function allPassed(reports: BenchReport[]): boolean {
  return reports.every((r) => r.figures.every((f) => f.pass !== false));
}
