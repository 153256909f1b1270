// A fused value's detail in the panel's property table: its standard uncertainty
// ("± 0.02 °C") and, opened or hovered, each sensor's share of it (service/fusion.py,
// docs/DESIGN.md "Trust").
//
// The element's snapshot carries `uncertainty` and `weights`; a live delta carries
// neither, so the last known ones stand beside the new value (state.js) and the shown
// element is re-read at most every few seconds while its fused values move.

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

/**
 * The detail of a property row (`name` its full name): nothing for a value no sensor
 * fused, else a <details> whose summary is the ± and whose body lists the shares.
 */
export function fusedDetail(name, property) {
  const weights = property?.weights;
  if (property?.source !== "iot" || !weights || !Object.keys(weights).length) return "";
  const shares = Object.entries(weights).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const u = plusMinus(property.uncertainty);
  const shown = unit(property.unit);
  const plus = u === null
    ? '<span class="pm unknown" title="Not known while a sensor\'s noise is still being learned: the sensors are weighed by trust alone">± ?</span>'
    : `<span class="pm">± ${escape(u)}${shown ? ` ${escape(shown)}` : ""}</span>`;
  const title = shares.map(([id, share]) => `${id} ${percent(share)}`).join(" · ");
  const count = shares.length > 1 ? ` <span class="muted">· ${shares.length} sensors</span>` : "";
  return `<details class="fused" data-property="${escape(name)}"${opened.has(name) ? " open" : ""}>
    <summary title="${escape(`Each sensor's share: ${title}`)}">${plus}${count}</summary>
    <ul class="shares">${shares.map(([id, share]) => `
      <li data-sensor-share="${escape(id)}"><span class="sid" title="${escape(id)}">${escape(id)}</span>
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
    if (element.properties[change.property]?.source !== "iot" || this.timer) return;
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
      if (!known || fresh.source !== "iot") continue;
      known.uncertainty = fresh.uncertainty;
      known.weights = fresh.weights;
      const cell = this.container.querySelector(`tr[data-property="${CSS.escape(name)}"] td.pvalue`);
      if (!cell) continue;
      cell.querySelector("details.fused")?.remove();
      cell.querySelector(".unit")?.insertAdjacentHTML("afterend", fusedDetail(name, known));
    }
  }
}
