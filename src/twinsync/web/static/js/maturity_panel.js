// The concrete part of an element's panel: its estimated strength with its interval, the
// required strength and each named target (reached, or when expected), the maturity, the
// governing sensor, the confidence and how old the last reading is.
//
// One section node lives across re-renders of the panel (a live delta redraws the panel;
// the answer should not flicker back to "loading"). It is read when the element is
// chosen and every minute while shown, never awaited by the panel.

import { ago, escape, stamp, value } from "./format.js";
import { BAND, bandOf, hasEstimate, mpa, shareOf, strengthText, targetsOf, when } from "./maturity_model.js";

// The server assesses an element from its readings on each request; a minute is finer
// than concrete gains strength and coarser than anyone would notice.
export const REFRESH_MS = 60_000;

export class MaturitySection {
  /** @param {import("./maturity.js").MaturityStore} store */
  constructor(store) {
    this.store = store;
    this.elementId = null;
    this.error = null;
    this.node = document.createElement("section");
    this.node.className = "maturity";
    this.node.dataset.role = "maturity";
    setInterval(() => this.tick(), REFRESH_MS / 4);
  }

  /** The section for the panel of `element`: [] when it is of no mix (nothing shown). */
  sectionsFor(element) {
    if (!this.store.isOfMix(element) || this.store.viewOf(element.id) === null) {
      this.elementId = null;
      return [];
    }
    if (element.id !== this.elementId) {
      this.elementId = element.id;
      this.error = null;
      this.render();
      this.load();
    }
    return [this.node];
  }

  /** An answer arrived (from the panel or the colour mode): redraw if it is ours. */
  viewed(id) {
    if (id === this.elementId) this.render();
  }

  /** The shown element changed status (a strength recorded, say): read it again. */
  changed(id) {
    if (id === this.elementId && this.node.isConnected) this.load();
  }

  tick() {
    if (!this.elementId || !this.node.isConnected || document.hidden) return;
    if (this.store.ageOf(this.elementId) >= REFRESH_MS) this.load();
  }

  async load() {
    const id = this.elementId;
    const { view, error } = await this.store.read(id);
    if (id !== this.elementId) return;
    if (view === null) {
      this.node.remove(); // of no mix after all: show nothing
      this.elementId = null;
      return;
    }
    this.error = error ?? null;
    this.render();
  }

  render() {
    const view = this.store.viewOf(this.elementId);
    const error = this.error ? `<p class="error">${escape(this.error.message)}</p>` : "";
    if (view === undefined) {
      this.node.innerHTML = `<h3>Concrete</h3>${error || '<p class="muted">reading its maturity…</p>'}`;
      return;
    }
    if (!hasEstimate(view)) {
      this.node.innerHTML = `<h3>Concrete <span class="count">${escape(view.mix)}</span></h3>
        <p class="maturity-note" data-role="maturity-detail">No strength estimate: ${escape(view.detail ?? "not assessed")}.</p>${error}`;
      return;
    }
    this.node.innerHTML = `<h3>Concrete <span class="count">${escape(view.mix)}</span></h3>
      ${strengthHtml(view)}
      <ul class="targets">${targetsOf(view).map((t) => targetHtml(t)).join("")}</ul>
      <dl class="kv">
        <dt>Maturity</dt><dd>${value(view.maturity)} ${escape(view.unit)}${view.maturity_bridged > view.maturity
          ? ` <span class="muted">(${value(view.maturity_bridged)} with gaps bridged)</span>` : ""}</dd>
        ${view.pace ? `<dt>Pace</dt><dd>${value(view.pace.per_hour)} ${escape(view.unit)} an hour <span class="muted">over the last ${value(view.pace.hours)} h</span></dd>` : ""}
        <dt>Governing</dt><dd class="mono" data-role="governing">${escape(view.governing_sensor ?? "—")}</dd>
        <dt>Confidence</dt><dd data-role="confidence">${Math.round(view.confidence * 100)} %</dd>
        <dt>Last reading</dt><dd data-role="last-reading">${lastReading(view)}</dd>
        <dt>Poured</dt><dd>${when(view.poured_at)} <span class="muted">(${escape(view.pour_source ?? "")})</span></dd>
      </dl>${error}`;
  }
}

/** The strength, its interval and the requirement, in figures and as a bar. */
function strengthHtml(view) {
  const band = bandOf(view);
  const interval = view.strength_interval;
  const share = shareOf(view);
  // The bar spans a little past the requirement or the interval's top, whichever is more.
  const top = Math.max(view.required_strength, interval?.high ?? 0, view.strength) * 1.1 || 1;
  const at = (x) => `${Math.max(0, Math.min(100, (x / top) * 100)).toFixed(2)}%`;
  const reached = view.reached || view.recorded;
  return `
    <div class="strength" data-role="strength">
      <span class="figure" style="color:${band.hex}">${escape(strengthText(view))}</span>
    </div>
    <div class="strength-bar" title="estimated strength${interval ? " and its interval" : ""} against the required ${mpa(view.required_strength)} MPa">
      <span class="fill" style="width:${at(view.strength)};background:${band.hex}"></span>
      ${interval ? `<span class="band" style="left:${at(interval.low)};width:calc(${at(interval.high)} - ${at(interval.low)})"></span>` : ""}
      <span class="required" style="left:${at(view.required_strength)}"></span>
    </div>
    <div class="muted required-line">of ${mpa(view.required_strength)} MPa required${share === null ? ""
      : ` · ${Math.round(share * 100)} %`}${reached ? ` · <b class="ok">reached${view.reached_at ? ` ${escape(when(view.reached_at))}` : ""}</b>` : ""}</div>`;
}

function targetHtml(target) {
  const name = target.name === "required" ? "required" : target.name;
  const head = `<span class="head"><span class="tname">${escape(name)}</span> <span class="muted">${mpa(target.strength)} MPa</span></span>`;
  if (target.reached) {
    return `<li data-target="${escape(target.name)}" class="reached">
      <span class="mark" style="color:${BAND.reached.hex}" aria-label="reached">✓</span>${head}<span class="state">reached</span></li>`;
  }
  const expected = target.expected_at;
  const range = expected && (expected.earliest != null || expected.latest != null)
    ? `<div class="range muted">earliest ${escape(when(expected.earliest))} – latest ${escape(expected.latest == null ? "not at this pace" : when(expected.latest))}</div>` : "";
  const state = expected?.time != null ? `expected ${escape(when(expected.time))}`
    : "not yet: too few readings to tell when";
  return `<li data-target="${escape(target.name)}">
    <span class="mark" aria-hidden="true">◷</span>${head}<span class="state">${state}</span>${range}</li>`;
}

/** "3 min ago": it ages by itself (the panel refreshes every [data-time] each second). */
function lastReading(view) {
  if (view.until == null) return "—";
  const hours = view.hours_since_last_reading;
  const title = `${stamp(view.until)}${hours == null ? "" : ` · ${value(hours)} h before this estimate`}`;
  return `<span data-time="${view.until}" title="${escape(title)}">${ago(view.until)}</span>`;
}
