// A sensor's history as a uPlot chart, kept moving by live readings.
//
// Short windows show raw readings; long ones ask the server for buckets (min/max/mean)
// so a week is a few hundred points, not every reading. Live points are appended as
// they arrive and the window slides; nothing is re-fetched until the sensor or window
// changes.

import uPlot from "uplot";
import { getReadings } from "./api.js";
import { unit as unitLabel, value as formatValue } from "./format.js";

export const WINDOWS = [
  { label: "1 h", seconds: 3600, every: null },
  { label: "24 h", seconds: 86400, every: 120 },
  { label: "7 d", seconds: 7 * 86400, every: 900 },
];
// Past this many raw points the oldest go: a chart open all day must not grow forever.
const MAX_POINTS = 20000;
const HEIGHT = 180;
const MIN_SPAN_S = 60;

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
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
  }

  async show(sensorId, unit, window = this.window) {
    this.sensorId = sensorId;
    this.unit = unit;
    this.window = window;
    const token = ++this.loadToken;
    const end = Date.now() / 1000 + 1;
    const start = end - window.seconds;
    let response;
    try {
      response = await getReadings(sensorId, start, end, window.every);
    } catch (error) {
      if (token === this.loadToken) this.message(`History unavailable: ${error.message}`);
      return;
    }
    // A newer request (another sensor, another window) may have started meanwhile.
    if (token !== this.loadToken) return;
    this.aggregated = Boolean(window.every);
    this.data = this.aggregated
      ? [response.time.map((t) => t + window.every / 2), response.mean, response.min, response.max]
      : [response.time, response.value];
    this.draw();
  }

  /** A live reading of the shown sensor. */
  append(time, value) {
    if (!this.data || typeof value !== "number") return;
    const times = this.data[0];
    if (times.length && time <= times[times.length - 1]) return; // late or repeated
    if (this.aggregated) {
      this.data[0].push(time);
      this.data[1].push(value);
      this.data[2].push(value);
      this.data[3].push(value);
    } else {
      this.data[0].push(time);
      this.data[1].push(value);
    }
    const cutoff = time - this.window.seconds;
    while (this.data[0].length > MAX_POINTS || (this.data[0].length > 1 && this.data[0][0] < cutoff)) {
      for (const column of this.data) column.shift();
    }
    if (!this.plot) {
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
    const options = {
      width: Math.max(200, this.container.clientWidth),
      height: HEIGHT,
      series,
      cursor: { points: { size: 6 } },
      legend: { live: true },
      axes: [
        // Ticks closer than a minute apart show seconds: a few minutes of readings
        // must not read "15:22 15:22 15:22".
        { ...axis, space: 70, size: 30, values: (_, ticks, _axis, _space, step) => ticks.map((t) => timeLabel(t, this.window.seconds, step)) },
        { ...axis, size: 46, values: (_, ticks) => ticks.map((t) => formatValue(t)) },
      ],
      // At least a minute across: two readings a second apart are not stretched over
      // the whole width with every tick reading the same second.
      scales: { x: { time: true, range: (_, min, max) => (max - min < MIN_SPAN_S ? [max - MIN_SPAN_S, max] : [min, max]) } },
    };
    if (this.aggregated) {
      // Min and max draw a faint band around the mean: the spread in each bucket.
      series.push({ label: "min", stroke: "rgba(78,161,255,0.25)", width: 1, value: (_, v) => (v == null ? "—" : formatValue(v)) });
      series.push({ label: "max", stroke: "rgba(78,161,255,0.25)", width: 1, value: (_, v) => (v == null ? "—" : formatValue(v)) });
      options.bands = [{ series: [3, 2], fill: "rgba(78,161,255,0.12)" }];
    }
    this.plot = new uPlot(options, this.data, this.container);
  }

  message(text) {
    this.destroyPlot();
    const note = document.createElement("div");
    note.className = "note";
    note.textContent = text;
    this.container.replaceChildren(note);
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: Math.max(200, this.container.clientWidth), height: HEIGHT });
  }

  destroyPlot() {
    this.plot?.destroy();
    this.plot = null;
  }

  clear() {
    this.loadToken++;
    this.sensorId = null;
    this.data = null;
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
