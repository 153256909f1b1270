// The twin part of an element's panel: each sensor's level/trend model — learning, in
// control, diverging since when, or off — with its level and how far the last reading
// was from the prediction. The chart above it draws the predictions and their band.
//
// One node lives across re-renders of the panel (a live delta redraws it; the answer
// should not flicker). It is read when the element is chosen, when a divergence of the
// element starts or ends, and every minute while shown.

import { escape, unit, value } from "./format.js";
import { TWIN_STATE, stateLabel, stateText, when } from "./twin_model.js";

export const REFRESH_MS = 60_000;

export class TwinSection {
  /** @param {import("./twin.js").TwinStore} store */
  constructor(store) {
    this.store = store;
    this.elementId = null;
    this.view = undefined;
    this.error = null;
    this.readAt = 0;
    this.node = document.createElement("section");
    this.node.className = "twin-models";
    this.node.dataset.role = "twin";
    setInterval(() => this.tick(), REFRESH_MS / 4);
  }

  /** The section's node for the element (read afresh when the element changes). */
  nodeFor(element) {
    if (element.id !== this.elementId) {
      this.elementId = element.id;
      this.view = undefined;
      this.error = null;
      this.render();
      this.load();
    }
    return this.node;
  }

  /** A divergence of the element started or ended: read it again. */
  changed(id) {
    if (id === this.elementId && this.node.isConnected) this.load();
  }

  tick() {
    if (!this.elementId || !this.node.isConnected || document.hidden) return;
    if (Date.now() - this.readAt >= REFRESH_MS) this.load();
  }

  async load() {
    const id = this.elementId;
    this.readAt = Date.now();
    const { view, error } = await this.store.readElement(id);
    if (id !== this.elementId) return;
    if (view) this.view = view;
    this.error = error ?? null;
    this.render();
  }

  /** The shown sensors' models: sensor id -> model (for the chart's caption). */
  modelOf(sensorId) {
    return this.view?.sensors?.find((s) => s.sensor_id === sensorId) ?? null;
  }

  render() {
    const error = this.error ? `<p class="error">${escape(this.error.message)}</p>` : "";
    if (this.view === undefined) {
      this.node.innerHTML = `<h3>Twin models</h3>${error || '<p class="muted">reading…</p>'}`;
      return;
    }
    const sensors = this.view.sensors ?? [];
    this.node.innerHTML = `<h3>Twin models <span class="count">${sensors.length}</span></h3>
      ${sensors.length ? `<ul class="twin-list">${sensors.map((model) => this.row(model)).join("")}</ul>`
        : '<p class="muted">No sensor feeds this element.</p>'}${error}`;
  }

  row(model) {
    const state = TWIN_STATE[model.state] ?? TWIN_STATE.off;
    const shownUnit = unit(model.unit);
    // The second line: since when it diverges (or how far it has learned), then its figures.
    const figures = [];
    if (model.state === "diverging" && model.diverging_since != null) figures.push(`since ${when(model.diverging_since)}`);
    if (model.state === "learning") figures.push(`${Math.min(model.readings ?? 0, 32)} of 32 readings`);
    if (model.level != null) {
      figures.push(`level ${value(model.level)}${model.level_sd != null ? ` ± ${value(model.level_sd)}` : ""} ${shownUnit}`);
    }
    if (model.last_normalised != null) figures.push(`last reading ${signed(model.last_normalised)} sd`);
    if (model.recalibration) figures.push(`recalibrated ${when(model.recalibration.time)}`);
    return `
      <li data-sensor-model="${escape(model.sensor_id)}" data-state="${escape(model.state)}" title="${escape(stateText(model))}">
        <span class="swatch" style="background:${state.hex}"></span>
        <span class="sid mono" title="${escape(model.sensor_id)}">${escape(model.sensor_id)}</span>
        <span class="state" data-role="twin-state">${escape(stateLabel(model))}</span>
        ${figures.length ? `<span class="figures muted" data-role="twin-detail">${escape(figures.join(" · "))}</span>` : ""}
      </li>`;
  }
}

function signed(x) {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;
}
