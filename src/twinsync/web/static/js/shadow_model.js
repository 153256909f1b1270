// How the dashboard reads the shadow twin (docs/PHYSICS.md, "The shadow twin"): the
// parameters a shadow changes, a sensor's live against shadow tracking error (the
// `shadow` entry of GET /api/elements/{id}/twin) and the fleet's (GET /api/twin/shadow).
// Pure: no DOM, no requests, so Node tests read it as the page does.

/** Roles the server lets start, promote and stop a shadow (api/access.py: OPERATE). */
export const SHADOW_ROLES = new Set(["operator", "admin"]);
/** Sensors with fewer readings compared are not ranked by the fleet (twin_shadow.py). */
export const MIN_COMPARED = 10;

/** A figure to three significant digits ("0.0512", "1.02", "123"); "—" when none. */
export function figure(x) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "—";
  return String(Number(x.toPrecision(3)));
}

/** A ratio to two decimals ("0.83", "1.00"): near 1 the digits that matter are those. */
export function ratio(x) {
  if (typeof x !== "number" || !Number.isFinite(x)) return "—";
  return x.toFixed(2);
}

/** A share as a whole percentage ("54 %"); "—" when none. */
export function percent(share) {
  if (typeof share !== "number" || !Number.isFinite(share)) return "—";
  return `${Math.round(share * 100)} %`;
}

/** The parameters a shadow changes from the live ones: "threshold 12 · rate 0.02". */
export function changedText(changed) {
  const names = Object.keys(changed ?? {}).sort();
  if (!names.length) return "the live parameters";
  return names.map((name) => `${name.replaceAll("_", " ")} ${changed[name]}`).join(" · ");
}

/**
 * Which tracks better, from the RMS ratio shadow / live (below 1: the shadow):
 * {key: "shadow" | "live" | "even" | "unknown", text}. Within 2 % is even.
 */
export function verdict(rmsRatio) {
  if (typeof rmsRatio !== "number" || !Number.isFinite(rmsRatio)) {
    return { key: "unknown", text: "too few readings to compare yet" };
  }
  if (rmsRatio < 0.98) return { key: "shadow", text: "the shadow tracks better" };
  if (rmsRatio > 1.02) return { key: "live", text: "the live model tracks better" };
  return { key: "even", text: "the two track alike" };
}

/**
 * A sensor's live against shadow comparison in a line (`unitText`: the reading's unit as
 * shown), or null when no shadow runs: "shadow RMS 0.051 vs live 0.062 °C · calibration
 * 1.04 vs 0.98 · 120 readings".
 */
export function sensorShadowText(shadow, unitText = "") {
  if (!shadow) return null;
  const comparison = shadow.comparison ?? {};
  const readings = comparison.readings ?? 0;
  if (!readings) return "shadow: no reading compared yet";
  const live = comparison.live ?? {};
  const mine = comparison.shadow ?? {};
  const tail = unitText ? ` ${unitText}` : "";
  return `shadow RMS ${figure(mine.rms)} vs live ${figure(live.rms)}${tail}`
    + ` · calibration ${figure(mine.calibration)} vs ${figure(live.calibration)}`
    + ` · ${readings.toLocaleString("en-US")} reading${readings === 1 ? "" : "s"}`;
}

/** Which of a sensor's two models predicted its readings with the lower RMS, or null. */
export function sensorLeader(shadow) {
  const comparison = shadow?.comparison;
  const live = comparison?.live?.rms;
  const mine = comparison?.shadow?.rms;
  if (!comparison?.readings || typeof live !== "number" || typeof mine !== "number") return null;
  return mine < live ? "shadow" : mine > live ? "live" : null;
}

/**
 * The fleet's comparison (GET /api/twin/shadow) as lines to show, or null when no shadow
 * runs: {verdict, changed, lines: [...]}.
 */
export function fleetShadow(report) {
  const run = report?.shadow;
  if (!run) return null;
  const comparison = report.comparison ?? {};
  const lines = [];
  const compared = comparison.sensors_compared ?? 0;
  if (compared) {
    lines.push(`RMS shadow ÷ live ${ratio(comparison.rms_ratio)} on ${compared} sensor${compared === 1 ? "" : "s"}`
      + ` · the shadow lower on ${comparison.shadow_lower_rms ?? 0}, the live on ${comparison.live_lower_rms ?? 0}`);
  } else {
    lines.push(`no sensor has ${MIN_COMPARED} readings compared yet`);
  }
  const readings = comparison.readings ?? 0;
  if (readings) {
    lines.push(`the shadow closer on ${percent(comparison.shadow_closer)} of ${readings.toLocaleString("en-US")} readings`
      + ` · calibration ${figure(comparison.shadow?.calibration)} shadow, ${figure(comparison.live?.calibration)} live`
      + ` · divergences ${comparison.shadow?.divergences ?? 0} shadow, ${comparison.live?.divergences ?? 0} live`);
  }
  return {
    verdict: verdict(compared ? comparison.rms_ratio : null),
    changed: changedText(run.changed),
    lines,
  };
}
