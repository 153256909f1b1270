// The dashboard: wires the live state to the 3D view, the tree, the panel and the header.
//
// Data flow is one way: the WebSocket feeds TwinState; views listen to it. The page
// fetches only what the socket does not carry (the model's geometry, a sensor's history)
// and what it writes (a status change), which comes back to it as a delta like anyone's.

import * as api from "./api.js";
import { NO_VALUE, ROOM_COLOR, STATUS_COLORS, STATUS_LABELS, colorFor, rangeOf, scaleGradient } from "./colors.js";
import { escape, label, unit, value } from "./format.js";
import { FusedDetails } from "./fused_detail.js";
import { LiveConnection, socketUrl } from "./live.js";
import { MaturityStore } from "./maturity.js";
import { BANDS, MATURITY_MODE, bandOf, strengthText } from "./maturity_model.js";
import { MaturitySection } from "./maturity_panel.js";
import { Panel } from "./panel.js";
import { SchedulePane } from "./schedule.js";
import { StormNotice } from "./storm.js";
import { activitiesSection, showActivity } from "./activity_panel.js";
import { STATUSES, TwinState, sortStoreys } from "./state.js";
import { Tree } from "./tree.js";
import { TwinStore, isTwinChange } from "./twin.js";
import { TWIN_MODE, TWIN_STATE, TWIN_STATES, when } from "./twin_model.js";
import { ZoneSection } from "./zone_panel.js";

const $ = (selector) => document.querySelector(selector);

const state = new TwinState();
// The fleet's anomaly storm: a notice under the header, read again at every (re)connection.
const storm = new StormNotice($("#storm"));
let viewer = null;
let modelRevision = null;
let colorMode = "status";
let colorRange = null;
let storeyFilter = "";
let selectedId = null;
// The elements of the activity chosen in the Gantt: marked like the selection, the rest faded.
let activityElements = new Set();
let firstRenderMs = null;
let connection = "connecting";
let everLive = false;
let xray = false;
// Rooms (IfcSpace) are a layer: off when colouring by status (they would hide the
// building), on by themselves when colouring by a property rooms carry; the Rooms
// button overrides either until the colour mode changes again.
let showRooms = false;
// Storey id -> the height its elements stand on in the model, for ordering storeys
// that carry no elevation property.
let storeyBottoms = new Map();

const isRoom = (element) => element?.type === "IfcSpace";

const tree = new Tree($("#tree"), state, {
  onSelect: (id) => select(id),
  sortStoreys: (items, of) => sortStoreys(items, storeyBottoms, of),
});
const schedule = new SchedulePane($("#schedule"), {
  onActivity: (code, ids) => chooseActivity(code, ids),
  onFourD: () => recolorAll(),
  // The element's panel lists its activities once the links are known, and again when
  // they or their standing change.
  onLoaded: () => {
    if (selectedId && activitiesKey(selectedId) !== panelActivities) panel.show(selectedId);
  },
});
// What the element's panel shows of its activities, to redraw it only when that changes.
let panelActivities = "";
const activitiesKey = (id) => schedule.activitiesOfElement(id).map((a) => `${a.code}:${a.standing}`).join();
// Concrete maturity: the panel's section for an element of a mix, and the colour mode.
const maturity = new MaturityStore({
  onView: (id) => {
    maturitySection.viewed(id);
    if (colorMode === MATURITY_MODE) {
      queueRecolor(id);
      queueLegend();
    }
  },
  onMixes: () => {
    renderColorModes();
    if (colorMode === MATURITY_MODE) readMaturities(0);
    if (selectedId) panel.show(selectedId); // its section may come or go with the mixes
  },
});
const maturitySection = new MaturitySection(maturity);
// A room's thermal zone (its RC model's state, forecast and divergence watch).
const zoneSection = new ZoneSection((id) => state.get(id)?.name);
// While the model is coloured by maturity it is read again at the pace of the server's
// rounds (service/curing.py assesses every 300 s).
const MATURITY_MAP_REFRESH_MS = 300_000;
let maturityTimer = null;
// The twin's models: every element's state for the "Twin divergence" colour mode (read
// when chosen, again when a divergence starts or ends and every minute while it is on),
// and the shown element's sensors' models for the panel.
const twin = new TwinStore({
  onFleet: () => {
    if (colorMode === TWIN_MODE) recolorAll();
  },
});
const TWIN_MAP_REFRESH_MS = 60_000;
let twinTimer = null;
const panel = new Panel($("#panel"), state, {
  twin,
  onZoom: (id) => viewer?.fit([id]),
  hasGeometry: (id) => Boolean(viewer?.has(id)),
  sections: (element) => {
    const activities = schedule.loaded ? schedule.activitiesOfElement(element.id) : [];
    panelActivities = schedule.loaded ? activitiesKey(element.id) : "";
    return [...maturitySection.sectionsFor(element), ...zoneSection.sectionsFor(element),
      ...(activities.length ? [activitiesSection(activities, openActivity)] : [])];
  },
});
// The shown element's fused values: their uncertainty and each sensor's share.
const fusedDetails = new FusedDetails($("#panel"), api.getElement, () => selectedId);

/** An activity chosen from an element's panel: shown in the Gantt, opened if need be. */
function openActivity(code) {
  if (!schedule.isOpen) toggleSchedule();
  schedule.choose(code);
}

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
        const reading = colorMode !== "status" ? hoverValue(element)
          : isRoom(element) ? roomSummary(element) : STATUS_LABELS[element.status];
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

/** A room's readings in a few words, for the hover tip in status mode. */
function roomSummary(element) {
  const properties = [...new Set((element.sensors ?? []).map((s) => s.binding?.property).filter(Boolean))];
  const shown = properties.map((name) => element.properties[name]).filter((p) => p && typeof p.value === "number");
  return shown.length ? shown.map((p) => `${value(p.value)} ${unit(p.unit)}`).join(" · ") : "room";
}

function hoverValue(element) {
  if (colorMode === MATURITY_MODE) return maturityHover(element);
  if (colorMode === TWIN_MODE) return twinHover(element);
  const property = element.properties[colorMode];
  return property ? `${value(property.value)} ${unit(property.unit)}` : `no ${label(colorMode)}`;
}

function showViewerMessage(text, detail = "") {
  const box = $("#viewer-message");
  box.hidden = false;
  box.innerHTML = `<div>${text}</div>${detail ? `<code>${escape(detail)}</code>` : ""}`;
}

const glbUrl = (model) => `${model.glb}?revision=${encodeURIComponent(model.revision)}`;

/**
 * The model's description and its GLB's bytes, asked for at once: on the first load they
 * download while three.js is parsed and the WebGL context starts, not after.
 */
function fetchModel() {
  const model = api.getModel();
  const bytes = model.then(async (found) => {
    if (!found) return null;
    const response = await fetch(glbUrl(found));
    if (!response.ok) throw new Error(`HTTP ${response.status} for the model's geometry`);
    return response.arrayBuffer();
  });
  bytes.catch(() => {}); // reported by loadModel, if it is used at all
  return { model, bytes };
}

async function loadModel(prefetched = null) {
  if (!viewer) return;
  let model;
  try {
    model = await (prefetched?.model ?? api.getModel());
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
    const source = prefetched ? await prefetched.bytes : glbUrl(model);
    await viewer.load(source, (id) => (state.get(id) ? isRoom(state.get(id)) : undefined));
  } catch (error) {
    showViewerMessage("The model's geometry could not be loaded.", String(error.message ?? error));
    return;
  }
  modelRevision = model.revision;
  $("#viewer-message").hidden = true;
  $(".viewport").classList.remove("no-model");
  syncRooms();
  measureStoreys();
  applyStoreyFilter();
  recolorAll();
  if (selectedId) viewer.select(selectedId);
  viewer.setHighlighted(activityElements);
  if (firstRenderMs === null) viewer.firstFrame.then((ms) => (firstRenderMs = Math.round(ms)));
}

// ── colour ──────────────────────────────────────────────────────────────────

/** How an element is drawn: {hex, style}, style one of solid, faded, volume, hidden. */
function elementColor(element) {
  if (isRoom(element)) return roomColor(element);
  const fourD = schedule.playback.active;
  // In 4D the schedule says how each element looks on the chosen date (playback.js).
  const color = fourD ? schedule.playback.styleOf(element.id) : modeColor(element);
  if (activityElements.has(element.id)) return { hex: color.hex, style: "solid" };
  if (activityElements.size && element.id !== selectedId) {
    return { hex: color.hex, style: color.style === "hidden" ? "hidden" : "faded" };
  }
  if (fourD) return element.id === selectedId && color.style !== "solid" ? { hex: color.hex, style: "solid" } : color;
  // The selection is always solid. With X-ray on, everything else steps back, except
  // on a heat map the elements that have a value: they are what is being looked at.
  if (element.id === selectedId) return { hex: color.hex, style: "solid" };
  const heat = colorMode !== "status" && !color.faded;
  if (color.faded || (xray && selectedId && viewer?.has(selectedId) && !heat)) return { hex: color.hex, style: "faded" };
  return { hex: color.hex, style: "solid" };
}

/** Rooms are translucent volumes when shown: coloured by value, or glass blue by status. */
function roomColor(element) {
  const selected = element.id === selectedId;
  const heat = colorMode !== "status";
  const color = heat ? modeColor(element) : { hex: ROOM_COLOR, faded: false };
  // A selected room is shown whatever the layer says: it is what the user asked for.
  // Rooms are not built by activities: 4D leaves them out.
  if ((!showRooms || schedule.playback.active) && !selected) return { hex: color.hex, style: "hidden" };
  if (selected) return { hex: color.hex, style: "volume" };
  if (color.faded || (xray && selectedId && viewer?.has(selectedId) && !heat)) return { hex: color.hex, style: "faded" };
  return { hex: color.hex, style: "volume" };
}

/** The colour mode's colour of an element: {hex, faded}. */
function modeColor(element) {
  if (colorMode === TWIN_MODE) return twinColor(element);
  if (colorMode !== MATURITY_MODE) return colorFor(element, colorMode, colorRange, (e, p) => state.numberOf(e, p));
  // Elements of no mix step back as elements without a value do on a heat map.
  const view = maturity.viewOf(element.id);
  if (!maturity.isOfMix(element) || view === null) return { hex: NO_VALUE, faded: true };
  return { hex: bandOf(view).hex, faded: false };
}

/** The twin mode's colour: the element's worst model state; no sensor model steps back. */
function twinColor(element) {
  const entry = twin.entryOf(element.id);
  if (entry === undefined) return { hex: TWIN_STATE.pending.hex, faded: !(element.sensors?.length) };
  if (entry === null) return { hex: NO_VALUE, faded: true };
  return { hex: (TWIN_STATE[entry.state] ?? TWIN_STATE.off).hex, faded: false };
}

function twinHover(element) {
  const entry = twin.entryOf(element.id);
  if (entry === undefined) return "reading…";
  if (entry === null) return "no sensor model";
  const of = `${entry.sensors} sensor${entry.sensors === 1 ? "" : "s"}`;
  if (entry.state === "diverging") {
    return `${entry.diverging} of ${of} diverging${entry.since != null ? ` since ${when(entry.since)}` : ""}`;
  }
  return `${TWIN_STATE[entry.state]?.label ?? entry.state} (${of})`;
}

/** The twin mode's legend: each state and how many elements (on screen) are in it. */
function twinLegendHtml() {
  const counts = new Map(TWIN_STATES.map((s) => [s.key, 0]));
  let rooms = 0;
  for (const element of state.elements.values()) {
    if (!mapped(element) || (storeyFilter && element.storey !== storeyFilter)) continue;
    const entry = twin.entryOf(element.id);
    if (entry === null || (entry === undefined && !element.sensors?.length)) continue;
    const key = entry === undefined ? "pending" : entry.state;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (isRoom(element)) rooms++;
  }
  const where = storeyFilter ? ` on ${escape(state.get(storeyFilter)?.name ?? "this storey")}` : "";
  const shown = TWIN_STATES.filter((s) => (s.key !== "pending" && s.key !== "off") || counts.get(s.key));
  const modelled = [...counts.values()].reduce((a, b) => a + b, 0);
  const note = twin.error ? `could not read the models: ${escape(twin.error.message)}`
    : `${plural(modelled, "element")} with a sensor model${where}, others faded${rooms && !showRooms ? "<br>rooms hidden: press <b>Rooms</b>" : ""}`;
  return `<div class="title">Twin divergence (worst sensor)</div>
    ${shown.map((s) => `
      <div class="row" data-twin-state="${s.key}"><span class="swatch" style="background:${s.hex}"></span>${escape(s.label)}<b>${counts.get(s.key)}</b></div>`).join("")}
    <div class="note">${note}</div>`;
}

/** Turn the twin colour mode's reading on (read now, then every minute) or off. */
function setTwinMode(on) {
  clearInterval(twinTimer);
  twinTimer = null;
  if (!on) return;
  twin.readFleet();
  twinTimer = setInterval(() => document.hidden || twin.readFleet(), TWIN_MAP_REFRESH_MS);
}

/** The elements the maturity mode reads: drawn, of a mix, those on the storey shown first. */
function maturityElements() {
  const ids = [...state.elements.values()].filter((e) => mapped(e) && maturity.isOfMix(e))
    .sort((a, b) => (storeyFilter && b.storey === storeyFilter) - (storeyFilter && a.storey === storeyFilter))
    .map((e) => e.id);
  return ids;
}

/** Read the maturity of the elements of a mix, those read less than `olderThanMs` ago kept. */
function readMaturities(olderThanMs) {
  maturity.request(maturityElements(), olderThanMs);
  renderLegend();
}

// Answers arrive a few at a time: the legend's counts are redrawn once a frame at most.
let legendQueued = false;
function queueLegend() {
  if (legendQueued) return;
  legendQueued = true;
  requestAnimationFrame(() => {
    legendQueued = false;
    renderLegend();
  });
}

function maturityHover(element) {
  if (!maturity.isOfMix(element)) return "of no concrete mix";
  const view = maturity.viewOf(element.id);
  if (view === undefined) return "reading…";
  if (view === null) return "of no concrete mix";
  return view.estimate === null ? "no strength estimate" : `${strengthText(view)} of ${value(view.required_strength)} MPa`;
}

function recolor(id) {
  const element = id && state.get(id);
  if (!element || !viewer) return;
  const { hex, style } = elementColor(element);
  viewer.setColor(id, hex, style);
}

/** The elements the heat map colours: those drawn in 3D once a model is loaded. */
function mapped(element) {
  return !element.archived && (!viewer?.model || viewer.has(element.id));
}

function computeRange() {
  if (colorMode === "status" || colorMode === MATURITY_MODE || colorMode === TWIN_MODE) return null;
  const values = [];
  for (const element of state.elements.values()) {
    const number = mapped(element) ? state.numberOf(element, colorMode) : null;
    if (number !== null) values.push(number);
  }
  return rangeOf(values);
}

function recolorAll() {
  colorRange = computeRange();
  if (viewer) {
    for (const element of state.elements.values()) {
      const { hex, style } = elementColor(element);
      viewer.setColor(element.id, hex, style);
    }
  }
  renderLegend();
  renderRoomsButton();
}

// ── rooms and storeys ───────────────────────────────────────────────────────

/** Properties that rooms carry a sensor for: colouring by one of them shows the rooms. */
function roomProperties() {
  const names = new Set();
  for (const element of state.elements.values()) {
    if (!isRoom(element) || element.archived) continue;
    for (const sensor of element.sensors ?? []) if (sensor.binding?.property) names.add(sensor.binding.property);
  }
  return names;
}

function syncRooms() {
  if (!viewer?.model) return;
  viewer.setRooms([...state.elements.values()].filter(isRoom).map((e) => e.id));
}

function renderRoomsButton() {
  const button = $("#rooms");
  const count = viewer?.roomCount ?? 0;
  button.hidden = count === 0;
  button.classList.toggle("active", showRooms);
  button.setAttribute("aria-pressed", String(showRooms));
  button.textContent = `Rooms${count ? ` ${count}` : ""}`;
}

function setShowRooms(on) {
  showRooms = on;
  recolorAll();
}

/**
 * How high each storey stands in the model: the median bottom of its elements. Only used
 * to order storeys that carry no elevation property (the importer keeps property sets,
 * not IfcBuildingStorey.Elevation), so "Basement" comes before "Ground floor".
 */
function measureStoreys() {
  const bottoms = new Map();
  if (viewer?.model) {
    for (const element of state.elements.values()) {
      if (!element.storey || element.type === "IfcBuildingStorey" || !viewer.has(element.id)) continue;
      const bottom = viewer.bottomOf(element.id);
      if (bottom === null) continue;
      if (!bottoms.has(element.storey)) bottoms.set(element.storey, []);
      bottoms.get(element.storey).push(bottom);
    }
  }
  const next = new Map([...bottoms].map(([id, list]) => [id, list.sort((a, b) => a - b)[Math.floor(list.length / 2)]]));
  const changed = next.size !== storeyBottoms.size || [...next].some(([id, v]) => storeyBottoms.get(id) !== v);
  storeyBottoms = next;
  if (changed) {
    renderStoreys();
    tree.render();
  }
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
  // In 4D the schedule colours the model; the colour mode waits until 4D is left.
  $("#color-mode").disabled = schedule.playback.active;
  if (schedule.playback.active) {
    legend.innerHTML = schedule.playback.legendHtml(state.physical().map((e) => e.id));
    return;
  }
  if (colorMode === "status") {
    const summary = state.statusSummary();
    legend.innerHTML = `<div class="title">Status</div>${STATUSES.map((s) => `
      <div class="row"><span class="swatch" style="background:${STATUS_COLORS[s]}"></span>${STATUS_LABELS[s]}<b>${summary[s] ?? 0}</b></div>`).join("")}${
      showRooms && viewer?.roomCount ? `<div class="row"><span class="swatch" style="background:${ROOM_COLOR}"></span>Room (no status)<b>${viewer.roomCount}</b></div>` : ""}`;
    return;
  }
  if (colorMode === MATURITY_MODE) {
    legend.innerHTML = maturityLegendHtml();
    return;
  }
  if (colorMode === TWIN_MODE) {
    legend.innerHTML = twinLegendHtml();
    return;
  }
  const property = state.boundProperties().find((p) => p.name === colorMode);
  const shownUnit = unit(property?.unit);
  // The scale spans the whole model (it does not jump when the storey changes); the
  // count is of what is on screen.
  const valued = [...state.elements.values()].filter((e) => mapped(e) && state.numberOf(e, colorMode) !== null
    && (!storeyFilter || e.storey === storeyFilter));
  const rooms = valued.filter(isRoom).length;
  const where = storeyFilter ? ` on ${escape(state.get(storeyFilter)?.name ?? "this storey")}` : "";
  const what = (rooms === valued.length ? plural(rooms, "room") : plural(valued.length, "element")) + where;
  const note = rooms && !showRooms
    ? `${what} with a value · rooms hidden: press <b>Rooms</b>`
    : `${what} with a value · others faded`;
  legend.innerHTML = colorRange
    ? `<div class="title">${escape(label(colorMode))}${shownUnit ? ` (${escape(shownUnit)})` : ""}</div>
       <div class="bar" style="background:${scaleGradient()}"></div>
       <div class="ends"><span>${value(colorRange.min)}</span><span>${value(colorRange.max)}</span></div>
       <div class="note">${note}</div>`
    : `<div class="title">${escape(label(colorMode))}</div>
       <div class="row"><span class="swatch" style="background:${NO_VALUE}"></span>no values yet</div>`;
}

/** The maturity mode's legend: each band and how many elements (on screen) are in it. */
function maturityLegendHtml() {
  const counts = new Map(BANDS.map((b) => [b.key, 0]));
  let shown = 0;
  for (const element of state.elements.values()) {
    if (!mapped(element) || !maturity.isOfMix(element) || (storeyFilter && element.storey !== storeyFilter)) continue;
    const view = maturity.viewOf(element.id);
    if (view === null) continue;
    counts.set(bandOf(view).key, counts.get(bandOf(view).key) + 1);
    shown++;
  }
  const where = storeyFilter ? ` on ${escape(state.get(storeyFilter)?.name ?? "this storey")}` : "";
  return `<div class="title">Concrete strength, share of required</div>
    ${BANDS.filter((b) => b.key !== "pending" || counts.get("pending")).map((b) => `
      <div class="row" data-band="${b.key}"><span class="swatch" style="background:${b.hex}"></span>${escape(b.label)}<b>${counts.get(b.key)}</b></div>`).join("")}
    <div class="note">${maturity.hasMixes ? `${plural(shown, "element")} of a mix${where} · others faded`
      : "no concrete mix declared (POST /api/mixes)"}</div>`;
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
    <span class="chip" data-status="${s}" title="${STATUS_LABELS[s]}" aria-label="${STATUS_LABELS[s]} ${summary[s] ?? 0}"><span class="swatch" style="background:${STATUS_COLORS[s]}"></span><span class="chip-label">${STATUS_LABELS[s]}</span> <b>${summary[s] ?? 0}</b></span>`).join("")
    + (alarms ? `<span class="chip alarm-chip" title="Active alarms on elements"><span class="chip-label">Alarms</span> <b>${alarms}</b></span>` : "");
  if (colorMode === "status") renderLegend();
}

function plural(n, word) {
  return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
}

function renderColorModes() {
  const select = $("#color-mode");
  const properties = state.boundProperties();
  select.innerHTML = `<option value="status">Status</option>${properties.map((p) =>
    `<option value="${escape(p.name)}">${escape(label(p.name))}${p.unit ? ` (${escape(unit(p.unit))})` : ""}</option>`).join("")}${
    maturity.hasMixes ? `<option value="${MATURITY_MODE}">Concrete strength (maturity)</option>` : ""}${
    properties.length ? `<option value="${TWIN_MODE}">Twin divergence</option>` : ""}`;
  const kept = colorMode === MATURITY_MODE ? maturity.hasMixes
    : colorMode === TWIN_MODE ? properties.length > 0 : properties.some((p) => p.name === colorMode);
  if (colorMode !== "status" && !kept) {
    setMaturityMode(false);
    setTwinMode(false);
    colorMode = "status";
    showRooms = false;
  }
  select.value = colorMode;
}

function renderStoreys() {
  const select = $("#storey-filter");
  const storeys = sortStoreys([...state.elements.values()].filter((e) => e.type === "IfcBuildingStorey" && !e.archived),
    storeyBottoms);
  select.innerHTML = `<option value="">All storeys</option>${storeys.map((s) => `<option value="${escape(s.id)}">${escape(s.name || s.id)}</option>`).join("")}`;
  if (storeyFilter && !storeys.some((s) => s.id === storeyFilter)) storeyFilter = "";
  select.value = storeyFilter;
}

function applyStoreyFilter() {
  viewer?.filter((id) => !storeyFilter || state.get(id)?.storey === storeyFilter);
  tree.setStoreyFilter(storeyFilter);
  if (colorMode !== "status") renderLegend();
}

/** An activity chosen in the Gantt (null: none): its elements are marked and framed. */
function chooseActivity(code, ids) {
  if (code && selectedId) select(null);
  activityElements = new Set(code ? ids : []);
  viewer?.setHighlighted(activityElements);
  recolorAll();
  // The side panel shows the activity while it is chosen, then the element again.
  if (code) {
    showActivity($("#panel"), code, {
      isCurrent: () => schedule.selected === code,
      onElement: (id) => select(id),
      wbsName: (id) => schedule.wbsNames.get(id) ?? id,
      unit: schedule.unit,
    });
  } else {
    panel.show(selectedId);
  }
  const drawn = [...activityElements].filter((id) => viewer?.has(id));
  if (drawn.length) viewer.fit(drawn);
}

function select(id) {
  const previous = selectedId;
  selectedId = id && state.get(id) ? id : null;
  // An element chosen in the model, the tree or the panel ends an activity's marking.
  if (selectedId && schedule.selected) {
    schedule.choose(null);
  }
  if (xray) {
    recolorAll();
  } else {
    recolor(previous);
    recolor(selectedId);
  }
  viewer?.select(selectedId);
  tree.select(selectedId);
  panel.show(selectedId);
  schedule.markElement(selectedId);
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

// Events after which the schedule reads differently: progress and links, a new version,
// and element statuses (an activity's progress may come from its elements').
const SCHEDULE_CHANGES = new Set(["schedule_imported", "activity_progress", "activity_linked",
  "link_rule_added", "survey_recorded", "status_changed"]);

function onMessage(message) {
  if (message.type === "snapshot") {
    state.reset(message.elements);
    storm.load().catch(() => {}); // the live events say the rest; a failed read is not fatal
  } else if (message.type === "delta") {
    for (const change of message.changes) {
      state.apply(change);
      storm.apply(change);
    }
    if (message.changes.some((c) => SCHEDULE_CHANGES.has(c.kind))) schedule.changed();
    if (message.properties) state.applyProperties(message.properties);
    // A mix declared changes which elements are of one and what they need.
    if (message.changes.some((c) => c.kind === "mix_declared")) maturity.loadMixes();
    // A new model revision: its geometry and its elements both changed wholesale.
    if (message.changes.some((c) => c.kind === "model_imported")) {
      live.resubscribe();
      loadModel();
    }
  }
}

state.on("reset", () => {
  renderColorModes();
  syncRooms();
  measureStoreys();
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
    if (isRoom(element)) syncRooms();
  } else if (change.kind === "status_changed") {
    tree.update(element);
  }
  panel.update(element, change);
  fusedDetails.changed(element, change);
  if (colorMode === TWIN_MODE && isTwinChange(change)) twin.queueFleet();
  if (isTwinChange(change)) zoneSection.changed(element.id);
  if (change.kind === "status_changed") {
    maturitySection.changed(element.id); // a strength recorded completes an element
    if (colorMode === MATURITY_MODE && maturity.isOfMix(element)) maturity.request([element.id]);
  }
  queueRecolor(element.id);
});

// ── controls ────────────────────────────────────────────────────────────────

/** Turn the maturity colour mode's reading on (read what is stale) or off (stop queueing). */
function setMaturityMode(on) {
  clearInterval(maturityTimer);
  maturityTimer = null;
  if (!on) {
    maturity.clearQueue();
    return;
  }
  readMaturities(60_000);
  maturityTimer = setInterval(() => document.hidden || readMaturities(MATURITY_MAP_REFRESH_MS - 30_000),
    MATURITY_MAP_REFRESH_MS);
}

$("#color-mode").addEventListener("change", (event) => {
  colorMode = event.target.value;
  setMaturityMode(colorMode === MATURITY_MODE);
  setTwinMode(colorMode === TWIN_MODE);
  showRooms = roomProperties().has(colorMode);
  recolorAll();
});
$("#rooms").addEventListener("click", () => setShowRooms(!showRooms));
$("#storey-filter").addEventListener("change", (event) => {
  storeyFilter = event.target.value;
  applyStoreyFilter();
  if (colorMode === MATURITY_MODE) readMaturities(60_000); // the storey shown first
  viewer?.fit();
});
$("#fit-view").addEventListener("click", () => viewer?.fit());
function toggleSchedule() {
  const open = !schedule.isOpen;
  if (!open && schedule.selected) schedule.choose(null); // its Gantt row goes with it
  schedule.setOpen(open);
  $(".layout").classList.toggle("with-schedule", open);
  $("#schedule-toggle").classList.toggle("active", open);
  $("#schedule-toggle").setAttribute("aria-pressed", String(open));
  recolorAll();
}
$("#schedule-toggle").addEventListener("click", toggleSchedule);
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
  if ((event.key === "r" || event.key === "R") && !event.ctrlKey && !event.metaKey && viewer?.roomCount) setShowRooms(!showRooms);
  if (event.key === "g" || event.key === "G") toggleSchedule();
  if (event.key === "Escape") {
    select(null);
    if (schedule.selected) schedule.choose(null);
  }
});

// A read-only window for tests and for people poking at the console.
window.twinsync = Object.freeze({
  /** The colour an element is drawn in (#rrggbb), or what it would be without geometry. */
  colorOf: (id) => viewer?.colorOf(id) ?? (state.get(id) ? elementColor(state.get(id)).hex : null),
  /** When the page heard of an element's value of a property live (epoch ms), or null. */
  receivedAt: (id, property) => state.get(id)?.properties?.[property]?.receivedAt ?? null,
  /** Whether an element is drawn in 3D now (has geometry, not filtered out or hidden). */
  isVisible: (id) => Boolean(viewer?.isVisible(id)),
  /** Where an element's centre is on screen, in page pixels, or null. */
  screenPositionOf: (id) => viewer?.screenPositionOf(id) ?? null,
  get firstRenderMs() { return firstRenderMs; },
  /** Whether the 3D view is drawn by the CPU, and so without antialiasing (viewer.js). */
  get softwareRendered() { return Boolean(viewer?.softwareRendered); },
  get connection() { return connection; },
  get modelRevision() { return modelRevision; },
  get selectedId() { return selectedId; },
  get colorMode() { return colorMode; },
  get showRooms() { return showRooms; },
  get elementCount() { return state.elements.size; },
  /** The anomaly storm as the notice shows it: "storming", "over" or null, and its counts. */
  get storm() { return storm.storm && { state: storm.state, ...storm.storm }; },
  /** [time, score] of the readings the panel's chart marks unusual (anomaly score). */
  chartMarks: () => panel.chart.marked(),
  /** What the panel's chart draws of the sensor's model: points predicted, band, spans. */
  chartTwin: () => panel.chart.twinSummary(),
  /** The twin's models as the page holds them: fleet reads, an element's state. */
  twin: Object.freeze({
    get reads() { return twin.reads; },
    stateOf: (id) => twin.entryOf(id)?.state ?? null,
  }),
  /** Where the panel's chart draws the reading of a time, in page pixels, or null. */
  chartPointOf: (time) => panel.chart.pointOf(time),
  /** How an element is drawn now: solid, faded, volume or hidden (null without geometry). */
  styleOf: (id) => viewer?.styleOf(id) ?? null,
  /** Whether an element carries the selection's mark (it is the chosen activity's). */
  isHighlighted: (id) => Boolean(viewer?.isHighlighted(id)),
  get activityElements() { return [...activityElements].sort(); },
  /** The maturity reads: how many were asked, the most in flight at once, still to come. */
  maturity: Object.freeze({
    get requested() { return maturity.requested; },
    get maxInFlight() { return maturity.maxInFlight; },
    get pending() { return maturity.pending; },
    get mixes() { return maturity.mixes; },
  }),
  /** The Gantt and 4D, for tests: rows' places on the page, what is shown, timings. */
  schedule: Object.freeze({
    get loaded() { return schedule.loaded; },
    get selected() { return schedule.selected; },
    get marked() { return [...schedule.gantt.marked].sort(); },
    get rowCount() { return schedule.gantt.rows.length; },
    /** The time axis's scale, pixels a day. */
    get dayPx() { return schedule.gantt.dayPx; },
    get renderMs() { return schedule.renderMs; },
    get lastDrawMs() { return schedule.gantt.lastDrawMs; },
    get fourD() { return schedule.playback.active; },
    get shownDate() { const p = schedule.playback; return p.shownDay === null ? null : p.timeOfDay(p.shownDay); },
    get lastFetchMs() { return schedule.playback.lastFetchMs; },
    boxOf: (code) => schedule.gantt.screenBoxOf(code),
    /** Scroll an activity's row into view, as choosing one of its elements does. */
    reveal: (code) => schedule.gantt.reveal(code),
    drawNow: () => schedule.gantt.drawNow(),
  }),
});

// ── start: model, geometry, live state and the 3D view all start at once ───

$("#sign-out").addEventListener("click", async () => {
  await api.signOut().catch(() => {});
  location.assign("/login");
});

// The role decides what the panel offers (marking anomalies expected is an operator's);
// the server checks every change whatever the page shows.
api.getSession().then((session) => panel.setRole(session.role), () => panel.setRole(null));

const firstModel = fetchModel();
maturity.loadMixes();
const live = new LiveConnection(socketUrl(), { onMessage, onState: setConnection });
live.start();
viewer = await createViewer();
await loadModel(firstModel);
