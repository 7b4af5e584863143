// A model version's lineage (GET .../models/{name}/versions/{ref}/lineage): the exact
// dataset version (manifest hash, files), the run that made it, the code and the
// configuration: what exact data and code made this model.

import { bytes, h, route, shortHash, when } from "./dom.js";
import { badge } from "./ui.js";

function facts(testid, rows) {
  return h(
    "dl",
    { class: "facts", "data-testid": testid },
    rows.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function dataFacts(ws, data) {
  if (!data) return h("p", { class: "muted", "data-testid": "lineage-data" }, "Uploaded weights: no dataset version made them.");
  return facts("lineage-data", [
    [
      "Dataset version",
      h("a", { href: route("ws", ws, "datasets", data.dataset, "versions", data.number), "data-testid": "lineage-dataset" }, `${data.dataset}@${data.number}`),
    ],
    ["Manifest hash", h("code", { "data-testid": "lineage-manifest" }, data.manifest_hash)],
    ["Files", h("span", { "data-testid": "lineage-files" }, `${data.file_count} (${bytes(data.total_bytes)})`)],
    ["Message", data.message || ""],
    ["Committed", `${when(data.created_at)} by ${data.created_by}`],
  ]);
}

function runFacts(ws, run) {
  if (!run) return h("p", { class: "muted", "data-testid": "lineage-run-none" }, "No run: these weights were registered, not trained here.");
  return facts("lineage-run-facts", [
    ["Run", h("a", { href: route("ws", ws, "jobs", run.id), "data-testid": "lineage-run" }, h("code", {}, run.id))],
    ["State", badge(run.state)],
    ["Trained", `${when(run.started_at)} → ${when(run.finished_at)}`],
    ["By", run.created_by],
  ]);
}

function codeFacts(code) {
  const c = code || {};
  return facts("lineage-code", [
    ["Catalog id", c.catalog ? h("code", {}, c.catalog) : null],
    ["Architecture", c.yaml],
    ["Ultralytics", c.ultralytics],
    ["Torch", c.torch],
    ["Python", c.python],
    ["Appliance", c.appliance],
    ["Config hash", c.config_sha256 ? h("code", { title: c.config_sha256 }, shortHash(c.config_sha256, 16)) : null],
    ["Exporter", c.exporter],
    ["Tools", c.tools ? Object.entries(c.tools).map(([k, v]) => `${k} ${v}`).join(", ") : null],
  ]);
}

/** A config value as text: an export's options and tensor shapes. */
const shown = (v) => (Array.isArray(v) ? `[${v.join(", ")}]` : String(v));

function configFacts(config) {
  const cfg = config || {};
  const hyper = Object.entries(cfg.hyperparameters || {});
  return facts("lineage-config", [
    ["Seed", cfg.seed === undefined ? null : String(cfg.seed)],
    [
      "Hyperparameters",
      hyper.length ? h("ul", { class: "hyper-list" }, hyper.map(([k, v]) => h("li", {}, h("code", {}, k), ` ${v}`))) : null,
    ],
    ...Object.entries(cfg)
      .filter(([k, v]) => k !== "hyperparameters" && k !== "seed" && v !== null && (typeof v !== "object" || Array.isArray(v)))
      .map(([k, v]) => [k, shown(v)]),
  ]);
}

/** The lineage panel; ``actions`` (e.g. the promote button) go in its heading. */
export function lineagePanel(ws, lineage, actions) {
  const mv = lineage.model;
  return h(
    "section",
    { class: "card lineage", "data-testid": "lineage", "data-number": mv.number },
    h("header", { class: "page-head" }, h("h2", {}, `Lineage of ${mv.model} v${mv.number}`), h("div", { class: "actions" }, actions)),
    h(
      "div",
      { class: "lineage-grid" },
      h("div", {}, h("h3", {}, "Data"), dataFacts(ws, lineage.data), h("h3", {}, "Run"), runFacts(ws, lineage.run)),
      h("div", {}, h("h3", {}, "Code"), codeFacts(lineage.code), h("h3", {}, "Configuration"), configFacts(lineage.config)),
    ),
    facts("lineage-weights", [
      ["Weights", h("code", { title: mv.weights_sha256 }, `${shortHash(mv.weights_sha256, 16)} (${mv.format}, ${bytes(mv.weights_size)})`)],
    ]),
  );
}
