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

/** Export − source in mAP50-95 points (negative: lost); older records kept drop_points. */
export const parityDelta = (p) => (p.delta_points ?? -Number(p.drop_points ?? 0));

const counts = (p) => (p.images == null ? "counts not recorded" : `${p.images} images, ${p.objects} objects`);

/** "-0.08 pts (export − source) on 12 images, 30 objects; tolerance 1" — one sign everywhere. */
export function parityText(p) {
  const delta = Number(parityDelta(p));
  const need = p.verdict === "not measurable" ? `; deciding needs at least ${p.min_images} images and ${p.min_objects} objects` : `; tolerance ${p.tolerance_points}`;
  return `${delta >= 0 ? "+" : ""}${delta.toFixed(2)} mAP50-95 pts (export − source) on ${counts(p)}${need}`;
}

/** An export's parity against its source, in words and not only in colour. */
export function parityBadge(parity) {
  if (!parity) return h("span", { class: "badge parity-none", "data-testid": "parity", "data-passed": "none" }, "parity not measured");
  const verdict = parity.verdict || (parity.passed ? "passed" : "failed");
  const label = { passed: "✓ parity passed", failed: "✗ parity failed", "not measurable": "? parity not measurable" }[verdict];
  return h(
    "span",
    {
      class: "parity",
      "data-testid": "parity",
      "data-passed": verdict === "not measurable" ? "unmeasurable" : String(verdict === "passed"),
      "data-delta": parityDelta(parity),
      title: parity.where ? `measured on ${parity.where}` : null,
    },
    h("span", { class: `badge parity-${verdict === "passed" ? "passed" : verdict === "failed" ? "failed" : "none"}` }, label),
    h("span", { class: "muted" }, ` ${parityText(parity)}`),
  );
}

/** Which measurement a figure is: "val · ultralytics · 7 images · shapes@1". */
export function measurementText(m) {
  if (!m) return "measurement not recorded";
  const parts = [m.split || "split not known", m.by || "?"];
  if (m.images != null) parts.push(`${m.images} image${m.images === 1 ? "" : "s"}`);
  if (m.dataset) parts.push(`${m.dataset}@${m.version}`);
  return parts.join(" · ");
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
