// The dashboard: wires the live state to the 3D view, the tree, the panel and the header.
//
// Data flow is one way: the WebSocket feeds TwinState; views listen to it. The page
// fetches only what the socket does not carry (the model's geometry, a sensor's history)
// and what it writes (a status change), which comes back to it as a delta like anyone's.

import * as api from "./api.js";
import { NO_VALUE, STATUS_COLORS, STATUS_LABELS, colorFor, rangeOf, scaleGradient } from "./colors.js";
import { escape, label, unit, value } from "./format.js";
import { LiveConnection, socketUrl } from "./live.js";
import { Panel } from "./panel.js";
import { STATUSES, TwinState } from "./state.js";
import { Tree } from "./tree.js";

const $ = (selector) => document.querySelector(selector);

const state = new TwinState();
let viewer = null;
let modelRevision = null;
let colorMode = "status";
let colorRange = null;
let storeyFilter = "";
let selectedId = null;
let firstRenderMs = null;
let connection = "connecting";
let everLive = false;
let xray = false;

const tree = new Tree($("#tree"), state, { onSelect: (id) => select(id) });
const panel = new Panel($("#panel"), state, {
  onZoom: (id) => viewer?.fit([id]),
  hasGeometry: (id) => Boolean(viewer?.has(id)),
});

// ── the 3D view ─────────────────────────────────────────────────────────────

async function createViewer() {
  try {
    // Loaded on demand so a browser without WebGL still gets the tree and the panel.
    const { Viewer } = await import("./viewer.js");
    const hoverTip = $("#hover-tip");
    return new Viewer($("#viewer"), {
      onPick: (id) => select(id),
      onHover: (id, x, y) => {
        const element = id && state.get(id);
        hoverTip.hidden = !element;
        if (!element) return;
        const reading = colorMode === "status" ? STATUS_LABELS[element.status] : hoverValue(element);
        hoverTip.innerHTML = `<b>${escape(element.name || element.id)}</b> <span class="muted">${escape(element.type)} · ${escape(reading)}</span>`;
        hoverTip.style.left = `${x}px`;
        hoverTip.style.top = `${y}px`;
      },
    });
  } catch (error) {
    showViewerMessage("The 3D view needs WebGL, which this browser does not offer.", error.message);
    return null;
  }
}

function hoverValue(element) {
  const property = element.properties[colorMode];
  return property ? `${value(property.value)} ${unit(property.unit)}` : `no ${label(colorMode)}`;
}

function showViewerMessage(text, detail = "") {
  const box = $("#viewer-message");
  box.hidden = false;
  box.innerHTML = `<div>${text}</div>${detail ? `<code>${escape(detail)}</code>` : ""}`;
}

async function loadModel() {
  if (!viewer) return;
  let model;
  try {
    model = await api.getModel();
  } catch (error) {
    showViewerMessage("The model could not be loaded.", error.message);
    return;
  }
  if (!model) {
    modelRevision = null;
    viewer.clear();
    $(".viewport").classList.add("no-model");
    showViewerMessage("No BIM model imported — the tree and the panel still show the live twin. Import one with:",
      "twinsync import ifc FILE");
    return;
  }
  if (model.revision === modelRevision) return;
  try {
    await viewer.load(`${model.glb}?revision=${encodeURIComponent(model.revision)}`);
  } catch (error) {
    showViewerMessage("The model's geometry could not be loaded.", String(error.message ?? error));
    return;
  }
  modelRevision = model.revision;
  $("#viewer-message").hidden = true;
  $(".viewport").classList.remove("no-model");
  applyStoreyFilter();
  recolorAll();
  if (selectedId) viewer.select(selectedId);
  if (firstRenderMs === null) viewer.firstFrame.then((ms) => (firstRenderMs = Math.round(ms)));
}

// ── colour ──────────────────────────────────────────────────────────────────

function elementColor(element) {
  const color = colorFor(element, colorMode, colorRange, (e, p) => state.numberOf(e, p));
  // The selection is always solid. With X-ray on, everything else steps back, except
  // on a heat map the elements that have a value: they are what is being looked at.
  if (element.id === selectedId) return { ...color, faded: false };
  const heat = colorMode !== "status" && !color.faded;
  if (xray && selectedId && viewer?.has(selectedId) && !heat) return { ...color, faded: true };
  return color;
}

function recolor(id) {
  const element = id && state.get(id);
  if (!element || !viewer) return;
  const { hex, faded } = elementColor(element);
  viewer.setColor(id, hex, faded);
}

function computeRange() {
  if (colorMode === "status") return null;
  const values = [];
  for (const element of state.elements.values()) {
    const number = state.numberOf(element, colorMode);
    if (number !== null) values.push(number);
  }
  return rangeOf(values);
}

function recolorAll() {
  colorRange = computeRange();
  if (viewer) {
    for (const element of state.elements.values()) {
      const { hex, faded } = elementColor(element);
      viewer.setColor(element.id, hex, faded);
    }
  }
  renderLegend();
}

// Deltas arrive in bursts; colours are worked out once per frame for what changed.
const dirty = new Set();
let recolorQueued = false;
function queueRecolor(id) {
  dirty.add(id);
  if (recolorQueued) return;
  recolorQueued = true;
  requestAnimationFrame(() => {
    recolorQueued = false;
    const range = computeRange();
    const rangeMoved = (range?.min !== colorRange?.min) || (range?.max !== colorRange?.max);
    if (rangeMoved) {
      recolorAll(); // every element's place on the scale moved
    } else if (viewer) {
      for (const changedId of dirty) recolor(changedId);
    }
    dirty.clear();
    renderHeader();
  });
}

function renderLegend() {
  const legend = $("#legend");
  if (colorMode === "status") {
    const summary = state.statusSummary();
    legend.innerHTML = `<div class="title">Status</div>${STATUSES.map((s) => `
      <div class="row"><span class="swatch" style="background:${STATUS_COLORS[s]}"></span>${STATUS_LABELS[s]}<b>${summary[s] ?? 0}</b></div>`).join("")}`;
    return;
  }
  const property = state.boundProperties().find((p) => p.name === colorMode);
  const shownUnit = unit(property?.unit);
  const count = [...state.elements.values()].filter((e) => state.numberOf(e, colorMode) !== null).length;
  legend.innerHTML = colorRange
    ? `<div class="title">${escape(label(colorMode))}${shownUnit ? ` (${escape(shownUnit)})` : ""}</div>
       <div class="bar" style="background:${scaleGradient()}"></div>
       <div class="ends"><span>${value(colorRange.min)}</span><span>${value(colorRange.max)}</span></div>
       <div class="note">${count} element${count === 1 ? "" : "s"} with a value · others faded</div>`
    : `<div class="title">${escape(label(colorMode))}</div>
       <div class="row"><span class="swatch" style="background:${NO_VALUE}"></span>no values yet</div>`;
}

// ── header, filters, selection ──────────────────────────────────────────────

function renderHeader() {
  const building = [...state.elements.values()].find((e) => e.type === "IfcBuilding");
  const site = [...state.elements.values()].find((e) => e.type === "IfcSite");
  const name = building?.name || site?.name || "twinsync";
  $("#project-name").textContent = name;
  document.title = `${name} · twinsync`;
  const physical = state.physical();
  const sensors = [...state.elements.values()].reduce((n, e) => n + (e.sensors?.length ?? 0), 0);
  $("#project-meta").textContent = `${plural(physical.length, "element")} · ${plural(sensors, "sensor")}`;
  const summary = state.statusSummary();
  const alarms = state.alarmCount();
  $("#status-chips").innerHTML = STATUSES.map((s) => `
    <span class="chip" title="${STATUS_LABELS[s]}"><span class="swatch" style="background:${STATUS_COLORS[s]}"></span>${STATUS_LABELS[s]} <b>${summary[s] ?? 0}</b></span>`).join("")
    + (alarms ? `<span class="chip alarm-chip" title="Active alarms on elements">Alarms <b>${alarms}</b></span>` : "");
  if (colorMode === "status") renderLegend();
}

function plural(n, word) {
  return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
}

function renderColorModes() {
  const select = $("#color-mode");
  const properties = state.boundProperties();
  select.innerHTML = `<option value="status">Status</option>${properties.map((p) =>
    `<option value="${escape(p.name)}">${escape(label(p.name))}${p.unit ? ` (${escape(unit(p.unit))})` : ""}</option>`).join("")}`;
  if (colorMode !== "status" && !properties.some((p) => p.name === colorMode)) colorMode = "status";
  select.value = colorMode;
}

function renderStoreys() {
  const select = $("#storey-filter");
  const storeys = [...state.elements.values()].filter((e) => e.type === "IfcBuildingStorey" && !e.archived)
    .sort((a, b) => (a.name || "").localeCompare(b.name || "", undefined, { numeric: true }));
  select.innerHTML = `<option value="">All storeys</option>${storeys.map((s) => `<option value="${escape(s.id)}">${escape(s.name || s.id)}</option>`).join("")}`;
  if (storeyFilter && !storeys.some((s) => s.id === storeyFilter)) storeyFilter = "";
  select.value = storeyFilter;
}

function applyStoreyFilter() {
  viewer?.filter((id) => !storeyFilter || state.get(id)?.storey === storeyFilter);
  tree.setStoreyFilter(storeyFilter);
}

function select(id) {
  const previous = selectedId;
  selectedId = id && state.get(id) ? id : null;
  if (xray) {
    recolorAll();
  } else {
    recolor(previous);
    recolor(selectedId);
  }
  viewer?.select(selectedId);
  tree.select(selectedId);
  panel.show(selectedId);
  // The address names the selection, so a link to an element can be sent to a colleague.
  history.replaceState(null, "", selectedId ? `#element=${encodeURIComponent(selectedId)}` : location.pathname);
}

function setConnection(next, detail) {
  const box = $("#connection");
  const wasLive = connection === "live";
  connection = next;
  box.dataset.state = next;
  let text = next;
  if (next === "reconnecting" || next === "offline") {
    text = next === "offline" ? "offline · retrying" : "reconnecting…";
    box.title = `Connection to the server lost; attempt ${detail.attempt}`;
  } else {
    box.title = next === "live" ? "Receiving live updates" : "";
  }
  box.querySelector(".label").textContent = text;
  if (next === "live" && !wasLive) {
    // After a server restart the model may be a new revision: check, reload if so.
    if (everLive) loadModel();
    everLive = true;
  }
}

// ── live messages ───────────────────────────────────────────────────────────

function onMessage(message) {
  if (message.type === "snapshot") {
    state.reset(message.elements);
  } else if (message.type === "delta") {
    for (const change of message.changes) state.apply(change);
    // A new model revision: its geometry and its elements both changed wholesale.
    if (message.changes.some((c) => c.kind === "model_imported")) {
      live.resubscribe();
      loadModel();
    }
  }
}

state.on("reset", () => {
  renderColorModes();
  renderStoreys();
  applyStoreyFilter();
  recolorAll();
  renderHeader();
  const wanted = selectedId ?? new URLSearchParams(location.hash.slice(1)).get("element");
  if (wanted && state.get(wanted)) select(wanted);
  else if (selectedId) select(null);
});

state.on("change", (element, change) => {
  if (change.kind === "element_added" || change.kind === "element_archived") {
    tree.render();
    renderColorModes();
  } else if (change.kind === "status_changed") {
    tree.update(element);
  }
  panel.update(element, change);
  queueRecolor(element.id);
});

// ── controls ────────────────────────────────────────────────────────────────

$("#color-mode").addEventListener("change", (event) => {
  colorMode = event.target.value;
  recolorAll();
});
$("#storey-filter").addEventListener("change", (event) => {
  storeyFilter = event.target.value;
  applyStoreyFilter();
  viewer?.fit();
});
$("#fit-view").addEventListener("click", () => viewer?.fit());
function toggleXray() {
  xray = !xray;
  $("#xray").classList.toggle("active", xray);
  $("#xray").setAttribute("aria-pressed", String(xray));
  recolorAll();
}
$("#xray").addEventListener("click", toggleXray);
$("#tree-search").addEventListener("input", (event) => tree.setQuery(event.target.value));
addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea")) return;
  if (event.key === "f" || event.key === "F") viewer?.fit(selectedId && event.shiftKey ? [selectedId] : null);
  if (event.key === "x" || event.key === "X") toggleXray();
  if (event.key === "Escape") select(null);
});

// A read-only window for tests and for people poking at the console.
window.twinsync = Object.freeze({
  /** The colour an element is drawn in (#rrggbb), or what it would be without geometry. */
  colorOf: (id) => viewer?.colorOf(id) ?? (state.get(id) ? elementColor(state.get(id)).hex : null),
  /** Where an element's centre is on screen, in page pixels, or null. */
  screenPositionOf: (id) => viewer?.screenPositionOf(id) ?? null,
  get firstRenderMs() { return firstRenderMs; },
  get connection() { return connection; },
  get modelRevision() { return modelRevision; },
  get selectedId() { return selectedId; },
  get colorMode() { return colorMode; },
  get elementCount() { return state.elements.size; },
});

// ── start: model and live state load in parallel ────────────────────────────

const live = new LiveConnection(socketUrl(), { onMessage, onState: setConnection });
live.start();
viewer = await createViewer();
await loadModel();
