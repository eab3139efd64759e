/**
 * Gives the garbage of finished cycles back to the system once it adds up,
 * instead of when V8 would.
 *
 * Why: V8 starts its next full collection only when the old generation has
 * grown by at least 8 MB since the last one (heap-controller.cc,
 * `MinimumAllocationLimitGrowingStep`; 2 MB only in a mode no flag reaches).
 * The agent's live heap is about 7 MB, so its RSS is a sawtooth with an 8 MB
 * tooth: objects that outlive a cycle (a pending command, the payload until
 * its ack) are promoted and die there. BENCHMARKS.md ("Issue 11, third
 * pass") has the measurements. A memory-reducing collection when the heap has
 * grown by `growthBytes` keeps the tooth that small, and unlike V8's own it
 * also returns the freed pages, so the floor drops too.
 *
 * The collection is V8's `gc({ flavor: "last-resort" })`, which exists only
 * under `--expose-gc` (agent/build.ts bakes it in); without it (the agent
 * run from source, the tests) trimming does nothing.
 */

/** The `gc` that `--expose-gc` puts on globalThis. */
export type ExposedGc = (
  options: { type: "major"; execution: "sync"; flavor: "last-resort" },
) => void;

export interface HeapTrimOptions {
  /** `globalThis.gc`; undefined without `--expose-gc` */
  gc: ExposedGc | undefined;
  /**
   * bytes in use on the V8 heap now. `Deno.memoryUsage().heapUsed` counts the
   * young generation's garbage too, so the trim fires more often than the
   * promoted growth alone would need (BENCHMARKS.md: about 160 ms/min of CPU
   * at the default intervals); the old generation's size would be the
   * sharper measure.
   */
  heapUsed: () => number;
  /** how much the heap may grow before a collection */
  growthBytes: number;
}

/** The default growth before a collection: 1 MB (BENCHMARKS.md). */
export const HEAP_TRIM_GROWTH_BYTES = 2 ** 20;

/**
 * A function to call after each cycle: it collects when the heap has grown
 * by `growthBytes` since the last collection (or since the first call), and
 * tells whether it did.
 */
export function createHeapTrim(opts: HeapTrimOptions): () => boolean {
  const { gc, heapUsed, growthBytes } = opts;
  if (!gc) return () => false;
  let base: number | undefined;
  return () => {
    const used = heapUsed();
    // V8's own collections lower the base too.
    if (base === undefined || used < base) base = used;
    if (used - base < growthBytes) return false;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    base = heapUsed();
    return true;
  };
}

/** The trim of this process: its exposed `gc`, if any, and its heap. */
export function processHeapTrim(
  growthBytes = HEAP_TRIM_GROWTH_BYTES,
): () => boolean {
  return createHeapTrim({
    gc: (globalThis as { gc?: ExposedGc }).gc,
    heapUsed: () => Deno.memoryUsage().heapUsed,
    growthBytes,
  });
}
