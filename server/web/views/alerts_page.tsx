/**
 * /alerts: active alerts with acknowledge and silence buttons, silences,
 * channels with their last delivery result, and recent history. Plain HTML
 * forms POST to /api/alerts/… and come back here.
 */
import type { HistoryEntry, Silence } from "../../alerts/alert_store.ts";
import type { ChannelStatus } from "../../alerts/delivery/delivery_queue.ts";
import type { AlertView } from "../../alerts/engine.ts";
import { Layout } from "./layout.tsx";

export interface AlertsPageProps {
  passwordSet: boolean;
  active: AlertView[];
  silences: Silence[];
  channels: ChannelStatus[];
  history: HistoryEntry[];
}

const when = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

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
      loggedIn={props.passwordSet}
    >
      <main class="alerts-page">
        <h1>Alerts</h1>
        <section aria-labelledby="active-h">
          <h2 id="active-h">Active</h2>
          {props.active.length === 0
            ? <p class="muted" id="no-alerts">No active alerts.</p>
            : (
              <table id="active-alerts">
                <thead>
                  <tr>
                    <th>Severity</th>
                    <th>State</th>
                    <th>Rule</th>
                    <th>Where</th>
                    <th>What</th>
                    <th>Value</th>
                    <th>Since</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {props.active.map((a) => (
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
                </tbody>
              </table>
            )}
        </section>

        <section aria-labelledby="silences-h">
          <h2 id="silences-h">Silences</h2>
          {props.silences.length === 0
            ? <p class="muted">No silences.</p>
            : (
              <table id="silences">
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Host</th>
                    <th>Object</th>
                    <th>Tag</th>
                    <th>Until</th>
                    <th>Comment</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {props.silences.map((s) => (
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
                </tbody>
              </table>
            )}
          <form method="post" action="/api/alerts/silences" class="silence-new">
            <fieldset>
              <legend>New silence</legend>
              <label>
                Rule <input name="rule" />
              </label>
              <label>
                Host <input name="host" />
              </label>
              <label>
                Object <input name="object" />
              </label>
              <label>
                Tag <input name="tag" />
              </label>
              <label>
                For <input name="duration" value="2h" required />
              </label>
              <label>
                Comment <input name="comment" />
              </label>
              <button type="submit">Add silence</button>
            </fieldset>
          </form>
        </section>

        <section aria-labelledby="channels-h" id="channels">
          <h2 id="channels-h">Channels</h2>
          {props.channels.length === 0
            ? (
              <p class="muted">
                No channels configured (see <code>ALERTS_FILE</code>).
              </p>
            )
            : (
              <table id="channel-status">
                <thead>
                  <tr>
                    <th>Channel</th>
                    <th>Type</th>
                    <th>Last delivery</th>
                    <th>Queued</th>
                    <th>Given up</th>
                    <th>Suppressed</th>
                  </tr>
                </thead>
                <tbody>
                  {props.channels.map((ch) => (
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
                </tbody>
              </table>
            )}
        </section>

        <section aria-labelledby="history-h">
          <h2 id="history-h">Recent history</h2>
          {props.history.length === 0
            ? <p class="muted">Nothing yet.</p>
            : (
              <table id="alert-history">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Event</th>
                    <th>Rule</th>
                    <th>Where</th>
                    <th>Severity</th>
                    <th>What</th>
                  </tr>
                </thead>
                <tbody>
                  {props.history.map((h) => (
                    <tr>
                      <td>{when(h.at)}</td>
                      <td>{h.event}</td>
                      <td>{h.rule}</td>
                      <td>{h.host}{h.object && ` / ${h.object}`}</td>
                      <td>{h.severity}</td>
                      <td>{h.summary}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
        </section>
      </main>
    </Layout>
  );
}
