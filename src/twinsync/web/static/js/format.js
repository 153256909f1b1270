// How values and times read in the page. Shared so the panel, tree and legend agree.

/** "12 s ago", "4 min ago", "3 h ago", "2 d ago"; an empty string for no time. */
export function ago(epochSeconds, now = Date.now() / 1000) {
  if (!epochSeconds) return "";
  const seconds = Math.max(0, now - epochSeconds);
  if (seconds < 1.5) return "just now";
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** A full timestamp for tooltips: the relative form hides the date. */
export function stamp(epochSeconds) {
  return epochSeconds ? new Date(epochSeconds * 1000).toLocaleString() : "";
}

/**
 * Numbers with as many digits as a reading deserves; lists, and the shapes a BIM property
 * takes (docs/BIM.md), spelt out; other values as they are.
 */
export function value(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.length ? v.map(value).join(", ") : "—";
  if (typeof v === "object") return structured(v);
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return "—";
  const size = Math.abs(v);
  const digits = size >= 1000 ? 0 : size >= 100 ? 1 : size >= 1 ? 2 : 3;
  return v.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** A figure and its standard deviation to the deviation's precision (two significant
 * digits of it, as a measurement is written): "36 ± 28", "14.5 ± 6.0", "18.820 ± 0.011",
 * "160 ± 580". Without a finite deviation, the figure as ``value`` writes it. */
export function withSpread(mean, sd) {
  if (typeof mean !== "number" || !Number.isFinite(mean)) return [value(mean), null];
  if (typeof sd !== "number" || !Number.isFinite(sd) || sd <= 0) return [value(mean), sd == null ? null : value(sd)];
  const place = Math.floor(Math.log10(sd)) - 1;  // the deviation's second digit
  const decimals = Math.min(Math.max(-place, 0), 6);
  // Past the units the figure is rounded to the deviation's tens, hundreds, ...; below
  // them the fixed decimals round it.
  const round = (x) => (place > 0 ? Math.round(x / 10 ** place) * 10 ** place : x);
  const text = (x) => round(x).toLocaleString(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return [text(mean), text(sd)];
}

/**
 * A bounded value ("18 – 24 (set 21)"), a table ("0 → 1.5; 10 → 2"), a value in a unit of
 * the model's own ("12 bag"), or any other object as "key: value" pairs.
 */
function structured(v) {
  if ("lower" in v || "upper" in v || "set_point" in v) {
    const hasRange = v.lower != null || v.upper != null;
    const range = hasRange ? `${v.lower == null ? "…" : value(v.lower)} – ${v.upper == null ? "…" : value(v.upper)}` : "";
    if (v.set_point == null) return range || "—";
    return range ? `${range} (set ${value(v.set_point)})` : `set ${value(v.set_point)}`;
  }
  if (Array.isArray(v.defining) && Array.isArray(v.defined)) {
    const defining = v.defining_unit ? ` ${unit(v.defining_unit)}` : "";
    const defined = v.defined_unit ? ` ${unit(v.defined_unit)}` : "";
    return v.defining.map((x, i) => `${value(x)}${defining} → ${value(v.defined[i])}${defined}`).join("; ") || "—";
  }
  if ("value" in v && typeof v.unit === "string") return `${value(v.value)} ${v.unit}`;
  return Object.entries(v).map(([key, x]) => `${key}: ${value(x)}`).join(", ");
}

/** A sensor reading: fixed decimals, so a column of live values does not jitter. */
export function reading(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return value(v);
  const size = Math.abs(v);
  const digits = size >= 1000 ? 0 : size >= 100 ? 1 : 2;
  return v.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const UNITS = { degC: "°C", deg: "°", percent: "%", microstrain: "µε", ohm: "Ω", farad: "F", coulomb: "C" };

/** Units as a reader writes them. */
export function unit(u) {
  return u ? (UNITS[u] ?? u) : "";
}

/** Property names read better without underscores: core_temperature → core temperature. */
export function label(name) {
  return name.replaceAll("_", " ");
}

export function escape(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
