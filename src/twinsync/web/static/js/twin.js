// The page's copy of the twin's model states: every element's (GET /api/twin/states, one
// request for the whole fleet, for the colour mode) and the shown element's sensors' (GET
// /api/elements/{id}/twin, for the panel). Nothing is read before it is needed; the fleet
// is read again when a divergence starts or ends (a delta's twin_divergence, or the
// clearing of a twin: alarm), at most once a second, and every minute while the mode is on
// (a model that finishes learning says nothing on the socket).

import { getElementTwin, getTwinStates } from "./api.js";
import { fleetMap } from "./twin_model.js";

/** The pause before the fleet is read again after an event, gathering a burst into one read. */
export const EVENT_PAUSE_MS = 1000;

/** Whether a delta's change starts or ends a sensor's divergence. */
export function isTwinChange(change) {
  return change.kind === "twin_divergence" || change.kind === "twin_recalibrated"
    || (change.kind?.startsWith("alarm_") && typeof change.key === "string" && change.key.startsWith("twin:"));
}

export class TwinStore {
  /** @param {{onFleet?: () => void}} handlers `onFleet()` after the fleet's states arrive. */
  constructor({ onFleet = () => {} } = {}) {
    this.onFleet = onFleet;
    this.fleet = null; // null until read: Map element id -> {state, sensors, diverging, since}
    this.enabled = true;
    this.counts = null;
    this.reads = 0; // for tests: how many times the fleet was read
    this.queued = null;
    this.inFlight = null;
    this.again = false; // a read asked for while one is in flight
    this.error = null;
  }

  /** The element's fleet entry: undefined before the fleet is read, null when it has no model. */
  entryOf(id) {
    if (this.fleet === null) return undefined;
    return this.fleet.get(id) ?? null;
  }

  /** Read the fleet now (one read at a time; a read asked for meanwhile follows it). */
  async readFleet() {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.reads++;
    this.inFlight = getTwinStates().then((answer) => {
      this.fleet = fleetMap(answer);
      this.enabled = answer.enabled;
      this.counts = answer.counts;
      this.error = null;
    }, (error) => {
      this.error = error;
    }).finally(() => {
      this.inFlight = null;
      this.onFleet();
      if (this.again) {
        this.again = false;
        this.readFleet();
      }
    });
    return this.inFlight;
  }

  /** Read the fleet after a short pause (many events of one batch are one read). */
  queueFleet() {
    if (this.queued) return;
    this.queued = setTimeout(() => {
      this.queued = null;
      this.readFleet();
    }, EVENT_PAUSE_MS);
  }

  /** The element's sensors' models ({sensors: [...]}), or {error}. */
  async readElement(id) {
    try {
      return { view: await getElementTwin(id) };
    } catch (error) {
      return { error };
    }
  }
}
