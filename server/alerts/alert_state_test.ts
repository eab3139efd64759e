import * as assert from "node:assert/strict";
import {
  type AlertState,
  judge,
  newAlert,
  noticeDue,
  step,
} from "./alert_state.ts";
import type { RuleSettings } from "./rules/rule.ts";

const S: RuleSettings = {
  enabled: true,
  warn: 80,
  crit: 90,
  hysteresis: 5,
  forMs: 0,
  params: {},
};
const FLAP = { changes: 4, windowMs: 30 * 60_000, stableMs: 10 * 60_000 };
const MIN = 60_000;

const fresh = (): AlertState =>
  newAlert({
    rule: "pool_capacity",
    host: "pve",
    object: "tank",
    kind: "pool",
    label: "tank",
    tags: [],
  }, 0);

Deno.test("judge() reaches a level at its threshold and leaves it only past the hysteresis", async (t) => {
  await t.step("above", () => {
    assert.equal(judge("above", S, 79, null), null);
    assert.equal(judge("above", S, 80, null), "warn");
    assert.equal(judge("above", S, 76, "warn"), "warn");
    assert.equal(judge("above", S, 74.9, "warn"), null);
    assert.equal(judge("above", S, 91, "warn"), "crit");
    assert.equal(judge("above", S, 86, "crit"), "crit");
    assert.equal(judge("above", S, 84, "crit"), "warn");
  });
  await t.step("below (days until full)", () => {
    const f = { ...S, warn: 14, crit: 3, hysteresis: 1 };
    assert.equal(judge("below", f, 20, null), null);
    assert.equal(judge("below", f, 14, null), "warn");
    assert.equal(judge("below", f, 14.5, "warn"), "warn");
    assert.equal(judge("below", f, 15.5, "warn"), null);
    assert.equal(judge("below", f, Infinity, "warn"), null);
    assert.equal(judge("below", f, 2, "warn"), "crit");
  });
  await t.step("a null value keeps the level", () => {
    assert.equal(judge("above", S, null, "crit"), "crit");
  });
  await t.step("a level set to null never fires", () => {
    assert.equal(judge("above", { ...S, crit: null }, 99, null), "warn");
  });
});

Deno.test("step() waits `for` before firing and resolves once", () => {
  const a = fresh();
  const forMs = 10 * MIN;
  assert.equal(step(a, "warn", 0, forMs, FLAP).event, null);
  assert.equal(a.state, "pending");
  assert.equal(step(a, "warn", 9 * MIN, forMs, FLAP).event, null);
  assert.equal(step(a, "warn", 10 * MIN, forMs, FLAP).event, "firing");
  assert.equal(a.startedAt, 10 * MIN);
  assert.equal(step(a, "warn", 11 * MIN, forMs, FLAP).event, null);
  assert.equal(step(a, "crit", 12 * MIN, forMs, FLAP).event, "escalated");
  assert.equal(step(a, null, 13 * MIN, forMs, FLAP).event, "resolved");
  assert.equal(step(a, null, 14 * MIN, forMs, FLAP).event, null);
});

Deno.test("step() forgets a pending alert that clears before `for`", () => {
  const a = fresh();
  step(a, "warn", 0, 10 * MIN, FLAP);
  step(a, null, 5 * MIN, 10 * MIN, FLAP);
  assert.equal(a.state, "resolved");
  assert.equal(a.startedAt, null);
  // and the next episode counts `for` from its own start
  step(a, "warn", 6 * MIN, 10 * MIN, FLAP);
  assert.equal(step(a, "warn", 15 * MIN, 10 * MIN, FLAP).event, null);
  assert.equal(step(a, "warn", 16 * MIN, 10 * MIN, FLAP).event, "firing");
});

Deno.test("step() holds a flapping alert in firing, silent, until stable for 10 min", () => {
  const a = fresh();
  const events: (string | null)[] = [];
  // fire/resolve every minute: changes 1..4 are told, the 5th starts the hold
  for (let i = 0; i < 8; i++) {
    events.push(step(a, i % 2 === 0 ? "warn" : null, i * MIN, 0, FLAP).event);
  }
  // the 5th change is stored (as a firing) but starts the hold
  assert.deepEqual(events, [
    "firing",
    "resolved",
    "firing",
    "resolved",
    "firing",
    null,
    null,
    null,
  ]);
  assert.equal(a.flapping, true);
  assert.equal(a.state, "firing"); // held, though the condition cleared at 7 min
  const opts = { silenced: false, repeatAfterMs: 86_400_000 };
  a.notifiedState = "resolved"; // what the 4th change told
  assert.equal(noticeDue(a, 8 * MIN, opts), null);
  assert.equal(step(a, null, 16 * MIN, 0, FLAP).event, null);
  // stable (clear) for 10 min since the last change at 7 min
  assert.equal(step(a, null, 17 * MIN, 0, FLAP).event, "resolved");
  assert.equal(a.flapping, false);
  assert.equal(noticeDue(a, 17 * MIN, opts), null); // already told
});

Deno.test("noticeDue(): one firing, one resolved, repeats unless acknowledged, nothing while silenced", () => {
  const a = fresh();
  const opts = { silenced: false, repeatAfterMs: 24 * 60 * MIN };
  step(a, "warn", 0, 0, FLAP);
  assert.equal(noticeDue(a, 0, opts), "firing");
  a.notifiedState = "firing";
  a.notifiedSeverity = "warn";
  a.lastNotifiedAt = 0;
  assert.equal(noticeDue(a, 60 * MIN, opts), null);
  assert.equal(noticeDue(a, 24 * 60 * MIN, opts), "repeat");
  a.acknowledgedAt = 1;
  assert.equal(noticeDue(a, 48 * 60 * MIN, opts), null);
  assert.equal(noticeDue(a, 48 * 60 * MIN, { ...opts, silenced: true }), null);
  step(a, "crit", MIN, 0, FLAP);
  assert.equal(noticeDue(a, 2 * MIN, opts), "firing"); // escalation
  step(a, null, 3 * MIN, 0, FLAP);
  assert.equal(noticeDue(a, 3 * MIN, opts), "resolved");
  assert.equal(noticeDue(a, 3 * MIN, { ...opts, silenced: true }), "settle");
});
