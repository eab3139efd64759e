/** A guest's page: its charts, its status over time, and where it lives. */
import type { StateChange } from "../../store/state_changes.ts";
import type { GuestRow } from "../guest_list.ts";
import { type ChartSpec, HistoryCharts } from "./history_charts.tsx";
import { Layout } from "./layout.tsx";

export interface GuestPageProps {
  host: string;
  vmid: number;
  /** null when the latest samples no longer list it */
  guest: GuestRow | null;
  /** guest.status changes, newest first, and the window they cover */
  statusChanges: StateChange[];
  fromMs: number;
  nowMs: number;
  passwordSet: boolean;
}

interface Segment {
  from: number;
  to: number;
  status: string;
}

/** The statuses between `fromMs` and `nowMs` as time segments, oldest first. */
export function statusSegments(
  changes: StateChange[],
  fromMs: number,
  nowMs: number,
): Segment[] {
  const oldestFirst = [...changes].reverse();
  const segments: Segment[] = [];
  oldestFirst.forEach((c, i) => {
    const to = oldestFirst[i + 1]?.at ?? nowMs;
    const from = Math.max(fromMs, c.at);
    if (to > from) segments.push({ from, to, status: c.value ?? "gone" });
  });
  return segments;
}

const iso = (ms: number) => new Date(ms).toISOString();

function StatusTimeline(props: GuestPageProps) {
  const segments = statusSegments(
    props.statusChanges,
    props.fromMs,
    props.nowMs,
  );
  const span = props.nowMs - props.fromMs;
  return (
    <section id="status" aria-labelledby="status-title">
      <h2 id="status-title">Status, last 7 days</h2>
      {segments.length === 0
        ? <p class="muted">No status recorded in this window.</p>
        : (
          <svg
            class="timeline"
            role="img"
            aria-label="status over time"
            viewBox="0 0 1000 20"
            preserveAspectRatio="none"
          >
            {segments.map((s) => (
              // SVG attributes, not inline styles: the page's CSP allows
              // no style attributes.
              <rect
                class={`segment status-${s.status}`}
                x={((s.from - props.fromMs) / span) * 1000}
                y="0"
                width={Math.max(2, ((s.to - s.from) / span) * 1000)}
                height="20"
                data-status={s.status}
              >
                <title>
                  {`${s.status} from ${iso(s.from)} to ${iso(s.to)}`}
                </title>
              </rect>
            ))}
          </svg>
        )}
      <table class="detail changes">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Status</th>
            <th scope="col">Before</th>
          </tr>
        </thead>
        <tbody>
          {props.statusChanges.map((c) => (
            <tr>
              <td>
                <time datetime={iso(c.at)}>
                  {iso(c.at).replace("T", " ").slice(0, 19)}
                </time>
              </td>
              <td>{c.value ?? "gone"}</td>
              <td class="muted">{c.previous ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Renders the guest page. */
export function GuestPage(props: GuestPageProps) {
  const q = `vmid=${props.vmid}`;
  const charts: ChartSpec[] = [
    { metric: "guest_cpu", title: "CPU", query: q },
    { metric: "guest_mem", title: "Memory", query: q },
    { metric: "guest_net", title: "Network", query: q },
    { metric: "guest_disk", title: "Disk IO", query: q },
  ];
  const name = props.guest?.name ?? `guest ${props.vmid}`;
  return (
    <Layout
      title={`${name} on ${props.host}`}
      passwordSet={props.passwordSet}
      vendorScripts={["uplot.js"]}
      scripts={["live.js", "charts.js"]}
      styles={["uplot.css"]}
    >
      <main
        class="guest"
        data-page="guest"
        data-host={props.host}
        data-vmid={props.vmid}
      >
        <p class="crumbs">
          <a href={`/hosts/${encodeURIComponent(props.host)}`}>
            ← {props.host}
          </a>
        </p>
        <header class="page-head">
          <h1>
            {name} <span class="muted">{props.vmid}</span>
          </h1>
          {props.guest && (
            <p>
              <span
                class={`badge ${props.guest.status === "running" ? "ok" : ""}`}
              >
                {props.guest.status}
              </span>{" "}
              {props.guest.type === "qemu" ? "VM" : "container"}
            </p>
          )}
        </header>
        <HistoryCharts charts={charts} />
        <StatusTimeline {...props} />
      </main>
    </Layout>
  );
}
