// The canvas: a Konva stage with three layers. The image; every object drawn by
// ONE custom shape in one pass (no node per object, nothing listening, so 1,000+
// boxes redraw in a few milliseconds); and a small listening layer holding only
// the selected object's handles and the shape being drawn. Coordinates on the
// stage are image pixels; the document keeps them normalized (0..1). ``onZoom``
// hears every change of scale (1 = one image pixel per screen pixel).

/* global Konva */

import { isProposal } from "./doc.js";
import { createHandles } from "./handles.js";

const UNKNOWN = "#ff00ff";
const LABELS_UP_TO = 200; // class names are drawn on images with at most this many objects

export function createEditor(container, { readOnly = false, edit = () => {}, onSelect = () => {}, onZoom = () => {} } = {}) {
  const stage = new Konva.Stage({
    container,
    width: container.clientWidth || 800,
    height: container.clientHeight || 600,
  });
  const imageLayer = new Konva.Layer({ listening: false });
  const objectsLayer = new Konva.Layer({ listening: false });
  const activeLayer = new Konva.Layer();
  stage.add(imageLayer, objectsLayer, activeLayer);

  const image = new Konva.Image({ x: 0, y: 0, listening: false, perfectDrawEnabled: false });
  imageLayer.add(image);
  const objects = new Konva.Shape({
    listening: false,
    perfectDrawEnabled: false,
    shadowForStrokeEnabled: false,
    sceneFunc: (ctx) => drawObjects(ctx),
  });
  objectsLayer.add(objects);
  const preview = new Konva.Group();
  activeLayer.add(preview);

  const view = {
    stage,
    activeLayer,
    preview,
    width: 1,
    height: 1,
    doc: { objects: [] },
    colours: new Map(),
    names: new Map(),
    skeletons: new Map(), // class id → {keypoints, edges}
    selectedId: null,
    readOnly,
    lastRenderMs: 0,
  };
  const handles = createHandles(view, { edit, redraw: () => redraw() });

  function colourOf(cls) {
    return view.colours.get(cls) || UNKNOWN;
  }

  function drawObjects(ctx) {
    const started = performance.now();
    const { width: W, height: H } = view;
    const scale = stage.scaleX() || 1;
    const list = view.doc.objects;
    const named = list.length <= LABELS_UP_TO;
    ctx.setAttr("lineWidth", 2 / scale);
    ctx.setAttr("font", `${12 / scale}px sans-serif`);
    for (const o of list) {
      if (o.id === view.selectedId && !readOnly) continue; // drawn by its handles
      const colour = colourOf(o.class);
      ctx.setAttr("strokeStyle", colour);
      ctx.setAttr("fillStyle", colour);
      ctx.setLineDash(isProposal(o) ? [6 / scale, 4 / scale] : []);
      ctx.beginPath();
      if (o.type === "polygon") {
        o.points.forEach(([x, y], i) => (i ? ctx.lineTo(x * W, y * H) : ctx.moveTo(x * W, y * H)));
        ctx.closePath();
      } else if (o.box) {
        const [cx, cy, w, h] = o.box;
        ctx.rect((cx - w / 2) * W, (cy - h / 2) * H, w * W, h * H);
      }
      ctx.stroke();
      if (o.type === "keypoints") drawKeypoints(ctx, o, scale);
      if (named) {
        const [x, y] = anchorOf(o);
        ctx.fillText(view.names.get(o.class) ?? String(o.class), x * W + 2 / scale, y * H - 3 / scale);
      }
    }
    ctx.setLineDash([]);
    view.lastRenderMs = performance.now() - started;
  }

  function drawKeypoints(ctx, o, scale) {
    const r = 3 / scale;
    const edges = view.skeletons.get(o.class)?.edges || [];
    const at = (i) => o.points[i] && o.points[i][2] > 0 && [o.points[i][0] * view.width, o.points[i][1] * view.height];
    ctx.beginPath();
    for (const [a, b] of edges) {
      const [p, q] = [at(a), at(b)];
      if (p && q) {
        ctx.moveTo(p[0], p[1]);
        ctx.lineTo(q[0], q[1]);
      }
    }
    ctx.stroke();
    for (const [x, y, v] of o.points) {
      if (!v) continue;
      ctx.beginPath();
      ctx.arc(x * view.width, y * view.height, r, 0, Math.PI * 2);
      if (v === 2) ctx.fill();
      else ctx.stroke();
    }
  }

  function anchorOf(o) {
    if (o.box) return [o.box[0] - o.box[2] / 2, o.box[1] - o.box[3] / 2];
    return o.points[0] || [0, 0];
  }

  function redraw() {
    handles.sync();
    objectsLayer.batchDraw();
    activeLayer.batchDraw();
  }

  function fit() {
    const sw = stage.width();
    const sh = stage.height();
    const scale = Math.min(sw / view.width, sh / view.height) * 0.98;
    stage.scale({ x: scale, y: scale });
    stage.position({ x: (sw - view.width * scale) / 2, y: (sh - view.height * scale) / 2 });
    redraw();
    imageLayer.batchDraw();
    onZoom(scale);
  }

  /** Zoom by ``factor`` keeping the image point under the screen point ``at`` still. */
  function zoomAt(at, factor) {
    const old = stage.scaleX();
    const scale = Math.min(64, Math.max(0.02, old * factor));
    const p = { x: (at.x - stage.x()) / old, y: (at.y - stage.y()) / old };
    stage.scale({ x: scale, y: scale });
    stage.position({ x: at.x - p.x * scale, y: at.y - p.y * scale });
    redraw();
    imageLayer.batchDraw();
    onZoom(scale);
  }

  const centre = () => ({ x: stage.width() / 2, y: stage.height() / 2 });

  stage.on("wheel", (e) => {
    e.evt.preventDefault();
    const at = stage.getPointerPosition();
    if (at) zoomAt(at, e.evt.deltaY > 0 ? 1 / 1.15 : 1.15);
  });

  // Pan: space + drag or the middle button. Tools ask ``panning`` and keep out;
  // while Space is held the handles stop listening, so a drag that starts on the
  // selected box pans instead of moving it.
  let spaceDown = false;
  let panFrom = null;
  const holdSpace = (down) => {
    spaceDown = down;
    container.classList.toggle("panning", down);
    activeLayer.listening(!down);
  };
  const onKeyDown = (e) => {
    if (e.code === "Space" && !/INPUT|TEXTAREA|SELECT|BUTTON/.test(e.target.tagName || "")) {
      if (!spaceDown) holdSpace(true);
      e.preventDefault();
    }
  };
  const onKeyUp = (e) => {
    if (e.code === "Space" && spaceDown) holdSpace(false);
  };
  const onBlur = () => spaceDown && holdSpace(false); // the key-up went to another window
  const onMove = (e) => {
    if (!panFrom) return;
    stage.position({ x: panFrom.x + e.clientX - panFrom.cx, y: panFrom.y + e.clientY - panFrom.cy });
    stage.batchDraw();
  };
  const onUp = () => {
    panFrom = null;
  };
  stage.on("mousedown", (e) => {
    if (e.evt.button === 1 || (e.evt.button === 0 && spaceDown)) {
      e.evt.preventDefault();
      e.cancelBubble = true;
      panFrom = { x: stage.x(), y: stage.y(), cx: e.evt.clientX, cy: e.evt.clientY };
    }
  });
  window.addEventListener("keydown", onKeyDown);
  window.addEventListener("keyup", onKeyUp);
  window.addEventListener("blur", onBlur);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  const resize = new ResizeObserver(() => {
    const w = container.clientWidth;
    const h = container.clientHeight;
    if (w && h && (w !== stage.width() || h !== stage.height())) {
      stage.size({ width: w, height: h });
      fit();
    }
  });
  resize.observe(container);

  return {
    view,
    stage,
    preview,
    get panning() {
      return Boolean(panFrom) || spaceDown;
    },
    /** Show ``img`` (a loaded HTMLImageElement); the document's coordinates scale to it. */
    setImage(img) {
      view.width = img.naturalWidth || img.width || 1;
      view.height = img.naturalHeight || img.height || 1;
      image.image(img);
      image.size({ width: view.width, height: view.height });
      fit();
    },
    setDocument(doc) {
      view.doc = doc;
      if (!doc.objects.some((o) => o.id === view.selectedId)) view.selectedId = null;
      redraw();
    },
    setClasses(classes, skeletons = []) {
      view.colours = new Map(classes.map((c) => [c.id, c.colour]));
      view.names = new Map(classes.map((c) => [c.id, c.name]));
      view.skeletons = new Map(skeletons.map((s) => [s.class, s]));
      redraw();
    },
    select(id) {
      view.selectedId = readOnly ? null : id;
      redraw();
      onSelect(view.selectedId);
    },
    get selectedId() {
      return view.selectedId;
    },
    selected() {
      return view.doc.objects.find((o) => o.id === view.selectedId) || null;
    },
    /** The pointer in normalized image coordinates (may lie outside 0..1). */
    pointer() {
      const p = stage.getRelativePointerPosition();
      return p ? { x: p.x / view.width, y: p.y / view.height } : null;
    },
    /** One screen pixel, in normalized units (for hit tolerances). */
    pixel() {
      return 1 / (stage.scaleX() * Math.max(view.width, view.height));
    },
    /** Start dragging the selected object (the button is down on it). */
    startDrag() {
      handles.startDrag();
    },
    /** Is a Konva event's target one of the selected object's handles? */
    onHandle(target) {
      return handles.owns(target);
    },
    redraw,
    fit,
    zoomAt,
    /** Zoom by ``factor`` around the middle of the canvas (the + and − keys). */
    zoomBy(factor) {
      zoomAt(centre(), factor);
    },
    /** One image pixel per screen pixel, keeping the middle of the canvas still. */
    actualSize() {
      zoomAt(centre(), 1 / (stage.scaleX() || 1));
    },
    destroy() {
      resize.disconnect();
      window.removeEventListener("keydown", onKeyDown);
      window.removeEventListener("keyup", onKeyUp);
      window.removeEventListener("blur", onBlur);
      window.removeEventListener("mousemove", onMove);
      window.removeEventListener("mouseup", onUp);
      stage.destroy();
    },
  };
}
