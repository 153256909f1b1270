// The schedule pane: the Gantt and the 4D playback under the model, and the links between
// them and the rest of the page. main.js owns the selection; this pane tells it which
// activity was chosen and which elements it builds, and is told which element was.

import * as api from "./api.js";
import { Gantt } from "./gantt.js";
import { Playback } from "./playback.js";

// Changes come in bursts (a survey moves hundreds of elements): one read for the burst.
const REFRESH_DELAY_MS = 1500;

export class SchedulePane {
  /**
   * @param {HTMLElement} root  the pane (#schedule)
   * @param {{onActivity: (code: string|null, elements: string[]) => void, onFourD: () => void, onLoaded: () => void}} handlers
   */
  constructor(root, { onActivity, onFourD, onLoaded }) {
    this.root = root;
    this.onActivity = onActivity;
    this.onLoaded = onLoaded;
    this.wbsNames = new Map();
    this.meta = root.querySelector('[data-role="meta"]');
    this.message = root.querySelector('[data-role="message"]');
    this.elementsOf = new Map(); // activity code -> element ids
    this.activitiesOf = new Map(); // element id -> activity codes
    this.loaded = false;
    this.stale = false;
    this.refreshTimer = null;
    this.loading = null;
    this.selected = null;
    this.markedElement = null;
    this.renderMs = null;
    this.gantt = new Gantt(root.querySelector(".gantt"), { onActivity: (code) => this.choose(code) });
    this.playback = new Playback(root.querySelector(".playback"), {
      fetchStates: (asOf) => api.getScheduleElements(asOf),
      onChange: () => {
        // The 4D date's line shows in the Gantt while 4D is on.
        const { active, day } = this.playback;
        this.gantt.setCursor(active ? this.playback.timeOfDay(day) : null);
        onFourD();
      },
      onDate: (time) => this.gantt.setCursor(this.playback?.active ? time : null),
    });
    root.querySelector('[data-role="zoom-in"]').addEventListener("click", () => this.gantt.zoom(1.5));
    root.querySelector('[data-role="zoom-out"]').addEventListener("click", () => this.gantt.zoom(1 / 1.5));
    root.querySelector('[data-role="zoom-fit"]').addEventListener("click", () => this.gantt.fit());
    this.criticalButton = root.querySelector('[data-role="critical"]');
    this.criticalButton.addEventListener("click", () => {
      this.gantt.setCriticalOnly(!this.gantt.criticalOnly);
      this.syncCritical();
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  /** Open or close the pane; the first opening loads the schedule, as does one after a change. */
  setOpen(open) {
    this.root.hidden = !open;
    if (open && (!this.loaded || this.stale)) this.refresh();
    if (!open && this.playback.active) this.playback.setActive(false);
  }

  /** Read the schedule (as of now) and the elements of every activity, at once. */
  load() {
    this.loading ??= (async () => {
      this.message.hidden = true;
      try {
        const overview = await api.getSchedule();
        if (!overview) {
          this.showMessage("The twin has no schedule yet. Import one with: twinsync schedule import FILE");
          return;
        }
        const states = await api.getScheduleElements(overview.as_of);
        const started = performance.now();
        this.setLinks(states);
        this.gantt.setSchedule(overview);
        this.renderMs = this.gantt.drawNow() + (performance.now() - started);
        const { start, finish, asOf } = this.gantt.tree;
        this.playback.setSpan(start, finish, asOf);
        const counts = overview.standing;
        this.meta.textContent = `v${overview.version} · ${overview.name} · as of ${overview.as_of} · `
          + `finish ${overview.project_finish ?? "—"} · ${counts.behind} behind, ${counts.ahead} ahead`;
        this.unit = overview.unit;
        this.wbsNames = new Map((overview.wbs ?? []).map((w) => [w.id, w.name || w.code]));
        this.loaded = true;
        this.root.querySelector(".playback").hidden = false;
        if (this.markedElement) this.markElement(this.markedElement);
        this.onLoaded();
      } catch (error) {
        this.showMessage(`The schedule could not be read: ${error.message}`);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /**
   * Something the schedule reads changed (progress, links, a new version, an element's
   * status): read it again a moment later (once for a burst), or when next opened.
   */
  changed() {
    this.stale = true;
    // At most one read per delay: a steady stream of changes must not put it off forever.
    if (!this.isOpen || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, REFRESH_DELAY_MS);
  }

  async refresh() {
    this.stale = false;
    await this.load();
    this.playback.reload();
  }

  showMessage(text) {
    this.message.hidden = false;
    this.message.textContent = text;
    this.root.querySelector(".playback").hidden = !this.loaded;
  }

  /** The filter's button, as the Gantt has it (showing an activity off the path ends it). */
  syncCritical() {
    const on = this.gantt.criticalOnly;
    this.criticalButton.classList.toggle("active", on);
    this.criticalButton.setAttribute("aria-pressed", String(on));
  }

  setLinks(states) {
    this.elementsOf = new Map(Object.entries(states.activities).map(([code, a]) => [code, a.elements]));
    this.activitiesOf = new Map(Object.entries(states.elements).map(([id, e]) => [id, e.activities]));
  }

  /** The Gantt's rows of the activities that build an element. */
  activitiesOfElement(id) {
    const codes = new Set(this.activitiesOf.get(id) ?? []);
    return codes.size ? this.gantt.tree.bars.filter((bar) => codes.has(bar.code)) : [];
  }

  /** An activity chosen in the Gantt (null: none): the page selects its elements. */
  choose(code) {
    this.selected = code;
    this.gantt.select(code);
    this.syncCritical();
    this.onActivity(code, code ? this.elementsOf.get(code) ?? [] : []);
  }

  /** An element chosen in the model, the tree or the panel: mark its activities. */
  markElement(id) {
    this.markedElement = id;
    if (this.selected && id) {
      this.selected = null;
      this.gantt.select(null);
    }
    this.gantt.mark(id ? this.activitiesOf.get(id) ?? [] : []);
    this.syncCritical();
  }
}
