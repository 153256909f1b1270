// Concrete maturity as the page reads it: which elements are of a mix, where an element's
// strength stands against its requirement, and how its figures read. Pure (no DOM, no
// fetch), so the panel, the 3D colour mode, its legend and a Node test give one answer.

// The colour mode's value in the "Colour by" select. Property names are free labels; a
// leading "@" keeps this one apart from any a sensor could be bound to.
export const MATURITY_MODE = "@maturity";

// Strength as a share of the required: bands a site engineer acts on (strip, wait, worry).
// Red to amber to green like a traffic light, with the legend naming each band so the
// red-green pair is never read by colour alone; the greys say "nothing to read".
export const BANDS = [
  { key: "reached", label: "required reached", hex: "#3fb66b" },
  { key: "half", label: "50–100 % of required", hex: "#e8a33d" },
  { key: "low", label: "below 50 % of required", hex: "#e5484d" },
  { key: "none", label: "no estimate (pour or sensor unknown)", hex: "#8592a3" },
  { key: "pending", label: "being read…", hex: "#4d5868" },
];
export const BAND = Object.fromEntries(BANDS.map((b) => [b.key, b]));

/**
 * How specifically a mix names an element, as the server ranks it (model/mix.py): 3 by id
 * or GlobalId, 2 by a property's value, 1 by IFC class, 0 not at all. A property's value
 * is compared as text, and as a number when both read as one (the server compares
 * Python's text of it: 30.0 is "30.0" there, 30 here).
 */
export function mixRank(mix, element) {
  const named = mix.elements ?? [];
  if (named.includes(element.id) || (element.global_id && named.includes(element.global_id))) return 3;
  if (mix.property != null) {
    const held = element.properties?.[mix.property]?.value;
    const same = held != null && (String(held) === mix.value
      || (typeof held === "number" && Number(mix.value) === held));
    return same && (mix.ifc_class == null || element.type === mix.ifc_class) ? 2 : 0;
  }
  return mix.ifc_class != null && element.type === mix.ifc_class ? 1 : 0;
}

/** The mix an element is of (the most specific, then the first by name), or null. */
export function mixOf(mixes, element) {
  let best = null;
  let bestRank = 0;
  for (const mix of [...mixes].sort((a, b) => a.name.localeCompare(b.name))) {
    const rank = mixRank(mix, element);
    if (rank > bestRank) {
      best = mix;
      bestRank = rank;
    }
  }
  return best;
}

/** Whether a maturity answer has an estimate (a known pour and a temperature sensor). */
export function hasEstimate(view) {
  return Boolean(view) && view.estimate !== null && typeof view.strength === "number";
}

/** The estimated strength as a share of the required one (0..), or null. */
export function shareOf(view) {
  if (!hasEstimate(view) || !(view.required_strength > 0)) return null;
  return view.strength / view.required_strength;
}

/**
 * The band of an element's answer: `undefined` (not read yet) is pending; an answer
 * without an estimate is none; reached when the sensors say so or it is recorded.
 */
export function bandOf(view) {
  if (view === undefined) return BAND.pending;
  if (!hasEstimate(view)) return BAND.none;
  if (view.reached || view.recorded) return BAND.reached;
  const share = shareOf(view);
  if (share === null) return BAND.none;
  if (share >= 1) return BAND.reached;
  return share < 0.5 ? BAND.low : BAND.half;
}

/** A strength in MPa with one decimal: "18.1". */
export function mpa(strength) {
  return typeof strength === "number" && Number.isFinite(strength)
    ? strength.toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 })
    : "—";
}

/** "18.1 MPa (15.9–20.3, 90 %)", or without the interval when the curve gives none. */
export function strengthText(view) {
  if (!hasEstimate(view)) return "—";
  const interval = view.strength_interval;
  const range = interval
    ? ` (${mpa(interval.low)}–${mpa(interval.high)}, ${Math.round(interval.coverage * 100)} %)` : "";
  return `${mpa(view.strength)} MPa${range}`;
}

/** A date and time in the reader's zone, short enough for the panel: "Tue 8 Dec, 14:30". */
export function when(epochSeconds) {
  if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return "—";
  return new Date(epochSeconds * 1000).toLocaleString(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

/**
 * The targets in the order a site engineer meets them (weakest first, the requirement
 * last): [{name, strength, reached, expected_at, …}].
 */
export function targetsOf(view) {
  return Object.entries(view?.targets ?? {})
    .map(([name, target]) => ({ name, ...target }))
    .sort((a, b) => a.strength - b.strength || (a.name === "required") - (b.name === "required"));
}
