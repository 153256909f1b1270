// The page's copy of concrete maturity: the declared mixes, and each element's last answer
// of `GET /api/elements/{id}/maturity`. The panel reads one element at once; the colour
// mode queues the elements of a mix and reads them a few at a time, so a model of
// thousands of elements never has thousands of requests in flight (nor any before the
// mode is chosen).

import { getMaturity, getMixes } from "./api.js";
import { mixOf } from "./maturity_model.js";
import { SPATIAL } from "./state.js";

// Requests in flight at most while colouring the model: the server assesses each element
// in a worker thread, and the page's own requests (the panel, a chart) must not queue
// behind hundreds of these.
export const CONCURRENCY = 4;

export class MaturityStore {
  /**
   * @param {{onView?: (id: string) => void, onMixes?: () => void}} handlers
   *   `onView(id)` after an element's answer arrives (null: of no mix);
   *   `onMixes()` after the mixes are (re)read.
   */
  constructor({ onView = () => {}, onMixes = () => {} } = {}) {
    this.onView = onView;
    this.onMixes = onMixes;
    this.mixes = null; // null until read: then every element may be of one
    this.views = new Map(); // element id -> {view (null: no mix), at (ms)}
    this.queue = [];
    this.queued = new Set();
    this.inFlight = 0;
    this.maxInFlight = 0; // for tests: the most requests the queue had out at once
    this.requested = 0;
  }

  async loadMixes() {
    try {
      this.mixes = await getMixes();
    } catch {
      return; // the panel still asks element by element; a 404 hides its section
    }
    // An element of no mix before may be of the one just declared: ask it again.
    for (const [id, entry] of this.views) if (entry.view === null) this.views.delete(id);
    this.onMixes();
  }

  /** Whether the element may be of a mix: by the mixes once read, else any physical one. */
  isOfMix(element) {
    if (!element || element.archived || SPATIAL.has(element.type)) return false;
    return this.mixes === null || mixOf(this.mixes, element) !== null;
  }

  get hasMixes() {
    return Boolean(this.mixes?.length);
  }

  /** The last answer for an element: undefined if never read, null if of no mix. */
  viewOf(id) {
    return this.views.get(id)?.view;
  }

  /** How old the element's last answer is, in ms (Infinity: never read). */
  ageOf(id) {
    const entry = this.views.get(id);
    return entry ? Date.now() - entry.at : Infinity;
  }

  /** Read one element now, ahead of the queue (the panel's element). */
  async read(id) {
    this.requested++;
    let view;
    try {
      view = await getMaturity(id);
    } catch (error) {
      return { error };
    }
    this.views.set(id, { view, at: Date.now() });
    this.onView(id);
    return { view };
  }

  /**
   * Queue elements to read, those read less than `olderThanMs` ago left out; read
   * CONCURRENCY at a time in the order given (the caller puts what is on screen first).
   */
  request(ids, olderThanMs = 0) {
    for (const id of ids) {
      if (this.queued.has(id) || this.ageOf(id) < olderThanMs) continue;
      this.queued.add(id);
      this.queue.push(id);
    }
    this.pump();
  }

  /** Forget what is queued (the colour mode was left); requests in flight finish. */
  clearQueue() {
    this.queue = [];
    this.queued.clear();
  }

  pump() {
    while (this.inFlight < CONCURRENCY && this.queue.length) {
      const id = this.queue.shift();
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.read(id).finally(() => {
        this.queued.delete(id);
        this.inFlight--;
        this.pump();
      });
    }
  }

  get pending() {
    return this.queue.length + this.inFlight;
  }
}
