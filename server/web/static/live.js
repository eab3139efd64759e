// @ts-check
/**
 * Live updates. The server pushes a small event over SSE after each stored
 * sample; this script fetches the changed host's fresh HTML fragment and
 * swaps the `[data-live]` elements in place, so the page never reloads and
 * never polls. A lost connection shows a banner and is retried with backoff.
 */
import { all, one } from "./dom.js";
import { formatAgo } from "./format.js";

/** @typedef {import("../../ingest/event_bus.ts").ServerEvent} ServerEvent */

const main = one("main[data-page]", HTMLElement);
const page = main?.dataset.page;
const host = main?.dataset.host;
const banner = document.getElementById("connection");

const BATCH_MS = 200;
const MAX_RETRY_MS = 15_000;

/** @param {string[]} hosts */
function fragmentUrl(hosts) {
  if (page === "host" || page === "guest") {
    return `/fragments/hosts/${encodeURIComponent(host ?? "")}`;
  }
  const query = hosts.map((h) => `host=${encodeURIComponent(h)}`).join("&");
  return `/fragments/overview${query ? `?${query}` : ""}`;
}

/** Keeps problem hosts on top after rows changed. */
function sortHostRows() {
  const body = one("#host-rows", HTMLTableSectionElement);
  if (!body) return;
  const rows = [...body.rows];
  const key = (/** @type {HTMLTableRowElement} */ row) =>
    row.dataset.sort ?? "";
  const sorted = [...rows].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0
  );
  if (sorted.some((row, i) => row !== rows[i])) body.append(...sorted);
}

function updateAges() {
  const now = Date.now();
  for (const el of all("time.ago[data-ts]", HTMLTimeElement)) {
    el.textContent = formatAgo(Number(el.dataset.ts), now);
  }
}

/**
 * Replaces every element of the page that has a fresher copy in `html`.
 * @param {string} html
 */
function patch(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  let missing = false;
  for (const fresh of doc.querySelectorAll("[data-live][id]")) {
    const current = document.getElementById(fresh.id);
    if (current) current.replaceWith(document.adoptNode(fresh));
    else if (fresh.matches("tr.host")) {
      const body = one("#host-rows", HTMLTableSectionElement);
      if (body) body.append(document.adoptNode(fresh));
      else missing = true;
    }
  }
  // The first host of an empty overview needs the whole table.
  if (missing) return location.reload();
  sortHostRows();
  updateAges();
  document.dispatchEvent(new CustomEvent("proxmon:patched"));
}

/** @type {Set<string>} */
const pending = new Set();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let batchTimer;

/** @param {string[]} hosts */
async function refresh(hosts) {
  const res = await fetch(fragmentUrl(hosts), {
    headers: { accept: "text/html" },
  });
  // The session ended: the reload lands on the login page.
  if (res.status === 401) return location.reload();
  if (res.ok) patch(await res.text());
}

/** @param {string} name */
function schedule(name) {
  pending.add(name);
  batchTimer ??= setTimeout(() => {
    batchTimer = undefined;
    const hosts = [...pending];
    pending.clear();
    refresh(hosts).catch(() => {});
  }, BATCH_MS);
}

let retryMs = 1000;
let lost = false;

function connect() {
  const url = page === "host" || page === "guest"
    ? `/events?host=${encodeURIComponent(host ?? "")}`
    : "/events";
  const source = new EventSource(url);
  source.addEventListener("hello", () => {
    retryMs = 1000;
    if (banner) banner.hidden = true;
    document.body.dataset.live = "connected";
    // Samples may have arrived while we were away.
    if (lost) refresh([]).catch(() => {});
    lost = false;
  });
  for (const type of ["sample", "status"]) {
    source.addEventListener(type, (e) => {
      /** @type {ServerEvent} */
      const event = JSON.parse(e.data);
      schedule(event.host);
      document.dispatchEvent(
        new CustomEvent("proxmon:event", { detail: event }),
      );
    });
  }
  source.onerror = () => {
    source.close();
    lost = true;
    if (banner) banner.hidden = false;
    document.body.dataset.live = "lost";
    // EventSource cannot tell a dead server from an ended session; ask.
    fetch(fragmentUrl([]), { method: "HEAD" })
      .then((r) => r.status === 401 && location.reload())
      .catch(() => {});
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };
}

if (page) {
  connect();
  setInterval(updateAges, 5000);
  // A closing page must not flash the lost-connection banner.
  addEventListener("pagehide", () => banner?.remove());
}
