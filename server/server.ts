/**
 * Starting and stopping the whole server: database, app, WebSocket adapter,
 * retention and token checks. `main.ts` calls this with the real
 * environment's config; tests call it with a temporary database and port 0.
 */
import { CLOSE_CODES } from "@proxmon/shared";
import { closeAllAgents, startTokenWatch } from "./ingest/agent_registry.ts";
import { createApp } from "./app.ts";
import { type Clock, systemClock } from "@proxmon/shared/clock";
import type { ServerConfig } from "./config.ts";
import {
  checkpointWal,
  openDatabase,
  releaseFreePages,
} from "./store/client.ts";
import { type AppDeps, createAppDeps } from "./app_deps.ts";
import { markAllOffline } from "./store/hosts.ts";
import { consoleLogger, type Logger } from "@proxmon/shared/logger";
import { startMaintenance } from "./store/maintenance.ts";
import { compactHead } from "./store/compaction.ts";
import { importLegacyMetrics } from "./store/legacy_import.ts";
import { flushLatest } from "./store/sample_store.ts";
import { tierRetention } from "./store/tiers.ts";
import type { WriterStats } from "./ingest/sample_writer.ts";
import { createWsAdapter, type WsAdapter } from "./ws/mod.ts";
import { loadAlertsConfig } from "./alerts/alerts_file.ts";
import {
  createClientAddress,
  peerAddress,
  trustedProxyList,
} from "./auth/client_address.ts";
import {
  type FrontStats,
  startTcpFront,
  type TcpFront,
} from "./edge/tcp_front.ts";
import { connectionsFor, readFdLimit } from "./edge/fd_limit.ts";
import { startWorkerFront } from "./edge/worker_front.ts";

/** Connections at most when the file limit allows more (memory bound). */
const MAX_CONNECTIONS_CAP = 4096;
/** how long a clean stop spends compacting the open windows, at most */
const SHUTDOWN_COMPACT_MS = 10_000;

export interface RunningServer {
  /** e.g. http://127.0.0.1:4000; localhost when listening on every interface */
  url: string;
  /** the address it listens on, as bound: `127.0.0.1:4000`, `0.0.0.0:4000`, `[::]:4000` */
  address: string;
  port: number;
  deps: AppDeps;
  /** one line on the connection limits in force, for the start-up log */
  limits: string;
  /** the public listener's counters (refused, evicted, timeouts, …) */
  edgeStats(): Promise<FrontStats>;
  /**
   * Refuses new agents, commits every sample received, closes the sockets
   * and the database. Safe to call twice.
   */
  shutdown(): Promise<WriterStats>;
}

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** defaults to the one config.wsAdapter names */
  adapter?: WsAdapter;
  /** compaction, rollups and retention; defaults to every 5 minutes */
  maintenanceIntervalMs?: number;
  /** alert tick period; defaults to 5 s */
  alertsTickMs?: number;
}

/** Opens the database (migrating it), then serves the app. */
export async function startServer(
  config: ServerConfig,
  opts: StartOptions = {},
): Promise<RunningServer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? consoleLogger;
  const adapter = opts.adapter ?? createWsAdapter(config);
  // Read before the database opens, so a bad alerts.toml stops the start
  // with one line and touches nothing.
  const loaded = await loadAlertsConfig(config.alertsFile);
  // alerts.toml's public_url wins; PUBLIC_URL is the server-wide default
  const alertsConfig = {
    ...loaded,
    publicUrl: loaded.publicUrl ?? config.publicUrl?.replace(/\/+$/, "") ??
      null,
  };
  const database = await openDatabase(config.databaseUrl, {
    authToken: config.databaseAuthToken ?? undefined,
  });
  // No socket survives a restart, so any "online" left in the table is stale.
  await markAllOffline(database);
  // A database of the first version is converted before anything reads it.
  const imported = await importLegacyMetrics(
    database,
    clock.now(),
    (done, total) => {
      if (done % 50_000 < 1000) {
        log.info(`store: converting samples, ${done}/${total}`);
      }
    },
  );
  if (imported) {
    log.info(
      `store: converted ${imported.samples} stored samples of ${imported.hosts} hosts into ${imported.series} series (${imported.blocks} blocks) and ${imported.stateChanges} state changes, with the latest state of each host, in ${
        (imported.ms / 1000).toFixed(1)
      } s`,
    );
  }
  const stopping = new AbortController();
  // Set once the front listens; the app reads it per request, after that.
  let front: TcpFront | null = null;
  const trusted = trustedProxyList(config.trustedProxies);
  const deps = createAppDeps({
    config,
    database,
    clock,
    log,
    upgradeWebSocket: adapter.upgradeWebSocket,
    shutdown: stopping.signal,
    clientAddress: createClientAddress(
      peerAddress(adapter.getConnInfo, (port) => front?.clientOf(port)),
      trusted,
    ),
    alertsConfig,
    alertsTickMs: opts.alertsTickMs,
  });
  await deps.alerts.start();
  // The HTTP server listens on loopback only; the front takes the public
  // address and guards it (see edge/tcp_front.ts).
  const served = await adapter.serve(createApp(deps), {
    hostname: "127.0.0.1",
    port: 0,
    onError: (m) => log.error(m),
  });
  const fdLimit = readFdLimit();
  const maxConnections = config.maxConnections ??
    connectionsFor(fdLimit, MAX_CONNECTIONS_CAP);
  const frontOptions = {
    hostname: config.hostname,
    port: config.port,
    upstreamPort: served.port,
    headerTimeoutMs: config.headerTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxConnections,
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    maxPendingPerClient: config.maxPendingPerClient,
    log,
  };
  let started: TcpFront;
  try {
    // On its own thread (see edge/worker_front.ts), unless a test drives
    // time with a clock of its own, which only this thread has.
    started = opts.clock === undefined
      ? await startWorkerFront({
        ...frontOptions,
        trustedProxies: config.trustedProxies,
      })
      : startTcpFront({ ...frontOptions, exempt: trusted, clock });
  } catch (err) {
    await served.close();
    database.close();
    throw err;
  }
  front = started;
  const listening = started;
  const maintenance = startMaintenance({
    database,
    clock,
    log,
    retention: tierRetention(config),
    intervalMs: opts.maintenanceIntervalMs ?? config.maintenanceIntervalMs,
  });
  await deps.remoteWrite?.start();
  const tokenWatch = startTokenWatch({
    database,
    agents: deps.agents,
    clock,
    log,
    intervalMs: config.tokenCheckMs,
  });

  const bound = listening.hostname.includes(":")
    ? `[${listening.hostname}]`
    : listening.hostname;
  const shownHost = ["0.0.0.0", "::"].includes(listening.hostname)
    ? "localhost"
    : bound;
  let stopped: Promise<WriterStats> | null = null;
  const shutdown = async (): Promise<WriterStats> => {
    stopping.abort();
    await Promise.all([maintenance.stop(), tokenWatch.stop()]);
    // Commit first, so the samples already received are acked before their
    // sockets close; whatever arrives meanwhile is committed by close().
    await deps.writer.flush();
    await closeAllAgents(deps.agents, "server_shutdown", CLOSE_CODES.shutdown, {
      clock,
      waitMs: 2000,
    });
    await served.close();
    await listening.close();
    await deps.writer.close();
    // The newest fast payloads the store kept in memory only (see
    // LATEST_WRITE_MS) go to disk before it closes.
    await flushLatest(database);
    // The open 2-hour windows go into blocks too, so the file left behind
    // (and a copy of it) is compact; bounded, so a big fleet's stop does not
    // outlast systemd's patience. What is left stays in the head, safely.
    const stopBy = clock.now() + SHUTDOWN_COMPACT_MS;
    await compactHead(database, clock.now(), {
      openWindows: true,
      shouldStop: () => clock.now() > stopBy,
    }).catch((err) => log.error("could not compact the open windows", err));
    await deps.remoteWrite?.stop();
    await deps.alerts.stop();
    await releaseFreePages(database).catch((err) =>
      log.error("could not release the database's free pages", err)
    );
    await checkpointWal(database).catch((err) =>
      log.error("could not checkpoint the database's WAL", err)
    );
    database.close();
    return deps.writer.stats();
  };
  return {
    url: `http://${shownHost}:${listening.port}`,
    address: `${bound}:${listening.port}`,
    port: listening.port,
    deps,
    limits: `connections: at most ${maxConnections} (open-file limit ${
      fdLimit?.soft ?? "unknown"
    }), ${config.maxConnectionsPerClient} per client, ${config.maxPendingPerClient} per client before a complete request`,
    edgeStats: () => listening.stats(),
    shutdown: () => stopped ??= shutdown(),
  };
}
