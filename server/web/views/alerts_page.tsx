/**
 * /alerts: active alerts with acknowledge and silence buttons, silences,
 * channels with their last delivery result, and recent history. Plain HTML
 * forms POST to /api/alerts/… and come back here.
 */
import type { HistoryEntry, Silence } from "../../alerts/alert_store.ts";
import type { ChannelStatus } from "../../alerts/delivery/delivery_queue.ts";
import type { AlertView } from "../../alerts/engine.ts";
import type { Child } from "hono/jsx";
import { Layout } from "./layout.tsx";

export interface AlertsPageProps {
  passwordSet: boolean;
  active: AlertView[];
  silences: Silence[];
  channels: ChannelStatus[];
  history: HistoryEntry[];
}

const when = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** One part of the page: a heading, then its table, or `empty` when it has no rows. */
function Part(props: {
  /** the heading's id is `${name}-h` */
  name: string;
  title: string;
  /** the section's own id, where a link or a test needs one */
  id?: string;
  tableId: string;
  head: string[];
  empty: Child;
  rows: Child[];
  /** after the table */
  children?: Child;
}) {
  return (
    <section
      aria-labelledby={`${props.name}-h`}
      {...(props.id === undefined ? {} : { id: props.id })}
    >
      <h2 id={`${props.name}-h`}>{props.title}</h2>
      {props.rows.length === 0 ? props.empty : (
        <table id={props.tableId}>
          <thead>
            <tr>{props.head.map((h) => <th>{h}</th>)}</tr>
          </thead>
          <tbody>{props.rows}</tbody>
        </table>
      )}
      {props.children}
    </section>
  );
}

/** What a new silence matches on, each optional ("any" when empty). */
const SELECTOR_FIELDS = [
  ["rule", "Rule"],
  ["host", "Host"],
  ["object", "Object"],
  ["tag", "Tag"],
] as const;

function SilenceForm(props: { a: AlertView }) {
  const a = props.a;
  return (
    <form method="post" action="/api/alerts/silences" class="inline">
      <input type="hidden" name="rule" value={a.rule} />
      <input type="hidden" name="host" value={a.host} />
      <input type="hidden" name="object" value={a.object ?? ""} />
      <select name="duration" aria-label={`Silence ${a.rule} on ${a.host} for`}>
        <option value="1h">1 h</option>
        <option value="4h">4 h</option>
        <option value="1d">1 day</option>
        <option value="7d">7 days</option>
      </select>
      <button type="submit">Silence</button>
    </form>
  );
}

export function AlertsPage(props: AlertsPageProps) {
  return (
    <Layout
      title="Alerts"
      passwordSet={props.passwordSet}
    >
      <main class="alerts-page">
        <h1>Alerts</h1>
        <Part
          name="active"
          title="Active"
          tableId="active-alerts"
          head={[
            "Severity",
            "State",
            "Rule",
            "Where",
            "What",
            "Value",
            "Since",
            "",
          ]}
          empty={<p class="muted" id="no-alerts">No active alerts.</p>}
          rows={props.active.map((a) => (
            <tr
              data-alert={a.id ?? ""}
              class={a.severity === "crit" ? "critical" : "warning"}
            >
              <td>{a.severity}</td>
              <td>{a.state}{a.flapping && " (flapping)"}</td>
              <td>{a.rule}</td>
              <td>
                <a href={`/hosts/${encodeURIComponent(a.host)}`}>
                  {a.host}
                </a>
                {a.object !== null && ` / ${a.object}`}
              </td>
              <td>{a.summary}</td>
              <td>{a.value}</td>
              <td>
                {a.started_at ?? `pending since ${a.pending_since}`}
              </td>
              <td class="actions">
                {a.state === "firing" && a.id !== null && (
                  <form
                    method="post"
                    action={`/api/alerts/${a.id}/ack`}
                    class="inline"
                  >
                    <button type="submit">Acknowledge</button>
                  </form>
                )}
                {a.state !== "silenced" && <SilenceForm a={a} />}
              </td>
            </tr>
          ))}
        />

        <Part
          name="silences"
          title="Silences"
          tableId="silences"
          head={["Rule", "Host", "Object", "Tag", "Until", "Comment", ""]}
          empty={<p class="muted">No silences.</p>}
          rows={props.silences.map((s) => (
            <tr data-silence={s.id}>
              <td>{s.rule ?? "any"}</td>
              <td>{s.host ?? "any"}</td>
              <td>{s.object ?? "any"}</td>
              <td>{s.tag ?? "any"}</td>
              <td>{when(s.endsAt)}</td>
              <td>{s.comment}</td>
              <td>
                <form
                  method="post"
                  action={`/api/alerts/silences/${s.id}/end`}
                  class="inline"
                >
                  <button type="submit">End</button>
                </form>
              </td>
            </tr>
          ))}
        >
          <form method="post" action="/api/alerts/silences" class="silence-new">
            <fieldset>
              <legend>New silence</legend>
              {SELECTOR_FIELDS.map(([name, label]) => (
                <label>
                  {label} <input name={name} />
                </label>
              ))}
              <label>
                For <input name="duration" value="2h" required />
              </label>
              <label>
                Comment <input name="comment" />
              </label>
              <button type="submit">Add silence</button>
            </fieldset>
          </form>
        </Part>

        <Part
          name="channels"
          title="Channels"
          id="channels"
          tableId="channel-status"
          head={[
            "Channel",
            "Type",
            "Last delivery",
            "Queued",
            "Given up",
            "Suppressed",
          ]}
          empty={
            <p class="muted">
              No channels configured (see <code>ALERTS_FILE</code>).
            </p>
          }
          rows={props.channels.map((ch) => (
            <tr
              data-channel={ch.name}
              class={ch.last && !ch.last.ok ? "critical" : ""}
            >
              <td>{ch.name}</td>
              <td>{ch.type}</td>
              <td>
                {ch.last === null
                  ? "never"
                  : `${ch.last.ok ? "ok" : "FAILED"} at ${
                    when(ch.last.at)
                  }: ${ch.last.detail}`}
              </td>
              <td class="num">{ch.queued}</td>
              <td class="num">{ch.failed}</td>
              <td class="num">{ch.suppressed}</td>
            </tr>
          ))}
        />

        <Part
          name="history"
          title="Recent history"
          tableId="alert-history"
          head={["When", "Event", "Rule", "Where", "Severity", "What"]}
          empty={<p class="muted">Nothing yet.</p>}
          rows={props.history.map((h) => (
            <tr>
              <td>{when(h.at)}</td>
              <td>{h.event}</td>
              <td>{h.rule}</td>
              <td>{h.host}{h.object && ` / ${h.object}`}</td>
              <td>{h.severity}</td>
              <td>{h.summary}</td>
            </tr>
          ))}
        />
      </main>
    </Layout>
  );
}
