// The thermal zone part of a room's panel (GET /api/elements/{id}/zone; docs/PHYSICS.md,
// "Thermal zones on the reading path"): the room's temperature as its RC model has it,
// what the readings taught it (the time constant, R and C where a heating meter makes them
// identifiable, and the heat gain: the degrees the room holds above what the outdoors and
// the metered heating explain — sun and people, or without a meter the heating itself),
// how far its prior misses against what it claims, where the model puts the room some hours on with the inputs
// held, and its divergence watch — learning, in control, or diverging since when, with
// the last recalibration's before and after. A space that is not modelled says why.
//
// One node lives across re-renders of the panel (a live delta redraws it; the answer
// should not flicker). It is read when the room is chosen, when a divergence or a
// recalibration of it is told, and every minute while shown.

import { getZone } from "./api.js";
import { ago, escape, stamp, value, withSpread } from "./format.js";
import { ReadSection } from "./read_section.js";
import { when } from "./twin_model.js";

export const REFRESH_MS = 60_000;

/** The hours on that the section shows the model's forecast. */
export const FORECAST_HOURS = 6;

const STATE_LABELS = { learning: "learning", in_control: "in control", diverging: "diverging" };

/** Whether the section shows for the element: a space (modelled, or why not: a space
 * declared no zone says so), or any element declared one. */
export function mayBeZone(element) {
  return element?.type === "IfcSpace" || element?.properties?.thermal_zone?.value === true;
}

export class ZoneSection extends ReadSection {
  /** @param {(id: string) => (string | undefined)} nameOf an element's name, to name inputs by */
  constructor(nameOf = () => undefined) {
    super(REFRESH_MS);
    this.nameOf = nameOf;
    this.view = undefined;
    this.error = null;
    this.node = document.createElement("section");
    this.node.className = "zone";
    this.node.dataset.role = "zone";
  }

  /** The section for the panel of `element`: [] when it cannot be a zone. */
  sectionsFor(element) {
    if (!mayBeZone(element)) {
      this.elementId = null;
      return [];
    }
    if (element.id !== this.elementId) {
      this.elementId = element.id;
      this.view = undefined;
      this.error = null;
      this.render();
      this.load();
    }
    return [this.node];
  }

  async load() {
    const id = this.elementId;
    this.readAt = Date.now();
    let view = null;
    let error = null;
    try {
      view = await getZone(id, FORECAST_HOURS);
    } catch (failure) {
      error = failure;
    }
    if (id !== this.elementId) return;
    if (view) this.view = view;
    this.error = error;
    this.render();
  }

  render() {
    const error = this.error ? `<p class="error">${escape(this.error.message)}</p>` : "";
    const view = this.view;
    if (view === undefined) {
      this.node.innerHTML = `<h3>Thermal zone</h3>${error || '<p class="muted">reading…</p>'}`;
      return;
    }
    if (!view.enabled || !view.modelled) {
      const why = view.enabled ? view.reason : "zone models are off";
      this.node.innerHTML = `<h3>Thermal zone</h3>
        <p class="muted" data-role="zone-reason">Not modelled: ${escape(why ?? "—")}.</p>${error}`;
      return;
    }
    const watch = view.divergence ?? {};
    this.node.innerHTML = `<h3>Thermal zone <span class="zone-state" data-role="zone-state" data-state="${escape(watch.state ?? "")}">${escape(stateText(watch))}</span></h3>
      <dl class="kv">
        <dt>Temperature</dt><dd data-role="zone-temperature">${figure(view.temperature, view.temperature_sd, "°C")}${lastReading(view)}</dd>
        <dt>Time constant</dt><dd data-role="zone-tau">${figure(view.time_constant_hours, view.time_constant_sd, "h")}</dd>
        ${view.identifiable === "resistance_and_capacitance" ? `
        <dt>R</dt><dd data-role="zone-r">${figure(view.resistance, view.resistance_sd, "K/kW")}</dd>
        <dt>C</dt><dd data-role="zone-c">${figure(view.capacitance, view.capacitance_sd, "kWh/K")}</dd>`
          : '<dt>R, C</dt><dd class="muted" data-role="zone-r">not told apart without a heating meter</dd>'}
        <dt>Heat gain</dt><dd data-role="zone-gain">${gainText(view)}</dd>
        <dt>In ${FORECAST_HOURS} h</dt><dd data-role="zone-forecast">${forecastText(view.forecast)}</dd>
        <dt>Inputs</dt><dd>${inputsText(view, this.nameOf)}</dd>
        ${watch.recalibration ? `<dt>Recalibrated</dt><dd data-role="zone-recalibration">${recalibrationText(watch.recalibration)}</dd>` : ""}
      </dl>${error}`;
  }
}

/** "holds 14.2 ± 0.3 K above what outdoors and heating explain", and how well the room
 * fits: the prior's error against the variance it claims (above 2 the forecast is the
 * readings' level/trend). */
function gainText(view) {
  if (view.gain == null) return "—";
  const gain = Number(view.gain);
  const [held, sd] = withSpread(Math.abs(gain), view.gain_sd);
  const spread = sd == null ? "" : ` <span class="muted">± ${sd}</span>`;
  const explained = view.heating ? "outdoors and heating explain" : "outdoors explains (no heating meter)";
  const side = gain < 0 ? "below" : "above";
  const fit = view.misfit == null ? ""
    : `<div class="muted" data-role="zone-misfit">its prior misses by ${value(view.misfit)}× the variance it claims${view.misfit > 2 ? ": forecast from the readings' trend" : ""}</div>`;
  return `holds ${held}${spread} K ${side} what ${explained}${fit}`;
}

function stateText(watch) {
  const label = STATE_LABELS[watch.state] ?? "—";
  if (watch.state === "diverging" && watch.since != null) return `${label} since ${when(watch.since)}`;
  return label;
}

/** "21.31 ± 0.12 °C", to the deviation's precision; "—" before the first readings. */
function figure(mean, sd, unit) {
  if (mean == null) return "—";
  const [shown, spread] = withSpread(mean, sd);
  return `${shown}${spread == null ? "" : ` <span class="muted">± ${spread}</span>`} ${escape(unit)}`;
}

function lastReading(view) {
  if (view.last_time == null) return "";
  return ` <span class="muted">at the reading of <span data-time="${view.last_time}" title="${escape(stamp(view.last_time))}">${ago(view.last_time)}</span></span>`;
}

/** The model's temperature some hours on, its 90 % interval, and what it assumes of the
 * inputs: persisted with the spread their stored readings show (the forecast route's), or
 * held at their latest readings as if known (a zone too young for that). */
function forecastText(forecast) {
  if (!forecast || forecast.temperature == null) return '<span class="muted">after more readings</span>';
  const interval = forecast.low == null ? "" : ` <span class="muted">(90 %: ${value(forecast.low)} – ${value(forecast.high)})</span>`;
  const heating = forecast.heating_kw ? `heating ${value(forecast.heating_kw)} kW` : null;
  const assumed = forecast.inputs === "persisted"
    ? ["outdoors along its daily course", heating].filter(Boolean).join(", ") + ", with their spread"
    : [`outdoors ${value(forecast.outdoor_temperature)} °C`, heating].filter(Boolean).join(", ") + " held as known";
  return `${value(forecast.temperature)} °C${interval}<div class="muted" data-role="zone-inputs-assumed">${escape(assumed)}</div>`;
}

function inputsText(view, nameOf) {
  const source = (s) => (s ? `<span class="mono">${escape(s.property)}</span> of ${escape(nameOf(s.element_id) || s.element_id)}` : null);
  const parts = [`air: <span class="mono">${escape((view.sensors ?? []).join(", "))}</span>`,
    view.outdoor ? `outdoors: ${source(view.outdoor)}` : null,
    view.heating ? `heating: ${source(view.heating)}` : null].filter(Boolean);
  const early = view.stepped_before_inputs_known
    ? `<div class="muted">${value(view.stepped_before_inputs_known)} readings stepped before the inputs were known</div>` : "";
  return parts.join("<br>") + early;
}

/** The last recalibration: when, and each parameter before → after. */
function recalibrationText(recalibration) {
  const pairs = [["τ", "time_constant_hours", "h"], ["R", "resistance", "K/kW"], ["C", "capacitance", "kWh/K"], ["G", "gain", "K"]]
    .filter(([, key]) => recalibration.before?.[key] != null && recalibration.after?.[key] != null)
    .map(([name, key, unit]) => `${name} ${value(recalibration.before[key])} → ${value(recalibration.after[key])} ${escape(unit)}`);
  return `${escape(when(recalibration.time))}${pairs.length ? `<div>${pairs.join(" · ")}</div>` : ""}`
    + `<div class="muted">over its last ${value(recalibration.window)} readings; ${value(recalibration.count)} so far</div>`;
}
