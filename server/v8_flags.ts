/**
 * V8 settings the server runs with: `deno task serve`, the systemd unit
 * (`server/proxmon.service`), the benchmarks and the tests that start the
 * server as a process all pass these (`server/v8_flags_test.ts` checks the
 * task and the unit).
 *
 * Why: under ingest, V8's defaults let the old generation grow to about four
 * times its live size (50-60 MB at 1,000 agents) before a full collection,
 * and give each isolate (the main thread and the TCP front's Worker) a
 * young generation of up to 3 × 16 MB. A limit that grows with the square
 * root of the collection's cost, kept tighter than its default (factor 40
 * against 80), and 8 MB semi-spaces took bench:ingest's peak RSS at 1,000
 * agents and 2,100 samples/s from 566 to 415 MB, for about 9 % more server
 * CPU at that rate, the same ack p99, and a ceiling 10 % lower (3,563 against
 * 3,946 samples/s). BENCHMARKS.md ("End of stop 13") has the runs; smaller
 * semi-spaces cost more than they saved. A Deno whose V8 no longer knows a
 * flag refuses to start, which the test catches.
 */
export const SERVER_V8_FLAGS = [
  "--sqrt-allocation-limits",
  "--sqrt-allocation-limits-factor=40",
  "--max-semi-space-size=8",
] as const;
