/**
 * Saves the outbox on a timer while it holds unacked samples, so a crash,
 * SIGKILL or power loss during an outage costs at most one interval of
 * samples. A healthy agent, whose outbox drains between checkpoints, writes
 * nothing: a write happens only when the queue changed and was or is non-empty.
 */
import type { Clock } from "@proxmon/shared/clock";
import { type Periodic, startPeriodic } from "@proxmon/shared/periodic";
import type { Logger } from "@proxmon/shared/logger";

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
  /** Resolves once no save is in progress (for tests on a fake clock). */
  idle(): Promise<void>;
}

export function createCheckpoint(deps: CheckpointDeps): Checkpoint {
  const { outbox, clock, intervalMs, log } = deps;
  let savedRevision = outbox.revision;
  let savedSize = outbox.size;
  let periodic: Periodic | undefined;
  // Timer runs and tick() share one chain: two saves never overlap, since
  // an append racing a rewrite would corrupt the journal.
  let serial: Promise<void> = Promise.resolve();

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

  const tick = () => serial = serial.then(saveIfChanged);
  return {
    start() {
      periodic ??= startPeriodic({
        clock,
        intervalMs,
        run: tick,
        onError: (err) => log.error("outbox checkpoint failed:", err),
      });
    },
    async stop() {
      await periodic?.stop();
      periodic = undefined;
      await serial;
    },
    tick,
    async idle() {
      await serial;
      await periodic?.idle();
    },
  };
}
