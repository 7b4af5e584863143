// An evaluation's charts drawn from its report as SVG through the DOM: the PR curve
// of each class (COCO's 101 recall points at IoU 0.5) with its best-F1 operating
// point, and the confusion matrix (counts, or each true class's shares). Every mark
// carries data attributes, so what is drawn can be read back.

import { h, s } from "./dom.js";
import { score } from "./evaluations.js";

const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

function legendSwatch(colour) {
  return s("svg", { width: 12, height: 12, "aria-hidden": "true" }, s("rect", { width: 12, height: 12, fill: colour }));
}

/**
 * Precision against recall per class. ``classes``: the report's per_class (each
 * with pr_curve, or null for a class with no objects); ``colourOf(class_id)``.
 * A legend button per class hides or shows its curve.
 */
export function prChart(classes, colourOf, { width = 440, height = 320 } = {}) {
  const left = 46;
  const right = 14;
  const top = 14;
  const bottom = 38;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (v) => left + v * plotW;
  const y = (v) => top + plotH - v * plotH;
  const grid = TICKS.map((v) =>
    s(
      "g",
      { class: "tick" },
      s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v) }),
      s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(1)),
      s("text", { class: "xtick", x: x(v), y: top + plotH + 14, "text-anchor": "middle" }, v.toFixed(1)),
    ),
  );
  const curves = new Map();
  const drawn = classes.filter((c) => c.pr_curve).map((c) => {
    const colour = colourOf(c.class_id);
    const { recall, precision } = c.pr_curve;
    const d = recall.map((r, i) => `${i ? "L" : "M"}${x(r).toFixed(1)},${y(precision[i]).toFixed(1)}`).join(" ");
    const best =
      c.recall !== null && c.precision !== null
        ? s(
            "circle",
            { cx: x(c.recall), cy: y(c.precision), r: 4, fill: colour, "data-testid": "operating-point" },
            s("title", {}, `${c.name}: precision ${score(c.precision)}, recall ${score(c.recall)} at score ≥ ${score(c.confidence)} (best F1 ${score(c.f1)})`),
          )
        : null;
    const group = s(
      "g",
      { class: "series", "data-class": c.name },
      s(
        "path",
        { d, fill: "none", stroke: colour, "stroke-width": 2, "data-testid": "pr-curve", "data-class": c.name, "data-ap50": c.ap50 },
        s("title", {}, `${c.name}: AP50 ${score(c.ap50)}`),
      ),
      best,
    );
    curves.set(c.class_id, group);
    return group;
  });
  const legend = classes.map((c) => {
    if (!c.pr_curve) return h("li", { class: "muted" }, `${c.name}: no objects`);
    const button = h(
      "button",
      {
        type: "button",
        class: "link",
        "aria-pressed": "true",
        title: "show or hide this curve",
        onClick: () => {
          const shown = button.getAttribute("aria-pressed") !== "true";
          button.setAttribute("aria-pressed", String(shown));
          curves.get(c.class_id).classList.toggle("off", !shown);
        },
      },
      legendSwatch(colourOf(c.class_id)),
      ` ${c.name} (AP50 ${score(c.ap50)})`,
    );
    return h("li", {}, button);
  });
  return h(
    "figure",
    { class: "chart", "data-testid": "pr-chart" },
    h("figcaption", {}, "Precision–recall at IoU 0.5; the dot is the best-F1 operating point"),
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": "precision-recall curves" },
      grid,
      s("line", { class: "axis", x1: left, x2: width - right, y1: y(0), y2: y(0) }),
      s("text", { class: "xlabel", x: left + plotW / 2, y: height - 4, "text-anchor": "middle" }, "recall"),
      s("text", { class: "xlabel", x: 12, y: top + plotH / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${top + plotH / 2})` }, "precision"),
      drawn,
    ),
    h("ul", { class: "legend" }, legend),
  );
}

/** Each row over its total: of a true class's objects, the share given each class. */
function shares(counts) {
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (total ? v / total : 0));
  });
}

/** From white to the accent blue. */
function shade(t) {
  const mix = (a, b) => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 47)}, ${mix(255, 95)}, ${mix(255, 208)})`;
}

/**
 * The confusion matrix: true class down (the last row, background, holds
 * detections on no object), predicted across (the last column holds objects
 * nothing found). ``normalized``: each row as shares of its true class.
 */
export function confusionChart(confusion, names, normalized) {
  const labels = [...names.slice(0, confusion.num_classes), "background"];
  while (labels.length < confusion.num_classes + 1) labels.splice(labels.length - 1, 0, `class ${labels.length - 1}`);
  const values = normalized ? shares(confusion.counts) : confusion.counts;
  const n = labels.length;
  const cell = Math.max(16, Math.min(72, Math.floor(400 / n)));
  const labelW = Math.min(150, 16 + 7 * Math.max(...labels.map((l) => l.length)));
  const left = labelW + 24;
  const top = 8;
  const grid = n * cell;
  const width = left + grid + 10;
  const height = top + grid + labelW + 26;
  const peak = normalized ? 1 : Math.max(1, ...values.flat());
  const text = (v) => (normalized ? v.toFixed(2) : String(v));
  const cells = values.flatMap((row, i) =>
    row.map((v, j) => {
      const t = v / peak;
      const cx = left + j * cell;
      const cy = top + i * cell;
      return s(
        "g",
        {},
        s(
          "rect",
          { x: cx, y: cy, width: cell, height: cell, fill: shade(t), stroke: "#dfe3e8", "data-testid": "cm-cell", "data-true": labels[i], "data-predicted": labels[j], "data-value": v },
          s("title", {}, `true ${labels[i]} → predicted ${labels[j]}: ${text(v)}`),
        ),
        cell >= 24 && v ? s("text", { class: t > 0.55 ? "ink-light" : "ink-dark", x: cx + cell / 2, y: cy + cell / 2 + 4, "text-anchor": "middle" }, text(v)) : null,
      );
    }),
  );
  const axes = labels.map((label, k) => {
    const mid = k * cell + cell / 2;
    const px = left + mid + 4;
    const py = top + grid + 6;
    return [
      s("text", { x: left - 6, y: top + mid + 4, "text-anchor": "end" }, label),
      s("text", { x: px, y: py, "text-anchor": "end", transform: `rotate(-90 ${px} ${py})` }, label),
    ];
  });
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `confusion matrix${normalized ? ", shares of each true class" : ""}`, "data-testid": "confusion-matrix", "data-mode": normalized ? "normalized" : "counts" },
    cells,
    axes,
    s("text", { class: "xlabel", x: left + grid / 2, y: height - 4, "text-anchor": "middle" }, "predicted"),
    s("text", { class: "xlabel", x: 10, y: top + grid / 2, "text-anchor": "middle", transform: `rotate(-90 10 ${top + grid / 2})` }, "true"),
  );
}
