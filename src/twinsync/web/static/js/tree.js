// The spatial tree: site → building → storeys → elements grouped by IFC class.
//
// A storey's groups and a group's elements are only put in the DOM when opened: a model
// of ten thousand elements would otherwise cost seconds of layout before anything shows.

import { ROOM_COLOR, STATUS_COLORS } from "./colors.js";
import { SPATIAL, sortStoreys } from "./state.js";
import { escape } from "./format.js";

const SEARCH_LIMIT = 300;

export class Tree {
  /**
   * @param {HTMLElement} container
   * @param {import("./state.js").TwinState} state
   * @param {{onSelect: (id: string) => void, sortStoreys?: (items: object[], of: (item: object) => object) => object[]}} handlers
   */
  constructor(container, state, { onSelect, sortStoreys: sorter = (items, of) => sortStoreys(items, undefined, of) }) {
    this.container = container;
    this.state = state;
    this.onSelect = onSelect;
    this.sortStoreys = sorter;
    this.storeyFilter = "";
    this.query = "";
    this.selectedId = null;
    this.rows = new Map(); // element id -> its row, for rows in the DOM
    container.addEventListener("click", (event) => {
      const row = event.target.closest(".leaf");
      if (row) this.onSelect(row.dataset.id);
    });
  }

  setStoreyFilter(storeyId) {
    this.storeyFilter = storeyId;
    this.render();
  }

  setQuery(query) {
    this.query = query.trim().toLowerCase();
    this.render();
  }

  /** Rebuild from the state; keeps the open storeys and groups open. */
  render() {
    const open = new Set([...this.container.querySelectorAll("details[open]")].map((d) => d.dataset.key));
    this.rows.clear();
    this.container.replaceChildren();
    if (this.state.elements.size === 0) {
      this.container.innerHTML = '<div class="empty">No elements yet.</div>';
      return;
    }
    if (this.query) {
      this.renderMatches();
      return;
    }
    const { roots, storeys, loose } = this.structure();
    for (const root of roots) {
      const site = this.branch(root.element, `n:${root.element.id}`, open, 0, true);
      for (const building of root.buildings) {
        const node = this.branch(building, `n:${building.id}`, open, 1, true);
        for (const storey of storeys.get(building.id) ?? []) {
          if (this.storeyFilter && storey.element.id !== this.storeyFilter) continue;
          const key = `s:${storey.element.id}`;
          const forceOpen = Boolean(this.storeyFilter) || open.has(key);
          node.body.append(this.storeyBranch(storey, key, open, forceOpen));
        }
        site.body.append(node.details);
      }
      this.container.append(site.details);
    }
    if (loose.length && !this.storeyFilter) {
      const group = { type: "Not on a storey", members: loose };
      this.container.append(this.groupBranch(group, "g:loose", open, 0));
    }
    if (this.selectedId) this.highlight(this.selectedId, false);
  }

  /** Group the state's elements into the spatial tree. */
  structure() {
    const elements = [...this.state.elements.values()].filter((e) => !e.archived);
    const byId = this.state.elements;
    const sites = elements.filter((e) => e.type === "IfcSite");
    const buildings = elements.filter((e) => e.type === "IfcBuilding");
    const storeyElements = elements.filter((e) => e.type === "IfcBuildingStorey");
    const members = new Map(storeyElements.map((s) => [s.id, new Map()]));
    const loose = [];
    for (const element of elements) {
      if (element.type === "IfcSite" || element.type === "IfcBuilding" || element.type === "IfcBuildingStorey") continue;
      const groups = members.get(element.storey);
      if (!groups) {
        loose.push(element);
        continue;
      }
      if (!groups.has(element.type)) groups.set(element.type, []);
      groups.get(element.type).push(element);
    }
    const storeys = new Map();
    for (const storey of storeyElements) {
      // A storey's building is its parent; a model without a building hangs storeys off the site.
      const parent = byId.get(storey.parent)?.type === "IfcBuilding" ? storey.parent : buildings[0]?.id ?? storey.parent;
      if (!storeys.has(parent)) storeys.set(parent, []);
      const groups = [...members.get(storey.id)].sort(([a], [b]) => typeOrder(a) - typeOrder(b) || a.localeCompare(b))
        .map(([type, list]) => ({ type, members: list.sort(byName) }));
      storeys.get(parent).push({ element: storey, groups });
    }
    for (const [parent, list] of storeys) storeys.set(parent, this.sortStoreys(list, (item) => item.element));
    const roots = sites.map((site) => ({ element: site, buildings: buildings.filter((b) => b.parent === site.id) }));
    const orphans = buildings.filter((b) => !sites.some((s) => s.id === b.parent));
    if (orphans.length) roots.push({ element: { id: "_", name: "Site", type: "IfcSite" }, buildings: orphans });
    return { roots, storeys, loose };
  }

  branch(element, key, open, depth, defaultOpen) {
    const details = document.createElement("details");
    details.dataset.key = key;
    details.open = open.size ? open.has(key) || defaultOpen : defaultOpen;
    details.innerHTML = `<summary style="padding-left:${8 + depth * 12}px"><span class="name">${escape(element.name || element.id)}</span><span class="count kind">${escape(element.type.replace(/^Ifc/, ""))}</span></summary>`;
    const body = document.createElement("div");
    details.append(body);
    return { details, body };
  }

  storeyBranch(storey, key, open, forceOpen) {
    const count = storey.groups.reduce((n, g) => n + g.members.length, 0);
    const details = document.createElement("details");
    details.dataset.key = key;
    details.innerHTML = `<summary style="padding-left:32px"><span class="name">${escape(storey.element.name)}</span><span class="count">${count}</span></summary>`;
    const fill = () => {
      if (details.dataset.filled) return;
      details.dataset.filled = "1";
      for (const group of storey.groups) details.append(this.groupBranch(group, `${key}/${group.type}`, open, 3));
    };
    details.addEventListener("toggle", () => details.open && fill());
    if (forceOpen) {
      fill();
      details.open = true;
    }
    return details;
  }

  groupBranch(group, key, open, depth) {
    const details = document.createElement("details");
    details.dataset.key = key;
    details.innerHTML = `<summary style="padding-left:${8 + depth * 12}px"><span class="name">${escape(group.type)}</span><span class="count">${group.members.length}</span></summary>`;
    const fill = () => {
      if (details.dataset.filled) return;
      details.dataset.filled = "1";
      const fragment = document.createDocumentFragment();
      for (const element of group.members) fragment.append(this.leaf(element, depth + 1));
      details.append(fragment);
    };
    details.addEventListener("toggle", () => details.open && fill());
    if (open.has(key)) {
      fill();
      details.open = true;
    }
    return details;
  }

  leaf(element, depth, detail = "") {
    const row = document.createElement("div");
    row.className = "leaf";
    row.setAttribute("role", "treeitem");
    row.dataset.id = element.id;
    row.style.paddingLeft = `${8 + depth * 12}px`;
    row.title = `${element.type} · ${element.id}`;
    row.innerHTML = `<span class="swatch" style="background:${swatchColor(element)}"></span><span class="name">${escape(element.name || element.id)}</span>${detail}`;
    if (element.id === this.selectedId) row.classList.add("selected");
    this.rows.set(element.id, row);
    return row;
  }

  renderMatches() {
    const matches = [];
    for (const element of this.state.elements.values()) {
      if (element.archived || (SPATIAL.has(element.type) && element.type !== "IfcSpace")) continue;
      if (this.storeyFilter && element.storey !== this.storeyFilter) continue;
      const haystack = `${element.name} ${element.id} ${element.type}`.toLowerCase();
      if (haystack.includes(this.query)) matches.push(element);
      if (matches.length >= SEARCH_LIMIT) break;
    }
    if (!matches.length) {
      this.container.innerHTML = '<div class="empty">No element matches.</div>';
      return;
    }
    for (const element of matches.sort(byName)) {
      this.container.append(this.leaf(element, 0, `<span class="count kind">${escape(element.type.replace(/^Ifc/, ""))}</span>`));
    }
  }

  /** A status changed: repaint its dot if the row is in the DOM. */
  update(element) {
    const swatch = this.rows.get(element.id)?.querySelector(".swatch");
    if (swatch) swatch.style.background = swatchColor(element);
  }

  /** Mark the selected row, opening its storey and group so it can be seen. */
  select(id) {
    this.selectedId = id;
    this.highlight(id, true);
  }

  highlight(id, scroll) {
    for (const row of this.container.querySelectorAll(".leaf.selected")) row.classList.remove("selected");
    if (!id) return;
    let row = this.rows.get(id);
    const element = this.state.get(id);
    if (!row && element && !this.query) {
      const storey = this.container.querySelector(`details[data-key="s:${cssEscape(element.storey)}"]`);
      if (storey) {
        storey.open = true;
        storey.dispatchEvent(new Event("toggle"));
        const group = storey.querySelector(`details[data-key="s:${cssEscape(element.storey)}/${cssEscape(element.type)}"]`);
        if (group) {
          group.open = true;
          group.dispatchEvent(new Event("toggle"));
        }
      }
      row = this.rows.get(id);
    }
    if (!row) return;
    row.classList.add("selected");
    if (scroll) row.scrollIntoView({ block: "nearest" });
  }
}

// Structure first, then the things a site engineer checks most.
const ORDER = ["IfcSlab", "IfcColumn", "IfcBeam", "IfcWall", "IfcSpace", "IfcSensor"];
function typeOrder(type) {
  const index = ORDER.indexOf(type);
  return index === -1 ? ORDER.length : index;
}

/** A row's dot: the status of work, or the rooms' own colour (rooms have no status). */
function swatchColor(element) {
  return SPATIAL.has(element.type) ? ROOM_COLOR : STATUS_COLORS[element.status] ?? "#555";
}

function byName(a, b) {
  return (a.name || a.id).localeCompare(b.name || b.id, undefined, { numeric: true });
}

function cssEscape(text) {
  return CSS.escape(text ?? "");
}
