// The fleet's anomaly storm as the page knows it: which window storms, its counts, and
// what the notice shows at a time. Pure, so Node tests it alone (tests/web/test_storm_model.py).
//
// The server keeps the fleet to a budget of anomaly events a window (docs/ANOMALY.md, "A
// budget for the fleet"); past it an `anomaly_storm` event says how many anomalies were
// counted, not told (again at most once a minute while it lasts), and an
// `anomaly_storm_ended` event gives the window's final count once it has passed.

/**
 * The storm the page knows after an `anomaly_storm` or `anomaly_storm_ended` event's data
 * (`since`, `until`, `told`, `untold`): a later window replaces an earlier one, a later
 * count of the same window an earlier one, and nothing follows its end.
 */
export function merge(known, kind, data) {
  const ended = kind === "anomaly_storm_ended";
  if (known && data.since < known.since) return known; // news of an older window
  if (known && data.since === known.since && !ended
      && (known.ended || (data.untold ?? 0) < (known.untold ?? 0))) return known;
  // A storm told before the events carried their count has none (null).
  return { since: data.since, until: data.until, told: data.told ?? null, untold: data.untold ?? null, ended };
}

/**
 * What the notice shows at `now` (epoch seconds): "storming" while the window lasts,
 * "over" once it has ended (told so, or its end has passed) until one more window has
 * passed without a storm, then nothing (null).
 */
export function stateAt(storm, now) {
  if (!storm) return null;
  if (now >= storm.until + (storm.until - storm.since)) return null;
  return storm.ended || now >= storm.until ? "over" : "storming";
}
