// What the model, evaluation and comparison pages share: scores as text, a version's
// format, an export's parity, the evaluate and export jobs, and a version's list of
// evaluations (GET .../models/{name}/versions/{ref}/evaluations).

import { api, wsPath } from "./api.js";
import { h, route, when } from "./dom.js";
import { go } from "./router.js";
import { guarded, table } from "./ui.js";

/** What the predict worker runs: other formats are measured by their export job. */
export const RUNNABLE = new Set(["pt", "onnx"]);

/** A score from 0 to 1 as text; "—" when there is none (a class with no objects). */
export const score = (v, digits = 3) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

export function formatBadge(format) {
  return h("span", { class: `badge format format-${format}`, "data-testid": "format" }, format || "?");
}

export const evaluationHref = (ws, id) => route("ws", ws, "evaluations", id);

/** The console route of a comparison of ``refs`` ("name@number"); ``model`` repeats. */
export function compareHref(ws, refs) {
  const q = new URLSearchParams();
  for (const ref of refs) q.append("model", ref);
  return `${route("ws", ws, "compare")}?${q}`;
}

/** "dropped 0.08 mAP50-95 points (at most 1 may drop)"; a negative drop is a gain. */
export function parityText(p) {
  const drop = Number(p.drop_points);
  const change = drop < 0 ? `gained ${(-drop).toFixed(2)}` : `dropped ${drop.toFixed(2)}`;
  return `${change} mAP50-95 points (at most ${p.tolerance_points} may drop)`;
}

/** An export's parity against its source, in words and not only in colour. */
export function parityBadge(parity) {
  if (!parity) return h("span", { class: "badge parity-none", "data-testid": "parity", "data-passed": "none" }, "parity not measured");
  const passed = Boolean(parity.passed);
  return h(
    "span",
    {
      class: "parity",
      "data-testid": "parity",
      "data-passed": String(passed),
      "data-drop": parity.drop_points,
      title: parity.where ? `measured on ${parity.where}` : null,
    },
    h("span", { class: `badge parity-${passed ? "passed" : "failed"}` }, passed ? "✓ parity passed" : "✗ parity failed"),
    h("span", { class: "muted" }, ` ${parityText(parity)}`),
  );
}

/** Submit a job on a model version and open its page. */
export function submitJob(ws, kind, params) {
  return guarded(async () => {
    const job = await api(wsPath(ws, "jobs"), { method: "POST", body: { kind, params } });
    go(route("ws", ws, "jobs", job.id));
  });
}

export function dataText(e) {
  return `${e.dataset}@${e.version} ${e.split}`;
}

/** A version's evaluations, newest first, each linking to its page. */
export function evaluationsTable(ws, items) {
  const rows = items.map((e) =>
    h(
      "tr",
      { "data-testid": "evaluation-row", "data-id": e.id },
      h("td", {}, h("a", { href: evaluationHref(ws, e.id), "data-testid": "evaluation-link" }, when(e.created_at))),
      h("td", {}, h("a", { href: route("ws", ws, "datasets", e.dataset, "versions", e.version) }, `${e.dataset}@${e.version}`), ` ${e.split}`),
      h("td", { class: "num" }, String(e.summary.images)),
      h("td", { class: "num" }, score(e.summary.map50)),
      h("td", { class: "num" }, score(e.summary.map50_95)),
      h("td", {}, `conf ${e.settings.conf} · IoU ${e.settings.iou} · ${e.settings.imgsz} px`),
      h("td", {}, e.job ? h("a", { href: route("ws", ws, "jobs", e.job) }, h("code", {}, e.job)) : "—"),
    ),
  );
  return table(["Evaluated", "Data", "Images", "mAP50", "mAP50-95", "Settings", "Job"], rows, { "data-testid": "evaluations" });
}
