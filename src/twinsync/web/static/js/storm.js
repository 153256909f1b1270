// The header's notice of an anomaly storm: while the fleet's budget of anomaly events keeps
// anomalies from being told, an operator sees that it does, how many it kept, and in which
// window; then the final count, until a window has passed without a storm.
//
// Read from the events API when the page (re)connects, kept current by the live events.
// The window is of the server's clock (the readings' arrival): the page measures how far
// its own clock is off the server's at each (re)connection and reads the time through it,
// so a screen whose clock is an hour off still shows the storm while it lasts.

import * as api from "./api.js";
import { escape } from "./format.js";
import { merge, stateAt } from "./storm_model.js";

export const STORM_KINDS = ["anomaly_storm", "anomaly_storm_ended"];
// How often the notice looks at the clock: a storm's end and the window after it are told
// by the clock, not only by events.
const RECHECK_MS = 5_000;

const CLOCK = { hour: "2-digit", minute: "2-digit" };
const SECONDS = { ...CLOCK, second: "2-digit" };
// To the minute for the hour a window lasts by default; to the second for a short one.
const clock = (epochSeconds, window) => new Date(epochSeconds * 1000)
  .toLocaleTimeString([], window < 600 ? SECONDS : CLOCK);
const count = (n) => (n === null ? "Some" : n.toLocaleString());

export class StormNotice {
  constructor(box) {
    this.box = box;
    this.storm = null;
    this.shown = "";
    this.offset = 0; // seconds the server's clock is ahead of the page's
    setInterval(() => this.render(), RECHECK_MS);
  }

  /**
   * The newest storm and end stored (after a reload, or a reconnect that may have missed
   * some), and the page's clock against the server's.
   */
  async load() {
    const [offset, ...found] = await Promise.all([api.serverOffset().catch(() => this.offset),
      ...STORM_KINDS.map((kind) => api.getNewestEvents(kind, 1))]);
    this.offset = offset;
    for (const event of found.flat().sort((a, b) => a.seq - b.seq)) {
      this.storm = merge(this.storm, event.kind, event.data);
    }
    this.render();
  }

  /** A live change: a storm's count or its end. */
  apply(change) {
    if (!STORM_KINDS.includes(change.kind)) return;
    this.storm = merge(this.storm, change.kind, change);
    this.render();
  }

  get state() {
    return stateAt(this.storm, Date.now() / 1000 + this.offset);
  }

  render() {
    const state = this.state;
    const box = this.box;
    box.hidden = state === null;
    if (state === null) return;
    const { since, until, told, untold } = this.storm;
    box.dataset.state = state;
    const length = until - since;
    const from = escape(clock(since, length));
    const to = escape(clock(until, length));
    const events = told === null ? "" : ` · ${escape(told.toLocaleString())} told`;
    const html = state === "storming"
      ? `<b>Anomaly storm</b><span data-role="count">${escape(count(untold))} anomalies counted, not told as events, since ${from}</span>`
        + `<span class="muted">the window's budget of anomaly events is spent${events} · counting until ${to} · alarms are still raised</span>`
      : `<b>Anomaly storm over</b><span data-role="count">${this.storm.ended || untold === null ? "" : "at least "}${escape(count(untold))} anomalies went untold from ${from} to ${to}</span>`
        + `<span class="muted">${told === null ? "" : `${escape(told.toLocaleString())} told · `}each sensor's next anomaly event carries its count</span>`;
    // Written only when it reads differently: the strip is a live region, and a screen
    // reader would read it out again at every look at the clock.
    if (html === this.shown) return;
    this.shown = html;
    box.innerHTML = html;
    box.title = `The fleet told its budget of anomaly events in the window from ${new Date(since * 1000).toLocaleString()}; further anomalies were counted on their sensors (GET /api/events?kind=anomaly_storm).`;
  }
}
