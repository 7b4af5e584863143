// Drawing tools on the editor's stage: box (drag), polygon (click points; Enter
// or double-click closes, Escape cancels), keypoints (click in skeleton order, or
// free points when the class has no skeleton) and select/move. A click without a
// drag selects the object under it with any tool.

/* global Konva */

import { boxOfPoints, clamp01, clampBox, hitTest, newId } from "./doc.js";

export const TOOLS = ["box", "polygon", "keypoints", "select"];
const MIN_DRAG_PX = 4; // a smaller drag is a click

/**
 * ``add(object)`` puts a new object in the document; ``currentClass()`` is the class
 * to draw; ``skeletonOf(cls)`` its skeleton or null; ``onHint(text)`` shows what
 * the next click does.
 */
export function createTools(editor, { add, currentClass, skeletonOf, onHint = () => {} }) {
  const { stage, preview } = editor;
  let tool = "box";
  let drawing = null; // {kind, points: [[x, y, v?]], start}
  let down = null; // where the left button went down (screen and normalized)

  const scale = () => stage.scaleX() || 1;
  const W = () => editor.view.width;
  const H = () => editor.view.height;

  function clearPreview() {
    preview.destroyChildren();
    editor.view.activeLayer.batchDraw();
  }

  function hint() {
    if (!drawing) return onHint("");
    if (drawing.kind === "polygon") {
      return onHint(`${drawing.points.length} points — Enter or double-click closes, Escape cancels`);
    }
    if (drawing.kind === "keypoints") {
      const names = drawing.skeleton?.keypoints;
      const next = names ? names[drawing.points.length] : null;
      return onHint(
        next
          ? `Click "${next}" (Shift+click: hidden) — Enter skips the rest`
          : `${drawing.points.length} points — Enter finishes`,
      );
    }
    onHint("");
  }

  function showPreview(cursor) {
    preview.destroyChildren();
    const stroke = editor.view.colours.get(currentClass()) || "#ffffff";
    const base = { stroke, strokeWidth: 2, strokeScaleEnabled: false, listening: false };
    if (drawing.kind === "box" && cursor) {
      const [x0, y0] = drawing.points[0];
      preview.add(
        new Konva.Rect({
          ...base,
          x: Math.min(x0, cursor.x) * W(),
          y: Math.min(y0, cursor.y) * H(),
          width: Math.abs(cursor.x - x0) * W(),
          height: Math.abs(cursor.y - y0) * H(),
          dash: [4, 4],
        }),
      );
    } else {
      const pts = drawing.points.flatMap(([x, y]) => [x * W(), y * H()]);
      if (cursor && drawing.kind === "polygon") pts.push(cursor.x * W(), cursor.y * H());
      if (drawing.kind === "polygon") preview.add(new Konva.Line({ ...base, points: pts }));
      for (const [x, y, v] of drawing.points) {
        if (v === 0) continue;
        preview.add(
          new Konva.Circle({ ...base, x: x * W(), y: y * H(), radius: 4 / scale(), fill: "#ffffff" }),
        );
      }
    }
    editor.view.activeLayer.batchDraw();
  }

  function finish(object) {
    drawing = null;
    clearPreview();
    hint();
    if (object) add({ ...object, id: newId() });
  }

  /** Did the last click land on the one before (the second click of a double-click)? */
  function doubled() {
    const pts = drawing.points;
    const [last, prev] = [pts[pts.length - 1], pts[pts.length - 2]];
    const px = editor.pixel() * 4;
    return Boolean(prev && Math.abs(last[0] - prev[0]) < px && Math.abs(last[1] - prev[1]) < px);
  }

  function closePolygon() {
    if (doubled()) drawing.points.pop();
    const pts = drawing.points;
    if (pts.length < 3) return;
    finish({ type: "polygon", class: currentClass(), points: pts.map(([x, y]) => [x, y]) });
  }

  function finishKeypoints() {
    const pts = drawing.points.slice();
    const wanted = drawing.skeleton ? drawing.skeleton.keypoints.length : pts.length;
    while (pts.length < wanted) pts.push([0, 0, 0]);
    const box = boxOfPoints(pts);
    if (!box) return finish(null);
    finish({ type: "keypoints", class: currentClass(), box, points: pts });
  }

  function selectAt(p) {
    const hit = hitTest(editor.view.doc.objects, p.x, p.y, editor.pixel() * 4);
    editor.select(hit ? hit.id : null);
  }

  stage.on("mousedown", (e) => {
    if (e.evt.button !== 0 || editor.panning || editor.view.readOnly) return;
    if (editor.onHandle(e.target)) return; // Konva drags the selected object's handles
    const p = editor.pointer();
    if (!p) return;
    const point = [clamp01(p.x), clamp01(p.y)];
    down = { x: e.evt.clientX, y: e.evt.clientY, p };
    if (tool === "select") {
      selectAt(p);
      editor.startDrag(); // press on an object and drag: it moves at once
    } else if (tool === "box") {
      drawing = { kind: "box", points: [point] };
    } else if (tool === "polygon") {
      drawing = drawing || { kind: "polygon", points: [] };
      drawing.points.push(point);
      showPreview(p);
    } else if (tool === "keypoints") {
      if (!drawing) drawing = { kind: "keypoints", points: [], skeleton: skeletonOf(currentClass()) };
      drawing.points.push([...point, e.evt.shiftKey ? 1 : 2]);
      const wanted = drawing.skeleton?.keypoints.length;
      if (wanted && drawing.points.length >= wanted) finishKeypoints();
      else showPreview(p);
    }
    hint();
  });

  stage.on("mousemove", () => {
    if (!drawing || drawing.kind === "keypoints") return;
    const p = editor.pointer();
    if (p) showPreview({ x: clamp01(p.x), y: clamp01(p.y) });
  });

  const onUp = (e) => {
    if (!down || e.button !== 0) return;
    const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y) >= MIN_DRAG_PX;
    const start = down.p;
    down = null;
    if (tool === "select") return;
    if (!moved && tool === "box") {
      finish(null);
      selectAt(start);
      return;
    }
    if (drawing && drawing.kind === "box") {
      const p = editor.pointer() || start;
      const [x0, y0] = drawing.points[0];
      const x1 = clamp01(p.x);
      const y1 = clamp01(p.y);
      const w = Math.abs(x1 - x0);
      const h = Math.abs(y1 - y0);
      const box = w > 0 && h > 0 ? clampBox([(x0 + x1) / 2, (y0 + y1) / 2, w, h]) : null;
      finish(box ? { type: "box", class: currentClass(), box } : null);
    }
  };
  window.addEventListener("mouseup", onUp);

  // Konva reports any two quick clicks as a double-click; only two on one spot close.
  stage.on("dblclick", () => {
    if (!drawing || drawing.kind === "box" || !doubled()) return;
    if (drawing.kind === "polygon") closePolygon();
    else {
      drawing.points.pop();
      finishKeypoints();
    }
  });

  return {
    get tool() {
      return tool;
    },
    get drawing() {
      return Boolean(drawing);
    },
    use(name) {
      if (!TOOLS.includes(name)) return;
      if (drawing) finish(null);
      tool = name;
      stage.container().dataset.tool = name;
    },
    /** Keys the tools own (not remappable): Enter and Escape. True when used. */
    key(combo) {
      if (combo === "Enter" && drawing) {
        if (drawing.kind === "polygon") closePolygon();
        else if (drawing.kind === "keypoints") finishKeypoints();
        return true;
      }
      if (combo === "Escape") {
        if (drawing) finish(null);
        else editor.select(null);
        return true;
      }
      return false;
    },
    destroy() {
      window.removeEventListener("mouseup", onUp);
    },
  };
}
