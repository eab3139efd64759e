// @ts-check
/**
 * History charts with uPlot, served by this server. Each chart asks the
 * history API for as many points as it is pixels wide and redraws when the
 * range or the colour scheme changes. On rolled-up ranges each line gets a
 * min–max band. After a new sample, a raw-tier chart fetches only the
 * points since its last one and appends them; a rolled-up chart refetches
 * once its newest bucket is complete, not on every sample.
 */
import { all, one } from "./dom.js";
import {
  formatBytes,
  formatNumber,
  formatPercent,
  formatRate,
} from "./format.js";

/** @typedef {import("../../store/history.ts").History} History */
/** @typedef {import("../../store/history.ts").HistoryUnit} HistoryUnit */
/** @typedef {import("uplot")} UPlot */
/** @typedef {import("uplot").Options} PlotOptions */
/** @typedef {import("uplot").AlignedData} AlignedData */

/**
 * uPlot's browser build, loaded by the page before this module; a global
 * because the file comes from node_modules, where an import cannot reach.
 * @type {typeof import("uplot")}
 */
// @ts-ignore: the IIFE build sets this global; no declaration names it
const uPlot = globalThis.uPlot;
const host = one("main[data-host]", HTMLElement)?.dataset.host;
const figures = all("figure.chart[data-metric]", HTMLElement);
const HEIGHT = 190;
const MIN_REFRESH_MS = 2000;

/** @type {Record<HistoryUnit, (value: number | null) => string>} */
const FORMAT = {
  percent: formatPercent,
  bytes: formatBytes,
  bytes_per_s: formatRate,
  load: formatNumber,
};

// Byte axes step in powers of two, so ticks read 16 GiB, not 18.6 GiB.
const BINARY_STEPS = Array.from({ length: 60 }, (_, i) => 2 ** i);

let range = one("input[name=range]:checked", HTMLInputElement)?.value ?? "1h";
/** @type {Map<string, UPlot>} */
const plots = new Map();

/** @param {string} name */
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name)
    .trim();
}

/**
 * The chart's columns: time, one per series, then a min and a max column
 * per series when the tier is rolled up.
 * @param {History} history
 * @returns {(number | null)[][]}
 */
function columns(history) {
  const bands = history.series.every((s) => s.min && s.max);
  if (!bands) return history.data;
  return [
    ...history.data,
    ...history.series.flatMap((s) => [s.min ?? [], s.max ?? []]),
  ];
}

/**
 * @param {History} history
 * @param {number} width
 * @returns {PlotOptions}
 */
function options(history, width) {
  const fmt = FORMAT[history.unit];
  const text = cssVar("--muted");
  const grid = cssVar("--chart-grid");
  const axis = {
    stroke: text,
    grid: { stroke: grid },
    ticks: { stroke: grid },
  };
  const fixedPercent = history.unit === "percent";
  const banded = history.series.every((s) => s.min && s.max) &&
    history.series.length > 0;
  const n = history.series.length;
  return {
    width,
    height: HEIGHT,
    ms: 1,
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: () => [history.from, history.to] },
      y: {
        /** @type {(u: UPlot, min: number, max: number) => [number, number]} */
        range: (_u, _min, max) =>
          fixedPercent ? [0, 100] : [0, max > 0 ? max * 1.1 : 1],
      },
    },
    series: [
      {},
      ...history.series.map((s, i) => ({
        label: s.label,
        stroke: cssVar(`--chart-${(i % 6) + 1}`),
        width: 1.5,
        spanGaps: false,
        /** @type {(u: UPlot, v: number | null) => string} */
        value: (_u, v) => (v === null || v === undefined ? "–" : fmt(v)),
      })),
      ...(banded
        ? history.series.flatMap((s) =>
          ["min", "max"].map((edge) => ({
            label: `${s.label} ${edge}`,
            stroke: "transparent",
            width: 0,
            spanGaps: false,
            /** @type {(u: UPlot, v: number | null) => string} */
            value: (_u, v) => (v === null || v === undefined ? "–" : fmt(v)),
          }))
        )
        : []),
    ],
    bands: banded
      ? history.series.map((_s, i) => ({
        // max over min: uPlot fills between the two
        series: /** @type {[number, number]} */ ([
          n + 2 * i + 2,
          n + 2 * i + 1,
        ]),
        fill: `color-mix(in srgb, ${
          cssVar(`--chart-${(i % 6) + 1}`)
        } 22%, transparent)`,
      }))
      : [],
    axes: [
      axis,
      {
        ...axis,
        size: 78,
        incrs: history.unit === "percent" || history.unit === "load"
          ? undefined
          : BINARY_STEPS,
        /** @type {(u: UPlot, ticks: number[]) => string[]} */
        values: (_u, ticks) => ticks.map((v) => fmt(v)),
      },
    ],
  };
}

/**
 * What each chart shows now, for appending.
 * @type {Map<string, { history: History, fetchedAt: number }>}
 */
const shown = new Map();

/** @param {HTMLElement} figure */
function chartKey(figure) {
  return `${figure.dataset.metric ?? ""}?${figure.dataset.query ?? ""}`;
}

/** @param {HTMLElement} figure */
function baseUrl(figure) {
  const extra = figure.dataset.query ? `&${figure.dataset.query}` : "";
  return `/api/hosts/${encodeURIComponent(host ?? "")}/history?metric=${
    figure.dataset.metric ?? ""
  }${extra}`;
}

/** @param {HTMLElement} figure */
async function load(figure) {
  const metric = chartKey(figure);
  const plotEl = one(".plot", HTMLElement, figure);
  const status = one(".chart-status", HTMLElement, figure);
  if (!host || !plotEl || !status) return;
  const width = Math.max(240, Math.floor(plotEl.clientWidth));
  const url = `${baseUrl(figure)}&range=${range}&points=${
    Math.min(1000, width)
  }`;
  const res = await fetch(url);
  if (res.status === 401) return location.reload();
  if (!res.ok) {
    status.hidden = false;
    status.textContent = "Could not load the history.";
    return;
  }
  /** @type {History} */
  const history = await res.json();
  const points = history.data[0].length;
  figure.dataset.points = String(points);
  status.hidden = points > 0;
  status.textContent = points > 0 ? "" : "No data in this range yet.";
  figure.dataset.tier = history.tier;
  figure.dataset.bands = String(history.series.some((s) => s.min));
  plots.get(metric)?.destroy();
  plotEl.replaceChildren();
  // uPlot draws nulls as gaps; its AlignedData type says only numbers.
  const data = /** @type {AlignedData} */ (columns(history));
  plots.set(metric, new uPlot(options(history, width), data, plotEl));
  shown.set(metric, { history, fetchedAt: Date.now() });
}

/**
 * Brings one chart up to date after a sample: appends the raw points since
 * its newest one, dropping those that left the range; a rolled-up chart is
 * refetched only once a bucket has passed.
 * @param {HTMLElement} figure
 */
async function update(figure) {
  const key = chartKey(figure);
  const state = shown.get(key);
  const plot = plots.get(key);
  if (!state || !plot) return load(figure);
  const { history } = state;
  if (history.tier !== "raw") {
    if (Date.now() - state.fetchedAt >= history.bucket_ms) await load(figure);
    return;
  }
  const times = history.data[0];
  const last = times.length ? Number(times[times.length - 1]) : history.from;
  const span = history.to - history.from;
  const to = Date.now();
  const res = await fetch(
    `${baseUrl(figure)}&from=${last + 1}&to=${to}&points=2000`,
  );
  if (!res.ok) return;
  /** @type {History} */
  const more = await res.json();
  if (
    more.tier !== "raw" ||
    more.series.map((s) => s.key).join() !==
      history.series.map((s) => s.key).join()
  ) return load(figure);
  const from = to - span;
  const keep = times.findIndex((t) => Number(t) >= from);
  const cut = keep < 0 ? times.length : keep;
  history.data = history.data.map((col, i) => [
    ...col.slice(cut),
    ...more.data[i],
  ]);
  history.from = from;
  history.to = to;
  figure.dataset.points = String(history.data[0].length);
  figure.dataset.appended = String(
    Number(figure.dataset.appended ?? 0) + more.data[0].length,
  );
  plot.setScale("x", { min: from, max: to });
  plot.setData(/** @type {AlignedData} */ (columns(history)));
}

function loadAll() {
  return Promise.all(figures.map((f) => load(f).catch(() => {})));
}

let lastRefresh = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;

/** At most one refresh per MIN_REFRESH_MS, however fast samples arrive. */
function scheduleRefresh() {
  if (refreshTimer) return;
  const wait = Math.max(0, lastRefresh + MIN_REFRESH_MS - Date.now());
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    lastRefresh = Date.now();
    for (const f of figures) update(f).catch(() => {});
  }, wait);
}

if (host && figures.length > 0) {
  lastRefresh = Date.now();
  loadAll();
  all("input[name=range]", HTMLInputElement).forEach((input) =>
    input.addEventListener("change", () => {
      range = input.value;
      loadAll();
    })
  );
  document.addEventListener("proxmon:event", (e) => {
    const detail = e instanceof CustomEvent ? e.detail : null;
    if (detail?.type === "sample" && detail.interval === "fast") {
      scheduleRefresh();
    }
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener(
    "change",
    () => loadAll(),
  );
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let resizeTimer;
  const resizing = new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const f of figures) {
        const plot = plots.get(chartKey(f));
        const width = Math.floor(
          one(".plot", HTMLElement, f)?.clientWidth ?? 0,
        );
        if (plot && width > 0 && Math.abs(plot.width - width) > 8) {
          plot.setSize({ width, height: HEIGHT });
        }
      }
    }, 150);
  });
  const charts = one(".charts", HTMLElement);
  if (charts) resizing.observe(charts);
}
