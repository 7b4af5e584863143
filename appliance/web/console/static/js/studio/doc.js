// The label document (`ahoy.labels/1`) as the studio edits it. Objects stay the
// plain JSON objects that came in, so fields the editor does not know (tags,
// attributes, size, anything newer) travel back unchanged; only the geometry a
// tool touched is rewritten, clamped to 0..1 and rounded.

export const FORMAT = "ahoy.labels/1";
const DIGITS = 1e6; // 6 decimals: a 10,000 px image to a hundredth of a pixel

/** A new object id. crypto.randomUUID only exists on https/localhost; the box is plain http on the LAN. */
export function newId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const clamp01 = (v) => Math.round(Math.min(1, Math.max(0, Number(v) || 0)) * DIGITS) / DIGITS;

/** A document to edit: a deep copy of ``raw`` (or an empty one), every object with an id. */
export function loadDocument(raw, size) {
  const doc = raw ? structuredClone(raw) : { format: FORMAT, size: null, tags: [], objects: [] };
  if (!Array.isArray(doc.objects)) doc.objects = [];
  if (!doc.format) doc.format = FORMAT;
  if (!doc.size && size) doc.size = size;
  for (const o of doc.objects) if (typeof o.id !== "string" || !o.id) o.id = newId();
  return doc;
}

/**
 * What is sent to PUT .../labels: the same document with coordinates clamped and
 * rounded, and `by`/`at` left out (the appliance stamps who saved it and when).
 * Objects that can no longer be valid (a box clamped to nothing) are dropped.
 */
export function toCanonical(doc) {
  const out = { ...doc, format: FORMAT };
  delete out.by;
  delete out.at;
  out.objects = doc.objects.map(canonicalObject).filter(Boolean);
  return out;
}

// Geometry already inside the image is sent back exactly as it came (an object
// the user did not touch keeps its bytes); only what lies outside is clamped.
function canonicalObject(o) {
  const out = { ...o };
  if (o.type === "polygon") {
    out.points = inside(o.points) ? o.points : o.points.map((p) => [clamp01(p[0]), clamp01(p[1]), ...p.slice(2)]);
    if (out.points.length < 3) return null;
  } else if (o.type === "keypoints") {
    out.points = inside(o.points) ? o.points : o.points.map((p) => [clamp01(p[0]), clamp01(p[1]), p[2] ?? 2]);
    out.box = o.box ? keepBox(o.box) : boxOfPoints(out.points);
    if (!out.box) return null;
  } else if (o.type === "box" || o.box) {
    out.box = keepBox(o.box);
    if (!out.box) return null;
  }
  return out;
}

const unit = (v) => typeof v === "number" && v >= 0 && v <= 1;
const inside = (points) => points.every((p) => unit(p[0]) && unit(p[1]));

function keepBox(box) {
  const [cx, cy, w, h] = box;
  const fits = box.every(unit) && w > 0 && h > 0 && unit(cx - w / 2) && unit(cx + w / 2) && unit(cy - h / 2) && unit(cy + h / 2);
  return fits ? box : clampBox(box);
}

/** [cx, cy, w, h] with its edges clamped to the image; null when nothing is left. */
export function clampBox(box) {
  const [cx, cy, w, h] = box.map(Number);
  const x0 = clamp01(cx - w / 2);
  const x1 = clamp01(cx + w / 2);
  const y0 = clamp01(cy - h / 2);
  const y1 = clamp01(cy + h / 2);
  if (x1 - x0 <= 0 || y1 - y0 <= 0) return null;
  return [clamp01((x0 + x1) / 2), clamp01((y0 + y1) / 2), clamp01(x1 - x0), clamp01(y1 - y0)];
}

/** The box around the points that are placed (v > 0), with a little margin. */
export function boxOfPoints(points, margin = 0.01) {
  const placed = points.filter((p) => p.length < 3 || p[2] > 0);
  if (!placed.length) return null;
  const xs = placed.map((p) => p[0]);
  const ys = placed.map((p) => p[1]);
  const x0 = Math.max(0, Math.min(...xs) - margin);
  const x1 = Math.min(1, Math.max(...xs) + margin);
  const y0 = Math.max(0, Math.min(...ys) - margin);
  const y1 = Math.min(1, Math.max(...ys) + margin);
  return clampBox([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]);
}

/** x0, y0, x1, y1 (normalized) of any object. */
export function extent(o) {
  if (o.box) {
    const [cx, cy, w, h] = o.box;
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
  }
  const pts = (o.points || []).filter((p) => p.length < 3 || p[2] > 0);
  if (!pts.length) return [0, 0, 0, 0];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

export function isProposal(o) {
  return Boolean(o.attributes && o.attributes.proposal === true);
}

/** The object without its proposal mark (accepting a model's suggestion). */
export function accept(o) {
  const out = { ...o, attributes: { ...(o.attributes || {}) } };
  delete out.attributes.proposal;
  if (!Object.keys(out.attributes).length) delete out.attributes;
  return out;
}

/** Objects of another image, as new objects of this one (fresh ids, same everything else). */
export function copyObjects(objects) {
  return objects.map((o) => ({ ...structuredClone(o), id: newId() }));
}

/** The object under normalized point (x, y): the smallest that contains it, else null. */
export function hitTest(objects, x, y, tolerance) {
  let best = null;
  let bestArea = Infinity;
  for (const o of objects) {
    const [x0, y0, x1, y1] = extent(o);
    if (x < x0 - tolerance || x > x1 + tolerance || y < y0 - tolerance || y > y1 + tolerance) {
      continue;
    }
    if (o.type === "polygon" && !inPolygon(o.points, x, y) && !nearPoint(o.points, x, y, tolerance)) {
      continue;
    }
    const area = Math.max(x1 - x0, tolerance) * Math.max(y1 - y0, tolerance);
    if (area < bestArea) {
      best = o;
      bestArea = area;
    }
  }
  return best;
}

function inPolygon(points, x, y) {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function nearPoint(points, x, y, tolerance) {
  return points.some((p) => Math.abs(p[0] - x) <= tolerance && Math.abs(p[1] - y) <= tolerance);
}
