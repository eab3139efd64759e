/** The host detail page: live sections, history charts and guests. */
import { type ChartSpec, HistoryCharts } from "./history_charts.tsx";
import { Layout } from "./layout.tsx";
import {
  HostBackups,
  HostDisks,
  HostReplication,
  HostTemperatures,
} from "./host_health_sections.tsx";
import {
  GuestCount,
  GuestRows,
  HostDatasets,
  HostErrors,
  HostHeader,
  HostNow,
  HostPools,
  type HostSectionsProps,
  HostStorages,
  HostSystem,
} from "./host_sections.tsx";

const CHARTS: ChartSpec[] = [
  { metric: "cpu", title: "CPU" },
  { metric: "mem", title: "Memory" },
  { metric: "load", title: "Load" },
  { metric: "net", title: "Network" },
  { metric: "disk", title: "Disk IO" },
  { metric: "pools", title: "Pool capacity" },
];

const GUEST_COLUMNS: { label: string; sort: "number" | "text" }[] = [
  { label: "VMID", sort: "number" },
  { label: "Type", sort: "text" },
  { label: "Name", sort: "text" },
  { label: "Status", sort: "text" },
  { label: "CPU", sort: "number" },
  { label: "Memory", sort: "number" },
  { label: "Disk", sort: "number" },
  { label: "Uptime", sort: "number" },
  { label: "Tags", sort: "text" },
  { label: "IPs", sort: "text" },
];

function Guests(props: HostSectionsProps) {
  return (
    <section id="guests" aria-labelledby="guests-title">
      <div class="section-head">
        <h2 id="guests-title">
          Guests <GuestCount guests={props.guests} />
        </h2>
        <label class="filter">
          <span>Filter guests</span>
          <input
            id="guest-filter"
            type="search"
            placeholder="name, tag, IP…"
            autocomplete="off"
          />
        </label>
      </div>
      <div class="table-wrap">
        <table class="detail guests" id="guest-table">
          <thead>
            <tr>
              {GUEST_COLUMNS.map((col, i) => (
                <th scope="col" aria-sort={i === 0 ? "ascending" : undefined}>
                  <button type="button" data-col={i} data-sort={col.sort}>
                    {col.label}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <GuestRows guests={props.guests} host={props.overview.name} />
        </table>
      </div>
    </section>
  );
}

/** Renders the whole host page. */
export function HostPage(props: HostSectionsProps & { passwordSet: boolean }) {
  return (
    <Layout
      title={props.overview.name}
      passwordSet={props.passwordSet}
      vendorScripts={["uplot.js"]}
      scripts={["live.js", "guests.js", "charts.js"]}
      styles={["uplot.css"]}
    >
      <main class="host" data-page="host" data-host={props.overview.name}>
        <p class="crumbs">
          <a href="/">← All hosts</a>
        </p>
        <HostHeader {...props} />
        <HostNow {...props} />
        <HistoryCharts charts={CHARTS} />
        <HostPools {...props} />
        <HostDisks {...props} />
        <HostDatasets {...props} />
        <HostStorages {...props} />
        <Guests {...props} />
        <HostBackups {...props} />
        <HostReplication {...props} />
        <HostTemperatures {...props} />
        <HostSystem {...props} />
        <HostErrors {...props} />
      </main>
    </Layout>
  );
}
