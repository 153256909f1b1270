// The Gantt's rows, worked out from the schedule as the API gives it: pure, no DOM, so the
// drawing (gantt.js) and the tests share one answer.
//
// Activities are grouped under their WBS nodes (nested as the schedule nests them, in code
// order); within a node they follow their planned start. A collapsed node hides what is
// under it. Each row carries what the bars need, as milliseconds since the epoch.

/** "YYYY-MM-DD HH:MM" (the schedule's local time) as epoch milliseconds, or null. */
export function parseDay(text) {
  if (!text) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?/.exec(text);
  if (!match) return null;
  const [, y, m, d, hh = "0", mm = "0"] = match;
  return new Date(Number(y), Number(m) - 1, Number(d), Number(hh), Number(mm)).getTime();
}

/** Epoch milliseconds as "YYYY-MM-DD HH:MM" in local time, as the API reads dates. */
export function formatDay(ms, withTime = true) {
  const date = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return withTime ? `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}` : day;
}

/**
 * The progress the analysis chose for an activity: the one reported, or the one read
 * from its elements' statuses (the source says which).
 */
function chosenProgress(progress) {
  if (!progress?.source) return null;
  return progress.source.startsWith("elements") ? progress.from_elements : progress.reported;
}

/** An activity of `GET /api/schedule` as the Gantt draws it. */
export function activityBar(activity, asOf) {
  const chosen = chosenProgress(activity.progress);
  const state = activity.progress?.state ?? "not_started";
  const actualStart = state === "not_started" ? null : parseDay(chosen?.actual_start);
  const actualFinish = state === "complete" ? parseDay(chosen?.actual_finish) : null;
  const earlyStart = parseDay(activity.early_start);
  const earlyFinish = parseDay(activity.early_finish);
  // What is still to do: from the analysis date (started) or its early start (not yet),
  // to its early finish, both with the twin's progress applied.
  let forecastStart = null;
  let forecastFinish = null;
  if (state !== "complete" && earlyFinish !== null) {
    forecastStart = actualStart !== null ? Math.max(asOf, actualStart) : earlyStart;
    forecastFinish = Math.max(earlyFinish, forecastStart ?? earlyFinish);
  }
  return {
    kind: "activity",
    code: activity.id,
    name: activity.name,
    milestone: activity.type === "start_milestone" || activity.type === "finish_milestone",
    plannedStart: parseDay(activity.planned_start),
    plannedFinish: parseDay(activity.planned_finish),
    actualStart,
    actualFinish: actualFinish ?? (actualStart !== null ? Math.max(asOf, actualStart) : null),
    complete: state === "complete",
    forecastStart,
    forecastFinish,
    critical: Boolean(activity.critical),
    standing: activity.variance?.standing ?? "on_track",
    days: activity.variance?.days ?? 0,
    percent: activity.progress?.percent_complete ?? 0,
    plannedPercent: activity.variance?.planned_percent ?? 0,
    wbs: activity.wbs ?? null,
  };
}

/**
 * The schedule's tree: WBS nodes (with the activities under them and their span) and the
 * activities on no node. `overview` is `GET /api/schedule`'s answer.
 */
export function buildTree(overview) {
  const asOf = parseDay(overview.as_of) ?? Date.now();
  const nodes = new Map((overview.wbs ?? []).map((w) => [w.id, {
    kind: "wbs", id: w.id, code: w.code, name: w.name, parent: w.parent, children: [], activities: [],
    start: Infinity, finish: -Infinity, critical: false, standing: null,
  }]));
  const roots = [];
  for (const node of nodes.values()) {
    const parent = node.parent && nodes.get(node.parent);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const loose = [];
  const bars = [];
  for (const activity of overview.activities) {
    const bar = activityBar(activity, asOf);
    bars.push(bar);
    const node = bar.wbs && nodes.get(bar.wbs);
    if (node) node.activities.push(bar);
    else loose.push(bar);
  }
  const byStart = (a, b) => (a.plannedStart ?? 0) - (b.plannedStart ?? 0) || a.code.localeCompare(b.code, undefined, { numeric: true });
  const byCode = (a, b) => (a.code || a.name).localeCompare(b.code || b.name, undefined, { numeric: true });
  // Spans and the worst standing, bottom up: a node is behind if anything under it is.
  const rank = { behind: 2, ahead: 1, on_track: 0 };
  const visit = (node, seen) => {
    if (seen.has(node)) return; // a WBS that loops is drawn once, not forever
    seen.add(node);
    node.children.sort(byCode);
    node.activities.sort(byStart);
    for (const child of node.children) visit(child, seen);
    for (const item of [...node.children, ...node.activities]) {
      const start = item.kind === "wbs" ? item.start : Math.min(item.plannedStart ?? Infinity, item.actualStart ?? Infinity, item.forecastStart ?? Infinity);
      const finish = item.kind === "wbs" ? item.finish : Math.max(item.plannedFinish ?? -Infinity, item.actualFinish ?? -Infinity, item.forecastFinish ?? -Infinity);
      node.start = Math.min(node.start, start);
      node.finish = Math.max(node.finish, finish);
      node.critical ||= item.critical;
      if (item.standing && (node.standing === null || rank[item.standing] > rank[node.standing])) node.standing = item.standing;
    }
  };
  const seen = new Set();
  for (const root of roots) visit(root, seen);
  roots.sort(byCode);
  loose.sort(byStart);
  let start = Infinity;
  let finish = -Infinity;
  for (const bar of bars) {
    for (const t of [bar.plannedStart, bar.actualStart, bar.forecastStart]) if (t !== null) start = Math.min(start, t);
    for (const t of [bar.plannedFinish, bar.actualFinish, bar.forecastFinish]) if (t !== null) finish = Math.max(finish, t);
  }
  if (!Number.isFinite(start)) start = finish = asOf;
  return { roots, loose, bars, asOf, start, finish };
}

/**
 * The rows shown: nodes and activities in tree order, without what a collapsed node
 * hides; with `criticalOnly`, only critical activities and the nodes that hold one.
 */
export function visibleRows(tree, collapsed, criticalOnly = false) {
  const rows = [];
  const walk = (node, depth) => {
    if (criticalOnly && !node.critical) return;
    rows.push({ ...node, depth, open: !collapsed.has(node.id) });
    if (collapsed.has(node.id)) return;
    for (const child of node.children) walk(child, depth + 1);
    for (const bar of node.activities) if (!criticalOnly || bar.critical) rows.push({ ...bar, depth: depth + 1 });
  };
  for (const root of tree.roots) walk(root, 0);
  for (const bar of tree.loose) if (!criticalOnly || bar.critical) rows.push({ ...bar, depth: 0 });
  return rows;
}

/** The WBS nodes above an activity, to open them when it must be shown. */
export function ancestorsOf(tree, code) {
  const path = [];
  const find = (node, trail) => {
    if (node.activities.some((a) => a.code === code)) {
      path.push(...trail, node.id);
      return true;
    }
    return node.children.some((child) => find(child, [...trail, node.id]));
  };
  tree.roots.some((root) => find(root, []));
  return path;
}
