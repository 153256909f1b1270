// The element panel's list of changes: when, who, what changed, from the audit log
// (GET /api/audit, for admins; other roles are told the list is not theirs to read).

import { ago, escape, label, stamp, value } from "./format.js";
import { STATUS_LABELS } from "./colors.js";

/** How many of the newest changes the panel lists. */
export const HISTORY_LENGTH = 8;

function shown(property) {
  return property == null ? "—" : value(property.value);
}

/** What one entry changed, in a few words. */
export function describe(entry) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  switch (entry.operation) {
    case "update_element": {
      const parts = [];
      if ("status" in after) {
        parts.push(`status ${STATUS_LABELS[before.status] ?? before.status} → ${STATUS_LABELS[after.status] ?? after.status}`);
      }
      for (const [name, property] of Object.entries(after.properties ?? {})) {
        parts.push(`${label(name)} ${shown(before.properties?.[name])} → ${shown(property)}`);
      }
      return parts.join("; ");
    }
    case "add_element": return "added";
    case "bind_sensor":
      return entry.before
        ? `sensor ${entry.sensor_id} moved to ${label(after.property)}`
        : `sensor ${entry.sensor_id} bound to ${label(after.property)}`;
    case "unbind_sensor": return `sensor ${entry.sensor_id} unbound`;
    case "acknowledge_alarm": return "alarm acknowledged";
    default: return label(entry.operation);
  }
}

/** The list, newest first. */
export function historyHtml(entries) {
  if (!entries.length) return '<li class="muted">No changes recorded.</li>';
  return entries.map((entry) => `
    <li data-entry="${entry.id}">
      <span class="what">${escape(describe(entry))}</span>
      <span class="muted"><span data-time="${entry.time}" title="${escape(stamp(entry.time))}">${ago(entry.time)}</span>
        · ${escape(entry.by.name)} (${escape(entry.by.role)})</span>
    </li>`).join("");
}
