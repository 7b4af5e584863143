// An image with its labels drawn over it on a <canvas>. Label documents are
// "ahoy.labels/1": boxes are normalized [cx, cy, w, h], polygons and keypoints
// normalized points ([[x, y(, v)], ...]; a flat [x, y, ...] list is read too).
// ``boxedImage`` draws boxes given in image pixels instead (an evaluation's errors).

import { blobJson, blobUrl, wsPath } from "./api.js";
import { h } from "./dom.js";

const FALLBACK = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6"];

/** Class id → {name, colour}, from GET .../schema. */
export function palette(schema) {
  const map = new Map();
  for (const c of schema.classes || []) map.set(c.id, { name: c.name, colour: c.colour });
  return map;
}

export function classOf(pal, id) {
  return pal.get(id) || { name: `class ${id}`, colour: FALLBACK[Math.abs(id) % FALLBACK.length] };
}

function points(raw) {
  if (!raw || !raw.length) return [];
  if (Array.isArray(raw[0])) return raw;
  const out = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

function tag(ctx, text, x, y, colour) {
  const pad = 3;
  const width = ctx.measureText(text).width + pad * 2;
  const top = Math.max(0, y - 16);
  ctx.fillStyle = colour;
  ctx.fillRect(x, top, width, 16);
  ctx.fillStyle = "#fff";
  ctx.fillText(text, x + pad, top + 12);
}

/** ``canvas`` sized for ``width`` × ``height`` CSS pixels at the screen's density;
 * its 2D context, scaled to CSS pixels, with the label font. */
function sized(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.font = "12px system-ui, sans-serif";
  return ctx;
}

/**
 * A <figure> of the image at ``url`` (described by ``alt``) with a canvas over it;
 * ``redraw(canvas, img)`` runs whenever the image's shown size changes. Resolves
 * once the image is decoded.
 */
async function overlaid(url, alt, caption, testid, redraw) {
  const img = h("img", { src: url, alt });
  const canvas = h("canvas", { class: "overlay", "data-testid": "overlay" });
  const figure = h(
    "figure",
    { class: "labelled", "data-testid": testid },
    h("div", { class: "stage" }, img, canvas),
    h("figcaption", {}, caption),
  );
  await img.decode().catch(() => {});
  new ResizeObserver(() => redraw(canvas, img)).observe(img);
  return figure;
}

/** Draw ``doc``'s objects on ``canvas`` (sized to the shown image); returns how many. */
export function drawLabels(canvas, width, height, doc, pal) {
  const ctx = sized(canvas, width, height);
  ctx.lineWidth = 2;
  let drawn = 0;
  for (const o of doc?.objects || []) {
    const { name, colour } = classOf(pal, o.class);
    ctx.strokeStyle = colour;
    let anchor = null;
    if (o.box) {
      const [cx, cy, w, hgt] = o.box;
      const x = (cx - w / 2) * width;
      const y = (cy - hgt / 2) * height;
      ctx.strokeRect(x, y, w * width, hgt * height);
      anchor = [x, y];
    }
    const pts = points(o.points);
    if (o.type === "polygon" && pts.length) {
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x * width, y * height) : ctx.moveTo(x * width, y * height)));
      ctx.closePath();
      ctx.stroke();
      anchor = anchor || [pts[0][0] * width, pts[0][1] * height];
    } else if (pts.length) {
      ctx.fillStyle = colour;
      for (const [x, y, v = 2] of pts) {
        if (v > 0) ctx.fillRect(x * width - 2, y * height - 2, 4, 4);
      }
    }
    if (anchor) tag(ctx, name, anchor[0], anchor[1], colour);
    drawn += 1;
  }
  canvas.dataset.objects = String(drawn);
  return drawn;
}

/**
 * A <figure> showing one file of a version (``side``: {sha256, label_sha256}) with
 * its labels, redrawn whenever the image is resized. Resolves once the image is decoded.
 */
export async function labelledImage(ws, side, pal, caption, testid) {
  const [url, doc] = await Promise.all([
    blobUrl(wsPath(ws, "blobs", side.sha256)),
    side.label_sha256 ? blobJson(wsPath(ws, "blobs", side.label_sha256)) : Promise.resolve(null),
  ]);
  const counted = `${caption}${doc ? ` · ${doc.objects.length} objects` : " · no labels"}`;
  // Drawn at the size the image is shown, again whenever that changes.
  return overlaid(url, caption, counted, testid, (canvas, img) =>
    drawLabels(canvas, img.clientWidth || img.naturalWidth, img.clientHeight || img.naturalHeight, doc, pal),
  );
}

/**
 * Draw ``boxes`` ({box: [x0, y0, w, h] in pixels of the image as read, colour,
 * label, dash}) on ``canvas`` over ``img`` as it is shown; returns how many.
 */
export function drawBoxes(canvas, img, boxes) {
  const width = img.clientWidth || img.naturalWidth;
  const height = img.clientHeight || img.naturalHeight;
  const sx = img.naturalWidth ? width / img.naturalWidth : 1;
  const sy = img.naturalHeight ? height / img.naturalHeight : 1;
  const ctx = sized(canvas, width, height);
  for (const b of boxes) {
    const [x0, y0, w, hgt] = b.box;
    ctx.strokeStyle = b.colour;
    ctx.lineWidth = b.width || 2;
    ctx.setLineDash(b.dash || []);
    ctx.strokeRect(x0 * sx, y0 * sy, w * sx, hgt * sy);
    if (b.label) tag(ctx, b.label, x0 * sx, y0 * sy, b.colour);
  }
  canvas.dataset.boxes = String(boxes.length);
  return boxes.length;
}

/**
 * A <figure> showing the image at ``url`` (an object URL) with ``boxes`` drawn
 * over it, redrawn whenever the image is resized. Resolves once it is decoded.
 */
export function boxedImage(url, boxes, caption, testid) {
  return overlaid(url, caption, caption, testid, (canvas, img) => drawBoxes(canvas, img, boxes));
}
