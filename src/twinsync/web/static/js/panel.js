// The side panel of the selected element: who it is, where it stands, what it measures.
//
// Live deltas update the panel in place (a value, a time, a quality bar) rather than
// re-rendering it, so a status select that is open or a chart being hovered is not
// torn down under the user's pointer every two seconds.

import { getChanges, getElement, setStatus } from "./api.js";
import { SensorChart, WINDOWS } from "./chart.js";
import { STATUS_COLORS, STATUS_LABELS } from "./colors.js";
import { ago, escape, label, reading, stamp, unit, value } from "./format.js";
import { fusedDetail } from "./fused_detail.js";
import { HISTORY_LENGTH, historyHtml } from "./history.js";
import { ExpectedAnomalies } from "./expected.js";
import { TwinSection } from "./twin_panel.js";
import { TwinStore, isTwinChange } from "./twin.js";
// Rooms, storeys and the site are places, not work: they have no construction status
// (the header's counts leave them out too), so their panel offers none.
import { SPATIAL, STATUSES } from "./state.js";

/** How often the chart's model track is read again while shown (live readings come without one). */
const TWIN_TRACK_REFRESH_MS = 60_000;

export class Panel {
  /**
   * @param {HTMLElement} container
   * @param {import("./state.js").TwinState} state
   * @param {{onZoom: (id: string) => void, hasGeometry: (id: string) => boolean, sections?: (element: object) => Node[], twin?: TwinStore}} handlers
   *   `sections` gives what other views add about the element (its activities), shown
   *   under its identity; `twin` reads the element's models (the sensors' states, under
   *   the chart, which draws their predictions).
   */
  constructor(container, state, { onZoom, hasGeometry, sections = () => [], twin = new TwinStore() }) {
    this.container = container;
    this.state = state;
    this.onZoom = onZoom;
    this.hasGeometry = hasGeometry;
    this.sections = sections;
    this.emptyHtml = container.innerHTML;
    this.elementId = null;
    this.sensorId = null;
    this.window = WINDOWS[0];
    // The chart lives across re-renders of the rest of the panel.
    this.chartBox = document.createElement("div");
    this.chartBox.className = "chart";
    this.chart = new SensorChart(this.chartBox);
    // Anomalies marked expected, and the form that marks them: kept across re-renders
    // too, prefilled from the chart's anomalies.
    this.expected = new ExpectedAnomalies();
    this.chart.onSpan = (span, how) => this.expected.offer(span, how);
    this.refreshQueued = false;
    // The shown element's list of changes, kept across re-renders of the panel.
    this.changesHtml = "";
    this.changesQueued = false;
    // The sensors' twin models, kept across re-renders like the chart.
    this.twinSection = new TwinSection(twin);
    this.twinQueued = false;
    // Relative times ("12 s ago") age by themselves.
    setInterval(() => this.refreshTimes(), 1000);
    // The chart's predictions are read again now and then: live readings arrive without one.
    setInterval(() => document.hidden || this.chart.refreshTwin(), TWIN_TRACK_REFRESH_MS);
  }

  show(id) {
    const changed = id !== this.elementId;
    this.elementId = id;
    const element = id ? this.state.get(id) : null;
    if (!element) {
      this.chart.clear();
      this.sensorId = null;
      this.container.innerHTML = this.emptyHtml;
      return;
    }
    if (changed) {
      // The first sensor with data is the one people want to see.
      const sensors = element.sensors ?? [];
      this.sensorId = (sensors.find((s) => s.count > 0) ?? sensors[0])?.id ?? null;
    }
    if (changed) {
      this.changesHtml = '<li class="muted">loading…</li>';
      this.expected.show(id, this.sensorId);
    }
    this.render(element);
    if (changed) {
      this.loadChart();
      this.loadChanges();
    }
  }

  render(element) {
    const storey = this.state.get(element.storey);
    const parent = this.state.get(element.parent);
    const sensors = element.sensors ?? [];
    const zoom = this.hasGeometry(element.id) ? '<button type="button" data-action="zoom" title="Frame this element in the 3D view">Zoom to</button>' : "";
    this.container.innerHTML = `
      <section class="identity">
        <div class="title-row">
          <div class="grow">
            <h2>${escape(element.name || element.id)}</h2>
            <div class="muted">${escape(element.type)}</div>
          </div>
          ${zoom}
        </div>
        ${SPATIAL.has(element.type) ? "" : `
        <div class="status-row">
          <span class="swatch" data-role="status-swatch" style="background:${STATUS_COLORS[element.status]}"></span>
          <select data-role="status" aria-label="Status">
            ${STATUSES.map((s) => `<option value="${s}" ${s === element.status ? "selected" : ""}>${STATUS_LABELS[s]}</option>`).join("")}
          </select>
          <span data-role="status-note"></span>
        </div>`}
        <dl class="kv">
          <dt>GlobalId</dt><dd class="mono">${escape(element.global_id ?? element.id)}</dd>
          <dt>IFC class</dt><dd>${escape(element.type)}</dd>
          <dt>Storey</dt><dd>${escape(storey?.name ?? "—")}</dd>
          ${parent && parent.id !== storey?.id ? `<dt>In</dt><dd>${escape(parent.name || parent.id)}</dd>` : ""}
        </dl>
      </section>
      ${element.alarms?.length ? `
      <section class="alarms">
        <h3>Alarms <span class="count">${element.alarms.length}</span></h3>
        ${element.alarms.map((a) => `<div class="alarm ${escape(a.severity)}"><span class="badge">${escape(a.severity)}</span> ${escape(a.message)} <span class="muted" data-time="${a.raised_at}">${ago(a.raised_at)}</span></div>`).join("")}
      </section>` : ""}
      ${sensors.length ? `
      <section>
        <h3>Sensors <span class="count">${sensors.length}</span></h3>
        <div class="sensors">${sensors.map((s) => this.sensorCard(s)).join("")}</div>
      </section>
      <section>
        <h3><span data-role="chart-title">History</span>
          <span class="chart-tools">${WINDOWS.map((w) => `<button type="button" data-window="${w.label}" class="${w === this.window ? "active" : ""}">${w.label}</button>`).join("")}</span>
        </h3>
        <div data-role="chart"></div>
      </section>
      <div data-role="twin"></div>
      <div data-role="expected"></div>` : ""}
      <section>
        <h3>Properties <span class="count">${Object.keys(element.properties).length}</span></h3>
        ${this.propertyTable(element)}
      </section>
      <section>
        <h3>Changes</h3>
        <ol class="changes" data-role="changes">${this.changesHtml}</ol>
      </section>`;
    this.container.querySelector(".identity").after(...this.sections(element));
    this.container.querySelector('[data-role="chart"]')?.replaceWith(this.chartBox);
    this.container.querySelector('div[data-role="expected"]')?.replaceWith(this.expected.box);
    if (sensors.length) this.container.querySelector('div[data-role="twin"]')?.replaceWith(this.twinSection.nodeFor(element));
    this.updateChartTitle();
    this.bind(element);
  }

  sensorCard(sensor) {
    const property = sensor.binding?.property;
    return `
      <button type="button" class="sensor ${sensor.id === this.sensorId ? "active" : ""}" data-sensor="${escape(sensor.id)}">
        <span class="sid" title="${escape(sensor.id)}">${escape(sensor.id)}</span>
        <span class="val" data-role="value">${reading(sensor.value)}<small>${escape(unit(sensor.unit))}</small></span>
        <span class="sub">${escape(property ? label(property) : sensor.kind)}${healthBadge(sensor)}</span>
        <span class="sub right">${quality(sensor.quality)}<span data-time="${sensor.time ?? ""}" title="${escape(stamp(sensor.time))}">${ago(sensor.time)}</span></span>
      </button>`;
  }

  propertyTable(element) {
    const groups = new Map([["", []]]);
    for (const [name, property] of Object.entries(element.properties)) {
      // Property sets come as "Pset_WallCommon.FireRating": group by the set's name.
      const dot = name.indexOf(".");
      const group = dot > 0 ? name.slice(0, dot) : "";
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push([dot > 0 ? name.slice(dot + 1) : name, name, property]);
    }
    const rows = [];
    for (const [group, entries] of groups) {
      if (!entries.length) continue;
      if (group) rows.push(`<tr class="group"><td colspan="2">${escape(group)}</td></tr>`);
      for (const [short, name, property] of entries.sort(([a], [b]) => a.localeCompare(b))) {
        rows.push(this.propertyRow(short, name, property));
      }
    }
    return `<table class="props">${rows.join("")}</table>`;
  }

  propertyRow(short, name, property) {
    const live = property.source === "iot";
    const when = property.time ? `<span data-time="${property.time}" title="${escape(stamp(property.time))}">${ago(property.time)}</span>` : "";
    const confidence = property.confidence == null ? "" : `<span title="confidence in this value">conf. ${Math.round(property.confidence * 100)}%</span>`;
    return `
      <tr data-property="${escape(name)}" class="${live ? "live" : ""}">
        <td class="pname" title="${escape(name)}">${escape(label(short))}</td>
        <td class="pvalue">${escape(value(property.value))}<span class="unit">${escape(unit(property.unit))}</span>${fusedDetail(name, property)}
          <div class="pmeta"><span class="badge ${escape(property.source)}">${escape(property.source)}</span>${[when, confidence].filter(Boolean).join(" · ")}</div></td>
      </tr>`;
  }

  bind(element) {
    const container = this.container;
    const select = container.querySelector('[data-role="status"]');
    select?.addEventListener("change", () => this.changeStatus(element.id, select.value));
    container.querySelector('[data-action="zoom"]')?.addEventListener("click", () => this.onZoom(element.id));
    for (const card of container.querySelectorAll("[data-sensor]")) {
      card.addEventListener("click", () => {
        this.sensorId = card.dataset.sensor;
        for (const other of container.querySelectorAll("[data-sensor]")) other.classList.toggle("active", other === card);
        this.expected.show(element.id, this.sensorId);
        this.updateChartTitle();
        this.loadChart();
      });
    }
    for (const button of container.querySelectorAll("[data-window]")) {
      button.addEventListener("click", () => {
        this.window = WINDOWS.find((w) => w.label === button.dataset.window);
        for (const other of container.querySelectorAll("[data-window]")) other.classList.toggle("active", other === button);
        this.loadChart();
      });
    }
  }

  /** The signed-in role: what the panel offers to change. */
  setRole(role) {
    this.expected.setRole(role);
    this.twinSection.setRole(role);
  }

  async changeStatus(id, status) {
    const note = this.container.querySelector('[data-role="status-note"]');
    note.className = "saving";
    note.textContent = "saving…";
    try {
      await setStatus(id, status);
      // The WebSocket delta repaints everything; here we only say it worked.
      if (this.elementId === id) note.textContent = "saved";
      setTimeout(() => note.textContent === "saved" && (note.textContent = ""), 1500);
    } catch (error) {
      if (this.elementId !== id) return;
      note.className = "error";
      note.textContent = error.message;
      this.container.querySelector('[data-role="status"]').value = this.state.get(id).status;
    }
  }

  /** The newest changes of the shown element, read again at most once a second. */
  loadChanges() {
    if (this.changesQueued) return;
    this.changesQueued = true;
    setTimeout(async () => {
      this.changesQueued = false;
      const id = this.elementId;
      if (!id) return;
      let html;
      try {
        html = historyHtml((await getChanges(id, HISTORY_LENGTH)).entries);
      } catch (error) {
        html = error.status === 403
          ? '<li class="muted">The history of changes is shown to admins.</li>'
          : `<li class="error">${escape(error.message)}</li>`;
      }
      if (id !== this.elementId) return;
      this.changesHtml = html;
      const list = this.container.querySelector('[data-role="changes"]');
      if (list) list.innerHTML = html;
    }, this.changesHtml.includes("loading") ? 0 : 1000);
  }

  loadChart() {
    const element = this.state.get(this.elementId);
    const sensor = element?.sensors?.find((s) => s.id === this.sensorId);
    if (!sensor) {
      this.chart.clear();
      return;
    }
    const property = sensor.binding?.property;
    this.chart.show(sensor.id, sensor.unit, this.window, property ? { elementId: element.id, property } : null);
  }

  /** A divergence of the shown element started or ended: its models and track read again, once a burst. */
  queueTwinRefresh() {
    if (this.twinQueued) return;
    this.twinQueued = true;
    setTimeout(() => {
      this.twinQueued = false;
      this.twinSection.changed(this.elementId);
      this.chart.refreshTwin();
    }, 500);
  }

  updateChartTitle() {
    const title = this.container.querySelector('[data-role="chart-title"]');
    if (title) title.textContent = this.sensorId ? `History · ${this.sensorId}` : "History";
  }

  /** A change to the shown element, from a delta. */
  update(element, change) {
    if (element.id !== this.elementId) return;
    if (isTwinChange(change)) this.queueTwinRefresh();
    // A change made by someone (not a sensor's reading) joins the list.
    if (change.kind !== "property" && change.kind !== "health_changed") this.loadChanges();
    if (change.kind === "property") {
      this.updateProperty(element, change.property);
      if (change.sensorKnown) {
        const sensor = element.sensors.find((s) => s.id === change.sensor_id);
        this.updateSensorCard(sensor);
        if (sensor.id === this.sensorId) this.chart.append(sensor.time, sensor.value, sensor.anomaly);
      } else {
        this.queueSensorRefresh();
      }
      return;
    }
    if (change.kind === "status_changed") {
      const select = this.container.querySelector('[data-role="status"]');
      if (!select) return;
      select.value = element.status;
      this.container.querySelector('[data-role="status-swatch"]').style.background = STATUS_COLORS[element.status];
      return;
    }
    if (change.kind === "property_changed") {
      this.updateProperty(element, change.property);
      return;
    }
    if (change.kind === "health_changed") {
      this.updateSensorCard(element.sensors.find((s) => s.id === change.sensor_id));
      return;
    }
    // A span marked expected or withdrawn, here or by anyone: the list reads it again.
    if (change.kind === "anomaly_expected" || change.kind === "anomaly_expected_withdrawn") {
      this.expected.load();
      return;
    }
    // Changes to the element itself or its alarms redraw the panel; events the panel
    // does not show (a sensor added elsewhere, a schedule note) leave it alone.
    if (change.kind.startsWith("alarm_") || change.kind.startsWith("element_")) this.render(element);
  }

  updateSensorCard(sensor) {
    const card = sensor && this.container.querySelector(`[data-sensor="${CSS.escape(sensor.id)}"]`);
    if (!card) return;
    card.querySelector('[data-role="value"]').innerHTML = `${reading(sensor.value)}<small>${escape(unit(sensor.unit))}</small>`;
    card.querySelector(".sub:not(.right)").innerHTML = `${escape(sensor.binding?.property ? label(sensor.binding.property) : sensor.kind)}${healthBadge(sensor)}`;
    card.querySelector(".sub.right").innerHTML = `${quality(sensor.quality)}<span data-time="${sensor.time ?? ""}" title="${escape(stamp(sensor.time))}">${ago(sensor.time)}</span>`;
  }

  /**
   * A property fed by several sensors moved, and the delta did not say what each read:
   * re-read the shown element's sensors, at most once a second.
   */
  queueSensorRefresh() {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    setTimeout(async () => {
      this.refreshQueued = false;
      const id = this.elementId;
      if (!id) return;
      let snapshot;
      try {
        snapshot = await getElement(id);
      } catch {
        return; // the next delta tries again
      }
      const charted = this.state.get(id)?.sensors.find((s) => s.id === this.sensorId);
      const lastTime = charted?.time ?? 0;
      const element = this.state.refreshSensors(snapshot);
      if (!element || id !== this.elementId) return;
      for (const sensor of element.sensors) this.updateSensorCard(sensor);
      const fresh = element.sensors.find((s) => s.id === this.sensorId);
      // The REST snapshot does not say the reading's anomaly score: drawn unscored.
      if (fresh && fresh.time > lastTime) this.chart.append(fresh.time, fresh.value, null);
    }, 1000);
  }

  updateProperty(element, name) {
    const row = this.container.querySelector(`tr[data-property="${CSS.escape(name)}"]`);
    if (!row) {
      this.render(element); // a property the element did not have before
      return;
    }
    const dot = name.indexOf(".");
    const template = document.createElement("tbody");
    template.innerHTML = this.propertyRow(dot > 0 ? name.slice(dot + 1) : name, name, element.properties[name]);
    const fresh = template.firstElementChild;
    fresh.classList.add("flash");
    row.replaceWith(fresh);
  }

  refreshTimes() {
    const now = Date.now() / 1000;
    for (const node of this.container.querySelectorAll("[data-time]")) {
      const time = Number(node.dataset.time);
      if (time) node.textContent = ago(time, now);
    }
  }
}

/** A sensor that is not healthy says why: stuck, drifting, offline… */
function healthBadge(sensor) {
  const health = sensor.health;
  if (!health || !health.state || health.state === "ok" || health.state === "unknown") return "";
  return ` <span class="badge health" title="${escape(health.reason ?? "")}">${escape(health.state)}</span>`;
}

function quality(q) {
  if (q == null) return "";
  const colour = q >= 0.8 ? "var(--completed)" : q >= 0.5 ? "var(--warn)" : "var(--bad)";
  return `<span class="quality" title="quality ${q.toFixed(2)}"><span class="meter"><i style="width:${Math.round(q * 100)}%;background:${colour}"></i></span>${q.toFixed(2)}</span>`;
}
