// What colour an element gets: by its status, or by a live property on a continuous scale.
// Kept free of three.js so the tree, the legend and the test hook use the same answer.

export const STATUS_COLORS = {
  planned: "#7d93b2",
  in_progress: "#e8a33d",
  completed: "#3fb66b",
  issue: "#e5484d",
};
export const STATUS_LABELS = {
  planned: "Planned",
  in_progress: "In progress",
  completed: "Completed",
  issue: "Issue",
};

// Rooms (IfcSpace) when they are shown but not coloured by a value: a pale glass blue,
// unlike any status colour.
export const ROOM_COLOR = "#9fc3e6";

// Elements without a value for the chosen property fade back so the heat map stands out.
export const NO_VALUE = "#3b4552";

// Cool to hot, stops evenly spaced: reads as a temperature scale without a legend and
// stays distinguishable for the common red-green colour blindness (blue-yellow axis).
const SCALE = ["#2c4fa3", "#2f87c9", "#46b8c8", "#9bd48a", "#f2d45c", "#f39a3c", "#d9452f"];
const SCALE_RGB = SCALE.map(hexToRgb);

export function scaleGradient() {
  return `linear-gradient(90deg, ${SCALE.join(", ")})`;
}

/** The scale's colour at `t` in 0..1, interpolated between stops. */
export function scaleColor(t) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5));
  const position = clamped * (SCALE_RGB.length - 1);
  const low = Math.floor(position);
  const high = Math.min(SCALE_RGB.length - 1, low + 1);
  const f = position - low;
  const mix = (i) => Math.round(SCALE_RGB[low][i] + (SCALE_RGB[high][i] - SCALE_RGB[low][i]) * f);
  return rgbToHex(mix(0), mix(1), mix(2));
}

/** Min and max of the current values: the legend's ends and the scale's domain. */
export function rangeOf(values) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/**
 * The colour of one element: {hex, faded}. `mode` is "status" or a property name;
 * `range` is the scale's domain for property mode.
 */
export function colorFor(element, mode, range, numberOf) {
  if (mode === "status") return { hex: STATUS_COLORS[element.status] ?? NO_VALUE, faded: false };
  const value = numberOf(element, mode);
  if (value === null || !range) return { hex: NO_VALUE, faded: true };
  const span = range.max - range.min;
  return { hex: scaleColor(span > 0 ? (value - range.min) / span : 0.5), faded: false };
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex(r, g, b) {
  return `#${((1 << 24) | (r << 16) | (g << 8) | b).toString(16).slice(1)}`;
}
