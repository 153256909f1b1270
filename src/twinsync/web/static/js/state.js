// The twin as the page knows it: element snapshots kept current from WebSocket deltas.
// Views never fetch to refresh; they listen here. A snapshot (the first one, or a resync
// after a reconnect or an overflow) replaces everything.

export const SPATIAL = new Set(["IfcProject", "IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace"]);
export const STATUSES = ["planned", "in_progress", "completed", "issue"];

export class TwinState {
  constructor() {
    this.elements = new Map();
    this.listeners = { reset: [], change: [] };
  }

  on(kind, listener) {
    this.listeners[kind].push(listener);
  }

  emit(kind, ...args) {
    for (const listener of this.listeners[kind]) listener(...args);
  }

  reset(snapshots) {
    this.elements = new Map(snapshots.map((e) => [e.id, e]));
    this.emit("reset");
  }

  /**
   * Apply a delta's moved live values. They come as columns (one array per field, entry k
   * of each is one change), which keeps a delta of thousands of sensors small.
   */
  applyProperties(columns) {
    const count = columns.sensor_id.length;
    for (let k = 0; k < count; k++) {
      this.apply({
        kind: "property", element_id: columns.element_id[k], property: columns.property[k],
        sensor_id: columns.sensor_id[k], unit: columns.unit[k], value: columns.value[k],
        time: columns.time[k], quality: columns.quality[k],
        sensor_value: columns.sensor_value[k], sensor_time: columns.sensor_time[k],
        sensor_quality: columns.sensor_quality[k],
        // The reading's anomaly score; null where not scored (an older server: no column).
        sensor_anomaly: columns.sensor_anomaly?.[k] ?? null,
      });
    }
  }

  /**
   * Apply one delta change to the element it names. Returns nothing; listeners get
   * (element, change) so they can update only what moved.
   */
  apply(change) {
    const element = this.elements.get(change.element_id);
    if (change.kind === "element_added" || change.kind === "element_changed") {
      // The event carries the element without its storey or sensors: keep what we know.
      const incoming = change.element;
      if (!incoming) return;
      const merged = { storey: element?.storey ?? null, sensors: element?.sensors ?? [], ...incoming };
      merged.properties = { ...(element?.properties ?? {}), ...incoming.properties };
      this.elements.set(incoming.id, merged);
      this.emit("change", merged, change);
      return;
    }
    if (!element) return;
    switch (change.kind) {
      case "property": {
        // The delta's value is the property's, fused over all the sensors bound to it;
        // the reading of the one sensor that moved is only known for sure when the
        // server says it (sensor_value) or when that sensor is the property's only one.
        const previous = element.properties[change.property];
        element.properties[change.property] = {
          value: change.value, unit: change.unit, time: change.time,
          source: change.source ?? "iot", confidence: change.quality, sensor_id: change.sensor_id,
          sensors: change.sensors,
          // A delta carries no uncertainty nor shares: the last known stand beside the new
          // value until the element is read again (fused_detail.js).
          uncertainty: change.uncertainty ?? previous?.uncertainty, weights: change.weights ?? previous?.weights,
          sources: change.sources ?? previous?.sources, field: change.field ?? previous?.field,
          // When this page heard of the value (its own clock, epoch ms): how late the page is.
          receivedAt: Date.now(),
        };
        const sensor = element.sensors.find((s) => s.id === change.sensor_id);
        const feeding = element.sensors.filter((s) => s.binding?.property === change.property);
        const reading = change.sensor_value ?? (feeding.length === 1 ? change.value : undefined);
        change.sensorKnown = Boolean(sensor) && reading !== undefined;
        if (change.sensorKnown) {
          sensor.value = reading;
          sensor.time = change.sensor_time ?? change.time;
          if (change.sensor_quality !== undefined) sensor.quality = change.sensor_quality;
          else if (feeding.length === 1) sensor.quality = change.quality;
          sensor.anomaly = change.sensor_anomaly ?? null;
          sensor.count = (sensor.count ?? 0) + 1;
        }
        break;
      }
      case "property_changed":
        element.properties[change.property] = {
          value: change.value, unit: change.unit, time: change.time,
          source: change.source, confidence: change.confidence,
        };
        break;
      case "status_changed":
        element.status = change.status;
        break;
      case "element_archived":
        element.archived = true;
        break;
      case "health_changed": {
        const sensor = element.sensors.find((s) => s.id === change.sensor_id);
        if (sensor) {
          sensor.quality = change.quality;
          sensor.health = { ...(sensor.health ?? {}), state: change.state, reason: change.reason, quality: change.quality };
        }
        break;
      }
      case "alarm_raised":
      case "alarm_updated":
      case "alarm_acknowledged":
        element.alarms = [...(element.alarms ?? []).filter((a) => a.key !== change.key), change];
        break;
      case "alarm_cleared":
        element.alarms = (element.alarms ?? []).filter((a) => a.key !== change.key);
        break;
      default:
        break;
    }
    this.emit("change", element, change);
  }

  get(id) {
    return this.elements.get(id);
  }

  /** Sensors re-read from the REST snapshot: what deltas could not say about each one. */
  refreshSensors(snapshot) {
    const element = this.elements.get(snapshot.id);
    if (!element) return null;
    element.sensors = snapshot.sensors;
    element.alarms = snapshot.alarms;
    return element;
  }

  /** Elements a site engineer counts: physical things, not the spatial structure. */
  physical() {
    return [...this.elements.values()].filter((e) => !e.archived && !SPATIAL.has(e.type));
  }

  /** Active alarms over the whole twin. */
  alarmCount() {
    let count = 0;
    for (const element of this.elements.values()) count += element.alarms?.length ?? 0;
    return count;
  }

  statusSummary() {
    const summary = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const element of this.physical()) summary[element.status] = (summary[element.status] ?? 0) + 1;
    return summary;
  }

  /** Properties fed by a sensor somewhere in the twin: the ones worth a heat map. */
  boundProperties() {
    const units = new Map();
    for (const element of this.elements.values()) {
      for (const sensor of element.sensors ?? []) {
        const binding = sensor.binding;
        if (binding && !units.has(binding.property)) units.set(binding.property, sensor.unit);
      }
    }
    return [...units].sort(([a], [b]) => a.localeCompare(b)).map(([name, unit]) => ({ name, unit }));
  }

  /** The number an element shows for a property, or null when it has none yet. */
  numberOf(element, property) {
    const value = element?.properties?.[property]?.value;
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  }
}

/**
 * A storey's elevation from its properties: any property named "elevation" (or
 * "<set>.Elevation"), as a number. Null when the model did not say.
 */
export function storeyElevation(storey) {
  for (const [name, property] of Object.entries(storey?.properties ?? {})) {
    if (/(^|\.)elevation$/i.test(name) && typeof property?.value === "number") return property.value;
  }
  return null;
}

/**
 * Storeys bottom to top: by elevation property if every storey has one, else by the
 * height their elements stand on in the 3D model (`bottoms`: storey id -> metres) if
 * every storey has some, else by name with numbers in order ("Level 2" < "Level 10").
 * One measure for all, so the order is consistent. `of` maps an item to its storey.
 */
export function sortStoreys(items, bottoms = new Map(), of = (item) => item) {
  const byName = (a, b) => (of(a).name || of(a).id).localeCompare(of(b).name || of(b).id, undefined, { numeric: true });
  const measures = [(s) => storeyElevation(s), (s) => bottoms.get(s.id) ?? null];
  for (const measure of measures) {
    const heights = new Map(items.map((item) => [item, measure(of(item))]));
    if (items.length && [...heights.values()].every((h) => h !== null)) {
      return [...items].sort((a, b) => heights.get(a) - heights.get(b) || byName(a, b));
    }
  }
  return [...items].sort(byName);
}
