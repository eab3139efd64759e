/**
 * What a notification says. A `Notice` is one alert's news (stored as the
 * delivery row's body, so a retry after a restart sends the same words); a
 * `Message` is what one send to one channel carries: the notices grouped in
 * the window, and how many were suppressed by the cap.
 */
import type { Severity } from "../rules/rule.ts";

export interface Notice {
  /** firing | resolved | repeat | test */
  kind: "firing" | "resolved" | "repeat" | "test";
  rule: string;
  state: "firing" | "resolved";
  severity: Severity;
  host: string;
  /** the pool, guest, storage or collector; null for the host itself */
  object: string | null;
  object_kind: string;
  /** how people name the object: "tank", "web01 (101)" */
  label: string | null;
  summary: string;
  /** the current value as people read it */
  value: string;
  /** ISO-8601 */
  started_at: string;
  resolved_at: string | null;
  /** the dashboard page to look at */
  url: string;
}

export interface Message {
  title: string;
  /** plain text, one paragraph per notice */
  text: string;
  /** the worst severity among firing notices (warn when all resolved) */
  severity: Severity;
  /** true when every notice is a resolve */
  resolved: boolean;
  notices: Notice[];
  /** notifications left out by the hourly cap, told about here */
  suppressed: number;
  /** the dashboard's alerts page */
  url: string;
}

/** The dashboard link for an alert's host. */
export function hostUrl(publicUrl: string | null, host: string): string {
  return `${publicUrl ?? ""}/hosts/${encodeURIComponent(host)}`;
}

export function alertsUrl(publicUrl: string | null): string {
  return `${publicUrl ?? ""}/alerts`;
}

const where = (n: Notice) =>
  n.object === null ? n.host : `${n.host} / ${n.label ?? n.object}`;

const tag = (n: Notice) =>
  n.kind === "test"
    ? "TEST"
    : n.state === "resolved"
    ? "RESOLVED"
    : n.kind === "repeat"
    ? `STILL FIRING ${n.severity}`
    : `FIRING ${n.severity}`;

/** One notice as a line people can act on: what, where, since, value, link. */
export function noticeText(n: Notice): string {
  const since = n.state === "resolved" && n.resolved_at
    ? `since ${n.started_at}, resolved ${n.resolved_at}`
    : `since ${n.started_at}`;
  return `[${tag(n)}] ${n.rule} on ${where(n)}: ${n.summary}\n` +
    `value: ${n.value}; ${since}\n${n.url}`;
}

/** Builds the message for a batch of notices (and a suppressed count). */
export function buildMessage(
  notices: Notice[],
  suppressed: number,
  publicUrl: string | null,
): Message {
  const firing = notices.filter((n) => n.state === "firing");
  const severity: Severity = firing.some((n) => n.severity === "crit")
    ? "crit"
    : "warn";
  let title: string;
  if (notices.length === 1) {
    const n = notices[0];
    title = `[${tag(n)}] ${n.rule} on ${where(n)}: ${n.summary}`;
  } else if (notices.length === 0) {
    title = `proxmon: ${suppressed} more notifications suppressed`;
  } else {
    const hosts = [...new Set(notices.map((n) => n.host))];
    title = `proxmon: ${firing.length} firing, ${
      notices.length - firing.length
    } resolved on ${hosts.slice(0, 3).join(", ")}${
      hosts.length > 3 ? ` and ${hosts.length - 3} more` : ""
    }`;
  }
  const parts = notices.map(noticeText);
  if (suppressed > 0) {
    parts.push(
      `${suppressed} more notifications suppressed (hourly cap reached); see ${
        alertsUrl(publicUrl)
      }`,
    );
  }
  return {
    title: title.length > 250 ? `${title.slice(0, 247)}...` : title,
    text: parts.join("\n\n"),
    severity,
    resolved: notices.length > 0 && firing.length === 0,
    notices,
    suppressed,
    url: alertsUrl(publicUrl),
  };
}
