// The Gantt chart, drawn on one canvas.
//
// A schedule of thousands of activities would be thousands of DOM nodes; here only the
// rows in view are drawn, on each scroll. Scrolling itself is the browser's: a transparent
// scroller over the canvas holds a spacer as big as the whole chart, so a wheel, a
// trackpad and a finger on a tablet all scroll it natively, with momentum.
//
// Each activity row shows its planned bar (thin, above) and what happened and what is
// forecast (below): done in the colour of its standing (ahead, on track, behind), still to
// do in a paler shade. Critical activities are outlined; WBS rows carry their span.

import { ancestorsOf, buildTree, formatDay, visibleRows } from "./gantt_rows.js";
import { escape } from "./format.js";

export const STANDING_COLORS = { ahead: "#4ea1ff", on_track: "#3fb66b", behind: "#e5484d" };
export const STANDING_LABELS = { ahead: "Ahead", on_track: "On track", behind: "Behind" };
export const CRITICAL_COLOR = "#ff9d2e";
const PLANNED_COLOR = "#6b7788";
const HEADER_HEIGHT = 34;
const DAY = 86_400_000;
const MIN_DAY_PX = 0.5;
const MAX_DAY_PX = 160;
const COARSE = matchMedia("(pointer: coarse)");

export class Gantt {
  /**
   * @param {HTMLElement} container  holds a canvas and a `.gantt-scroll` with a spacer
   * @param {{onActivity: (code: string|null) => void}} handlers
   */
  constructor(container, { onActivity }) {
    this.container = container;
    this.onActivity = onActivity;
    this.canvas = container.querySelector("canvas");
    this.scroller = container.querySelector(".gantt-scroll");
    this.spacer = container.querySelector(".gantt-spacer");
    this.tip = container.querySelector(".gantt-tip");
    this.tree = null;
    this.rows = [];
    this.collapsed = new Set();
    this.criticalOnly = false;
    this.selected = null; // the chosen activity's code
    this.marked = new Set(); // activities of the element selected elsewhere
    this.cursor = null; // the 4D date, epoch ms
    this.dayPx = 8;
    this.drawQueued = false;
    this.lastDrawMs = null;
    this.scroller.addEventListener("scroll", () => this.draw());
    this.scroller.addEventListener("click", (event) => this.click(event));
    this.scroller.addEventListener("keydown", (event) => this.key(event));
    this.scroller.addEventListener("pointermove", (event) => this.hover(event));
    this.scroller.addEventListener("pointerleave", () => (this.tip.hidden = true));
    // Ctrl + wheel (and a trackpad's pinch, which the browser sends as one) zooms time.
    this.scroller.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      this.zoom(event.deltaY < 0 ? 1.25 : 0.8, event.clientX - this.container.getBoundingClientRect().left);
    }, { passive: false });
    this.bindPinch();
    new ResizeObserver(() => this.layout()).observe(container);
  }

  /**
   * Two fingers spread or pinched zoom time on a touch screen. Touch events, not pointer
   * events: the browser keeps one finger's scrolling, and only a two-finger move is
   * taken from it.
   */
  bindPinch() {
    let pinch = null;
    const spread = (touches) => Math.max(20, Math.abs(touches[0].clientX - touches[1].clientX));
    this.scroller.addEventListener("touchstart", (event) => {
      if (event.touches.length !== 2) return;
      const left = this.container.getBoundingClientRect().left;
      pinch = { spread: spread(event.touches), dayPx: this.dayPx,
        x: (event.touches[0].clientX + event.touches[1].clientX) / 2 - left };
    }, { passive: true });
    this.scroller.addEventListener("touchmove", (event) => {
      if (!pinch || event.touches.length !== 2) return;
      event.preventDefault();
      this.zoomTo(pinch.dayPx * (spread(event.touches) / pinch.spread), pinch.x);
    }, { passive: false });
    const end = (event) => {
      if (event.touches.length < 2) pinch = null;
    };
    this.scroller.addEventListener("touchend", end);
    this.scroller.addEventListener("touchcancel", end);
  }

  /** The rows' height: a finger needs more room than a mouse. */
  get rowHeight() {
    return COARSE.matches ? 30 : 24;
  }

  /** The names' column: a third of a narrow chart, at most 260 px. */
  get labelWidth() {
    return Math.round(Math.min(260, Math.max(120, this.container.clientWidth * 0.3)));
  }

  /** Show a schedule (`GET /api/schedule`'s answer); keeps what was collapsed. */
  setSchedule(overview) {
    const first = this.tree === null;
    this.tree = buildTree(overview);
    if (first) this.fit();
    this.refreshRows();
  }

  refreshRows() {
    if (!this.tree) return;
    this.rows = visibleRows(this.tree, this.collapsed, this.criticalOnly);
    this.rowIndex = new Map(this.rows.map((row, index) => [row.kind === "wbs" ? `wbs:${row.id}` : row.code, index]));
    this.activityCount = this.rows.reduce((n, row) => n + (row.kind === "activity" ? 1 : 0), 0);
    this.layout();
  }

  setCriticalOnly(on) {
    this.criticalOnly = on;
    this.refreshRows();
  }

  /** Time from the schedule's first to its last date fills the width. */
  fit() {
    if (!this.tree) return;
    const width = Math.max(100, this.container.clientWidth - this.labelWidth - 24);
    const days = Math.max(1, (this.tree.finish - this.tree.start) / DAY);
    this.dayPx = Math.min(MAX_DAY_PX, Math.max(MIN_DAY_PX, width / days));
    this.layout();
    this.scroller.scrollLeft = 0;
  }

  /** Zoom time by `factor`, keeping the date under `anchorX` (px in the chart) in place. */
  zoom(factor, anchorX = null) {
    this.zoomTo(this.dayPx * factor, anchorX);
  }

  zoomTo(dayPx, anchorX = null) {
    if (!this.tree) return;
    const x = anchorX ?? this.labelWidth + (this.container.clientWidth - this.labelWidth) / 2;
    const at = this.timeAt(x);
    this.dayPx = Math.min(MAX_DAY_PX, Math.max(MIN_DAY_PX, dayPx));
    this.layout();
    this.scroller.scrollLeft = Math.max(0, ((at - this.origin) / DAY) * this.dayPx - (x - this.labelWidth));
    this.draw();
  }

  get origin() {
    // A day's margin before the first date, so the first bar does not touch the names.
    return this.tree.start - DAY;
  }

  xOf(time) {
    return this.labelWidth + ((time - this.origin) / DAY) * this.dayPx - this.scroller.scrollLeft;
  }

  timeAt(x) {
    return this.origin + ((x - this.labelWidth + this.scroller.scrollLeft) / this.dayPx) * DAY;
  }

  layout() {
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    const ratio = Math.min(devicePixelRatio || 1, 2);
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    if (this.tree) {
      const span = (this.tree.finish - this.origin) / DAY + 2;
      this.spacer.style.width = `${this.labelWidth + span * this.dayPx}px`;
      this.spacer.style.height = `${HEADER_HEIGHT + this.rows.length * this.rowHeight + 8}px`;
    }
    this.draw();
  }

  draw() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.drawNow();
    });
  }

  /** Draw the rows in view; returns how long it took (ms). */
  drawNow() {
    const started = performance.now();
    const context = this.canvas.getContext("2d");
    const ratio = this.canvas.width / Math.max(1, this.container.clientWidth);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    context.fillStyle = "#10151b";
    context.fillRect(0, 0, width, height);
    if (!this.tree) return 0;
    const rowHeight = this.rowHeight;
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / rowHeight));
    const last = Math.min(this.rows.length, Math.ceil((top + height - HEADER_HEIGHT) / rowHeight) + 1);
    context.save();
    context.beginPath();
    context.rect(0, HEADER_HEIGHT, width, height - HEADER_HEIGHT);
    context.clip();
    for (let index = first; index < last; index++) {
      const y = HEADER_HEIGHT + index * rowHeight - top;
      this.drawRow(context, this.rows[index], y, rowHeight, width);
    }
    context.restore();
    this.drawLines(context, height);
    this.drawHeader(context, width);
    this.lastDrawMs = performance.now() - started;
    return this.lastDrawMs;
  }

  drawRow(context, row, y, rowHeight, width) {
    const labelWidth = this.labelWidth;
    const selected = row.kind === "activity" && row.code === this.selected;
    const marked = row.kind === "activity" && this.marked.has(row.code);
    context.fillStyle = selected ? "rgba(78, 161, 255, 0.28)" : marked ? "rgba(78, 161, 255, 0.14)"
      : row.kind === "wbs" ? "#151b23" : "#10151b";
    context.fillRect(0, y, width, rowHeight);
    context.fillStyle = "#1a212a";
    context.fillRect(0, y + rowHeight - 1, width, 1);
    // bars first, then the names' column over anything that scrolled under it
    context.save();
    context.beginPath();
    context.rect(labelWidth, y, width - labelWidth, rowHeight);
    context.clip();
    if (row.kind === "wbs") this.drawSpan(context, row, y, rowHeight);
    else this.drawBars(context, row, y, rowHeight);
    context.restore();
    context.fillStyle = selected ? "#1d2e44" : marked ? "#17222f" : row.kind === "wbs" ? "#151b23" : "#121820";
    context.fillRect(0, y, labelWidth, rowHeight - 1);
    if (selected || marked) {
      context.fillStyle = "#4ea1ff";
      context.fillRect(0, y, 3, rowHeight - 1);
    }
    const indent = 8 + row.depth * 12;
    context.font = `${row.kind === "wbs" ? "600 " : ""}12px system-ui, sans-serif`;
    context.textBaseline = "middle";
    const middle = y + rowHeight / 2;
    let x = indent;
    if (row.kind === "wbs") {
      context.fillStyle = "#8a96a6";
      context.fillText(row.open ? "▾" : "▸", x, middle);
      x += 12;
    } else if (row.critical) {
      context.fillStyle = CRITICAL_COLOR;
      context.fillRect(x, middle - 4, 3, 8);
      x += 7;
    }
    context.fillStyle = row.kind === "wbs" ? "#d8dee6" : "#c3cad4";
    const text = row.kind === "wbs" ? `${row.name || row.code}` : `${row.code}  ${row.name}`;
    context.fillText(fitText(context, text, labelWidth - x - 6), x, middle);
    context.fillStyle = "#262e39";
    context.fillRect(labelWidth - 1, y, 1, rowHeight);
  }

  drawSpan(context, row, y, rowHeight) {
    if (!Number.isFinite(row.start)) return;
    const x0 = this.xOf(row.start);
    const x1 = Math.max(x0 + 2, this.xOf(row.finish));
    const middle = y + rowHeight / 2;
    context.fillStyle = row.standing ? STANDING_COLORS[row.standing] : PLANNED_COLOR;
    context.globalAlpha = 0.55;
    context.fillRect(x0, middle - 2, x1 - x0, 4);
    context.globalAlpha = 1;
    context.fillRect(x0, middle - 5, 2, 10);
    context.fillRect(x1 - 2, middle - 5, 2, 10);
  }

  /** The rectangles an activity's bars take, in the chart's pixels (also for tests). */
  barGeometry(row, y, rowHeight) {
    const planned = row.plannedStart === null ? null : {
      x: this.xOf(row.plannedStart), w: Math.max(2, this.xOf(row.plannedFinish) - this.xOf(row.plannedStart)),
      y: y + 4, h: Math.max(3, Math.round(rowHeight * 0.18)),
    };
    const lower = y + Math.round(rowHeight * 0.42);
    const barHeight = Math.round(rowHeight * 0.42);
    const done = row.actualStart === null ? null : {
      x: this.xOf(row.actualStart), w: Math.max(2, this.xOf(row.actualFinish) - this.xOf(row.actualStart)), y: lower, h: barHeight,
    };
    const todo = row.forecastStart === null || row.forecastFinish === null ? null : {
      x: this.xOf(row.forecastStart), w: Math.max(2, this.xOf(row.forecastFinish) - this.xOf(row.forecastStart)), y: lower, h: barHeight,
    };
    return { planned, done, todo };
  }

  drawBars(context, row, y, rowHeight) {
    const color = STANDING_COLORS[row.standing] ?? PLANNED_COLOR;
    const { planned, done, todo } = this.barGeometry(row, y, rowHeight);
    if (row.milestone) {
      const at = done ?? todo ?? planned;
      if (planned) diamond(context, planned.x, planned.y + planned.h / 2, 4, PLANNED_COLOR);
      if (at && at !== planned) diamond(context, at.x + (done ? at.w : 0), at.y + at.h / 2, 6, color, row.critical ? CRITICAL_COLOR : null);
      return;
    }
    if (planned) {
      context.fillStyle = PLANNED_COLOR;
      context.fillRect(planned.x, planned.y, planned.w, planned.h);
    }
    if (todo) {
      context.fillStyle = color;
      context.globalAlpha = 0.38;
      context.fillRect(todo.x, todo.y, todo.w, todo.h);
      context.globalAlpha = 1;
    }
    if (done) {
      context.fillStyle = color;
      context.fillRect(done.x, done.y, done.w, done.h);
    }
    if (row.critical) {
      const boxes = [done, todo].filter(Boolean);
      const x0 = Math.min(...boxes.map((b) => b.x));
      const x1 = Math.max(...boxes.map((b) => b.x + b.w));
      if (boxes.length) {
        context.strokeStyle = CRITICAL_COLOR;
        context.lineWidth = 2;
        context.strokeRect(x0 - 1, boxes[0].y - 1, x1 - x0 + 2, boxes[0].h + 2);
      }
    }
  }

  drawLines(context, height) {
    const lines = [[this.tree.asOf, "#d8dee6", [4, 3]]];
    if (this.cursor !== null) lines.push([this.cursor, "#4ea1ff", []]);
    for (const [time, color, dash] of lines) {
      const x = this.xOf(time);
      if (x < this.labelWidth) continue;
      context.strokeStyle = color;
      context.lineWidth = 1.5;
      context.setLineDash(dash);
      context.beginPath();
      context.moveTo(x, HEADER_HEIGHT - 6);
      context.lineTo(x, height);
      context.stroke();
      context.setLineDash([]);
    }
  }

  drawHeader(context, width) {
    const labelWidth = this.labelWidth;
    context.fillStyle = "#151a21";
    context.fillRect(0, 0, width, HEADER_HEIGHT);
    context.fillStyle = "#262e39";
    context.fillRect(0, HEADER_HEIGHT - 1, width, 1);
    context.font = "11px system-ui, sans-serif";
    context.textBaseline = "middle";
    context.fillStyle = "#8a96a6";
    context.fillText(`${this.activityCount.toLocaleString()} activities`, 8, HEADER_HEIGHT / 2);
    context.save();
    context.beginPath();
    context.rect(labelWidth, 0, width - labelWidth, HEADER_HEIGHT);
    context.clip();
    const from = this.timeAt(labelWidth);
    const to = this.timeAt(width);
    for (const tick of ticks(from, to, this.dayPx)) {
      const x = this.xOf(tick.time);
      context.fillStyle = tick.major ? "#3a4555" : "#262e39";
      context.fillRect(x, tick.major ? 4 : HEADER_HEIGHT - 10, 1, tick.major ? HEADER_HEIGHT - 4 : 9);
      if (tick.label) {
        context.fillStyle = tick.major ? "#c3cad4" : "#8a96a6";
        context.fillText(tick.label, x + 4, tick.major ? 11 : HEADER_HEIGHT - 11);
      }
    }
    if (this.cursor !== null) {
      const x = this.xOf(this.cursor);
      if (x >= labelWidth) {
        const label = formatDay(this.cursor, false);
        const w = context.measureText(label).width + 8;
        context.fillStyle = "#4ea1ff";
        context.fillRect(Math.min(x - w / 2, width - w), HEADER_HEIGHT - 15, w, 14);
        context.fillStyle = "#0e1217";
        context.fillText(label, Math.min(x - w / 2, width - w) + 4, HEADER_HEIGHT - 8);
      }
    }
    context.restore();
  }

  /** The row under a pointer event, or null (the header, or below the last row). */
  rowAt(event) {
    const viewY = event.clientY - this.container.getBoundingClientRect().top;
    if (viewY < HEADER_HEIGHT) return null;
    const index = Math.floor((viewY - HEADER_HEIGHT + this.scroller.scrollTop) / this.rowHeight);
    return this.rows[index] ?? null;
  }

  click(event) {
    const row = this.rowAt(event);
    if (!row) return;
    if (row.kind === "wbs") {
      if (this.collapsed.has(row.id)) this.collapsed.delete(row.id);
      else this.collapsed.add(row.id);
      this.refreshRows();
      return;
    }
    this.onActivity(row.code === this.selected ? null : row.code);
  }

  /**
   * The keyboard, on the focused chart: up and down choose the activity above or below,
   * the other keys scroll.
   */
  key(event) {
    if (!this.rows.length || event.altKey || event.ctrlKey || event.metaKey) return;
    const current = this.rowIndex.get(this.selected ?? "") ?? -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      for (let index = current + step; index >= 0 && index < this.rows.length; index += step) {
        if (this.rows[index].kind === "activity") {
          this.onActivity(this.rows[index].code);
          return;
        }
      }
    }
  }

  hover(event) {
    const row = event.pointerType === "mouse" ? this.rowAt(event) : null;
    if (!row || row.kind !== "activity") {
      this.tip.hidden = true;
      return;
    }
    const day = (t) => (t === null ? "—" : formatDay(t, false));
    const standing = `${STANDING_LABELS[row.standing]}${row.days ? ` by ${row.days} d` : ""}`;
    this.tip.innerHTML = `<b>${escape(row.code)}</b> ${escape(row.name)}<br>
      <span class="muted">planned</span> ${day(row.plannedStart)} → ${day(row.plannedFinish)}<br>
      <span class="muted">${row.complete ? "actual" : "forecast"}</span> ${day(row.actualStart ?? row.forecastStart)} → ${day(row.complete ? row.actualFinish : row.forecastFinish)}<br>
      ${Math.round(row.percent)} % done (${Math.round(row.plannedPercent)} % planned) · <span style="color:${STANDING_COLORS[row.standing]}">${standing}</span>${row.critical ? ' · <span style="color:#ff9d2e">critical</span>' : ""}`;
    this.tip.hidden = false;
    const box = this.container.getBoundingClientRect();
    const x = event.clientX - box.left;
    this.tip.style.left = `${Math.min(x + 14, box.width - this.tip.offsetWidth - 4)}px`;
    // Below the pointer, or above it when the chart's bottom edge would cut it off.
    const y = event.clientY - box.top;
    const below = y + 14 + this.tip.offsetHeight <= box.height;
    this.tip.style.top = `${below ? y + 14 : Math.max(0, y - 10 - this.tip.offsetHeight)}px`;
  }

  /** Mark the chosen activity (null: none) and bring it into view. */
  select(code) {
    this.selected = code;
    if (code) this.reveal(code);
    this.draw();
  }

  /** Mark the activities of an element chosen elsewhere, and show the first of them. */
  mark(codes) {
    this.marked = new Set(codes);
    if (codes.length) this.reveal(codes[0]);
    this.draw();
  }

  /** Open the WBS nodes above an activity and scroll it (and its bars) into view. */
  reveal(code) {
    const bar = this.tree?.bars.find((b) => b.code === code);
    if (!bar) return;
    let changed = false;
    for (const id of ancestorsOf(this.tree, code)) changed = this.collapsed.delete(id) || changed;
    if (this.criticalOnly && !bar.critical) {
      this.criticalOnly = false; // the filter would hide it
      changed = true;
    }
    if (changed) this.refreshRows();
    const index = this.rowIndex.get(code);
    if (index === undefined) return;
    const rowHeight = this.rowHeight;
    const top = index * rowHeight;
    const viewHeight = this.container.clientHeight - HEADER_HEIGHT;
    if (top < this.scroller.scrollTop || top + rowHeight > this.scroller.scrollTop + viewHeight) {
      this.scroller.scrollTop = Math.max(0, top - viewHeight / 3);
    }
    const row = this.rows[index];
    const start = Math.min(...[row.plannedStart, row.actualStart, row.forecastStart].filter((t) => t !== null));
    const x = this.xOf(start);
    if (Number.isFinite(x) && (x < this.labelWidth || x > this.container.clientWidth - 40)) {
      this.scroller.scrollLeft = Math.max(0, ((start - this.origin) / DAY) * this.dayPx - 40);
    }
  }

  /** The 4D date's line (epoch ms, or null). */
  setCursor(time) {
    this.cursor = time;
    this.draw();
  }

  /**
   * Where an activity's row and bars are on the page now (client pixels), or null when
   * it is not in view: for tests, from the same geometry the drawing uses.
   */
  screenBoxOf(code) {
    const index = this.rowIndex?.get(code);
    if (index === undefined) return null;
    const rowHeight = this.rowHeight;
    const y = HEADER_HEIGHT + index * rowHeight - this.scroller.scrollTop;
    if (y < HEADER_HEIGHT || y + rowHeight > this.container.clientHeight) return null;
    const box = this.container.getBoundingClientRect();
    const shift = (r) => (r ? { x: r.x + box.left, y: r.y + box.top, w: r.w, h: r.h } : null);
    const row = this.rows[index];
    const bars = this.barGeometry(row, y, rowHeight);
    return {
      row: { x: box.left, y: y + box.top, w: this.container.clientWidth, h: rowHeight },
      label: { x: box.left + 8, y: y + box.top + rowHeight / 2 },
      planned: shift(bars.planned), done: shift(bars.done), todo: shift(bars.todo),
      critical: row.critical, standing: row.standing,
    };
  }
}

function diamond(context, x, y, size, fill, stroke = null) {
  context.beginPath();
  context.moveTo(x, y - size);
  context.lineTo(x + size, y);
  context.lineTo(x, y + size);
  context.lineTo(x - size, y);
  context.closePath();
  context.fillStyle = fill;
  context.fill();
  if (stroke) {
    context.strokeStyle = stroke;
    context.lineWidth = 2;
    context.stroke();
  }
}

function fitText(context, text, width) {
  if (context.measureText(text).width <= width) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (context.measureText(`${text.slice(0, mid)}…`).width <= width) low = mid;
    else high = mid - 1;
  }
  return `${text.slice(0, low)}…`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The header's marks between two times: months as major marks, then weeks or days. */
function ticks(from, to, dayPx) {
  const result = [];
  const start = new Date(from);
  start.setHours(0, 0, 0, 0);
  const monthLabels = dayPx * 30 > 40;
  for (let month = new Date(start.getFullYear(), start.getMonth(), 1); month.getTime() <= to;
    month = new Date(month.getFullYear(), month.getMonth() + 1, 1)) {
    const everyYear = !monthLabels && month.getMonth() !== 0;
    if (everyYear && dayPx * 365 < 60) continue;
    result.push({ time: month.getTime(), major: true,
      label: monthLabels || month.getMonth() === 0 ? `${MONTHS[month.getMonth()]} ${month.getFullYear()}` : "" });
  }
  const step = dayPx >= 18 ? 1 : dayPx >= 3 ? 7 : 0;
  if (step) {
    const day = new Date(start);
    if (step === 7) day.setDate(day.getDate() - ((day.getDay() + 6) % 7)); // Mondays
    for (; day.getTime() <= to; day.setDate(day.getDate() + step)) {
      if (day.getDate() === 1) continue;
      result.push({ time: day.getTime(), major: false, label: dayPx * step >= 22 ? String(day.getDate()) : "" });
    }
  }
  return result;
}
