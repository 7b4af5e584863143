// One evaluation (GET .../evaluations/{id}): which model version on what data, its
// mAP, the per-class table, the PR curves and the confusion matrix drawn from the
// report, and the images with errors, worst first, each opening with its errors
// drawn over it.

import { api, wsPath } from "../api.js";
import { h, mount, route, when } from "../dom.js";
import { confusionChart, prChart } from "../evalcharts.js";
import { dataText, formatBadge, score } from "../evaluations.js";
import { errorsPanel } from "../imageerrors.js";
import { classOf, palette } from "../overlay.js";
import { heading, table } from "../ui.js";

function stat(label, value, testid) {
  return h("div", { class: "stat", "data-testid": testid, "data-value": value ?? "" }, h("span", { class: "stat-value" }, score(value)), h("span", { class: "stat-label" }, label));
}

// COCOeval's twelve figures, as published COCO tables give them (— where COCO prints -1)
const COCO_ROWS = [
  ["AP", [["ap", "IoU 0.50:0.95 "], ["ap50", "IoU 0.50 "], ["ap75", "IoU 0.75 "], ["ap_small", ""], ["ap_medium", ""], ["ap_large", ""]]],
  ["AR", [["ar1", "1 det. "], ["ar10", "10 det. "], ["ar100", "100 det. "], ["ar_small", ""], ["ar_medium", ""], ["ar_large", ""]]],
];

function cocoTable(coco) {
  if (!coco) return null;
  const rows = COCO_ROWS.map(([name, cells]) =>
    h("tr", {}, h("th", { scope: "row" }, name), cells.map(([k, label]) => h("td", { class: "num", "data-metric": k }, `${label}${score(coco[k])}`))),
  );
  return table(["COCO", "all sizes", "", "", "small (< 32² px)", "medium", "large (> 96² px)"], rows, { "data-testid": "eval-coco" });
}

function perClassTable(classes, colourOf) {
  const rows = classes.map((c) =>
    h(
      "tr",
      { "data-testid": "class-row", "data-name": c.name },
      h("th", { scope: "row" }, h("span", { class: "swatch", "data-colour": colourOf(c.class_id) }), c.name),
      h("td", { class: "num" }, String(c.num_gt)),
      h("td", { class: "num" }, String(c.num_detections)),
      h("td", { class: "num", "data-metric": "ap50" }, score(c.ap50)),
      h("td", { class: "num", "data-metric": "ap75" }, score(c.ap75)),
      h("td", { class: "num", "data-metric": "ap50_95" }, score(c.ap50_95)),
      h("td", { class: "num", "data-metric": "precision" }, score(c.precision)),
      h("td", { class: "num", "data-metric": "recall" }, score(c.recall)),
      h("td", { class: "num", "data-metric": "f1" }, score(c.f1)),
      h("td", { class: "num", "data-metric": "confidence" }, score(c.confidence)),
    ),
  );
  const t = table(["Class", "Objects", "Detections", "AP50", "AP75", "AP50-95", "Precision", "Recall", "F1", "at score ≥"], rows, { "data-testid": "per-class" });
  for (const th of t.querySelectorAll("thead th")) if (th.textContent !== "Class") th.classList.add("num");
  // CSSOM, which the CSP allows (an inline style attribute it would not)
  for (const sw of t.querySelectorAll(".swatch")) sw.style.backgroundColor = sw.dataset.colour;
  return t;
}

function confusionPanel(confusion, names) {
  const slot = h("div", { class: "matrix" });
  const buttons = [];
  const show = (normalized) => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.mode === (normalized ? "normalized" : "counts")));
    mount(slot, confusionChart(confusion, names, normalized));
  };
  for (const [mode, text] of [["counts", "Counts"], ["normalized", "Shares of each true class"]]) {
    buttons.push(h("button", { type: "button", class: "toggle", "data-testid": "cm-mode", "data-mode": mode, onClick: () => show(mode === "normalized") }, text));
  }
  show(false);
  return h(
    "figure",
    { class: "chart", "data-testid": "confusion" },
    h(
      "figcaption",
      {},
      h("span", { "data-testid": "cm-thresholds" }, `Confusion matrix at score ≥ ${confusion.conf} and IoU ≥ ${confusion.iou}`),
      h("span", { class: "toggles", role: "group", "aria-label": "what the cells show" }, buttons),
    ),
    slot,
    h("p", { class: "help" }, "Rows: the true class (background: detections on no object). Columns: the predicted class (background: objects nothing found)."),
  );
}

function timingText(t) {
  if (!t) return "—";
  return `${t.images} image(s) at ${t.imgsz} px, ${t.forward_ms_per_image} ms per image (batch ${t.batch})`;
}

export async function render(root, { ws, id }) {
  const e = await api(wsPath(ws, "evaluations", id));
  const rep = e.report;
  const schema = await api(wsPath(ws, "datasets", e.dataset, "schema")).catch(() => ({ classes: [] }));
  const pal = palette(schema);
  const colourOf = (classId) => classOf(pal, classId).colour;
  const modelHref = `${route("ws", ws, "models", e.model)}?v=${e.model_version}`;
  mount(
    root,
    heading(
      h("span", { "data-testid": "eval-title" }, `Evaluation of ${e.model} v${e.model_version} `, formatBadge(e.format)),
      h("a", { class: "button secondary", href: modelHref }, "Model"),
      e.job ? h("a", { class: "button secondary", href: route("ws", ws, "jobs", e.job) }, "Job") : null,
    ),
    h(
      "dl",
      { class: "facts", "data-testid": "eval-facts" },
      [
        ["Model", h("a", { href: modelHref, "data-testid": "eval-model" }, `${e.model}@${e.model_version}`), ` (${e.format})`],
        ["Data", h("a", { href: route("ws", ws, "datasets", e.dataset, "versions", e.version), "data-testid": "eval-data" }, dataText(e)), ` · ${e.summary.images} image(s)`],
        ["Errors counted at", `score ≥ ${e.settings.conf}, IoU ≥ ${e.settings.iou}`],
        ["Inference", timingText(rep.timing || e.settings.timing)],
        ["Evaluated", `${when(e.created_at)} by ${e.created_by}`],
      ].map(([k, ...v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    h(
      "div",
      { class: "stats", "data-testid": "eval-summary" },
      stat("mAP50", rep.map50, "eval-map50"),
      stat("mAP75", rep.map75, "eval-map75"),
      stat("mAP50-95", rep.map50_95, "eval-map50-95"),
    ),
    cocoTable(rep.coco),
    h("h2", {}, "Per class ", h("span", { class: "muted" }, "(precision, recall and F1 at the score that maximises F1)")),
    perClassTable(rep.per_class, colourOf),
    h("h2", {}, "Charts"),
    h("div", { class: "chart-row", "data-testid": "eval-charts" }, prChart(rep.per_class, colourOf), confusionPanel(rep.confusion, rep.classes)),
    errorsPanel(ws, e),
  );
}
