// 4D: the model as planned or as built on a date chosen with a slider, and played.
//
// Each date's states come from the server (`GET /api/schedule/elements?as_of=`), which
// reads the twin as of that date the way every schedule view does: progress reported by
// then, standing in working days of each activity's calendar. So the colours the model
// takes on a date are the Gantt's on that date, not a second guess made in the page.
// One request is in flight at a time; moving the slider while one runs asks for the
// latest date only, and playing waits for each date to be drawn before the next.

import { formatDay } from "./gantt_rows.js";
import { STANDING_COLORS, STANDING_LABELS } from "./gantt.js";

const DAY = 86_400_000;
const GHOST = "#5d6878";
const FRAME_MS = 220;
// A play crosses the schedule in about this many steps, whatever its length.
const FRAMES_PER_PLAY = 160;

export class Playback {
  /**
   * @param {HTMLElement} root  the playback bar
   * @param {{fetchStates: (asOf: string) => Promise<object>, onChange: () => void, onDate: (ms: number) => void}} handlers
   */
  constructor(root, { fetchStates, onChange, onDate }) {
    this.root = root;
    this.fetchStates = fetchStates;
    this.onChange = onChange;
    this.onDate = onDate;
    this.slider = root.querySelector('[data-role="slider"]');
    this.dateLabel = root.querySelector('[data-role="date"]');
    this.playButton = root.querySelector('[data-role="play"]');
    this.toggle = root.querySelector('[data-role="fourd"]');
    this.modeButtons = [...root.querySelectorAll("[data-mode]")];
    this.notYet = root.querySelector('[data-role="not-yet"]');
    this.note = root.querySelector('[data-role="note"]');
    this.active = false;
    this.mode = "built";
    this.hideNotYet = false;
    this.start = 0;
    this.states = null;
    this.shownDay = null;
    this.wantedDay = null;
    this.loading = false;
    this.playing = false;
    this.lastFetchMs = null;
    this.slider.addEventListener("input", () => {
      this.setActive(true);
      this.showDay(Number(this.slider.value));
    });
    this.playButton.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.toggle.addEventListener("click", () => this.setActive(!this.active));
    for (const button of this.modeButtons) {
      button.addEventListener("click", () => {
        this.mode = button.dataset.mode;
        this.renderControls();
        this.setActive(true);
      });
    }
    this.notYet.addEventListener("change", () => {
      this.hideNotYet = this.notYet.value === "hidden";
      if (this.active) this.onChange();
    });
    this.renderControls();
  }

  /** The schedule's span (epoch ms) and the date to start on. */
  setSpan(start, finish, today) {
    this.start = startOfDay(start);
    const days = Math.max(1, Math.ceil((finish - this.start) / DAY));
    this.slider.max = String(days);
    this.step = Math.max(1, Math.round(days / FRAMES_PER_PLAY));
    if (this.wantedDay === null) {
      const day = Math.min(days, Math.max(0, Math.floor((today - this.start) / DAY)));
      this.slider.value = String(day);
      this.wantedDay = day;
    }
    this.renderDate(Number(this.slider.value));
  }

  /** The date shown: the end of the slider's day, when its work is done. */
  timeOfDay(day) {
    const date = new Date(this.start);
    date.setDate(date.getDate() + day);
    date.setHours(23, 59, 0, 0);
    return date.getTime();
  }

  get day() {
    return Number(this.slider.value);
  }

  setActive(on) {
    this.active = on;
    if (!on) this.pause();
    this.renderControls();
    if (on && this.shownDay !== this.day) this.showDay(this.day);
    else this.onChange();
  }

  /** Read the shown day again (the schedule changed), if 4D is on. */
  reload() {
    this.shownDay = null;
    if (this.active) this.showDay(this.day);
  }

  /** Ask for a day's states; the latest asked wins, one request at a time. */
  async showDay(day) {
    this.wantedDay = day;
    this.renderDate(day);
    if (this.loading) return this.pending;
    this.loading = true;
    this.pending = (async () => {
      try {
        while (this.shownDay !== this.wantedDay) {
          const wanted = this.wantedDay;
          const started = performance.now();
          const states = await this.fetchStates(formatDay(this.timeOfDay(wanted)));
          this.lastFetchMs = performance.now() - started;
          this.states = states;
          this.shownDay = wanted;
          this.note.textContent = "";
          if (this.active) this.onChange();
        }
      } catch (error) {
        this.note.textContent = error.message;
        this.pause();
      } finally {
        this.loading = false;
      }
    })();
    return this.pending;
  }

  async play() {
    if (this.playing) return;
    this.setActive(true);
    if (this.day >= Number(this.slider.max)) this.slider.value = "0";
    this.playing = true;
    this.renderControls();
    while (this.playing) {
      const began = performance.now();
      await this.showDay(this.day);
      if (!this.playing) break;
      if (this.day >= Number(this.slider.max)) {
        this.pause();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, FRAME_MS - (performance.now() - began))));
      if (this.playing) this.slider.value = String(Math.min(Number(this.slider.max), this.day + this.step));
    }
  }

  pause() {
    this.playing = false;
    this.renderControls();
  }

  renderDate(day) {
    const time = this.timeOfDay(day);
    this.dateLabel.textContent = formatDay(time, false);
    this.onDate(time);
  }

  renderControls() {
    this.playButton.textContent = this.playing ? "❚❚" : "▶";
    this.playButton.title = this.playing ? "Pause" : "Play the schedule day by day";
    this.playButton.setAttribute("aria-label", this.playing ? "Pause" : "Play");
    this.toggle.classList.toggle("active", this.active);
    this.toggle.setAttribute("aria-pressed", String(this.active));
    for (const button of this.modeButtons) {
      const on = button.dataset.mode === this.mode;
      button.classList.toggle("active", on);
      button.setAttribute("aria-pressed", String(on));
    }
  }

  /** How the model draws an element in 4D: {hex, style}. */
  styleOf(id) {
    const state = this.states?.elements?.[id];
    const ghost = { hex: GHOST, style: this.hideNotYet ? "hidden" : "faded" };
    if (!state) return ghost; // not built by any activity of the schedule
    if ((this.mode === "planned" ? state.planned : state.built) === "not_started") return ghost;
    return { hex: STANDING_COLORS[state.standing] ?? GHOST, style: "solid" };
  }

  /** The legend in 4D: what the colours mean on this date, with counts of elements. */
  legendHtml(ids) {
    const counts = { ahead: 0, on_track: 0, behind: 0, notYet: 0 };
    for (const id of ids) {
      const state = this.states?.elements?.[id];
      if (!state) continue;
      if ((this.mode === "planned" ? state.planned : state.built) === "not_started") counts.notYet++;
      else counts[state.standing]++;
    }
    const date = this.shownDay === null ? "…" : formatDay(this.timeOfDay(this.shownDay), false);
    const rows = Object.keys(STANDING_COLORS).map((s) => `
      <div class="row"><span class="swatch" style="background:${STANDING_COLORS[s]}"></span>${STANDING_LABELS[s]}<b>${counts[s]}</b></div>`);
    return `<div class="title">4D · ${this.mode === "planned" ? "as planned" : "as built"} · ${date}</div>${rows.join("")}
      <div class="row"><span class="swatch" style="background:${GHOST}"></span>Not ${this.mode === "planned" ? "planned" : "built"} yet (${this.hideNotYet ? "hidden" : "ghosted"})<b>${counts.notYet}</b></div>`;
  }
}

function startOfDay(time) {
  const date = new Date(time);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}
