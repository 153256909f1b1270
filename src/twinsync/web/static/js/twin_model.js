// The physics twin's models as the page reads them: the state of a sensor's level/trend
// model and of an element (its sensors' worst), their colours, how a state reads, and how
// a track of predictions (GET /api/elements/{id}/twin/track) lines up with a chart's
// points. Pure (no DOM, no fetch), so the panel, the chart, the colour mode, its legend
// and a Node test give one answer.

// The colour mode's value in the "Colour by" select ("@" keeps it apart from property names).
export const TWIN_MODE = "@twin";

// From best to worst, as the server orders them (service/twin_fleet.py): an element's state
// is its sensors' worst. Red is the one to act on; green in step; the blue-grey of a
// planned element for a model still learning; grey for off. The legend names each, so the
// red-green pair is never read by colour alone.
export const TWIN_STATES = [
  { key: "diverging", label: "diverging from its model", hex: "#e5484d" },
  { key: "in_control", label: "in step with its model", hex: "#3fb66b" },
  { key: "learning", label: "model still learning", hex: "#7d93b2" },
  { key: "off", label: "models off", hex: "#8592a3" },
  { key: "pending", label: "being read…", hex: "#4d5868" },
];
export const TWIN_STATE = Object.fromEntries(TWIN_STATES.map((s) => [s.key, s]));
const RANK = { off: 0, learning: 1, in_control: 2, diverging: 3 };

/** The worst of some states (diverging > in_control > learning > off); null for none. */
export function worstState(states) {
  let worst = null;
  for (const state of states) {
    if (state in RANK && (worst === null || RANK[state] > RANK[worst])) worst = state;
  }
  return worst;
}

/** GET /api/twin/states (columns) as a Map: element id -> {state, sensors, diverging, since}. */
export function fleetMap(answer) {
  const map = new Map();
  const ids = answer?.element_id ?? [];
  ids.forEach((id, k) => map.set(id, {
    state: answer.state[k], sensors: answer.sensors[k], diverging: answer.diverging[k], since: answer.since[k],
  }));
  return map;
}

/** A date and time in the reader's zone, short: "Tue 8 Dec, 14:30". */
export function when(epochSeconds) {
  if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return "—";
  return new Date(epochSeconds * 1000).toLocaleString(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

/** A sensor model's state in a word or two: "diverging", "in control", "learning", "off". */
export function stateLabel(model) {
  return { diverging: "diverging", in_control: "in control", learning: "learning", off: "off" }[model?.state] ?? "—";
}

/** How one sensor's model (an entry of GET /api/elements/{id}/twin) reads in a few words. */
export function stateText(model, warmup = 32) {
  switch (model?.state) {
    case "diverging": return model.diverging_since != null ? `diverging since ${when(model.diverging_since)}` : "diverging";
    case "in_control": return "in control";
    case "learning": return `learning · ${Math.min(model.readings ?? 0, warmup)} of ${warmup} readings`;
    case "off": return "off";
    default: return "—";
  }
}

/**
 * The track's predicted value and band at each of a chart's points: three arrays (null
 * where there is none) as long as `times`. Raw points are matched by their time; bucket
 * points (`every` set) are drawn at the bucket's middle, so a bucket of the track (keyed
 * by its start) matches the point at start + every / 2.
 */
export function overlayColumns(times, track, every = null) {
  const predicted = new Array(times.length).fill(null);
  const low = new Array(times.length).fill(null);
  const high = new Array(times.length).fill(null);
  if (!track) return { predicted, low, high };
  const at = new Map();
  const shift = every ? every / 2 : 0;
  track.time.forEach((t, k) => at.set(t + shift, k));
  times.forEach((t, i) => {
    const k = at.get(t);
    if (k === undefined) return;
    predicted[i] = track.predicted[k] ?? null;
    low[i] = track.low[k] ?? null;
    high[i] = track.high[k] ?? null;
  });
  return { predicted, low, high };
}

/** Divergence spans to shade between `min` and `max`: [start, end] each, an open one to `max`. */
export function shadedSpans(divergences, min, max) {
  return (divergences ?? [])
    .map((span) => [Math.max(span.start, min), Math.min(span.end ?? max, max)])
    .filter(([start, end]) => end >= start && end >= min && start <= max);
}
