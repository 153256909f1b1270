// A fused value's detail in the panel's property table: its standard uncertainty
// ("± 0.02 °C") and, opened or hovered, each source's share of it: every sensor, and a
// field measurement beside them (service/fusion.py, service/field_sources.py,
// docs/PHYSICS.md "Fusion").
//
// The element's snapshot carries `uncertainty`, `weights`, `sources` and `field`; a live
// delta carries none, so the last known ones stand beside the new value (state.js) and
// the shown element is re-read at most every few seconds while its fused values move.

import { escape, unit } from "./format.js";

// Which details are open, by property name: the panel replaces a row on every reading,
// and an opened list must not snap shut under the reader.
const opened = new Set();
document.addEventListener("toggle", (event) => {
  const details = event.target;
  if (!(details instanceof HTMLDetailsElement) || !details.classList.contains("fused")) return;
  if (details.open) opened.add(details.dataset.property);
  else opened.delete(details.dataset.property);
}, true);

// How often the shown element's uncertainty and shares are re-read while values move.
export const REREAD_MS = 5_000;

/** An uncertainty with two significant digits: 0.017, 0.23, 1.2, 12. */
export function plusMinus(u) {
  if (typeof u !== "number" || !Number.isFinite(u)) return null;
  if (u === 0) return "0";
  const digits = Math.max(0, 1 - Math.floor(Math.log10(Math.abs(u))));
  return u.toLocaleString(undefined, { minimumFractionDigits: Math.min(digits, 6), maximumFractionDigits: Math.min(digits, 6) });
}

/** Whether a property's value is fused from sources (sensors, a field measurement). */
export function isFused(property) {
  return property?.source === "iot" || Array.isArray(property?.sources);
}

/**
 * Each source of a fused value as a row: [key, label, share, title], the largest share
 * first. From `sources` where the server gives them (a sensor named "field" cannot be
 * taken for the field measurement there), else from `weights` (sensors only).
 */
export function shareRows(property) {
  const rows = Array.isArray(property?.sources)
    ? property.sources.filter((s) => typeof s.weight === "number").map((s) => s.kind === "sensor"
      ? [`sensor:${s.id}`, s.id, s.weight, s.id]
      : s.kind === "field"
        ? ["field", "field measurement", s.weight, fieldTitle(property.field, property.unit)]
        : s.kind === "prediction"
          ? ["prediction", modelLabel(s), s.weight, modelTitle(s, property.unit)]
          : [s.kind, s.kind, s.weight, s.kind])
    : Object.entries(property?.weights ?? {}).map(([id, share]) => [`sensor:${id}`, id, share, id]);
  return rows.sort((a, b) => b[2] - a[2] || a[1].localeCompare(b[1]));
}

function fieldTitle(field, propertyUnit) {
  if (!field) return "field measurement";
  const shown = unit(propertyUnit);
  const u = plusMinus(field.aged_uncertainty);
  const parts = [`measured ${field.value}${shown ? ` ${shown}` : ""} ± ${plusMinus(field.uncertainty)}`];
  if (field.instrument) parts.push(`with ${field.instrument}`);
  parts.push(`${age(field.age)} ago`);
  if (u !== null) parts.push(field.rate === null ? "not aging yet (no sensor to learn the rate from)" : `± ${u} now`);
  return parts.join(", ");
}

/** A model's prediction as a source: "thermal zone model", "thermal zone model (alone, 3 h)". */
function modelLabel(source) {
  const name = `${String(source.model ?? "model").replaceAll("_", " ")} model`;
  return source.basis === "extrapolated" ? `${name} (extrapolated ${age(source.age)})` : name;
}

function modelTitle(source, propertyUnit) {
  const shown = unit(propertyUnit);
  const sd = typeof source.variance === "number" ? plusMinus(Math.sqrt(source.variance)) : null;
  const how = source.basis === "extrapolated"
    ? `extrapolated from its last reading ${age(source.age)} ago, no sensor trusted`
    : "predicted before the readings fused beside it";
  return sd === null ? how : `${how}, ± ${sd}${shown ? ` ${shown}` : ""}`;
}

/** An age in seconds as the largest whole unit: "40 s", "12 min", "3 h", "2 d". */
export function age(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/**
 * The detail of a property row (`name` its full name): nothing for a value no source
 * fused, else a <details> whose summary is the ± and whose body lists the shares.
 */
export function fusedDetail(name, property) {
  if (!isFused(property)) return "";
  const shares = shareRows(property);
  if (!shares.length) return "";
  const u = plusMinus(property.uncertainty);
  const shown = unit(property.unit);
  const plus = u === null
    ? '<span class="pm unknown" title="Not known while a sensor\'s noise is still being learned: the sensors are weighed by trust alone">± ?</span>'
    : `<span class="pm">± ${escape(u)}${shown ? ` ${escape(shown)}` : ""}</span>`;
  const title = shares.map(([, label, share]) => `${label} ${percent(share)}`).join(" · ");
  const sensors = shares.filter(([key]) => key.startsWith("sensor:")).length;
  const field = shares.some(([key]) => key === "field");
  const count = sensors > 1 || field
    ? ` <span class="muted">· ${[sensors ? `${sensors} sensor${sensors > 1 ? "s" : ""}` : "", field ? "field" : ""].filter(Boolean).join(" + ")}</span>`
    : "";
  return `<details class="fused" data-property="${escape(name)}"${opened.has(name) ? " open" : ""}>
    <summary title="${escape(`Each source's share: ${title}`)}">${plus}${count}</summary>
    <ul class="shares">${shares.map(([key, label, share, hint]) => `
      <li ${key.startsWith("sensor:") ? `data-sensor-share="${escape(key.slice(7))}"` : `data-source-share="${escape(key)}"`}><span class="sid" title="${escape(hint)}">${escape(label)}</span>
        <span class="meter"><i style="width:${(Math.max(0, Math.min(1, share)) * 100).toFixed(1)}%"></i></span>
        <b>${percent(share)}</b></li>`).join("")}
    </ul>
  </details>`;
}

function percent(share) {
  return `${Math.round(share * 100)} %`;
}

/**
 * Keeps the shown element's fused details current: `changed(element, change)` on every
 * live change; a property moved that sensors fuse asks for the element again (at most
 * every REREAD_MS) and redraws only the details.
 */
export class FusedDetails {
  /**
   * @param {HTMLElement} container the panel
   * @param {(id: string) => Promise<object>} getElement
   * @param {() => string|null} shownId
   */
  constructor(container, getElement, shownId) {
    this.container = container;
    this.getElement = getElement;
    this.shownId = shownId;
    this.timer = null;
    this.lastRead = 0;
  }

  changed(element, change) {
    if (change.kind !== "property" || element.id !== this.shownId()) return;
    // A value the sensors fuse: its shares may have moved, or be new with it.
    if (!isFused(element.properties[change.property]) || this.timer) return;
    const wait = Math.max(0, this.lastRead + REREAD_MS - Date.now());
    this.timer = setTimeout(() => this.reread(element), wait);
  }

  async reread(element) {
    this.timer = null;
    this.lastRead = Date.now();
    if (element.id !== this.shownId()) return;
    let snapshot;
    try {
      snapshot = await this.getElement(element.id);
    } catch {
      return; // the next change tries again
    }
    if (element.id !== this.shownId()) return;
    for (const [name, fresh] of Object.entries(snapshot.properties ?? {})) {
      const known = element.properties[name];
      if (!known || !isFused(fresh)) continue;
      known.uncertainty = fresh.uncertainty;
      known.weights = fresh.weights;
      known.sources = fresh.sources;
      known.field = fresh.field;
      const cell = this.container.querySelector(`tr[data-property="${CSS.escape(name)}"] td.pvalue`);
      if (!cell) continue;
      cell.querySelector("details.fused")?.remove();
      cell.querySelector(".unit")?.insertAdjacentHTML("afterend", fusedDetail(name, known));
    }
  }
}
