import assert from "node:assert/strict";
import { createLoginLimiter } from "./login_limiter.ts";

function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("createLoginLimiter() blocks a client after five failures in a minute", () => {
  const clock = fakeClock();
  const limiter = createLoginLimiter({ now: clock.now });
  for (let i = 0; i < 4; i++) {
    limiter.recordFailure("10.0.0.1");
    clock.advance(1000);
  }
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 0);
  limiter.recordFailure("10.0.0.1");
  // The first failure was 4 s ago, so it leaves the window in 56 s.
  assert.equal(limiter.retryAfterSeconds("10.0.0.1"), 56);
  assert.equal(limiter.retryAfterSeconds("10.0.0.2"), 0);
});

Deno.test("createLoginLimiter() lets a client try again once failures age out", () => {
  const clock = fakeClock();
  const limiter = createLoginLimiter({ now: clock.now, maxFailures: 2 });
  limiter.recordFailure("a");
  clock.advance(30_000);
  limiter.recordFailure("a");
  assert.equal(limiter.retryAfterSeconds("a"), 30);
  clock.advance(30_000);
  assert.equal(limiter.retryAfterSeconds("a"), 0);
});

Deno.test("createLoginLimiter() reset() forgets a client's failures", () => {
  const clock = fakeClock();
  const limiter = createLoginLimiter({ now: clock.now, maxFailures: 1 });
  limiter.recordFailure("a");
  assert.ok(limiter.retryAfterSeconds("a") > 0);
  limiter.reset("a");
  assert.equal(limiter.retryAfterSeconds("a"), 0);
});

Deno.test("createLoginLimiter() stays bounded under many client addresses", () => {
  const clock = fakeClock();
  const limiter = createLoginLimiter({
    now: clock.now,
    maxFailures: 1,
    maxClients: 3,
  });
  for (const client of ["a", "b", "c", "d"]) limiter.recordFailure(client);
  // "a" was the oldest entry and made room for "d".
  assert.equal(limiter.retryAfterSeconds("a"), 0);
  assert.ok(limiter.retryAfterSeconds("d") > 0);
  assert.ok(limiter.retryAfterSeconds("c") > 0);
});
