// The selected object's handles: real Konva nodes for that ONE object (a
// Transformer on a box, draggable vertices on a polygon, draggable keypoints), in
// the listening layer. A finished drag or resize becomes one ``edit`` of the
// document; the handles are then rebuilt from it. A press that did not move or
// resize anything is no edit at all.

/* global Konva */

import { boxOfPoints, clamp01, clampBox, isProposal } from "./doc.js";

// A press and release that moved less than this many screen pixels is a click: it
// selects, and must not rewrite the geometry (a rewrite rounds it, and an approved
// image would go back to in progress for nothing).
const STILL_PX = 3;

export function createHandles(view, { edit, redraw }) {
  const group = new Konva.Group({ name: "handles" });
  view.activeLayer.add(group);
  let built = null; // JSON of the object the handles show, to skip needless rebuilds

  const scale = () => view.stage.scaleX() || 1;
  const px = (x, y) => [x * view.width, y * view.height];
  const nx = (x, y) => [x / view.width, y / view.height];
  const at = (x, y) => [clamp01(x / view.width), clamp01(y / view.height)]; // a point written back
  const colour = (o) => view.colours.get(o.class) || "#ff00ff";

  function rebuild() {
    built = null;
    redraw();
  }

  function change(id, mutate) {
    edit((doc) => {
      const o = doc.objects.find((x) => x.id === id);
      if (o) mutate(o);
    });
  }

  function common(o) {
    return {
      stroke: colour(o),
      strokeWidth: 2,
      strokeScaleEnabled: false,
      dash: isProposal(o) ? [6, 4] : undefined,
      perfectDrawEnabled: false,
      shadowForStrokeEnabled: false,
    };
  }

  function vertex(x, y, o, onMove, onEnd) {
    const r = 5 / scale();
    const dot = new Konva.Circle({
      x,
      y,
      radius: r,
      fill: "#ffffff",
      stroke: colour(o),
      strokeWidth: 2,
      strokeScaleEnabled: false,
      draggable: true,
      hitStrokeWidth: 6,
      name: "vertex",
    });
    dot.on("dragmove", () => onMove(dot));
    dot.on("dragend", () => (Math.hypot(dot.x() - x, dot.y() - y) * scale() < STILL_PX ? rebuild() : onEnd(dot)));
    return dot;
  }

  function buildBox(o) {
    const [cx, cy, w, h] = o.box;
    const [x, y] = px(cx - w / 2, cy - h / 2);
    const rect = new Konva.Rect({
      ...common(o),
      x,
      y,
      width: w * view.width,
      height: h * view.height,
      fill: "rgba(255,255,255,0.08)",
      draggable: true,
      name: "selected-box",
    });
    const tr = new Konva.Transformer({
      nodes: [rect],
      rotateEnabled: false,
      flipEnabled: false,
      keepRatio: false,
      ignoreStroke: true,
      anchorSize: 9,
      borderStroke: colour(o),
      anchorStroke: colour(o),
      boundBoxFunc: (old, box) => (box.width < 3 || box.height < 3 ? old : box),
    });
    const save = () => {
      const moved = Math.hypot(rect.x() - x, rect.y() - y) * scale();
      const resized = rect.scaleX() !== 1 || rect.scaleY() !== 1;
      if (!resized && moved < STILL_PX) return rebuild(); // a click, not a move: the box stays as it is
      const width = rect.width() * rect.scaleX();
      const height = rect.height() * rect.scaleY();
      const [x0, y0] = nx(rect.x(), rect.y());
      const [w1, h1] = nx(width, height);
      const box = clampBox([x0 + w1 / 2, y0 + h1 / 2, w1, h1]);
      if (box) change(o.id, (obj) => (obj.box = box));
      else rebuild(); // dragged off the image: put the handles back
    };
    rect.on("dragend", save);
    rect.on("transformend", save);
    group.add(rect, tr);
  }

  function buildPolygon(o) {
    const flat = o.points.flatMap(([x, y]) => px(x, y));
    const line = new Konva.Line({
      ...common(o),
      points: flat,
      closed: true,
      fill: "rgba(255,255,255,0.08)",
      draggable: true,
      name: "selected-polygon",
    });
    group.add(line);
    line.on("dragend", () => {
      if (Math.hypot(line.x(), line.y()) * scale() < STILL_PX) return rebuild();
      const [dx, dy] = nx(line.x(), line.y());
      change(o.id, (obj) => {
        obj.points = obj.points.map(([x, y, ...rest]) => [clamp01(x + dx), clamp01(y + dy), ...rest]);
      });
    });
    o.points.forEach(([x, y], i) => {
      const [X, Y] = px(x, y);
      const dot = vertex(
        X,
        Y,
        o,
        (d) => {
          const pts = line.points().slice();
          pts[2 * i] = d.x();
          pts[2 * i + 1] = d.y();
          line.points(pts);
        },
        (d) => {
          const [x1, y1] = at(d.x(), d.y());
          change(o.id, (obj) => {
            obj.points[i] = [x1, y1, ...obj.points[i].slice(2)];
          });
        },
      );
      group.add(dot);
    });
  }

  function buildKeypoints(o) {
    const [cx, cy, w, h] = o.box;
    const [x, y] = px(cx - w / 2, cy - h / 2);
    group.add(
      new Konva.Rect({
        ...common(o),
        x,
        y,
        width: w * view.width,
        height: h * view.height,
        dash: [4, 4],
        listening: false,
      }),
    );
    o.points.forEach(([kx, ky, v], i) => {
      if (!v) return;
      const [X, Y] = px(kx, ky);
      const dot = vertex(
        X,
        Y,
        o,
        () => {},
        (d) => {
          const [x1, y1] = at(d.x(), d.y());
          change(o.id, (obj) => {
            obj.points[i] = [x1, y1, obj.points[i][2]];
            obj.box = clampBox(union(obj.box, boxOfPoints(obj.points, 0) || obj.box)) || obj.box;
          });
        },
      );
      if (v === 1) dot.fill("rgba(0,0,0,0.4)");
      group.add(dot);
    });
  }

  return {
    /** Rebuild the handles when the selection, the object or the zoom changed. */
    sync() {
      const o = view.readOnly ? null : view.doc.objects.find((x) => x.id === view.selectedId);
      const key = o ? JSON.stringify([o, scale(), colour(o)]) : null;
      if (key === built) return;
      built = key;
      group.destroyChildren();
      if (!o) return;
      if (o.type === "polygon") buildPolygon(o);
      else if (o.type === "keypoints") buildKeypoints(o);
      else if (o.box) buildBox(o);
    },
    startDrag() {
      const main = group.findOne(".selected-box") || group.findOne(".selected-polygon");
      if (main) main.startDrag();
    },
    owns(target) {
      return Boolean(target && target.findAncestor((n) => n === group, true));
    },
  };
}

function union(a, b) {
  const x0 = Math.min(a[0] - a[2] / 2, b[0] - b[2] / 2);
  const y0 = Math.min(a[1] - a[3] / 2, b[1] - b[3] / 2);
  const x1 = Math.max(a[0] + a[2] / 2, b[0] + b[2] / 2);
  const y1 = Math.max(a[1] + a[3] / 2, b[1] + b[3] / 2);
  return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0];
}
