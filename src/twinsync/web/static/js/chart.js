// A sensor's history as a uPlot chart, kept moving by live readings.
//
// Short windows show raw readings; long ones ask the server for buckets (min/max/mean)
// so a week is a few hundred points, not every reading. Live points are appended as
// they arrive and the window slides; nothing is re-fetched until the sensor or window
// changes.
//
// Each reading's anomaly score (0..1, from the server's detector) is drawn on a second
// axis on the right, and readings scored at the anomaly event threshold or above are
// marked with a red dot on the value line (for buckets: on the bucket's max, with the
// bucket's highest score). Live readings come with their score in the delta
// (``sensor_anomaly``), so a live anomaly gets its red dot as it arrives.
//
// With the element and property the sensor feeds (``twin``), the chart also draws the
// sensor's level/trend model: its one-step prediction of each reading (a dashed line) with
// the 90 % interval as a band, and the spans its model diverged shaded red (GET
// /api/elements/{id}/twin/track, computed by the server from the stored readings). The
// band is painted under the lines rather than drawn as two series, so the legend has one
// entry for the model ("predicted", with the interval beside the value). A live reading
// has no prediction until the track is read again (``refreshTwin``).

import uPlot from "uplot";
import { getReadings, getTwinTrack } from "./api.js";
import { unit as unitLabel, value as formatValue } from "./format.js";
import { overlayColumns, shadedSpans } from "./twin_model.js";

export const WINDOWS = [
  { label: "1 h", seconds: 3600, every: null },
  { label: "24 h", seconds: 86400, every: 120 },
  { label: "7 d", seconds: 7 * 86400, every: 900 },
];
// Past this many raw points the oldest go: a chart open all day must not grow forever.
const MAX_POINTS = 20000;
const HEIGHT = 180;
const MIN_SPAN_S = 60;
/** The score from which a reading is an anomaly event (AnomalyMonitor.event_at). */
export const ANOMALY_MARK = 0.33;
/** Marked readings closer than this (seconds) are one anomaly's span. */
const SPAN_GAP_S = 1800;
const SCORE_COLOR = "#e8a33d";
const MARK_COLOR = "#e5484d";
const PREDICTED_COLOR = "#c4a8ff";
const BAND_FILL = "rgba(196,168,255,0.22)";
const SPAN_FILL = "rgba(229,72,77,0.13)";
const SPAN_EDGE = "rgba(229,72,77,0.85)";

/** The score column of an answer (null where not scored; all null from an older server). */
function scores(response, length) {
  const column = response.anomaly ?? [];
  return Array.from({ length }, (_, i) => (typeof column[i] === "number" ? column[i] : null));
}

/** A mark at ``values[i]`` where the score is at the threshold or above, else null. */
function marks(score, values) {
  return score.map((s, i) => (s != null && s >= ANOMALY_MARK ? values[i] : null));
}

export class SensorChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.sensorId = null;
    this.window = WINDOWS[0];
    this.data = null;
    this.unit = "";
    this.loadToken = 0;
    this.redrawQueued = false;
    this.scoreAxisShown = false;
    this.dragged = false;
    // The model's track of the shown sensor (null: none asked for, or none to draw).
    this.twin = null;
    this.track = null;
    this.band = { low: [], high: [] };
    this.coverage = 0.9;
    this.start = null;
    // Called with an anomaly's [start, end] (epoch seconds): the latest after a load or
    // a live mark, and the one a person chose ({selected: true}) by dragging across the
    // chart or clicking a red dot.
    this.onSpan = null;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  /**
   * Show a sensor's history over `window`; with `twin` ({elementId, property}: what the
   * sensor feeds) its model's predictions and band too.
   */
  async show(sensorId, unit, window = this.window, twin = null) {
    if (sensorId !== this.sensorId && this.data) {
      // Another sensor: its title must not stand over the last one's curve and red dots
      // while its history loads (a mark there would offer the wrong sensor's span).
      this.data = null;
      this.track = null;
      this.message("loading…");
    }
    this.sensorId = sensorId;
    this.unit = unit;
    this.window = window;
    this.twin = twin;
    this.loading = true;
    const token = ++this.loadToken;
    const end = Date.now() / 1000 + 1;
    const start = end - window.seconds;
    this.start = start;
    // Both at once: the track (a model run over the range on the server) never holds up
    // the readings, and failing it only leaves the band out.
    const track = this.readTrack(start, end);
    let response;
    try {
      response = await getReadings(sensorId, start, end, window.every);
    } catch (error) {
      if (token === this.loadToken) {
        this.loading = false;
        this.message(`History unavailable: ${error.message}`);
      }
      return;
    }
    // A newer request (another sensor, another window) may have started meanwhile.
    if (token !== this.loadToken) return;
    this.aggregated = Boolean(window.every);
    this.track = null;
    const score = scores(response, response.time.length);
    // Columns: time, value (or mean, min, max), score, marks, then the model's predicted
    // value (null until the track arrives); its band's edges beside them, point for point.
    const empty = () => new Array(response.time.length).fill(null);
    this.data = this.aggregated
      ? [response.time.map((t) => t + window.every / 2), response.mean, response.min, response.max,
        score, marks(score, response.max), empty()]
      : [response.time, response.value, score, marks(score, response.value), empty()];
    this.band = { low: empty(), high: empty() };
    this.draw();
    this.offerLatest();
    const answer = await track;
    if (token !== this.loadToken) return;
    this.setTrack(answer);
    this.loading = false;
  }

  /** The shown sensor's track between `start` and `end`, or null (none asked, or failed). */
  async readTrack(start, end) {
    const twin = this.twin;
    if (!twin) return null;
    try {
      const answer = await getTwinTrack(twin.elementId, twin.property, start, end, this.window.every);
      this.coverage = answer.coverage;
      return answer.sensors.find((s) => s.sensor_id === this.sensorId) ?? null;
    } catch {
      return null; // the history stands without its model
    }
  }

  /** Read the model's track again (a divergence started or ended, or a minute went by). */
  async refreshTwin() {
    if (!this.twin || !this.data || this.start === null) return;
    const token = this.loadToken;
    const answer = await this.readTrack(this.start, Date.now() / 1000 + 1);
    if (token === this.loadToken && this.data) this.setTrack(answer);
  }

  /** Put a track's predictions and band on the chart's points, and draw. */
  setTrack(track) {
    this.track = track;
    const { predicted, low, high } = overlayColumns(this.data[0], track, this.aggregated ? this.window.every : null);
    this.data[this.aggregated ? 6 : 4] = predicted;
    this.band = { low, high };
    if (this.data[0].length) this.draw();
  }

  /** A live reading of the shown sensor, with its anomaly score (null: not scored). */
  append(time, value, score = null) {
    if (!this.data || typeof value !== "number") return;
    const times = this.data[0];
    if (times.length && time <= times[times.length - 1]) return; // late or repeated
    const scored = typeof score === "number" ? score : null;
    const [mark] = marks([scored], [value]);
    if (mark !== null) queueMicrotask(() => this.offerLatest());
    // Over buckets a live reading is a point of its own: its value is the mean, min and max.
    // The model's prediction of it comes with the next read of the track.
    const row = this.aggregated ? [time, value, value, value, scored, mark] : [time, value, scored, mark];
    this.data.forEach((column, k) => column.push(k < row.length ? row[k] : null));
    this.band.low.push(null);
    this.band.high.push(null);
    const cutoff = time - this.window.seconds;
    while (this.data[0].length > MAX_POINTS || (this.data[0].length > 1 && this.data[0][0] < cutoff)) {
      for (const column of [...this.data, this.band.low, this.band.high]) column.shift();
    }
    // The first score of a chart drawn without any brings the score's axis: draw again.
    if (!this.plot || (scored !== null && !this.scoreAxisShown)) {
      this.draw();
      return;
    }
    // Many readings in one frame cost one redraw.
    if (this.redrawQueued) return;
    this.redrawQueued = true;
    requestAnimationFrame(() => {
      this.redrawQueued = false;
      this.plot?.setData(this.data);
    });
  }

  draw() {
    this.destroyPlot();
    this.container.replaceChildren();
    if (!this.data[0].length) {
      this.message("No readings in this window yet.");
      return;
    }
    const shownUnit = unitLabel(this.unit);
    const axis = { stroke: "#8a96a6", grid: { stroke: "#1f2630", width: 1 }, ticks: { stroke: "#262e39", width: 1 } };
    const series = [
      {},
      { label: this.aggregated ? "mean" : "value", stroke: "#4ea1ff", width: 1.5, value: (_, v) => (v == null ? "—" : `${formatValue(v)} ${shownUnit}`) },
    ];
    const scored = this.data[this.aggregated ? 4 : 2].some((s) => s != null);
    this.scoreAxisShown = scored;
    const options = {
      width: Math.max(200, this.container.clientWidth),
      height: HEIGHT,
      series,
      // A drag across the chart chooses a span (for marking anomalies expected); it does
      // not zoom.
      cursor: { points: { size: 6 }, drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      hooks: { setSelect: [(plot) => this.selected(plot)], drawClear: [(plot) => this.underlay(plot)] },
      axes: [
        // Ticks closer than a minute apart show seconds: a few minutes of readings
        // must not read "15:22 15:22 15:22".
        { ...axis, space: 70, size: 30, values: (_, ticks, _axis, _space, step) => ticks.map((t) => timeLabel(t, this.window.seconds, step)) },
        { ...axis, size: 54, values: (_, ticks) => ticks.map((t) => formatValue(t)) },
        // The anomaly score, 0..1 on the right; no grid of its own.
        { ...axis, scale: "score", side: 1, size: 34, grid: { show: false }, stroke: SCORE_COLOR, show: scored,
          splits: () => [0, 0.5, 1], values: (_, ticks) => ticks.map((t) => t.toFixed(1)) },
      ],
      // At least a minute across: two readings a second apart are not stretched over
      // the whole width with every tick reading the same second.
      scales: {
        x: { time: true, range: (_, min, max) => (max - min < MIN_SPAN_S ? [max - MIN_SPAN_S, max] : [min, max]) },
        score: { auto: false, range: [0, 1] },
      },
    };
    if (this.aggregated) {
      // Min and max draw a faint band around the mean: the spread in each bucket.
      series.push({ label: "min", stroke: "rgba(78,161,255,0.25)", width: 1, value: (_, v) => (v == null ? "—" : formatValue(v)) });
      series.push({ label: "max", stroke: "rgba(78,161,255,0.25)", width: 1, value: (_, v) => (v == null ? "—" : formatValue(v)) });
      options.bands = [{ series: [3, 2], fill: "rgba(78,161,255,0.12)" }];
    }
    const score = (_, v) => (v == null ? "—" : v.toFixed(2));
    series.push({ label: this.aggregated ? "anomaly (max)" : "anomaly", scale: "score",
      stroke: SCORE_COLOR, width: 1, fill: "rgba(232,163,61,0.10)", points: { show: false }, value: score });
    // Readings at the anomaly threshold: a red dot on the value line, no line between.
    series.push({ label: "unusual", stroke: MARK_COLOR, fill: MARK_COLOR, width: 0, paths: () => null,
      points: { show: true, size: 7, width: 1, stroke: MARK_COLOR, fill: MARK_COLOR },
      value: (_, v) => (v == null ? "—" : formatValue(v)) });
    // The model: its prediction dashed; the band is painted under it (``underlay``).
    const percent = Math.round(this.coverage * 100);
    series.push({ label: `predicted (${percent} %)`, stroke: PREDICTED_COLOR, width: 1.25, dash: [5, 4],
      points: { show: false }, value: (_, v, _series, at) => this.predictedText(v, at) });
    this.plot = new uPlot(options, this.data, this.container);
    // A press starts either a click or a drag; a drag ends with setSelect (``selected``).
    this.plot.over.addEventListener("mousedown", () => (this.dragged = false));
    this.plot.over.addEventListener("click", () => this.clicked());
  }

  /** "20.01 (19.93–20.09)": a prediction with its band, for the legend. */
  predictedText(value, at) {
    if (value == null) return "—";
    const low = this.band.low[at];
    const high = this.band.high[at];
    return low == null || high == null ? formatValue(value) : `${formatValue(value)} (${formatValue(low)}–${formatValue(high)})`;
  }

  /** Under the lines (drawn as the canvas is cleared): the model's band and its divergences. */
  underlay(plot) {
    const { min, max } = plot.scales.x;
    if (min == null || max == null) return;
    const ctx = plot.ctx;
    const { left, top, width, height } = plot.bbox;
    ctx.save();
    // A band reopened after a step can be far wider than the readings: keep it in the plot.
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    this.paintBand(plot, ctx);
    this.shadeSpans(plot, ctx, min, max);
    ctx.restore();
  }

  /** The band between its edges, one filled run per stretch of points that have both. */
  paintBand(plot, ctx) {
    const times = this.data[0];
    const { low, high } = this.band;
    ctx.fillStyle = BAND_FILL;
    let run = [];
    const flush = () => {
      if (run.length > 1) {
        ctx.beginPath();
        run.forEach((i, k) => {
          const x = plot.valToPos(times[i], "x", true);
          const y = plot.valToPos(high[i], "y", true);
          if (k === 0) ctx.moveTo(x, y);
          else ctx.lineTo(x, y);
        });
        for (let k = run.length - 1; k >= 0; k--) {
          ctx.lineTo(plot.valToPos(times[run[k]], "x", true), plot.valToPos(low[run[k]], "y", true));
        }
        ctx.closePath();
        ctx.fill();
      }
      run = [];
    };
    for (let i = 0; i < times.length; i++) {
      if (low[i] != null && high[i] != null) run.push(i);
      else flush();
    }
    flush();
  }

  /** Shade the spans the model diverged, a bar along the top marking each. */
  shadeSpans(plot, ctx, min, max) {
    const { top, height } = plot.bbox;
    for (const [start, end] of shadedSpans(this.track?.divergences, min, max)) {
      const left = plot.valToPos(start, "x", true);
      const width = Math.max(plot.valToPos(end, "x", true) - left, 2 * devicePixelRatio);
      ctx.fillStyle = SPAN_FILL;
      ctx.fillRect(left, top, width, height);
      ctx.fillStyle = SPAN_EDGE;
      ctx.fillRect(left, top, width, 3 * devicePixelRatio);
    }
  }

  /** What the chart draws of the model, for tests: points predicted and in the band, spans. */
  twinSummary() {
    if (!this.data) return null;
    const predicted = this.data[this.aggregated ? 6 : 4].filter((v) => v != null).length;
    const values = this.data[1];
    const { low, high } = this.band;
    let band = 0;
    let inside = 0;
    low.forEach((lowEdge, i) => {
      if (lowEdge == null || high[i] == null) return;
      band++;
      if (values[i] != null && values[i] >= lowEdge && values[i] <= high[i]) inside++;
    });
    return { predicted, band, inside, loading: Boolean(this.loading),
      spans: (this.track?.divergences ?? []).map((s) => [s.start, s.end]), drawn: Boolean(this.plot) };
  }

  /** Runs of marked readings, oldest first, as [start, end] (epoch seconds). */
  anomalySpans() {
    const spans = [];
    for (const [time] of this.marked()) {
      const last = spans[spans.length - 1];
      if (last && time - last[1] <= SPAN_GAP_S) last[1] = time;
      else spans.push([time, time]);
    }
    return spans;
  }

  offerLatest() {
    const spans = this.anomalySpans();
    if (spans.length) this.onSpan?.(spans[spans.length - 1], { selected: false });
  }

  /** A drag across the chart: its span. */
  selected(plot) {
    const { left, width } = plot.select;
    if (width < 3) return;
    this.dragged = true; // a click that ends the drag is not a click on a dot
    this.onSpan?.([plot.posToVal(left, "x"), plot.posToVal(left + width, "x")], { selected: true });
  }

  /** A click (not a drag) near a red dot: its anomaly's span. */
  clicked() {
    const plot = this.plot;
    if (this.dragged) {
      this.dragged = false;
      return;
    }
    if (!plot || plot.cursor.idx == null) return;
    const time = this.data[0][plot.cursor.idx];
    const { min, max } = plot.scales.x;
    const near = (max - min) * 0.01;
    const span = this.anomalySpans().find(([start, end]) => time >= start - near && time <= end + near);
    if (!span) return;
    plot.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false); // the dragged span is no longer chosen
    this.onSpan?.(span, { selected: true });
  }

  /** Where a charted reading is drawn, in page pixels ({x, y}), or null: for tests. */
  pointOf(time) {
    const at = this.data?.[0].indexOf(time) ?? -1;
    if (!this.plot || at < 0) return null;
    const box = this.plot.over.getBoundingClientRect();
    return { x: box.left + this.plot.valToPos(time, "x"), y: box.top + this.plot.valToPos(this.data[1][at], "y") };
  }

  /** [time, score] of each reading (or bucket) marked unusual: for tests. */
  marked() {
    if (!this.data) return [];
    const [score, mark] = this.aggregated ? [this.data[4], this.data[5]] : [this.data[2], this.data[3]];
    return this.data[0].flatMap((time, i) => (mark[i] != null ? [[time, score[i]]] : []));
  }

  message(text) {
    this.destroyPlot();
    const note = document.createElement("div");
    note.className = "note";
    note.textContent = text;
    this.container.replaceChildren(note);
  }

  resize() {
    if (!this.plot) return;
    this.plot.setSize({ width: Math.max(200, this.container.clientWidth), height: HEIGHT });
    // A dragged span is drawn in pixels: after a resize it would show other times.
    this.plot.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  }

  destroyPlot() {
    this.plot?.destroy();
    this.plot = null;
  }

  clear() {
    this.loadToken++;
    this.sensorId = null;
    this.data = null;
    this.track = null;
    this.twin = null;
    this.destroyPlot();
  }
}

/** Tick labels: clock time within a day (with seconds for close ticks), weekday and hour over a week. */
function timeLabel(epochSeconds, windowSeconds, step = 60) {
  const date = new Date(epochSeconds * 1000);
  const clock = date.toLocaleTimeString([], step < 60
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
  return windowSeconds > 86400 ? `${date.toLocaleDateString([], { weekday: "short" })} ${clock}` : clock;
}
