/**
 * Maintenance's table passes on a Worker (`table_pass_worker.ts`) with its
 * own connection to the database file, so compaction, rollups and pruning
 * use the other core and not the thread ingest runs on. Their transactions
 * are short (the blocks are encoded before each one begins), so ingest's
 * waits for the write lock stay short too. Local database files only.
 */
import { type LogMessage, postingLogger } from "@proxmon/shared/logger";
import type { Logger } from "@proxmon/shared/logger";
import { openDatabase } from "./client.ts";
import {
  maintainTables,
  type MaintenanceRun,
  type TablePass,
  type TablePassOptions,
} from "./table_pass.ts";

/** To the Worker. */
export type TablePassRequest =
  | { type: "start"; url: string }
  | { type: "run"; id: number; options: TablePassOptions }
  | { type: "stop" };

/** From the Worker. */
export type TablePassReply =
  | { type: "started" }
  | { type: "failed"; message: string }
  | { type: "ran"; id: number; run: MaintenanceRun }
  | { type: "runFailed"; id: number; message: string }
  | LogMessage
  | { type: "stopped" };

/** The Worker's side of its messages (its global scope). */
export interface TablePassPort {
  postMessage(reply: TablePassReply): void;
  onmessage: ((ev: MessageEvent<TablePassRequest>) => void) | null;
}

const NOTHING: MaintenanceRun = { compacted: 0, rollups: 0, pruned: 0, ms: 0 };

const messageOf = (err: unknown) =>
  err instanceof Error ? err.message : String(err);

/** Runs the passes `port` asks for, on a connection of its own. */
export function serveTablePass(port: TablePassPort): void {
  let database: Awaited<ReturnType<typeof openDatabase>> | null = null;
  let stopping = false;
  let running: Promise<unknown> = Promise.resolve();
  const log = postingLogger((line) => port.postMessage(line));
  port.onmessage = async ({ data: msg }) => {
    if (msg.type === "start") {
      try {
        database = await openDatabase(msg.url, { create: false });
        port.postMessage({ type: "started" });
      } catch (err) {
        port.postMessage({ type: "failed", message: messageOf(err) });
      }
    } else if (msg.type === "run") {
      const db = database;
      if (db === null || stopping) {
        port.postMessage({ type: "ran", id: msg.id, run: NOTHING });
        return;
      }
      const pass = maintainTables(db, {
        ...msg.options,
        shouldStop: () => stopping,
      });
      running = pass.catch(() => {});
      try {
        port.postMessage({ type: "ran", id: msg.id, run: await pass });
      } catch (err) {
        log.error("store: maintenance pass failed on its worker:", err);
        port.postMessage({
          type: "runFailed",
          id: msg.id,
          message: messageOf(err),
        });
      }
    } else if (msg.type === "stop") {
      stopping = true;
      await running;
      database?.close();
      database = null;
      port.postMessage({ type: "stopped" });
    }
  };
}

/** How long the Worker may take to open the database. */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts the Worker and opens the file at `url` there; rejects when it
 * cannot (the caller then runs passes on its own thread).
 */
export async function workerTablePass(
  url: string,
  log: Logger,
): Promise<TablePass> {
  const worker = new Worker(
    new URL("./table_pass_worker.ts", import.meta.url),
    { type: "module" },
  );
  let nextId = 1;
  const runs = new Map<
    number,
    { resolve(r: MaintenanceRun): void; reject(e: Error): void }
  >();
  let onState: ((r: TablePassReply) => void) | null = null;
  const failAll = (message: string) => {
    for (const w of runs.values()) w.reject(new Error(message));
    runs.clear();
  };
  worker.onerror = (ev) => {
    // Handled here, or Deno ends the whole process with it.
    ev.preventDefault();
    log.error(`store: maintenance's worker failed: ${ev.message}`);
    failAll(`maintenance's worker failed: ${ev.message}`);
    onState?.({ type: "failed", message: ev.message });
  };
  worker.onmessage = ({ data: r }: MessageEvent<TablePassReply>) => {
    if (r.type === "log") return log[r.level](r.message);
    if (r.type === "ran" || r.type === "runFailed") {
      const w = runs.get(r.id);
      runs.delete(r.id);
      if (r.type === "ran") w?.resolve(r.run);
      else w?.reject(new Error(r.message));
      return;
    }
    onState?.(r);
  };
  const next = (type: "started" | "stopped") =>
    new Promise<TablePassReply>((resolve) => {
      onState = (r) => {
        if (r.type === type || r.type === "failed") resolve(r);
      };
    });
  const started = next("started");
  worker.postMessage({ type: "start", url } satisfies TablePassRequest);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<TablePassReply>((resolve) => {
    timer = setTimeout(
      () => resolve({ type: "failed", message: "no answer in 30 s" }),
      START_TIMEOUT_MS,
    );
  });
  const r = await Promise.race([started, timeout]);
  clearTimeout(timer);
  if (r.type !== "started") {
    worker.terminate();
    throw new Error(r.type === "failed" ? r.message : r.type);
  }
  let stopped: Promise<void> | null = null;
  return {
    run(options) {
      if (stopped !== null) return Promise.resolve(NOTHING);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        runs.set(id, { resolve, reject });
        worker.postMessage(
          { type: "run", id, options } satisfies TablePassRequest,
        );
      });
    },
    stop: () =>
      stopped ??= (async () => {
        const done = next("stopped");
        worker.postMessage({ type: "stop" } satisfies TablePassRequest);
        await done;
        failAll("maintenance stopped");
        worker.terminate();
      })(),
  };
}
