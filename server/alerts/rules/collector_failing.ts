/**
 * collector_failing: a collector reported errors in `warn` samples in a row.
 * Every payload key whose value carries an `errors` list is a collector, so
 * collectors added later are watched without changes here.
 */
import { defineRule, type Observation } from "./rule.ts";

interface Streak {
  count: number;
  last: string;
}

export const collectorFailing = defineRule({
  id: "collector_failing",
  description: "a collector reports errors for warn cycles in a row",
  intervals: ["fast", "medium", "slow"],
  compare: "above",
  defaults: { warn: 10, crit: null, hysteresis: 0 },
  evaluate(sample, ctx) {
    const out: Observation[] = [];
    for (const [key, value] of Object.entries(sample.data)) {
      const errors = (value as { errors?: unknown } | null)?.errors;
      if (!Array.isArray(errors)) continue;
      const prev = ctx.memory.get(key) as Streak | undefined;
      const first = errors[0] as { tag?: unknown; message?: unknown };
      const streak: Streak = errors.length === 0 ? { count: 0, last: "" } : {
        count: (prev?.count ?? 0) + 1,
        last: `${String(first?.tag ?? "?")}: ${
          String(first?.message ?? "").slice(0, 200)
        }`,
      };
      ctx.memory.set(key, streak);
      out.push({
        kind: "collector",
        object: key,
        value: streak.count,
        shown: `${streak.count} cycles with errors`,
        summary: streak.count === 0
          ? `collector ${key} is working`
          : `collector ${key} failed ${streak.count} cycles in a row (${streak.last})`,
      });
    }
    return out;
  },
});
