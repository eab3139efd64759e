/**
 * The remote_write pump on a Worker, with its own connection to the
 * database file: the queue's reads, the requests and the deletes then run
 * off the thread ingest runs on. The rows are still made there, in each
 * sample's transaction (`RemoteWriter.prepare`). Only the messages below
 * cross; the pump is the same code as on the main thread (`createPump`).
 * Local database files only: a remote database keeps its pump in-process.
 */
import { systemClock } from "@proxmon/shared/clock";
import { type LogMessage, postingLogger } from "@proxmon/shared/logger";
import { openDatabase } from "../../store/client.ts";
import { queuedSamples, queueHead } from "./remote_write_queue.ts";
import {
  createPump,
  type Pump,
  type PumpOptions,
  type RemoteWriterDeps,
  type RemoteWriteStatus,
} from "./remote_writer.ts";

/** To the Worker. */
export type PumpRequest =
  | { type: "start"; url: string; options: PumpOptions }
  | { type: "stored"; samples: number }
  | { type: "status"; id: number }
  | { type: "stop" };

/** From the Worker. */
export type PumpReply =
  | { type: "started" }
  | { type: "failed"; message: string }
  | {
    type: "status";
    id: number;
    status: RemoteWriteStatus | null;
    error?: string;
  }
  | LogMessage
  | { type: "stopped" };

/** The Worker's side of its messages (its global scope). */
export interface PumpPort {
  postMessage(reply: PumpReply): void;
  onmessage: ((ev: MessageEvent<PumpRequest>) => void) | null;
}

/** Runs the pump for the messages of `port`. */
export function servePump(port: PumpPort): void {
  const log = postingLogger((line) => port.postMessage(line));
  let pump: Pump | null = null;
  let close = () => {};
  port.onmessage = async ({ data: msg }) => {
    if (msg.type === "start") {
      try {
        const database = await openDatabase(msg.url, { create: false });
        close = () => database.close();
        pump = createPump({
          database,
          clock: systemClock,
          log,
          ...msg.options,
        });
        await pump.start();
        port.postMessage({ type: "started" });
      } catch (err) {
        port.postMessage({
          type: "failed",
          message: err instanceof Error ? err.message : String(err),
        });
      }
    } else if (msg.type === "stored") {
      pump?.stored(msg.samples);
    } else if (msg.type === "status") {
      try {
        const status = pump === null ? null : await pump.status();
        port.postMessage({ type: "status", id: msg.id, status });
      } catch (err) {
        port.postMessage({
          type: "status",
          id: msg.id,
          status: null,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    } else if (msg.type === "stop") {
      await pump?.stop();
      close();
      port.postMessage({ type: "stopped" });
    }
  };
}

/** How long the Worker may take to open the database and start. */
const START_TIMEOUT_MS = 30_000;

/**
 * A pump on a Worker (`pump_worker.ts`), for `RemoteWriterDeps.pump`.
 * Falls back to one on this thread when the Worker cannot start.
 */
export function workerPump(
  deps: Pick<RemoteWriterDeps, "database" | "clock" | "log"> & PumpOptions,
): Pump {
  const { database, log } = deps;
  const options: PumpOptions = {
    config: deps.config,
    maxSamplesPerRequest: deps.maxSamplesPerRequest,
    maxInFlight: deps.maxInFlight,
    pollMs: deps.pollMs,
    maxBackoffMs: deps.maxBackoffMs,
    requestTimeoutMs: deps.requestTimeoutMs,
  };
  let worker: Worker | null = null;
  let local: Pump | null = null;
  let nextId = 1;
  const waiting = new Map<
    number,
    (r: PumpReply & { type: "status" }) => void
  >();
  let onReply: ((r: PumpReply) => void) | null = null;

  const send = (msg: PumpRequest) => worker!.postMessage(msg);
  /** Before start or after stop: the queue as the database holds it. */
  const stoppedStatus = async (): Promise<RemoteWriteStatus> => {
    const head = await queueHead(database);
    return {
      pendingRequests: head.rows,
      pendingSamples: head.rows === 0 ? 0 : await queuedSamples(database),
      lagSeconds: head.oldestEnqueuedAtMs === null
        ? 0
        : Math.max(0, (deps.clock.now() - head.oldestEnqueuedAtMs) / 1000),
      sentSamples: 0,
      sentRequests: 0,
      droppedTooOld: 0,
      droppedRejected: 0,
      failedRequests: 0,
    };
  };
  const next = (type: PumpReply["type"]) =>
    new Promise<PumpReply>((resolve) => {
      onReply = (r) => {
        if (r.type === type || r.type === "failed") resolve(r);
      };
    });

  return {
    stored(samples) {
      if (local !== null) return local.stored(samples);
      if (worker !== null) send({ type: "stored", samples });
    },
    async start() {
      worker = new Worker(new URL("./pump_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onerror = (ev) => {
        // Handled here, or Deno ends the whole process with it.
        ev.preventDefault();
        log.error(`remote_write: the pump's worker failed: ${ev.message}`);
        onReply?.({ type: "failed", message: ev.message });
      };
      worker.onmessage = ({ data: r }: MessageEvent<PumpReply>) => {
        if (r.type === "log") return log[r.level](r.message);
        if (r.type === "status") {
          waiting.get(r.id)?.(r);
          waiting.delete(r.id);
          return;
        }
        onReply?.(r);
      };
      const started = next("started");
      send({ type: "start", url: database.url, options });
      const timeout = new Promise<PumpReply>((resolve) =>
        setTimeout(
          () => resolve({ type: "failed", message: "no answer in 30 s" }),
          START_TIMEOUT_MS,
        )
      );
      const r = await Promise.race([started, timeout]);
      if (r.type === "started") return;
      worker.terminate();
      worker = null;
      log.error(
        `remote_write: the pump's worker did not start (${
          r.type === "failed" ? r.message : r.type
        }); pumping on the main thread`,
      );
      local = createPump({ ...deps, ...options });
      await local.start();
    },
    async stop() {
      if (local !== null) return local.stop();
      if (worker === null) return;
      const stopped = next("stopped");
      send({ type: "stop" });
      await stopped;
      worker.terminate();
      worker = null;
    },
    status() {
      if (local !== null) return local.status();
      if (worker === null) return stoppedStatus();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(
          id,
          (r) =>
            r.status !== null ? resolve(r.status) : reject(
              new Error(`remote_write status: ${r.error ?? "not started"}`),
            ),
        );
        send({ type: "status", id });
      });
    },
  };
}
