/**
 * The alert banner every page shows, and the alert chips in overview rows.
 * Pages get the alerts through a JSX context, set once per response by the
 * dashboard (`withAlerts`), so no page has to pass them down.
 */
import { createContext, useContext } from "hono/jsx";
import type { AlertCounts } from "../../alerts/alerts_api.ts";
import type { AlertView } from "../../alerts/engine.ts";

export interface AlertsSnapshot {
  counts: AlertCounts;
  active: AlertView[];
  /** channels whose last delivery attempt failed */
  failing: { name: string; detail: string }[];
}

export const AlertsContext = createContext<AlertsSnapshot | null>(null);

/** Counts of firing and pending alerts, and failing channels, on every page. */
export function AlertBanner() {
  const alerts = useContext(AlertsContext);
  if (alerts === null) return null;
  const { counts, failing } = alerts;
  const open = counts.firing + counts.acknowledged + counts.silenced;
  return (
    <>
      {open > 0 && (
        <p
          class={`banner alerts ${counts.crit > 0 ? "critical" : "warning"}`}
          role="alert"
          id="alert-banner"
        >
          <a href="/alerts">
            <strong>
              {counts.firing} alert{counts.firing === 1 ? "" : "s"} firing
            </strong>
            {counts.firing > 0 && ` (${counts.crit} crit, ${counts.warn} warn)`}
            {counts.acknowledged > 0 &&
              ` · ${counts.acknowledged} acknowledged`}
            {counts.silenced > 0 && ` · ${counts.silenced} silenced`}
            {counts.pending > 0 && ` · ${counts.pending} pending`}
          </a>
        </p>
      )}
      {failing.length > 0 && (
        <p class="banner critical" role="alert" id="delivery-banner">
          <a href="/alerts#channels">
            Notifications failing on {failing.map((f) =>
              `${f.name} (${f.detail})`
            ).join(", ")}
          </a>
        </p>
      )}
    </>
  );
}

/** The active alerts of one host, for its overview row. */
export function HostAlerts(props: { host: string }) {
  const alerts = useContext(AlertsContext);
  const mine =
    alerts?.active.filter((a) =>
      a.host === props.host && a.state !== "pending"
    ) ?? [];
  if (mine.length === 0) return null;
  return (
    <ul class="host-alerts" aria-label={`Alerts on ${props.host}`}>
      {mine.map((a) => (
        <li class={a.severity === "crit" ? "critical" : "warning"}>
          <a href="/alerts">{a.rule}</a>: {a.summary}
          {a.state !== "firing" && ` (${a.state})`}
        </li>
      ))}
    </ul>
  );
}
