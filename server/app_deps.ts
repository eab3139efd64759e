/**
 * Everything the app's routes need, built once by `main.ts` (through
 * `startServer`) or by a test. Add new shared services here rather than
 * reaching for module state.
 */
import type { UpgradeWebSocket } from "hono/ws";
import { getConnInfo } from "hono/deno";
import {
  type ClientAddressOf,
  createClientAddress,
  peerAddress,
  trustedProxyList,
} from "./auth/client_address.ts";
import {
  type AgentRegistry,
  createAgentRegistry,
} from "./ingest/agent_registry.ts";
import type { Clock } from "@proxmon/shared/clock";
import type { ServerConfig } from "./config.ts";
import type { Database } from "./store/client.ts";
import { createEventBus, type EventBus } from "./ingest/event_bus.ts";
import type { Logger } from "@proxmon/shared/logger";
import {
  type AlertsConfig,
  resolveAlertsConfig,
} from "./alerts/alerts_config.ts";
import { type AlertEngine, createAlertEngine } from "./alerts/engine.ts";
import { BUILTIN_RULES } from "./alerts/rules/mod.ts";
import {
  createSampleWriter,
  type SampleWriter,
} from "./ingest/sample_writer.ts";
import { createLatestCache, type LatestState } from "./export/latest_state.ts";
import {
  createFleetExposition,
  type FleetExposition,
} from "./export/fleet_exposition.ts";
import { workerPump } from "./export/remote_write/worker_pump.ts";
import {
  createRemoteWriter,
  type RemoteWriter,
} from "./export/remote_write/remote_writer.ts";

/** What the caller provides. */
export interface BaseDeps {
  config: ServerConfig;
  database: Database;
  clock: Clock;
  log: Logger;
  /** from the WebSocket adapter (server/ws/) */
  upgradeWebSocket: UpgradeWebSocket;
  /**
   * Aborted when shutdown begins. Long-lived responses (event streams)
   * should end on it, and new agent sockets are refused from then on.
   */
  shutdown: AbortSignal;
  /**
   * The client a request came from (rate limits); defaults to the peer as
   * `hono/deno` reports it, with TRUSTED_PROXIES applied.
   */
  clientAddress?: ClientAddressOf;
  /** alerts.toml, resolved; defaults to the built-in rules and no channels */
  alertsConfig?: AlertsConfig;
  /** alert tick period (tests shorten it) */
  alertsTickMs?: number;
}

export interface AppDeps extends BaseDeps {
  clientAddress: ClientAddressOf;
  /** live updates: committed samples and status changes */
  events: EventBus;
  /** the live agent sockets of this process */
  agents: AgentRegistry;
  /** batched ingest */
  writer: SampleWriter;
  /** every host's latest samples, for `/metrics` */
  latest: LatestState;
  /** the fleet's `/metrics` lines, rendered once per latest sample */
  exposition: FleetExposition;
  /** null unless REMOTE_WRITE_URL is set; `startServer` starts it */
  remoteWrite: RemoteWriter | null;
  /** rules, alert state and notifications; `start()` it before serving */
  alerts: AlertEngine;
}

/** Adds the in-process services to the caller's dependencies. */
export function createAppDeps(base: BaseDeps): AppDeps {
  const events = createEventBus((err) =>
    base.log.error("event listener failed:", err)
  );
  const remoteWrite = base.config.remoteWrite === null
    ? null
    : createRemoteWriter({
      database: base.database,
      clock: base.clock,
      log: base.log,
      config: base.config.remoteWrite,
      // A local file's queue is sent from a Worker with its own connection,
      // so the pump never waits behind ingest (REMOTE_WRITE_WORKER=0: here).
      pump: base.config.remoteWrite.worker &&
          base.database.url.startsWith("file:")
        ? workerPump
        : undefined,
    });
  const latest = createLatestCache(base.database);
  const exposition = createFleetExposition({ latest, clock: base.clock });
  const alerts = createAlertEngine({
    database: base.database,
    clock: base.clock,
    log: base.log,
    config: base.alertsConfig ??
      resolveAlertsConfig(null, "(defaults)", BUILTIN_RULES),
    tickMs: base.alertsTickMs,
  });
  return {
    ...base,
    clientAddress: base.clientAddress ??
      createClientAddress(
        peerAddress(getConnInfo),
        trustedProxyList(base.config.trustedProxies),
      ),
    events,
    agents: createAgentRegistry(),
    writer: createSampleWriter({
      database: base.database,
      clock: base.clock,
      events,
      windowMs: base.config.commitWindowMs,
      tap: remoteWrite,
      onStored: (samples) => {
        latest.observe(samples);
        exposition.observe(samples);
        alerts.observeAll(samples);
      },
    }),
    latest,
    exposition,
    remoteWrite,
    alerts,
  };
}
