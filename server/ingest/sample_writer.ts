/**
 * Group commit for ingest. Samples submitted while a batch is being written,
 * or in the same turn of the event loop, are committed together in one
 * transaction; each caller's promise settles only after that commit, which
 * is what makes an `ack` mean "durably stored".
 */
import type { Clock } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import type { EventBus } from "./event_bus.ts";
import {
  type QueuedWrite,
  type RecordOutcome,
  recordSamples,
  type SampleInput,
} from "../store/sample_store.ts";

export type PendingSample = SampleInput & {
  /** for the `sample` event published after commit */
  hostName: string;
};

export interface WriterStats {
  received: number;
  stored: number;
  duplicates: number;
  refused: number;
  failed: number;
  batches: number;
}

export interface SampleWriter {
  /** Queues a sample; resolves with its outcome once its batch committed. */
  submit(sample: PendingSample): Promise<RecordOutcome>;
  /** Marks a host as seen (a heartbeat); written with the next batch. */
  touch(hostId: number): void;
  /** Commits everything queued so far and waits for it. */
  flush(): Promise<void>;
  /** Flushes, then refuses further samples. */
  close(): Promise<void>;
  stats(): WriterStats;
}

/**
 * Writes that ride along in a sample's transaction (remote_write's queue):
 * `prepare` gives the queue row for a sample, `stored` is told after the
 * commit how much of what was prepared belonged to newly stored samples.
 */
export interface IngestTap {
  prepare(
    sample: PendingSample,
  ): { queued: QueuedWrite; samples: number } | null;
  stored(samples: number): void;
}

export interface SampleWriterDeps {
  database: Database;
  clock: Clock;
  events: EventBus;
  tap?: IngestTap | null;
  /**
   * Told, synchronously after each commit, which samples it stored (the
   * in-memory latest state for /metrics). Must not throw.
   */
  onStored?: (samples: PendingSample[]) => void;
  /** most samples per transaction; more wait for the next one */
  maxBatch?: number;
  /**
   * At low rates, a sample waits up to this long for others to share its
   * commit (0: commit on the next turn). Every commit writes a handful of
   * pages whatever it holds, so at one sample per commit, a small fleet's
   * disk writes were five times its data. Acks wait as long.
   */
  windowMs?: number;
  /** this many queued samples end the wait at once (load needs no window) */
  flushAt?: number;
  /**
   * Runs the flush on a later turn of the event loop. Deliberately not the
   * clock's timer: this is scheduling, not time, and a fake clock that
   * never advances must not stall ingest.
   */
  defer?: (fn: () => void) => void;
}

const nextTurn = (fn: () => void) => void setTimeout(fn, 0);

interface Waiter {
  sample: PendingSample;
  resolve(outcome: RecordOutcome): void;
  reject(err: unknown): void;
}

/** Creates the ingest writer. Nothing is written until something is submitted. */
export function createSampleWriter(
  {
    database,
    clock,
    events,
    tap = null,
    onStored,
    maxBatch = 1000,
    defer = nextTurn,
    windowMs = 0,
    flushAt = 64,
  }: SampleWriterDeps,
): SampleWriter {
  let queue: Waiter[] = [];
  const touched = new Set<number>();
  let scheduled = false;
  /** the window's timer while a batch waits for company */
  let windowTimer: ReturnType<typeof setTimeout> | null = null;
  /** hosts with a sample in the queue */
  const waiting = new Set<number>();
  let running: Promise<void> | null = null;
  let closed = false;
  const stats: WriterStats = {
    received: 0,
    stored: 0,
    duplicates: 0,
    refused: 0,
    failed: 0,
    batches: 0,
  };

  const hasWork = () => queue.length > 0 || touched.size > 0;

  async function writeBatch(batch: Waiter[], touch: number[]) {
    stats.batches++;
    let outcomes: RecordOutcome[];
    let tapped: ReturnType<IngestTap["prepare"]>[] = [];
    try {
      // Inside the try: a tap that throws fails the batch like a failed
      // commit (nothing acked, agents replay), never the writer.
      if (tap !== null) tapped = batch.map((w) => tap.prepare(w.sample));
      outcomes = await recordSamples(
        database,
        batch.map((w, i) => {
          const t = tapped[i];
          return t ? { ...w.sample, queued: t.queued } : w.sample;
        }),
        clock.now(),
        touch,
      );
    } catch (err) {
      // The batch rolled back as a whole: every sender learns it, none is
      // acked, and the agents keep the samples to replay.
      stats.failed += batch.length;
      for (const w of batch) w.reject(err);
      return;
    }
    if (tap !== null) {
      let samples = 0;
      outcomes.forEach((o, i) => {
        if (o === "stored") samples += tapped[i]?.samples ?? 0;
      });
      if (samples > 0) tap.stored(samples);
    }
    onStored?.(
      batch.filter((_, i) => outcomes[i] === "stored").map((w) => w.sample),
    );
    batch.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome === "stored") stats.stored++;
      else if (outcome === "duplicate") stats.duplicates++;
      else stats.refused++;
      w.resolve(outcome);
    });
    batch.forEach((w, i) => {
      if (outcomes[i] !== "stored") return;
      events.publish({
        type: "sample",
        host: w.sample.hostName,
        interval: w.sample.interval,
        collected_at: new Date(w.sample.collectedAtMs).toISOString(),
      });
    });
  }

  async function drain() {
    while (hasWork()) {
      waiting.clear();
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      const touch = [...touched];
      touched.clear();
      await writeBatch(batch, touch);
    }
  }

  function run() {
    running = drain().finally(() => {
      running = null;
      if (hasWork()) schedule();
    });
  }

  function fire() {
    scheduled = false;
    if (running === null && hasWork()) run();
  }

  /** `now`: commit on the next turn even if a window would wait */
  function schedule(now = false) {
    if (running !== null) return;
    const full = now || queue.length >= flushAt;
    // the window filled up, or waiting is pointless: no reason to go on
    if (full) endWindow();
    if (scheduled) return;
    scheduled = true;
    if (windowMs > 0 && !full) {
      windowTimer = setTimeout(() => {
        windowTimer = null;
        fire();
      }, windowMs);
      return;
    }
    // The next turn still lets every frame already read in this one join
    // the batch; under load, samples pile up while a batch is written.
    defer(fire);
  }

  function endWindow() {
    if (windowTimer === null) return;
    clearTimeout(windowTimer);
    windowTimer = null;
    scheduled = false;
  }

  async function flush() {
    endWindow();
    while (running !== null || hasWork()) {
      if (running === null) run();
      await running;
    }
  }

  return {
    submit(sample) {
      if (closed) {
        return Promise.reject(new Error("the sample writer is closed"));
      }
      stats.received++;
      return new Promise((resolve, reject) => {
        queue.push({ sample, resolve, reject });
        // A host sending again before its first sample was acked is
        // replaying a backlog, paced by our acks: waiting would only slow it.
        const again = waiting.has(sample.hostId);
        waiting.add(sample.hostId);
        schedule(again);
      });
    },
    touch(hostId) {
      if (closed) return;
      touched.add(hostId);
      schedule();
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
    stats: () => ({ ...stats }),
  };
}
