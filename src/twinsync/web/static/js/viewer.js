// The 3D model: a GLB whose node names are IFC GlobalIds (= twinsync element ids).
//
// Rendering is on demand, not a loop: a screen left open all day on a site-office PC
// should not burn a core redrawing a still picture. Anything that changes the picture
// calls invalidate(), and one frame is drawn on the next animation frame.

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { ROOM_COLOR } from "./colors.js";

const BACKGROUND = 0x11161d;
// A faint glow plus bright edges marks the selection without shifting its colour much:
// on a heat map the colour is the reading, and must stay readable.
const SELECTED_EMISSIVE = new THREE.Color(0x16355e);
const NO_EMISSIVE = new THREE.Color(0x000000);
// How an element is drawn (main.js decides which, per element):
//   solid  - opaque, the building as built
//   faded  - nearly invisible, out of the way of what is being looked at
//   volume - a translucent coloured volume: a room on a heat map
//   hidden - not drawn and not pickable (rooms when colouring by status)
const OPACITY = { solid: 1, faded: 0.12, volume: 0.42 };
// The selected room stands out from the others, and shows through the walls around it:
// a room picked in the tree while the building is solid is still found.
const SELECTED_VOLUME_OPACITY = 0.72;
// A click goes to the most solid thing under the pointer, the nearest of those: a wall
// in front hides a room behind it, a faded wall does not hide a coloured room.
const PICK_RANK = { solid: 3, volume: 2, faded: 1 };
// Edge lines make walls and slabs readable at a glance, but double the draw calls:
// past this many elements the model is drawn without them.
const EDGES_UP_TO = 4000;
const CLICK_SLOP_PX = 4;
// Windows (the GLB's "IfcWindow" material) are drawn as tinted glass: the status or value
// colour washed toward a sky blue and see-through, so a façade reads as glazed and the
// floors behind it show.
const GLASS = new THREE.Color(0xbfd9f2);
const GLASS_TINT = 0.45;
const GLASS_OPACITY = 0.55;

export class Viewer {
  /**
   * @param {HTMLElement} container
   * @param {{onPick: (id: string|null) => void, onHover: (id: string|null, x: number, y: number) => void}} handlers
   */
  constructor(container, { onPick, onHover }) {
    this.container = container;
    this.onPick = onPick;
    this.onHover = onHover;
    this.meshesById = new Map(); // element id -> its meshes (a node may hold several primitives)
    this.colorById = new Map(); // element id -> {hex, style}, what was last applied
    this.rooms = new Set(); // element ids drawn as the rooms layer (IfcSpace)
    this.visibleFn = () => true; // the storey filter
    this.pickable = [];
    this.model = null;
    this.selectedId = null;
    this.highlighted = new Set(); // elements marked with the selection's glow (an activity's)
    this.frameRequested = false;
    this.firstFrameResolve = null;
    this.firstFrame = new Promise((resolve) => (this.firstFrameResolve = resolve));
    this.fitted = false;

    // Drawn by the CPU (a machine or VM without a GPU), a frame of the demo building
    // took 0.29-0.41 s with 4x antialiasing and 0.17-0.22 s without, the page frozen the
    // while: there the edges go unsmoothed and the canvas is not drawn past 1:1.
    this.softwareRendered = softwareRendered();
    this.renderer = new THREE.WebGLRenderer({ antialias: !this.softwareRendered, powerPreference: "high-performance" });
    this.renderer.setPixelRatio(this.softwareRendered ? 1 : Math.min(devicePixelRatio, 2));
    this.renderer.setClearColor(BACKGROUND);
    container.appendChild(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.1, 5000);
    this.camera.position.set(40, 30, 40);
    // Sky above, dark ground below, one sun from the south-west: faces of a box read
    // as three distinct shades, which is what makes a building legible.
    this.scene.add(new THREE.HemisphereLight(0xe8eef7, 0x30363f, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(-0.6, 1, 0.8);
    this.scene.add(sun);

    this.grid = new THREE.GridHelper(200, 100, 0x2a3340, 0x1b222b);
    this.scene.add(this.grid);

    this.edgeMaterial = new THREE.LineBasicMaterial({ color: 0x0b0f14, transparent: true, opacity: 0.45 });
    this.fadedEdgeMaterial = new THREE.LineBasicMaterial({ color: 0x8a96a6, transparent: true, opacity: 0.08 });
    this.volumeEdgeMaterial = new THREE.LineBasicMaterial({ color: 0xe8eef7, transparent: true, opacity: 0.35 });
    this.selectedEdgeMaterial = new THREE.LineBasicMaterial({ color: 0x8fd0ff });
    this.selectionBox = new THREE.Box3Helper(new THREE.Box3(), 0x7cc4ff);
    this.selectionBox.visible = false;
    this.scene.add(this.selectionBox);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.screenSpacePanning = true;
    this.controls.addEventListener("change", () => this.invalidate());

    this.raycaster = new THREE.Raycaster();
    this.pointer = new THREE.Vector2();
    this.bindPointer();
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  /**
   * Load the model (a URL or the GLB's bytes); resolves with the element ids it has geometry for. `isRoom(id)` says
   * whether an element is a room (true/false), or undefined when the twin does not know
   * it yet: then the GLB's default material for spaces ("IfcSpace") decides. Rooms start
   * hidden, so a room never hides the building before it is coloured.
   */
  async load(source, isRoom = () => undefined) {
    // A URL, or the GLB's bytes when the page fetched them ahead.
    const loader = new GLTFLoader();
    const gltf = typeof source === "string" ? await loader.loadAsync(source) : await loader.parseAsync(source, "");
    this.clear();
    const rooms = [];
    this.model = gltf.scene;
    const withEdges = gltf.parser.json.nodes.length <= EDGES_UP_TO;
    this.model.traverse((object) => {
      if (!object.isMesh) return;
      const id = elementIdOf(object);
      if (!id) return;
      // The serializer names each element's default material after its IFC class.
      const ifcClass = object.material?.name;
      // One material per mesh, so each element can take its own colour and opacity.
      object.material = new THREE.MeshLambertMaterial({ color: 0x9aa5b4, side: THREE.DoubleSide });
      object.userData.elementId = id;
      object.userData.glass = ifcClass === "IfcWindow";
      if (!this.meshesById.has(id) && (isRoom(id) ?? ifcClass === "IfcSpace")) rooms.push(id);
      if (withEdges) {
        const edges = new THREE.LineSegments(new THREE.EdgesGeometry(object.geometry, 30), this.edgeMaterial);
        edges.raycast = () => {}; // edges are drawn, never picked
        object.add(edges);
        object.userData.edges = edges;
      }
      if (!this.meshesById.has(id)) this.meshesById.set(id, []);
      this.meshesById.get(id).push(object);
      this.pickable.push(object);
    });
    this.scene.add(this.model);
    this.setRooms(rooms);
    for (const id of rooms) this.setColor(id, ROOM_COLOR, "hidden");
    this.placeGrid();
    this.fit();
    return new Set(this.meshesById.keys());
  }

  clear() {
    if (this.model) {
      this.scene.remove(this.model);
      this.model.traverse((o) => {
        o.geometry?.dispose();
        if (o.isMesh) o.material.dispose();
      });
    }
    this.model = null;
    this.meshesById.clear();
    this.colorById.clear();
    this.rooms.clear();
    this.highlighted.clear();
    this.pickable = [];
    this.selectionBox.visible = false;
    this.invalidate();
  }

  has(id) {
    return this.meshesById.has(id);
  }

  /** The colour applied to an element, as #rrggbb, or null if it has no geometry. */
  colorOf(id) {
    return this.colorById.get(id)?.hex ?? null;
  }

  /** Whether an element is drawn now: it has geometry, passes the filter and is not hidden. */
  isVisible(id) {
    const meshes = this.meshesById.get(id);
    return Boolean(meshes && meshes[0].visible);
  }

  /** Which elements are rooms (IfcSpace): a layer of their own, drawn after the rest. */
  setRooms(ids) {
    this.rooms = new Set([...ids].filter((id) => this.meshesById.has(id)));
    for (const [id, meshes] of this.meshesById) {
      // Transparent things are drawn back to front after the opaque ones; rooms last, so
      // a faded wall in front of a room does not wash it out.
      for (const mesh of meshes) mesh.renderOrder = this.rooms.has(id) ? 1 : 0;
    }
    if (this.selectedId) this.paintMaterial(this.selectedId);
  }

  get roomCount() {
    return this.rooms.size;
  }

  /** Paint an element: `style` is solid, faded, volume or hidden (see OPACITY). */
  setColor(id, hex, style) {
    const meshes = this.meshesById.get(id);
    if (!meshes) return;
    const last = this.colorById.get(id);
    if (last && last.hex === hex && last.style === style) return;
    this.colorById.set(id, { hex, style });
    this.paintMaterial(id);
    if ((last?.style === "hidden") !== (style === "hidden")) this.applyVisibility(id);
    this.paintEdges(id);
    this.invalidate();
  }

  paintMaterial(id) {
    const applied = this.colorById.get(id);
    if (!applied) return;
    const selectedVolume = applied.style === "volume" && id === this.selectedId;
    const opacity = selectedVolume ? SELECTED_VOLUME_OPACITY : OPACITY[applied.style] ?? 1;
    for (const mesh of this.meshesById.get(id) ?? []) {
      const material = mesh.material;
      const glass = mesh.userData.glass && applied.style === "solid";
      material.color.set(applied.hex);
      if (glass) material.color.lerp(GLASS, GLASS_TINT);
      material.transparent = glass || opacity < 1;
      material.opacity = glass ? GLASS_OPACITY : opacity;
      // A see-through element must not hide what is behind it.
      material.depthWrite = !material.transparent;
      material.depthTest = !selectedVolume;
      mesh.renderOrder = selectedVolume ? 2 : this.rooms.has(id) ? 1 : 0;
    }
  }

  /** Mark several elements as the selection is marked (an activity's elements). */
  setHighlighted(ids) {
    const next = new Set([...ids].filter((id) => this.meshesById.has(id)));
    for (const id of this.highlighted) if (!next.has(id) && id !== this.selectedId) this.paintSelection(id, false);
    this.highlighted = next;
    for (const id of next) this.paintSelection(id, true);
    this.invalidate();
  }

  isHighlighted(id) {
    return this.highlighted.has(id);
  }

  /** How an element is drawn now (solid, faded, volume, hidden), or null. */
  styleOf(id) {
    return this.colorById.get(id)?.style ?? null;
  }

  select(id) {
    const previous = this.selectedId;
    this.selectedId = id && this.meshesById.has(id) ? id : null;
    if (previous) this.paintSelection(previous, this.highlighted.has(previous));
    if (this.selectedId) {
      this.paintSelection(this.selectedId, true);
      this.selectionBox.box.copy(this.boxOf(this.selectedId));
      this.selectionBox.visible = this.isVisible(this.selectedId);
    } else {
      this.selectionBox.visible = false;
    }
    this.invalidate();
  }

  paintSelection(id, on) {
    for (const mesh of this.meshesById.get(id) ?? []) mesh.material.emissive.copy(on ? SELECTED_EMISSIVE : NO_EMISSIVE);
    this.paintMaterial(id);
    this.paintEdges(id);
  }

  paintEdges(id) {
    const style = this.colorById.get(id)?.style;
    const material = id === this.selectedId || this.highlighted.has(id) ? this.selectedEdgeMaterial
      : style === "faded" ? this.fadedEdgeMaterial : style === "volume" ? this.volumeEdgeMaterial : this.edgeMaterial;
    for (const mesh of this.meshesById.get(id) ?? []) if (mesh.userData.edges) mesh.userData.edges.material = material;
  }

  /** Show only the elements `visible(id)` allows (the storey filter). */
  filter(visible) {
    this.visibleFn = visible;
    for (const id of this.meshesById.keys()) this.applyVisibility(id);
    this.invalidate();
  }

  applyVisibility(id) {
    const show = this.colorById.get(id)?.style !== "hidden" && this.visibleFn(id);
    for (const mesh of this.meshesById.get(id)) mesh.visible = show;
    if (id === this.selectedId) this.selectionBox.visible = show;
  }

  /** Frame what is visible, from a three-quarter view the way a drawing would show it. */
  fit(ids = null) {
    const box = new THREE.Box3();
    const meshes = ids ? ids.flatMap((id) => this.meshesById.get(id) ?? []) : this.pickable;
    for (const mesh of meshes) if (mesh.visible || ids) box.expandByObject(mesh);
    if (box.isEmpty()) return;
    const sphere = box.getBoundingSphere(new THREE.Sphere());
    const radius = Math.max(sphere.radius, 0.5);
    const fov = THREE.MathUtils.degToRad(this.camera.fov);
    const fitFov = this.camera.aspect < 1 ? 2 * Math.atan(Math.tan(fov / 2) * this.camera.aspect) : fov;
    const distance = (radius / Math.sin(fitFov / 2)) * 1.05;
    const direction = this.camera.position.clone().sub(this.controls.target);
    if (direction.lengthSq() < 1e-6 || !this.fitted) direction.set(1, 0.75, 1.15);
    direction.normalize();
    this.controls.target.copy(sphere.center);
    this.camera.position.copy(sphere.center).addScaledVector(direction, distance);
    this.camera.near = Math.max(0.05, distance / 500);
    this.camera.far = distance * 20;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.fitted = true;
    this.invalidate();
  }

  boxOf(id) {
    const box = new THREE.Box3();
    for (const mesh of this.meshesById.get(id) ?? []) box.expandByObject(mesh);
    return box;
  }

  placeGrid() {
    const box = new THREE.Box3().setFromObject(this.model);
    if (box.isEmpty()) return;
    const size = box.getSize(new THREE.Vector3());
    const extent = Math.max(size.x, size.z) * 2.5;
    this.scene.remove(this.grid);
    this.grid = new THREE.GridHelper(Math.ceil(extent), Math.ceil(extent / 2), 0x2a3340, 0x1b222b);
    this.grid.position.set((box.min.x + box.max.x) / 2, box.min.y - 0.01, (box.min.z + box.max.z) / 2);
    this.scene.add(this.grid);
  }

  bindPointer() {
    const canvas = this.renderer.domElement;
    let down = null;
    let hoverQueued = false;
    let lastMove = null;
    canvas.addEventListener("pointerdown", (event) => (down = { x: event.clientX, y: event.clientY }));
    canvas.addEventListener("pointerup", (event) => {
      if (!down) return;
      const moved = Math.hypot(event.clientX - down.x, event.clientY - down.y);
      down = null;
      // A drag is an orbit, not a click: only a still pointer picks.
      if (moved <= CLICK_SLOP_PX && event.button === 0) this.onPick(this.pick(event));
    });
    canvas.addEventListener("pointermove", (event) => {
      lastMove = event;
      if (hoverQueued || event.buttons) return;
      hoverQueued = true;
      // At most one raycast per frame, however fast the mouse moves.
      requestAnimationFrame(() => {
        hoverQueued = false;
        const rect = canvas.getBoundingClientRect();
        this.onHover(this.pick(lastMove), lastMove.clientX - rect.left, lastMove.clientY - rect.top);
      });
    });
    canvas.addEventListener("pointerleave", () => this.onHover(null, 0, 0));
  }

  /**
   * The element under the pointer: the nearest of the most solid ones hit (PICK_RANK), so
   * a solid wall wins over a room behind it and a coloured room over a faded wall.
   */
  pick(event) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    this.pointer.set(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(this.pointer, this.camera);
    const hits = this.raycaster.intersectObjects(this.pickable.filter((m) => m.visible), false);
    let best = null;
    let bestRank = 0;
    for (const hit of hits) { // nearest first
      const rank = PICK_RANK[this.colorById.get(hit.object.userData.elementId)?.style] ?? PICK_RANK.solid;
      if (rank > bestRank) {
        best = hit;
        bestRank = rank;
      }
    }
    return best ? best.object.userData.elementId : null;
  }

  /** The height of an element's lowest point in the model (metres, up = +y), or null. */
  bottomOf(id) {
    const meshes = this.meshesById.get(id);
    if (!meshes) return null;
    let bottom = Infinity;
    for (const mesh of meshes) {
      mesh.updateWorldMatrix(true, false);
      if (!mesh.geometry.boundingBox) mesh.geometry.computeBoundingBox();
      const box = mesh.geometry.boundingBox.clone().applyMatrix4(mesh.matrixWorld);
      bottom = Math.min(bottom, box.min.y);
    }
    return Number.isFinite(bottom) ? bottom : null;
  }

  /**
   * A point on screen (page pixels) where a click lands on the element, or null: the
   * centre of its box if nothing hides it there, else the first unhidden spot found.
   */
  screenPositionOf(id) {
    const meshes = this.meshesById.get(id);
    if (!meshes || !meshes[0].visible) return null;
    const box = this.boxOf(id);
    const rect = this.renderer.domElement.getBoundingClientRect();
    const corners = [];
    for (const x of [box.min.x, box.max.x]) for (const y of [box.min.y, box.max.y]) for (const z of [box.min.z, box.max.z]) {
      corners.push(new THREE.Vector3(x, y, z).project(this.camera));
    }
    const xs = corners.map((c) => c.x);
    const ys = corners.map((c) => c.y);
    const steps = 8;
    for (let i = 0; i <= steps; i++) {
      for (let j = 0; j <= steps; j++) {
        // Start at the centre and spiral outwards in index order: centre first.
        const fx = 0.5 + ((i % 2 ? 1 : -1) * Math.ceil(i / 2)) / steps;
        const fy = 0.5 + ((j % 2 ? 1 : -1) * Math.ceil(j / 2)) / steps;
        const nx = Math.min(...xs) + (Math.max(...xs) - Math.min(...xs)) * fx;
        const ny = Math.min(...ys) + (Math.max(...ys) - Math.min(...ys)) * fy;
        const point = { clientX: rect.left + ((nx + 1) / 2) * rect.width, clientY: rect.top + ((1 - ny) / 2) * rect.height };
        if (point.clientX < rect.left || point.clientX > rect.right || point.clientY < rect.top || point.clientY > rect.bottom) continue;
        if (this.pick(point) === id) return { x: point.clientX, y: point.clientY };
      }
    }
    return null;
  }

  resize() {
    const { clientWidth: width, clientHeight: height } = this.container;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.invalidate();
  }

  invalidate() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.renderer.render(this.scene, this.camera);
      if (this.model && this.firstFrameResolve) {
        this.firstFrameResolve(performance.now());
        this.firstFrameResolve = null;
      }
    });
  }
}

/** Whether this browser's WebGL is drawn by the CPU (SwiftShader, llvmpipe, ...): asked
 * of a throwaway context, given back at once. */
function softwareRendered() {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return false;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

/** The element id of a mesh: the nearest node up the tree that the GLB named. */
function elementIdOf(object) {
  for (let node = object; node; node = node.parent) {
    if (node.userData?.name) return node.userData.name;
  }
  return null;
}
