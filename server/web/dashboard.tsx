/**
 * The web dashboard as a sub-app: the overview and host pages, the HTML
 * fragments the live script swaps in, the live event stream and the static
 * assets. Authentication comes in as guards, so the app decides the policy.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Clock } from "@proxmon/shared/clock";
import type { Database } from "../store/client.ts";
import type { EventBus } from "../ingest/event_bus.ts";
import { createAssets } from "./assets.ts";
import { mergeGuests } from "./guest_list.ts";
import {
  buildHostOverview,
  type HostSnapshot,
  sortHosts,
} from "./host_overview.ts";
import { liveEvents } from "./live_events.ts";
import { pageHeaders } from "./page_headers.ts";
import { loadFleet, loadHostSnapshot } from "./snapshots.ts";
import { HostPage } from "./views/host_page.tsx";
import {
  HostLiveSections,
  type HostSectionsProps,
} from "./views/host_sections.tsx";
import { NotFoundPage } from "./views/not_found_page.tsx";
import type { AlertEngine } from "../alerts/engine.ts";
import { countAlerts } from "../alerts/alerts_api.ts";
import { loadAlertHistory } from "../alerts/alert_store.ts";
import { AlertsContext, type AlertsSnapshot } from "./views/alert_banner.tsx";
import { AlertsPage } from "./views/alerts_page.tsx";
import type { Child } from "hono/jsx";
import { GuestPage } from "./views/guest_page.tsx";
import { queryStateChanges } from "../store/state_changes.ts";
import {
  FleetSummary,
  OverviewPage,
  OverviewRow,
} from "./views/overview_page.tsx";

export interface DashboardDeps {
  database: Database;
  clock: Clock;
  bus: EventBus;
  auth: {
    requirePage: MiddlewareHandler;
    requireApi: MiddlewareHandler;
    passwordSet: boolean;
  };
  /** between keep-alive comments on idle event streams */
  keepAliveMs?: number;
  /** aborted at shutdown, to end open event streams */
  signal?: AbortSignal;
  /** the alert engine, for the banner, the overview rows and /alerts */
  alerts?: AlertEngine;
}

function hostProps(snap: HostSnapshot, now: number): HostSectionsProps {
  return {
    snap,
    overview: buildHostOverview(snap, now),
    guests: mergeGuests(
      snap.fast?.payload.vms_runtime.vms ?? [],
      snap.medium?.payload.vms_detail.vms ?? [],
    ),
    now,
  };
}

/** Builds the dashboard routes. */
export function createDashboard(deps: DashboardDeps): Hono {
  const { database, clock, auth } = deps;
  const passwordSet = auth.passwordSet;
  const app = new Hono();
  app.route("/", createAssets());

  // Channel status costs a few queries; pages share it for a few seconds.
  let failing: { at: number; list: AlertsSnapshot["failing"] } | null = null;
  const snapshot = async (): Promise<AlertsSnapshot | null> => {
    const engine = deps.alerts;
    if (engine === undefined) return null;
    const now = clock.now();
    if (failing === null || now - failing.at > 5000) {
      const status = await engine.queue.status();
      failing = {
        at: now,
        list: status.filter((ch) => ch.last !== null && !ch.last.ok).map(
          (ch) => ({ name: ch.name, detail: ch.last!.detail.slice(0, 80) }),
        ),
      };
    }
    const active = engine.active();
    return { counts: countAlerts(active), active, failing: failing.list };
  };
  const withAlerts = async (node: Child) => (
    <AlertsContext.Provider value={await snapshot()}>
      {node}
    </AlertsContext.Provider>
  );

  const fleet = async () => {
    const now = clock.now();
    const snaps = await loadFleet(database);
    return {
      now,
      hosts: sortHosts(snaps.map((s) => buildHostOverview(s, now))),
    };
  };

  app.get("/", pageHeaders, auth.requirePage, async (c) => {
    const { now, hosts } = await fleet();
    return c.html(
      await withAlerts(
        <OverviewPage hosts={hosts} now={now} passwordSet={passwordSet} />,
      ),
    );
  });

  app.get("/hosts/:name", pageHeaders, auth.requirePage, async (c) => {
    const name = c.req.param("name");
    const snap = await loadHostSnapshot(database, name);
    if (!snap) {
      return c.html(
        await withAlerts(
          <NotFoundPage name={name} passwordSet={passwordSet} />,
        ),
        404,
      );
    }
    return c.html(
      await withAlerts(
        <HostPage
          {...hostProps(snap, clock.now())}
          passwordSet={passwordSet}
        />,
      ),
    );
  });

  app.get("/alerts", pageHeaders, auth.requirePage, async (c) => {
    const engine = deps.alerts;
    if (engine === undefined) return c.notFound();
    const [channels, history] = await Promise.all([
      engine.queue.status(),
      loadAlertHistory(database, 100),
    ]);
    return c.html(
      await withAlerts(
        <AlertsPage
          passwordSet={passwordSet}
          active={engine.active()}
          silences={engine.silences()}
          channels={channels}
          history={history}
        />,
      ),
    );
  });

  app.get(
    "/hosts/:name/guests/:vmid",
    pageHeaders,
    auth.requirePage,
    async (c) => {
      const name = c.req.param("name");
      const vmidText = c.req.param("vmid");
      const snap = await loadHostSnapshot(database, name);
      if (!snap || !/^\d{1,9}$/.test(vmidText)) {
        return c.html(
          <NotFoundPage name={name} passwordSet={passwordSet} />,
          404,
        );
      }
      const vmid = Number(vmidText);
      const now = clock.now();
      const fromMs = now - 7 * 86_400_000;
      const props = hostProps(snap, now);
      const guest = props.guests.find((g) => g.vmid === vmid) ?? null;
      const changes = await queryStateChanges(database, {
        hostId: snap.host.id,
        kind: "guest.status",
        object: String(vmid),
        limit: 200,
      });
      // The newest change before the window says what it started as.
      const inWindow = changes.filter((x) => x.at >= fromMs);
      const before = changes.find((x) => x.at < fromMs);
      if (!guest && changes.length === 0) {
        return c.html(
          <NotFoundPage
            name={`${name} guest ${vmid}`}
            passwordSet={passwordSet}
          />,
          404,
        );
      }
      return c.html(
        <GuestPage
          host={snap.host.name}
          vmid={vmid}
          guest={guest}
          statusChanges={before ? [...inWindow, before] : inWindow}
          fromMs={fromMs}
          nowMs={now}
          passwordSet={passwordSet}
        />,
      );
    },
  );

  // The overview rows of the named hosts (all when none are named), plus
  // the fleet counts, which any host's change may move.
  app.get("/fragments/overview", auth.requireApi, async (c) => {
    const names = new Set(c.req.queries("host") ?? []);
    const { now, hosts } = await fleet();
    const rows = names.size === 0
      ? hosts
      : hosts.filter((h) => names.has(h.name));
    return c.html(
      await withAlerts(
        <>
          <FleetSummary hosts={hosts} />
          <table>
            <tbody>
              {rows.map((h) => <OverviewRow host={h} now={now} />)}
            </tbody>
          </table>
        </>,
      ),
    );
  });

  app.get("/fragments/hosts/:name", auth.requireApi, async (c) => {
    const snap = await loadHostSnapshot(database, c.req.param("name"));
    if (!snap) return c.json({ error: "host_not_found" }, 404);
    return c.html(<HostLiveSections {...hostProps(snap, clock.now())} />);
  });

  app.get(
    "/events",
    auth.requireApi,
    liveEvents({
      bus: deps.bus,
      clock,
      keepAliveMs: deps.keepAliveMs,
      signal: deps.signal,
    }),
  );
  return app;
}
