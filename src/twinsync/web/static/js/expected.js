// The element panel's "expected anomalies": the spans marked expected for the element's
// sensors (GET /api/anomalies/expected), and for operators and admins a small form that
// marks one (POST /api/anomalies/expected): a pour, a load test. In a marked span the
// detector's anomalies raise no alarm, and an active anomaly alarm raised in it clears.
//
// Operators and admins may withdraw a mark made in error: its Withdraw button asks to
// confirm, with why, before anything is sent (DELETE /api/anomalies/expected/{id}). A
// withdrawn mark suppresses nothing from then on; alarms it kept back stay as they were.
// It stays on the record: under the list, a collapsed "Withdrawn" list shows the
// element's withdrawn marks (GET /api/anomalies/expected?withdrawn=only), greyed, each
// with who withdrew it, when and why, and nothing to press.
//
// The form is prefilled from the chart: the span a person selected on it (a drag across
// it, or a click on a red dot), else the latest run of marked readings. It lives across
// re-renders of the panel (an alarm arriving must not wipe a reason being typed).

import { getExpected, markExpected, withdrawExpected } from "./api.js";
import { escape } from "./format.js";

/** Roles the server lets mark anomalies as expected (api/access.py: OPERATE). */
export const MARKING_ROLES = new Set(["operator", "admin"]);
/** How many marks the panel lists (the latest spans of time). */
const LISTED = 6;
/** How many withdrawn marks the panel lists (the latest withdrawn first). */
const LISTED_WITHDRAWN = 10;

/** An epoch time as a datetime-local input's value (local time, to the minute). */
export function localInput(epochSeconds) {
  const date = new Date(epochSeconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local input's value as epoch seconds (NaN when empty or invalid). */
function epochOf(text) {
  return text ? new Date(text).getTime() / 1000 : Number.NaN;
}

const CLOCK = { hour: "2-digit", minute: "2-digit" };
const FULL = { day: "numeric", month: "short", year: "numeric", ...CLOCK };

/** "6 Dec 2026, 21:42": an epoch time to the minute, in the page's locale. */
export function whenText(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString([], FULL);
}

/** "6 Dec 2026, 21:42 – 21:43": the date once when the span is within a day. */
export function spanText(start, end) {
  const sameDay = new Date(start * 1000).toDateString() === new Date(end * 1000).toDateString();
  return `${whenText(start)} – ${sameDay ? new Date(end * 1000).toLocaleString([], CLOCK) : whenText(end)}`;
}

/**
 * The spans as a person marked them: an element's mark is one span a sensor (all with
 * the mark's id), shown once with its sensors. The latest span of time first.
 */
export function grouped(spans) {
  const marks = new Map();
  for (const span of spans) {
    const key = span.id ?? JSON.stringify([span.start, span.end, span.reason, span.by]);
    if (!marks.has(key)) marks.set(key, { ...span, sensors: [] });
    marks.get(key).sensors.push(span.sensor_id);
  }
  return [...marks.values()].sort((a, b) => b.start - a.start || b.end - a.end);
}

/** Withdrawn marks as a person made them (see `grouped`), the latest withdrawn first. */
export function withdrawnMarks(spans) {
  return grouped(spans).sort((a, b) => b.withdrawn_at - a.withdrawn_at);
}

/** Who withdrew a mark, when (`when`: the time as the page shows it) and why. */
export function withdrawnLine(mark, when) {
  return `withdrawn by ${mark.withdrawn_by} · ${when} · “${mark.withdrawn_reason}”`;
}

/** What keeps a withdrawal from being sent (said without a round trip), or null. */
export function withdrawProblem(reason) {
  return reason.trim() ? null : "Say why the mark is withdrawn.";
}

/**
 * The line said once a mark is withdrawn: the mark by its reason (null: not known here),
 * why it was withdrawn, and what that changes.
 */
export function withdrawnText(markReason, answer) {
  const sensors = answer.sensors.length;
  const which = markReason ? `“${markReason}”` : "the mark";
  return `Withdrew ${which} (${answer.reason}) for ${sensors} sensor${sensors === 1 ? "" : "s"}`
    + " · from now on their anomalies raise alarms again.";
}

export class ExpectedAnomalies {
  constructor() {
    this.box = document.createElement("section");
    this.box.dataset.role = "expected";
    this.elementId = null;
    this.sensorId = null;
    this.role = null;
    this.spans = [];
    // The element's withdrawn marks' spans, and whether a person opened their list (it
    // stays as they left it across re-renders and reloads).
    this.withdrawnSpans = [];
    this.withdrawnOpen = false;
    this.loadToken = 0;
    // The span shown in the form came from a person (typed or selected on the chart):
    // the chart's latest anomaly no longer overwrites it.
    this.chosen = false;
    this.span = null;
    // The mark whose withdrawal awaits confirmation, and the reason typed for it (kept
    // across re-renders of the list: a live event must not wipe it).
    this.confirming = null;
    this.why = "";
    this.said = null;
    this.render();
  }

  get canMark() {
    return MARKING_ROLES.has(this.role);
  }

  /** The signed-in role, once known: the form shows only to roles that may mark. */
  setRole(role) {
    this.role = role;
    this.render();
  }

  /** The panel shows another element or sensor. */
  show(elementId, sensorId) {
    const changed = elementId !== this.elementId;
    if (changed || sensorId !== this.sensorId) {
      // Another sensor's chart offers its own anomalies; the span shown was the last one's.
      this.chosen = false;
      this.span = null;
      const form = this.box.querySelector("form");
      if (form) form.elements.start.value = form.elements.end.value = "";
    }
    this.elementId = elementId;
    this.sensorId = sensorId;
    if (changed) {
      this.spans = [];
      this.withdrawnSpans = [];
      this.withdrawnOpen = false;
      this.confirming = null;
      this.said = null;
      this.render();
      this.load();
    } else {
      this.renderScope();
    }
  }

  /**
   * A span from the chart ([start, end] epoch seconds): `selected` when a person chose
   * it on the chart, else the latest anomaly, which fills the form only until a person
   * has chosen or typed one.
   */
  offer(span, { selected = false } = {}) {
    if (!span || (this.chosen && !selected)) return;
    if (selected) this.chosen = true;
    this.span = span;
    this.fill();
  }

  /** The offered span into the form, to the minute: the start rounded down and the end
   * up, so that it covers the marked readings. */
  fill() {
    const form = this.box.querySelector("form");
    if (!form || !this.span) return;
    const [start, end] = this.span;
    form.elements.start.value = localInput(Math.floor(start / 60) * 60);
    form.elements.end.value = localInput(Math.ceil(Math.max(end, start + 1) / 60) * 60);
  }

  async load() {
    const token = ++this.loadToken;
    const id = this.elementId;
    if (!id) return;
    let standing, withdrawn;
    try {
      [standing, withdrawn] = await Promise.all([getExpected(id), getExpected(id, "only")]);
    } catch (error) {
      if (token === this.loadToken) this.renderList(`<li class="error">${escape(error.message)}</li>`);
      return;
    }
    if (token !== this.loadToken) return;
    this.spans = standing.expected;
    this.withdrawnSpans = withdrawn.expected;
    this.renderList();
  }

  render() {
    const form = this.canMark ? `
      <form class="expected-form" novalidate>
        <label class="field">From<input type="datetime-local" name="start" required></label>
        <label class="field">To<input type="datetime-local" name="end" required></label>
        <label class="field wide">Reason<input type="text" name="reason" maxlength="200" placeholder="pour of the slab, load test…" required></label>
        <label class="field">For<select name="scope"></select></label>
        <button type="submit">Mark expected</button>
        <div class="result wide" data-role="expected-result" aria-live="polite"></div>
      </form>`
      : this.role ? '<p class="muted note">Marking anomalies as expected is for operators and admins.</p>' : "";
    this.box.innerHTML = `
      <h3>Expected anomalies <span class="count" data-role="expected-count"></span></h3>
      <ol class="expected-list" data-role="expected-list"></ol>
      <div class="withdrawn-note" data-role="withdrawn-result" aria-live="polite"></div>
      <details class="withdrawn-marks" data-role="withdrawn" hidden>
        <summary>Withdrawn <span class="count" data-role="withdrawn-count"></span></summary>
        <ol class="withdrawn-list" data-role="withdrawn-list"></ol>
      </details>
      ${form}`;
    this.box.querySelector('[data-role="expected-list"]').addEventListener("click", (event) => this.onListClick(event));
    const withdrawn = this.box.querySelector('[data-role="withdrawn"]');
    withdrawn.addEventListener("toggle", () => (this.withdrawnOpen = withdrawn.open));
    const element = this.box.querySelector("form");
    if (element) {
      element.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit(element);
      });
      for (const name of ["start", "end"]) {
        element.elements[name].addEventListener("input", () => (this.chosen = true));
      }
    }
    this.renderScope();
    this.renderList();
    this.fill();
  }

  renderScope() {
    const select = this.box.querySelector('select[name="scope"]');
    if (!select) return;
    const kept = select.value;
    select.innerHTML = (this.sensorId ? `<option value="sensor">sensor ${escape(this.sensorId)}</option>` : "")
      + '<option value="element">every sensor of this element</option>';
    if ([...select.options].some((o) => o.value === kept)) select.value = kept;
  }

  renderList(html = null) {
    const list = this.box.querySelector('[data-role="expected-list"]');
    const count = this.box.querySelector('[data-role="expected-count"]');
    if (!list) return;
    const marks = grouped(this.spans);
    if (this.confirming && !marks.some((mark) => mark.id === this.confirming)) this.confirming = null;
    count.textContent = marks.length ? String(marks.length) : "";
    list.innerHTML = html ?? (marks.length
      ? marks.slice(0, LISTED).map((mark) => this.markItem(mark)).join("")
      : '<li class="muted">None marked.</li>');
    this.renderWithdrawn();
    const said = this.box.querySelector('[data-role="withdrawn-result"]');
    said.className = `withdrawn-note ${this.said?.kind ?? ""}`;
    said.textContent = this.said?.text ?? "";
    const form = list.querySelector("form.withdraw-form");
    if (form) {
      form.elements.why.value = this.why;
      form.elements.why.addEventListener("input", () => (this.why = form.elements.why.value));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.withdraw(form);
      });
    }
  }

  /** The collapsed list of withdrawn marks: hidden while there is none. */
  renderWithdrawn() {
    const box = this.box.querySelector('[data-role="withdrawn"]');
    if (!box) return;
    const marks = withdrawnMarks(this.withdrawnSpans);
    box.hidden = marks.length === 0;
    box.open = this.withdrawnOpen;
    box.querySelector('[data-role="withdrawn-count"]').textContent = marks.length ? String(marks.length) : "";
    const more = marks.length - LISTED_WITHDRAWN;
    box.querySelector('[data-role="withdrawn-list"]').innerHTML = marks.slice(0, LISTED_WITHDRAWN).map((mark) => `
        <li data-withdrawn-mark="${escape(mark.id ?? "")}">
          <span class="what">${escape(mark.reason)}</span>
          <span class="muted">${escape(spanText(mark.start, mark.end))} · ${escape(mark.sensors.join(", "))} · marked by ${escape(mark.by)}</span>
          <span class="why">${escape(withdrawnLine(mark, whenText(mark.withdrawn_at)))}</span>
        </li>`).join("")
      + (more > 0 ? `<li class="muted more">${more} more withdrawn: GET /api/anomalies/expected?withdrawn=only</li>` : "");
  }

  /** One mark in the list; for roles that may, its Withdraw button, or the confirmation. */
  markItem(mark) {
    const id = mark.id == null ? "" : String(mark.id);
    const withdrawable = this.canMark && id;
    const confirming = withdrawable && id === this.confirming;
    const action = withdrawable && !confirming
      ? `<button type="button" class="withdraw" data-action="withdraw" data-mark="${escape(id)}" title="Withdraw this mark">Withdraw</button>` : "";
    const confirm = confirming ? `
      <form class="withdraw-form" novalidate>
        <label class="field">Withdraw this mark? Say why
          <input type="text" name="why" maxlength="200" placeholder="marked the wrong slab…" required>
        </label>
        <div class="buttons">
          <button type="submit" class="danger">Withdraw mark</button>
          <button type="button" data-action="cancel">Cancel</button>
        </div>
        <div class="result" data-role="withdraw-result" aria-live="polite"></div>
      </form>` : "";
    return `
        <li data-mark="${escape(id)}"${confirming ? ' class="confirming"' : ""}>
          <span class="what">${escape(mark.reason)}</span>
          <span class="muted">${escape(spanText(mark.start, mark.end))} · ${escape(mark.sensors.join(", "))} · by ${escape(mark.by)}</span>
          ${action}${confirm}
        </li>`;
  }

  onListClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "withdraw") {
      this.confirming = button.dataset.mark;
      this.why = "";
      this.said = null;
      this.renderList();
      this.box.querySelector('form.withdraw-form input[name="why"]')?.focus();
    } else if (button.dataset.action === "cancel") {
      this.confirming = null;
      this.renderList();
    }
  }

  async withdraw(form) {
    const result = form.querySelector('[data-role="withdraw-result"]');
    const problem = withdrawProblem(form.elements.why.value);
    if (problem) {
      result.className = "result error";
      result.textContent = problem;
      return;
    }
    const id = this.elementId;
    const markId = this.confirming;
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    result.className = "result saving";
    result.textContent = "withdrawing…";
    try {
      const answer = await withdrawExpected(markId, form.elements.why.value.trim());
      if (id !== this.elementId) return;
      const mark = this.spans.find((span) => span.id === markId);
      this.confirming = null;
      this.why = "";
      this.said = { kind: "ok", text: withdrawnText(mark?.reason ?? null, answer) };
      // The marking form's last word was about another mark.
      const marked = this.box.querySelector('[data-role="expected-result"]');
      if (marked) marked.textContent = "";
      this.spans = this.spans.filter((span) => span.id !== markId);
      this.renderList();
      this.load();
    } catch (error) {
      if (id !== this.elementId) return;
      result.className = "result error";
      result.textContent = error.message;
      for (const button of form.querySelectorAll("button")) button.disabled = false;
    }
  }

  async submit(form) {
    const result = form.querySelector('[data-role="expected-result"]');
    const button = form.querySelector('button[type="submit"]');
    const start = epochOf(form.elements.start.value);
    const end = epochOf(form.elements.end.value);
    const reason = form.elements.reason.value.trim();
    const target = form.elements.scope.value === "sensor" && this.sensorId
      ? { sensor_id: this.sensorId } : { element_id: this.elementId };
    // Said here what the server would refuse anyway, without a round trip.
    const problem = !Number.isFinite(start) || !Number.isFinite(end) ? "Give the span's start and end."
      : !reason ? "Say why these anomalies are expected." : null;
    if (problem) {
      result.className = "result wide error";
      result.textContent = problem;
      return;
    }
    const id = this.elementId;
    result.className = "result wide saving";
    result.textContent = "marking…";
    button.disabled = true;
    try {
      const marked = await markExpected({ ...target, start, end, reason });
      if (id !== this.elementId) return;
      const sensors = marked.expected.map((s) => s.sensor_id);
      const cleared = marked.cleared.length;
      result.className = "result wide ok";
      result.textContent = `Marked expected for ${sensors.join(", ")}`
        + (cleared ? ` · ${cleared} alarm${cleared === 1 ? "" : "s"} cleared.` : " · no active alarm in the span.");
      form.elements.reason.value = "";
      this.load();
    } catch (error) {
      if (id !== this.elementId) return;
      result.className = "result wide error";
      result.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }
}
