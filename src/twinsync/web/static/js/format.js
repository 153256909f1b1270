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

/** Numbers with as many digits as a reading deserves; other values as they are. */
export function value(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return "—";
  const size = Math.abs(v);
  const digits = size >= 1000 ? 0 : size >= 100 ? 1 : size >= 1 ? 2 : 3;
  return v.toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** A sensor reading: fixed decimals, so a column of live values does not jitter. */
export function reading(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return value(v);
  const size = Math.abs(v);
  const digits = size >= 1000 ? 0 : size >= 100 ? 1 : 2;
  return v.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const UNITS = { degC: "°C", percent: "%", microstrain: "µε", "m²": "m²", "m³": "m³" };

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
