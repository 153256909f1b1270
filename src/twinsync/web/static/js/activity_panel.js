// The side panel for an activity chosen in the Gantt: its dates planned and forecast, its
// progress and where it came from, its standing, earned value and the elements it builds
// (each one a way to that element). It reads `GET /api/schedule/activities/{code}`.
//
// And the other way: the schedule part of an element's panel, the activities that build
// it (each one a way to that activity in the Gantt).

import { getActivity } from "./api.js";
import { STATUS_COLORS } from "./colors.js";
import { escape, value } from "./format.js";
import { STANDING_COLORS, STANDING_LABELS } from "./gantt.js";

const STATES = { not_started: "not started", in_progress: "in progress", complete: "complete" };

/**
 * Show an activity in `container` (the side panel). `isCurrent()` says whether it is still
 * the one chosen when the answer comes; `onElement(id)` selects an element; `wbsName(id)`
 * names a WBS node; `unit` is what earned value is counted in (`hours` or `cost`).
 */
export async function showActivity(container, code, { isCurrent, onElement, wbsName, unit }) {
  container.innerHTML = `<section class="identity"><h2>${escape(code)}</h2><div class="muted">loading…</div></section>`;
  let activity;
  try {
    activity = await getActivity(code);
  } catch (error) {
    if (isCurrent()) container.innerHTML = `<section><h2>${escape(code)}</h2><p class="error">${escape(error.message)}</p></section>`;
    return;
  }
  if (!isCurrent()) return;
  const progress = activity.progress;
  const variance = activity.variance;
  const standing = variance.standing;
  const ev = activity.earned_value;
  const float = activity.total_float_hours;
  container.innerHTML = `
    <section class="identity">
      <h2>${escape(activity.id)} · ${escape(activity.name)}</h2>
      <div class="muted">${escape(activity.type.replaceAll("_", " "))}${activity.wbs ? ` · ${escape(wbsName(activity.wbs))}` : ""}</div>
      <div class="status-row">
        <span class="swatch" style="background:${STANDING_COLORS[standing]}"></span>
        <b data-role="standing">${STANDING_LABELS[standing]}${variance.days ? ` by ${value(variance.days)} working days` : ""}</b>
        ${activity.critical ? '<span class="badge critical">critical</span>' : ""}
        ${progress.conflict ? '<span class="badge health" title="The progress reported and the elements\' statuses disagree">conflict</span>' : ""}
      </div>
      <dl class="kv">
        <dt>Planned</dt><dd>${day(activity.planned_start)} → ${day(activity.planned_finish)}</dd>
        <dt>Forecast</dt><dd>${day(activity.early_start)} → ${day(activity.early_finish)}</dd>
        <dt>Float</dt><dd>${float === null ? "—" : `${value(float)} h`}</dd>
        <dt>Done</dt><dd>${value(variance.actual_percent)} % (${value(variance.planned_percent)} % planned) · ${STATES[progress.state] ?? escape(progress.state)}</dd>
        <dt>From</dt><dd>${progress.source ? `${escape(progress.source)}${progress.confidence == null ? "" : ` · conf. ${Math.round(progress.confidence * 100)}%`}` : "—"}</dd>
      </dl>
    </section>
    <section>
      <h3>Earned value <span class="count">${unit === "hours" ? "in planned hours" : "in cost"}</span></h3>
      <dl class="kv evm">
        ${[["BAC", ev.bac], ["PV", ev.pv], ["EV", ev.ev], ["AC", ev.ac], ["SPI", ev.spi], ["CPI", ev.cpi]]
          .map(([name, figure]) => `<dt>${name}</dt><dd>${value(figure)}</dd>`).join("")}
      </dl>
    </section>
    <section>
      <h3>Elements <span class="count">${activity.elements.length}</span></h3>
      ${activity.elements.length ? `<div class="activity-elements">${activity.elements.map((e) => `
        <button type="button" class="leaf-button" data-element="${escape(e.id)}" title="${escape(e.type)} · linked by ${escape(e.link)}">
          <span class="swatch" style="background:${STATUS_COLORS[e.status] ?? "#555"}"></span>
          <span class="name">${escape(e.name || e.id)}</span><span class="muted">${escape(e.type.replace(/^Ifc/, ""))}</span>
        </button>`).join("")}</div>` : '<p class="muted">No element is linked to this activity.</p>'}
    </section>`;
  for (const button of container.querySelectorAll("[data-element]")) {
    button.addEventListener("click", () => onElement(button.dataset.element));
  }
}

/**
 * The activities that build an element, for its panel: `activities` are the Gantt's rows
 * ({code, name, standing}); `onActivity(code)` chooses one.
 */
export function activitiesSection(activities, onActivity) {
  const section = document.createElement("section");
  section.dataset.role = "activities";
  section.innerHTML = `<h3>Activities <span class="count">${activities.length}</span></h3>
    <div class="activity-elements">${activities.map((a) => `
      <button type="button" class="leaf-button" data-activity="${escape(a.code)}" title="Choose it in the Gantt">
        <span class="swatch" style="background:${STANDING_COLORS[a.standing]}"></span>
        <span class="name">${escape(a.code)} · ${escape(a.name)}</span><span class="muted">${STANDING_LABELS[a.standing]}</span>
      </button>`).join("")}</div>`;
  for (const button of section.querySelectorAll("[data-activity]")) {
    button.addEventListener("click", () => onActivity(button.dataset.activity));
  }
  return section;
}

function day(text) {
  return text ? escape(text) : "—";
}
