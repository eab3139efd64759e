/** The history section: range buttons and one uPlot chart per metric. */
import { HISTORY_RANGES } from "../../store/history.ts";

export interface ChartSpec {
  metric: string;
  title: string;
  /** extra history query, e.g. `vmid=101` or `pool=tank` */
  query?: string;
}

/** Charts drawn by charts.js from `/api/hosts/NAME/history`. */
export function HistoryCharts(props: { charts: ChartSpec[] }) {
  return (
    <section id="history" aria-labelledby="history-title">
      <div class="section-head">
        <h2 id="history-title">History</h2>
        <fieldset class="ranges">
          <legend class="visually-hidden">Time range</legend>
          {HISTORY_RANGES.map((r, i) => (
            <label>
              <input type="radio" name="range" value={r} checked={i === 0} />
              {r}
            </label>
          ))}
        </fieldset>
      </div>
      <div class="charts">
        {props.charts.map((c) => (
          <figure class="chart" data-metric={c.metric} data-query={c.query}>
            <figcaption>{c.title}</figcaption>
            <div
              class="plot"
              role="img"
              aria-label={`${c.title} over the chosen time range`}
            >
            </div>
            <p class="chart-status muted" aria-live="polite">Loading…</p>
          </figure>
        ))}
      </div>
    </section>
  );
}
