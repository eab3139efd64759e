/**
 * Saves the outbox on a timer while it holds unacked samples, so a crash,
 * SIGKILL or power loss during an outage costs at most one interval of
 * samples. A healthy agent, whose outbox drains between checkpoints, writes
 * nothing: a write happens only when the queue changed and was or is non-empty.
 */
import type { Clock, TimerId } from "@proxmon/shared/clock";
import type { Logger } from "./log.ts";

/** What the checkpoint needs of the outbox. */
export interface CheckpointSource {
  readonly size: number;
  readonly revision: number;
}

export interface CheckpointDeps {
  outbox: CheckpointSource;
  save(): Promise<void>;
  clock: Clock;
  intervalMs: number;
  log: Logger;
}

export interface Checkpoint {
  start(): void;
  /** Stops the timer and waits for a save in progress. */
  stop(): Promise<void>;
  /** Saves now if anything changed since the last save. */
  tick(): Promise<void>;
}

export function createCheckpoint(deps: CheckpointDeps): Checkpoint {
  const { outbox, clock, intervalMs, log } = deps;
  let savedRevision = outbox.revision;
  let savedSize = outbox.size;
  let timer: TimerId | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = true;

  async function saveIfChanged(): Promise<void> {
    const revision = outbox.revision;
    const size = outbox.size;
    if (revision === savedRevision) return;
    if (size === 0 && savedSize === 0) {
      savedRevision = revision;
      return;
    }
    try {
      await deps.save();
      savedRevision = revision;
      savedSize = size;
    } catch (err) {
      // A full disk must not stop collection; the next tick tries again.
      log.warn(`outbox checkpoint failed: ${(err as Error).message}`);
    }
  }

  function schedule(): void {
    timer = clock.setTimeout(() => {
      running = saveIfChanged().finally(() => {
        if (!stopped) schedule();
      });
    }, intervalMs);
  }

  return {
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await running;
    },
    tick() {
      running = running.then(saveIfChanged);
      return running;
    },
  };
}
