// The twin part of an element's panel: each sensor's level/trend model — learning, in
// control, diverging since when, or off — with its level and how far the last reading
// was from the prediction. The chart above it draws the predictions and their band.
//
// While a shadow twin runs (docs/PHYSICS.md, "The shadow twin"), each sensor's row adds
// its live against shadow tracking error, and under the list the fleet's comparison (GET
// /api/twin/shadow) says which tracks better, with Promote and Stop for operators and
// admins: each asks to confirm first. Shadow events carry no element, so a shadow started
// or ended elsewhere shows at the next read.
//
// One node lives across re-renders of the panel (a live delta redraws it; the answer
// should not flicker). It is read when the element is chosen, when a divergence of the
// element starts or ends, and every minute while shown.

import { getShadow, promoteShadow, stopShadow } from "./api.js";
import { escape, unit, value } from "./format.js";
import { ReadSection } from "./read_section.js";
import { SHADOW_ROLES, changedText, fleetShadow, sensorLeader, sensorShadowText } from "./shadow_model.js";
import { TWIN_STATE, stateLabel, stateText, when } from "./twin_model.js";

/** The hint on a sensor's shadow line: which model predicted its readings closer (RMS). */
const LEADS = {
  shadow: "the shadow predicted this sensor's readings with the lower RMS",
  live: "the live model predicted this sensor's readings with the lower RMS",
};

/** What each shadow action asks before it is sent, and says once done. */
const ACTIONS = {
  promote: {
    ask: "Make the shadow live? Its parameters and every sensor's model replace the live ones.",
    button: "Promote shadow",
    send: promoteShadow,
    done: (ended) => `Promoted: ${changedText(ended.changed)} now live.`,
  },
  stop: {
    ask: "Stop the shadow? Its comparison ends; the live model stays as it is.",
    button: "Stop shadow",
    send: stopShadow,
    done: () => "Stopped: the live model is unchanged.",
  },
};

export const REFRESH_MS = 60_000;

export class TwinSection extends ReadSection {
  /** @param {import("./twin.js").TwinStore} store */
  constructor(store) {
    super(REFRESH_MS);
    this.store = store;
    this.view = undefined;
    this.error = null;
    this.node = document.createElement("section");
    this.node.className = "twin-models";
    this.node.dataset.role = "twin";
    this.role = null;
    this.shadow = null; // GET /api/twin/shadow's answer, once read
    this.confirming = null; // "promote" or "stop" while it asks to confirm
    this.busy = false;
    this.said = null; // {kind, text}: the last action's outcome
    this.node.addEventListener("click", (event) => this.onClick(event));
  }

  /** The signed-in role: Promote and Stop show only to roles that may use them. */
  setRole(role) {
    this.role = role;
    if (this.view !== undefined) this.render();
  }

  get canSteer() {
    return SHADOW_ROLES.has(this.role);
  }

  /** The section's node for the element (read afresh when the element changes). */
  nodeFor(element) {
    if (element.id !== this.elementId) {
      this.elementId = element.id;
      this.view = undefined;
      this.error = null;
      this.confirming = null;
      this.said = null;
      this.render();
      this.load();
    }
    return this.node;
  }

  async load() {
    const id = this.elementId;
    this.readAt = Date.now();
    const [{ view, error }, shadow] = await Promise.all([
      this.store.readElement(id),
      // The fleet's comparison only matters while a shadow runs; a failed read hides it.
      getShadow().catch(() => null),
    ]);
    if (id !== this.elementId) return;
    if (view) this.view = view;
    this.shadow = shadow;
    if (!shadow?.shadow) this.confirming = null;
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
        : '<p class="muted">No sensor feeds this element.</p>'}${this.shadowBlock()}${error}`;
  }

  /** The fleet's live against shadow comparison, with its actions; "" when none runs. */
  shadowBlock() {
    const said = this.said ? `<p class="shadow-said ${escape(this.said.kind)}" data-role="shadow-said" aria-live="polite">${escape(this.said.text)}</p>` : "";
    const fleet = fleetShadow(this.shadow);
    if (!fleet) return said;
    const run = this.shadow.shadow;
    const action = this.confirming ? ACTIONS[this.confirming] : null;
    const controls = !this.canSteer
      ? (this.role ? '<p class="muted note">Promoting or stopping the shadow is for operators and admins.</p>' : "")
      : action ? `
        <div class="shadow-confirm" data-role="shadow-confirm" data-action="${this.confirming}">
          <p>${escape(action.ask)}</p>
          <div class="buttons">
            <button type="button" class="${this.confirming === "promote" ? "primary" : "danger"}" data-shadow="confirm"${this.busy ? " disabled" : ""}>${escape(action.button)}</button>
            <button type="button" data-shadow="cancel"${this.busy ? " disabled" : ""}>Cancel</button>
          </div>
        </div>`
      : `
        <div class="buttons">
          <button type="button" data-shadow="promote">Promote…</button>
          <button type="button" data-shadow="stop">Stop…</button>
        </div>`;
    return `
      <div class="shadow-fleet" data-role="shadow" data-verdict="${fleet.verdict.key}">
        <div class="shadow-head">
          <span class="title">Shadow twin</span>
          <span class="verdict" data-role="shadow-verdict">${escape(fleet.verdict.text)}</span>
        </div>
        <p class="muted">${escape(fleet.changed)} · since ${escape(when(run.started_at))} by ${escape(run.started_by)}</p>
        ${fleet.lines.map((line) => `<p class="figures" data-role="shadow-figures">${escape(line)}</p>`).join("")}
        ${controls}
        ${said}
      </div>`;
  }

  onClick(event) {
    const button = event.target.closest("button[data-shadow]");
    if (!button || this.busy) return;
    const what = button.dataset.shadow;
    if (what === "promote" || what === "stop") {
      this.confirming = what;
      this.said = null;
      this.render();
    } else if (what === "cancel") {
      this.confirming = null;
      this.render();
    } else if (what === "confirm") {
      this.act(this.confirming);
    }
  }

  async act(name) {
    const action = ACTIONS[name];
    if (!action) return;
    this.busy = true;
    this.render();
    try {
      const ended = await action.send();
      this.said = { kind: "ok", text: action.done(ended) };
    } catch (error) {
      this.said = { kind: "error", text: error.message };
    } finally {
      this.busy = false;
      this.confirming = null;
    }
    this.render();
    this.load();
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
    const shadow = sensorShadowText(model.shadow, shownUnit);
    const leader = sensorLeader(model.shadow);
    return `
      <li data-sensor-model="${escape(model.sensor_id)}" data-state="${escape(model.state)}" title="${escape(stateText(model))}">
        <span class="swatch" style="background:${state.hex}"></span>
        <span class="sid mono" title="${escape(model.sensor_id)}">${escape(model.sensor_id)}</span>
        <span class="state" data-role="twin-state">${escape(stateLabel(model))}</span>
        ${figures.length ? `<span class="figures muted" data-role="twin-detail">${escape(figures.join(" · "))}</span>` : ""}
        ${shadow ? `<span class="figures shadow-line" data-role="twin-shadow"${leader ? ` data-leader="${leader}" title="${LEADS[leader]}"` : ""}>${escape(shadow)}</span>` : ""}
      </li>`;
  }
}

function signed(x) {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;
}
