/**
 * The TCP front (tcp_front.ts) on a thread of its own. Every byte between a
 * client and the HTTP server passes through the front: two reads, two
 * writes and a second loopback hop per agent frame and per ack. On the
 * event loop that also parses, validates and stores the samples, that was
 * a quarter of what ingest could do; on a Worker it runs beside it.
 *
 * The HTTP server's thread keeps the table of upstream port → client that
 * `clientOf` reads. The Worker tells it of each upstream connection and
 * waits for the answer before the connection's first byte goes up, so a
 * request never arrives before its client is known.
 *
 * If the Worker cannot start, the front runs on the calling thread, as
 * before; a failure to listen (the port taken) is the caller's error either
 * way.
 */
import { systemClock } from "@proxmon/shared/clock";
import {
  type Logger,
  type LogMessage,
  postingLogger,
} from "@proxmon/shared/logger";
import { trustedProxyList } from "../auth/client_address.ts";
import {
  type ClientAddr,
  type FrontStats,
  startTcpFront,
  type TcpFront,
  type TcpFrontLimits,
  zeroStats,
} from "./tcp_front.ts";

export interface WorkerFrontOptions extends TcpFrontLimits {
  hostname: string;
  port: number;
  upstreamPort: number;
  /** TRUSTED_PROXIES: exempt from the per-client caps */
  trustedProxies: readonly string[];
  log: Logger;
  sweepMs?: number;
  /** the Worker's module; tests give one that fails */
  workerUrl?: URL;
}

type Serializable = Omit<WorkerFrontOptions, "log" | "workerUrl">;

type ToWorker =
  | { type: "start"; options: Serializable }
  | { type: "linked"; id: number }
  | { type: "stats"; id: number }
  | { type: "close" };

type FromWorker =
  | { type: "listening"; hostname: string; port: number }
  | { type: "failed"; name: string; message: string }
  | { type: "link"; id: number; upstreamPort: number; client: ClientAddr }
  | { type: "unlink"; upstreamPort: number }
  | { type: "stats"; id: number; stats: FrontStats }
  | LogMessage
  | { type: "closed" }
  /** not from the Worker: its error event, before it listened */
  | { type: "crashed" };

/** The Worker's side of its messages (`self` in front_worker.ts). */
export interface FrontPort {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}

const START_TIMEOUT_MS = 30_000;
const RELISTEN_TRIES = 100;
const RELISTEN_PAUSE_MS = 100;

/** Runs the front inside the Worker; called by front_worker.ts. */
export function serveFront(port: FrontPort): void {
  let front: TcpFront | null = null;
  let nextId = 0;
  const linked = new Map<number, () => void>();
  const log = postingLogger((line) => port.postMessage(line));
  port.onmessage = async ({ data: m }) => {
    if (m.type === "start") {
      const { trustedProxies, ...options } = m.options;
      try {
        front = startTcpFront({
          ...options,
          exempt: trustedProxyList(trustedProxies),
          clock: systemClock,
          log,
          onLink: (upstreamPort, client) =>
            new Promise<void>((resolve) => {
              const id = nextId++;
              linked.set(id, resolve);
              port.postMessage({ type: "link", id, upstreamPort, client });
            }),
          onUnlink: (upstreamPort) =>
            port.postMessage({ type: "unlink", upstreamPort }),
        });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        port.postMessage({ type: "failed", name: e.name, message: e.message });
        return;
      }
      port.postMessage({
        type: "listening",
        hostname: front.hostname,
        port: front.port,
      });
    } else if (m.type === "linked") {
      linked.get(m.id)?.();
      linked.delete(m.id);
    } else if (m.type === "stats") {
      const stats = await front!.stats();
      port.postMessage({ type: "stats", id: m.id, stats });
    } else if (m.type === "close") {
      await front?.close();
      port.postMessage({ type: "closed" });
    }
  };
}

/** An error the Worker reported, as the class `Deno.listen` would throw. */
function listenError(name: string, message: string): Error {
  const Known = (Deno.errors as unknown as Record<
    string,
    (new (message: string) => Error) | undefined
  >)[name];
  const err = Known ? new Known(message) : new Error(message);
  if (!Known) err.name = name;
  return err;
}

/**
 * Starts the front on a Worker; resolves once it listens. Rejects with the
 * listen error (for example `AddrInUse`) as `startTcpFront` throws it.
 */
export async function startWorkerFront(
  opts: WorkerFrontOptions,
): Promise<TcpFront> {
  const { log, workerUrl, ...options } = opts;
  let worker: Worker;
  try {
    worker = new Worker(
      workerUrl ?? new URL("./front_worker.ts", import.meta.url),
      { type: "module" },
    );
  } catch (err) {
    log.error("the TCP front's worker did not start; it runs inline", err);
    return inline(opts);
  }
  /** set once the Worker has failed: the front then runs on this thread */
  let replacement: TcpFront | null = null;
  /** the Worker has failed: no answer will come from it */
  let dead = false;
  let listening: { hostname: string; port: number } | null = null;
  const clients = new Map<number, ClientAddr>();
  const asked = new Map<number, (stats: FrontStats) => void>();
  let nextId = 0;
  const started = Promise.withResolvers<FromWorker>();
  const closed = Promise.withResolvers<void>();
  const send = (m: ToWorker) => worker.postMessage(m);
  worker.onerror = (ev) => {
    // Handled here, or Deno ends the whole process with it.
    ev.preventDefault();
    dead = true;
    worker.terminate();
    closed.resolve();
    for (const answer of asked.values()) answer(zeroStats());
    asked.clear();
    clients.clear();
    if (listening === null) {
      log.error(
        `the TCP front's worker failed (${ev.message}); it runs inline`,
      );
      started.resolve({ type: "crashed" });
      return;
    }
    // Its listener went with it; the same port is taken again here.
    log.error(
      `the TCP front's worker failed (${ev.message}); the front runs inline from now on`,
    );
    void listenAgain(listening.port);
  };
  /** The dead Worker's listener closes a moment after it: try for a while. */
  async function listenAgain(port: number) {
    for (let tries = 1;; tries++) {
      try {
        replacement = inline({ ...opts, port });
        return;
      } catch (err) {
        if (tries === RELISTEN_TRIES) {
          return log.error("the TCP front could not listen again", err);
        }
        await new Promise((r) => setTimeout(r, RELISTEN_PAUSE_MS));
      }
    }
  }
  worker.onmessage = ({ data: m }: MessageEvent<FromWorker>) => {
    switch (m.type) {
      case "link":
        clients.set(m.upstreamPort, m.client);
        return send({ type: "linked", id: m.id });
      case "unlink":
        clients.delete(m.upstreamPort);
        return;
      case "stats":
        asked.get(m.id)?.(m.stats);
        asked.delete(m.id);
        return;
      case "log":
        return log[m.level](m.message);
      case "closed":
        return closed.resolve();
      default:
        started.resolve(m);
    }
  };
  send({ type: "start", options });
  const timeout = setTimeout(
    () =>
      started.resolve({
        type: "failed",
        name: "TimedOut",
        message: `no answer in ${START_TIMEOUT_MS / 1000} s`,
      }),
    START_TIMEOUT_MS,
  );
  const r = await started.promise.finally(() => clearTimeout(timeout));
  if (r.type === "crashed") return inline(opts);
  if (r.type === "failed") {
    worker.terminate();
    throw listenError(r.name, r.message);
  }
  const at = r as Extract<FromWorker, { type: "listening" }>;
  listening = at;
  let closing: Promise<void> | null = null;
  return {
    hostname: at.hostname,
    port: at.port,
    clientOf: (upstreamPort) =>
      replacement?.clientOf(upstreamPort) ?? clients.get(upstreamPort),
    stats: () =>
      replacement?.stats() ?? new Promise((resolve, reject) => {
        if (closing !== null) {
          return reject(new Error("the TCP front is closed"));
        }
        // Between a failed Worker and the front taking the port again.
        if (dead) return resolve(zeroStats());
        const id = nextId++;
        asked.set(id, resolve);
        send({ type: "stats", id });
      }),
    close() {
      closing ??= (async () => {
        if (replacement === null) send({ type: "close" });
        await closed.promise;
        worker.terminate();
        await replacement?.close();
      })();
      return closing;
    },
  };
}

function inline(opts: WorkerFrontOptions): TcpFront {
  const { trustedProxies, workerUrl: _, ...options } = opts;
  return startTcpFront({
    ...options,
    exempt: trustedProxyList(trustedProxies),
    clock: systemClock,
  });
}
