// An evaluation's per-image errors, worst first: a list of images, and the chosen
// image with its errors drawn over it, each kind in its own colour and line (so it
// reads without colour too), explained in a legend.

import { blobUrl, wsPath } from "./api.js";
import { h, mount, s } from "./dom.js";
import { score } from "./evaluations.js";
import { boxedImage } from "./overlay.js";
import { empty, guarded, table } from "./ui.js";

export const KINDS = {
  miss: { colour: "#f59f00", dash: [7, 4], text: "Missed: an object no detection found (dashed)" },
  falsePositive: { colour: "#d6336c", dash: [], text: "False positive: a detection on no object (solid)" },
  wrongClass: { colour: "#0c8599", dash: [], text: "Wrong class: the object (solid) and the detection of another class on it (dotted)" },
};

/** The boxes to draw for one image's errors (boxes are x0, y0, w, h in pixels). */
export function errorBoxes(e) {
  return [
    ...e.misses.map((m) => ({ box: m.box, colour: KINDS.miss.colour, dash: KINDS.miss.dash, label: `missed ${m.class}` })),
    ...e.false_positives.map((d) => ({ box: d.box, colour: KINDS.falsePositive.colour, label: `FP ${d.class} ${score(d.score, 2)}` })),
    ...e.misclassified.flatMap((m) => [
      { box: m.box, colour: KINDS.wrongClass.colour, label: `${m.true_class} → ${m.predicted_class} ${score(m.score, 2)}` },
      { box: m.detected_box, colour: KINDS.wrongClass.colour, dash: [2, 3], width: 1.5 },
    ]),
  ];
}

function swatch(k) {
  const line = (x, y, w, hgt, dash) =>
    s("rect", { x, y, width: w, height: hgt, fill: "none", stroke: k.colour, "stroke-width": 2, "stroke-dasharray": dash.length ? dash.join(" ") : null });
  return s(
    "svg",
    { width: 26, height: 14, "aria-hidden": "true" },
    line(1, 1, 18, 10, k.dash),
    k === KINDS.wrongClass ? line(7, 3, 18, 10, [2, 3]) : null,
  );
}

function legend() {
  return h(
    "ul",
    { class: "legend error-legend", "data-testid": "error-legend" },
    Object.values(KINDS).map((k) => h("li", {}, swatch(k), ` ${k.text}`)),
  );
}

/**
 * The error list of ``evaluation`` (the report's ``errors``), its images read from
 * the dataset version it was measured on.
 */
export function errorsPanel(ws, evaluation) {
  const errors = evaluation.report.errors || [];
  const { conf, iou } = evaluation.report.confusion || evaluation.settings;
  const viewer = h("div", { class: "viewer", "data-testid": "error-view" }, empty("Choose an image to see its errors."));
  const file = (imageId) => wsPath(ws, "datasets", evaluation.dataset, "versions", String(evaluation.version), "files", ...imageId.split("/"));
  let current = null;
  const open = (e, row) =>
    guarded(async () => {
      current?.classList.remove("selected");
      current = row;
      row.classList.add("selected");
      const url = await blobUrl(file(e.image_id));
      const c = e.counts;
      const caption = `${e.image_id} · ${c.misses} missed · ${c.false_positives} false positive(s) · ${c.misclassified} wrong class`;
      mount(viewer, await boxedImage(url, errorBoxes(e), caption, "error-image"), legend());
    });
  const rows = errors.map((e) => {
    const row = h(
      "tr",
      { "data-testid": "error-row", "data-image": e.image_id, "data-total": e.counts.total },
      h("td", {}, h("button", { type: "button", class: "link", "data-testid": "error-open", onClick: () => open(e, row) }, e.image_id)),
      h("td", { class: "num" }, String(e.counts.misses)),
      h("td", { class: "num" }, String(e.counts.false_positives)),
      h("td", { class: "num" }, String(e.counts.misclassified)),
      h("td", { class: "num" }, String(e.counts.total)),
    );
    return row;
  });
  const list = table(["Image", "Missed", "False pos.", "Wrong class", "Total"], rows, { "data-testid": "error-list" });
  for (const th of [...list.querySelectorAll("thead th")].slice(1)) th.classList.add("num");
  return h(
    "section",
    { "data-testid": "errors" },
    h("h2", {}, "Images with errors ", h("span", { class: "muted" }, `(worst first, at score ≥ ${conf} and IoU ≥ ${iou})`)),
    errors.length
      ? h(
          "div",
          { class: "browse" },
          h("div", { class: "files" }, list),
          viewer,
        )
      : empty("No image has an error at these thresholds."),
  );
}
