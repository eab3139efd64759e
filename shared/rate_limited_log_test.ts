import assert from "node:assert/strict";
import { memoryLogger } from "./logger.ts";
import { fakeClock } from "./testing/fake_clock.ts";
import { createRateLimitedLog } from "./rate_limited_log.ts";

Deno.test("a rate-limited log lets `limit` lines of a kind through per window, says it suppresses, then counts what it suppressed", () => {
  const log = memoryLogger();
  const clock = fakeClock(0);
  const agents = createRateLimitedLog<"refusal" | "join">(log, clock, {
    subject: "agent",
    limit: 3,
    windowMs: 60_000,
  });
  for (let i = 0; i < 1000; i++) agents.warn("refusal", `refused ${i}`);
  agents.info("join", "joined a"); // another kind has its own budget
  assert.deepEqual(log.lines, [
    "warn: refused 0",
    "warn: refused 1",
    "warn: refused 2",
    "warn: more than 3 agent refusal lines in 60 s: suppressing the rest of them for now",
    "info: joined a",
  ]);
  clock.jump(61_000);
  agents.warn("refusal", "refused again");
  assert.deepEqual(log.lines.slice(5), [
    "warn: suppressed 997 more agent refusal lines in 61 s",
    "warn: refused again",
  ]);
});

Deno.test("a rate-limited log with a limit of one says nothing more about a kind that stopped repeating", () => {
  const log = memoryLogger();
  const clock = fakeClock(0);
  const front = createRateLimitedLog<"accept">(log, clock, {
    subject: "connection",
    limit: 1,
    windowMs: 10_000,
  });
  front.warn("accept", "accepting failed");
  clock.jump(10_000);
  front.warn("accept", "accepting failed again");
  assert.deepEqual(log.lines, [
    "warn: accepting failed",
    "warn: accepting failed again",
  ]);
});
