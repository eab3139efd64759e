/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint
 * runs inside the commit that fills the WAL past 1,000 pages, on the
 * committing connection: on ingest's thread, every few hundred
 * milliseconds at 2,000 samples/s, each copying the WAL into the file and
 * syncing it while no sample is parsed and no ack sent. Measured with
 * bench:ingest (full run, same machine and load): ack p50 299 → 88 ms, p99
 * 6.2 → 1.4 s, ceiling 2,061 → 2,639 samples/s with ingest's checkpoints
 * off.
 *
 * So a local database file's ingest connection does not checkpoint; a
 * Worker with its own connection runs a PASSIVE checkpoint (one that never
 * waits for, or blocks, a reader or the writer) once the WAL holds as many
 * uncopied pages as the automatic checkpoint waits for (looked up in the
 * wal-index four times a second), and a full one that starts the WAL over
 * once it has grown past RESTART_AT_PAGES. Should the
 * Worker fail, the ingest connection checkpoints itself again as before.
 * `journal_size_limit` keeps the WAL file itself from staying large after a
 * burst.
 */
import type { Logger } from "@proxmon/shared/logger";
import { type Database, filePath } from "./client.ts";
import { openFileClient } from "./file_client.ts";

/** SQLite's default `wal_autocheckpoint`, restored should the Worker fail. */
export const AUTO_CHECKPOINT_PAGES = 1000;
/** a WAL file larger than this is truncated to it once checkpointed */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
const EVERY_MS = 250;
/**
 * A WAL longer than this is checkpointed in full and started over (8 MiB
 * of 1 KiB pages): a stall of the writer, but rare, and short, since the
 * passive checkpoints have copied most of it already.
 */
export const RESTART_AT_PAGES = 8192;
const START_TIMEOUT_MS = 30_000;

type ToWorker =
  | { type: "start"; path: string; everyMs: number; restartAtPages: number }
  | { type: "stop" };
type FromWorker =
  | { type: "started" }
  | { type: "failed"; message: string }
  | { type: "checkpoint"; walPages: number; checkpointed: number }
  | { type: "stopped" };

/** The Worker's side of its messages (`self` in wal_checkpoint_worker.ts). */
export interface CheckpointPort {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}

/**
 * Reads the WAL's frame counts from the wal-index (the `-shm` file), as
 * https://www.sqlite.org/walformat.html lays it out: the header's
 * `mxFrame` (frames in the WAL) at byte 16 and the checkpoint info's
 * `nBackfill` (frames already copied) at byte 96, in native byte order.
 * Null when there is no such file (a WAL without shared memory).
 */
export function walIndex(
  path: string,
): (() => { mxFrame: number; nBackfill: number } | null) | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return null;
  }
  const buf = new Uint8Array(100);
  const view = new DataView(buf.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return () => {
    file.seekSync(0, Deno.SeekMode.Start);
    if ((file.readSync(buf) ?? 0) < buf.length) return null;
    return {
      mxFrame: view.getUint32(16, little),
      nBackfill: view.getUint32(96, little),
    };
  };
}

/** Runs the checkpoints inside the Worker. */
export function serveCheckpoints(port: CheckpointPort): void {
  let timer: ReturnType<typeof setInterval> | undefined;
  let client: ReturnType<typeof openFileClient> | null = null;
  let running: Promise<void> = Promise.resolve();
  port.onmessage = async ({ data: m }) => {
    if (m.type === "start") {
      try {
        client = openFileClient(m.path);
        await client.execute("PRAGMA wal_autocheckpoint = 0");
      } catch (err) {
        port.postMessage({ type: "failed", message: String(err) });
        return;
      }
      const c = client;
      const shm = walIndex(`${m.path}-shm`);
      timer = setInterval(() => {
        running = running.then(async () => {
          // As the connection's own automatic checkpoint would: once the
          // WAL holds AUTO_CHECKPOINT_PAGES not yet copied, not every
          // tick, or a small fleet's few hot pages are written each second.
          const frames = shm?.();
          if (
            frames && frames.mxFrame <= m.restartAtPages &&
            frames.mxFrame - frames.nBackfill < AUTO_CHECKPOINT_PAGES
          ) return;
          // Run as a script, not a statement: a statement that returned
          // rows can leave this connection reading the WAL, and while any
          // connection reads it the writer cannot start it over.
          await c.executeMultiple("PRAGMA wal_checkpoint(PASSIVE)");
          if ((shm?.()?.mxFrame ?? 0) > m.restartAtPages) {
            // Under steady writes a passive checkpoint never catches up
            // with the last commit, so the WAL is never started over and
            // grows without end. This one holds new writes back for as
            // long as it takes to copy what is left and start over.
            await c.executeMultiple("PRAGMA wal_checkpoint(RESTART)");
          }
          const after = shm?.();
          port.postMessage({
            type: "checkpoint",
            walPages: after?.mxFrame ?? -1,
            checkpointed: after?.nBackfill ?? -1,
          });
        }).catch(() => {
          // SQLITE_BUSY and the like: the next tick tries again
        });
      }, m.everyMs);
      port.postMessage({ type: "started" });
    } else {
      clearInterval(timer);
      await running;
      client?.close();
      port.postMessage({ type: "stopped" });
    }
  };
}

export interface WalCheckpointer {
  /** WAL pages and how many were copied, as of the last checkpoint */
  last(): { walPages: number; checkpointed: number } | null;
  /** Ends the Worker; the connection checkpoints itself again. */
  stop(): Promise<void>;
}

const restoreAuto = (database: Database) =>
  database.client.execute(
    `PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`,
  );

/**
 * Takes the checkpoints of `database` (a local file) off its connection.
 * A remote database, or a Worker that does not start, changes nothing.
 */
export async function startWalCheckpointer(
  database: Database,
  log: Logger,
  opts: { everyMs?: number; restartAtPages?: number; workerUrl?: URL } = {},
): Promise<WalCheckpointer> {
  const none: WalCheckpointer = { last: () => null, stop: async () => {} };
  if (!database.url.startsWith("file:")) return none;
  let last: { walPages: number; checkpointed: number } | null = null;
  let worker: Worker;
  try {
    worker = new Worker(
      opts.workerUrl ??
        new URL("./wal_checkpoint_worker.ts", import.meta.url),
      { type: "module" },
    );
  } catch (err) {
    log.error("store: the checkpoint worker did not start", err);
    return none;
  }
  const started = Promise.withResolvers<FromWorker>();
  const stopped = Promise.withResolvers<void>();
  let running = false;
  worker.onerror = (ev) => {
    // Handled here, or Deno ends the whole process with it.
    ev.preventDefault();
    worker.terminate();
    stopped.resolve();
    started.resolve({ type: "failed", message: ev.message });
    if (running) {
      running = false;
      log.error(
        `store: the checkpoint worker failed (${ev.message}); the database's connection checkpoints again`,
      );
      restoreAuto(database).catch((err) =>
        log.error("store: could not turn checkpoints back on", err)
      );
    }
  };
  worker.onmessage = ({ data: m }: MessageEvent<FromWorker>) => {
    if (m.type === "checkpoint") last = m;
    else if (m.type === "stopped") stopped.resolve();
    else started.resolve(m);
  };
  worker.postMessage(
    {
      type: "start",
      path: filePath(database.url),
      everyMs: opts.everyMs ?? EVERY_MS,
      restartAtPages: opts.restartAtPages ?? RESTART_AT_PAGES,
    } satisfies ToWorker,
  );
  const timeout = setTimeout(
    () => started.resolve({ type: "failed", message: "no answer in 30 s" }),
    START_TIMEOUT_MS,
  );
  const r = await started.promise.finally(() => clearTimeout(timeout));
  if (r.type !== "started") {
    worker.terminate();
    log.error(
      `store: the checkpoint worker did not start (${
        r.type === "failed" ? r.message : r.type
      }); the database's connection checkpoints itself`,
    );
    return none;
  }
  await database.client.execute(
    `PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`,
  );
  await database.client.execute("PRAGMA wal_autocheckpoint = 0");
  running = true;
  return {
    last: () => last,
    async stop() {
      if (!running) return;
      running = false;
      worker.postMessage({ type: "stop" } satisfies ToWorker);
      await stopped.promise;
      worker.terminate();
      // A database that failed (or was closed) has nothing to checkpoint.
      await restoreAuto(database).catch(() => {});
    },
  };
}
