/** The fleet overview: one row per host, problem hosts first. */
import { HostAlerts } from "./alert_banner.tsx";
import {
  formatAgo,
  formatBytes,
  formatCount,
  formatNumber,
  formatPercent,
} from "../static/format.js";
import { type HostOverview, severityRank, sortKey } from "../host_overview.ts";
import { POOL_CAPACITY_LIMIT, STORAGE_USE_LIMIT } from "../../host_state.ts";
import { Layout } from "./layout.tsx";
import { UsageMeter } from "./meter.tsx";

const SEVERITY_CLASS = ["critical", "warning", "ok"];

/** Counts shown above the table; the live script recounts them. */
export function FleetSummary(props: { hosts: HostOverview[] }) {
  const online = props.hosts.filter((h) => h.online).length;
  const problems = props.hosts.filter((h) => h.problems.length > 0).length;
  return (
    <p id="fleet-summary" class="fleet-summary" data-live>
      <span>{formatCount(props.hosts.length, "host")}</span>
      <span>{online} online</span>
      <span class={problems > 0 ? "text-critical" : ""}>
        {problems} with problems
      </span>
    </p>
  );
}

function Ago(props: { at: number | null; now: number }) {
  return (
    <time
      class="ago"
      data-ts={props.at ?? undefined}
      datetime={props.at === null
        ? undefined
        : new Date(props.at).toISOString()}
    >
      {formatAgo(props.at, props.now)}
    </time>
  );
}

/** One host's row; its id lets the live script swap it in place. */
export function OverviewRow(props: { host: HostOverview; now: number }) {
  const h = props.host;
  const rank = severityRank(h);
  const memFraction = h.memUsed !== null && h.memTotal
    ? h.memUsed / h.memTotal
    : null;
  const pool = h.fullestPool;
  const storage = h.fullestStorage;
  return (
    <tr
      id={`host-${h.name}`}
      class={`host ${SEVERITY_CLASS[rank]}`}
      data-live
      data-host={h.name}
      data-sort={sortKey(h)}
      data-online={String(h.online)}
      data-problems={String(h.problems.length)}
    >
      <th scope="row" data-label="Host">
        <a class="host-name" href={`/hosts/${encodeURIComponent(h.name)}`}>
          {h.name}
        </a>
        <span class={`badge ${h.online ? "ok" : "critical"}`}>
          {h.online ? "online" : "offline"}
        </span>
        <span class="seen">
          seen <Ago at={h.lastSeenAt} now={props.now} />
        </span>
        <HostAlerts host={h.name} />
        {h.problems.length > 0 && (
          <ul class="problems" aria-label={`Problems on ${h.name}`}>
            {h.problems.map((p) => <li class={p.severity}>{p.text}</li>)}
          </ul>
        )}
      </th>
      <td data-label="CPU" class="num">{formatPercent(h.cpuPercent)}</td>
      <td data-label="Memory">
        <UsageMeter
          fraction={memFraction}
          warnAt={0.85}
          label={`Memory used on ${h.name}`}
          text={`${formatBytes(h.memUsed)} / ${formatBytes(h.memTotal)}`}
        />
      </td>
      <td data-label="Load" class="num">
        {h.load ? h.load.map(formatNumber).join(" ") : "–"}
      </td>
      <td data-label="Pools">
        {h.worstPool
          ? (
            <span class="cell-stack">
              <span>
                <span
                  class={`badge ${
                    h.worstPool.health === "ONLINE" ? "ok" : "critical"
                  }`}
                >
                  {h.worstPool.health}
                </span>
                {h.worstPool.health !== "ONLINE" && ` ${h.worstPool.name}`}
              </span>
              {pool && (
                <UsageMeter
                  fraction={pool.capacityPercent / 100}
                  warnAt={POOL_CAPACITY_LIMIT / 100}
                  label={`Fullest pool on ${h.name}: ${pool.name}`}
                  text={`${pool.name} ${formatPercent(pool.capacityPercent)}`}
                />
              )}
            </span>
          )
          : <span class="muted">no pools</span>}
      </td>
      <td data-label="Storage">
        {storage
          ? (
            <UsageMeter
              fraction={storage.usedFraction}
              warnAt={STORAGE_USE_LIMIT}
              label={`Fullest storage on ${h.name}: ${storage.name}`}
              text={`${storage.name} ${
                formatPercent(storage.usedFraction * 100)
              }`}
            />
          )
          : <span class="muted">–</span>}
      </td>
      <td data-label="Guests" class="num">
        {h.guestsRunning} / {h.guestsTotal} running
      </td>
      <td data-label="Updates" class="num">
        {h.pendingUpdates === null
          ? "–"
          : (
            <span class={h.pendingUpdates > 0 ? "text-warning" : ""}>
              {h.pendingUpdates}
            </span>
          )}
      </td>
    </tr>
  );
}

export interface OverviewPageProps {
  /** already sorted, problem hosts first */
  hosts: HostOverview[];
  now: number;
  passwordSet: boolean;
}

/** Renders the whole overview page. */
export function OverviewPage(props: OverviewPageProps) {
  return (
    <Layout
      title="Overview"
      passwordSet={props.passwordSet}
      scripts={["live.js"]}
    >
      <main class="overview" data-page="overview">
        <h1>Hosts</h1>
        <FleetSummary hosts={props.hosts} />
        {props.hosts.length === 0
          ? (
            <p class="empty">
              No hosts yet. Register one with{" "}
              <code>deno task host register NAME</code> and start its agent.
            </p>
          )
          : (
            <table class="hosts">
              <caption class="visually-hidden">
                Hosts, problem hosts first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">CPU</th>
                  <th scope="col">Memory</th>
                  <th scope="col">Load 1/5/15</th>
                  <th scope="col">Pools</th>
                  <th scope="col">Fullest storage</th>
                  <th scope="col">Guests</th>
                  <th scope="col">Updates</th>
                </tr>
              </thead>
              <tbody id="host-rows">
                {props.hosts.map((h) => (
                  <OverviewRow
                    host={h}
                    now={props.now}
                  />
                ))}
              </tbody>
            </table>
          )}
      </main>
    </Layout>
  );
}
