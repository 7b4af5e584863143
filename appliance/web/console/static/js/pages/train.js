// Train a model: a dataset version, a model of the catalog or a plugin (grouped by
// task) and the hyperparameters, rendered from the JSON Schema the model's plugin
// publishes (GET .../job-kinds). Only changed hyperparameters are sent; the governor's answer
// (admitted, queued, or a job-rejected problem) decides what happens next.

import { all, api, wsPath } from "../api.js";
import { h, mount, route } from "../dom.js";
import { go } from "../router.js";
import { schemaForm } from "../schemaform.js";
import { empty, guarded, heading } from "../ui.js";

const DEFAULT_MODEL = "yolo11n-detect";

function modelPicker(models) {
  const tasks = [...new Set(models.map((m) => m.task))];
  return h(
    "select",
    { name: "model", id: "field-model", "data-testid": "model" },
    tasks.map((task) =>
      h(
        "optgroup",
        { label: task },
        models
          .filter((m) => m.task === task)
          .map((m) =>
            h(
              "option",
              { value: m.id, selected: m.id === DEFAULT_MODEL },
              `${m.id}${m.params ? ` (${(m.params / 1e6).toFixed(1)} M params)` : ""}`,
            ),
          ),
      ),
    ),
  );
}

function field(label, control, help) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, help ? h("small", { class: "help" }, help) : null);
}

export async function render(root, { ws, dataset: wanted }) {
  const [datasets, kinds] = await Promise.all([all(wsPath(ws, "datasets")), api(wsPath(ws, "job-kinds"))]);
  const train = kinds.kinds.find((k) => k.name === "train");
  const head = heading(`Train a model in ${ws}`, h("a", { class: "button secondary", href: route("ws", ws, "jobs") }, "Jobs"));
  if (!train) {
    mount(root, head, empty("This appliance offers no training job."));
    return;
  }
  const versioned = datasets.filter((d) => d.latest_version);
  if (!versioned.length) {
    mount(root, head, empty("No dataset has a version yet: commit one first (`ahoy dataset commit`)."));
    return;
  }
  const chosen = versioned.find((d) => d.name === wanted) || versioned[0];
  const dataset = h(
    "select",
    { name: "dataset", id: "field-dataset", "data-testid": "dataset" },
    versioned.map((d) => h("option", { value: d.name, selected: d === chosen }, d.name)),
  );
  const version = h("select", { name: "version", id: "field-version", "data-testid": "version" });
  const loadVersions = async () => {
    const log = await api(wsPath(ws, "datasets", dataset.value, "log"));
    mount(
      version,
      h("option", { value: "latest" }, `latest (v${log.length ? log[0].number : "?"})`),
      log.map((v) => h("option", { value: String(v.number) }, `v${v.number}${v.message ? ` · ${v.message}` : ""}`)),
    );
  };
  dataset.addEventListener("change", () => guarded(loadVersions));
  await loadVersions();

  const models = train.models || [];
  const model = modelPicker(models);
  const name = h("input", { type: "text", name: "name", id: "field-name", "data-testid": "model-name", placeholder: "the dataset's name" });
  // Each plugin has its own hyperparameter schema: the form follows the chosen model's.
  const pluginOf = (id) => (models.find((m) => m.id === id) || {}).plugin;
  const schemaOf = (plugin) => (train.plugins && train.plugins[plugin]?.hyperparameters) || train.hyperparameters || { properties: {} };
  let plugin = pluginOf(model.value);
  let hyper = schemaForm(schemaOf(plugin), { testid: "hyperparameters" });
  model.addEventListener("change", () => {
    if (pluginOf(model.value) === plugin) return; // same schema: keep what was typed
    plugin = pluginOf(model.value);
    const next = schemaForm(schemaOf(plugin), { testid: "hyperparameters" });
    hyper.el.replaceWith(next.el);
    hyper = next;
  });
  const submit = h("button", { type: "submit", "data-testid": "train-submit" }, "Start training");
  const form = h(
    "form",
    {
      class: "train-form",
      "data-testid": "train-form",
      onSubmit: (e) => {
        e.preventDefault();
        guarded(async () => {
          submit.disabled = true;
          try {
            const params = { dataset: dataset.value, version: version.value, model: model.value, hyperparameters: hyper.changed() };
            if (name.value.trim()) params.name = name.value.trim();
            const job = await api(wsPath(ws, "jobs"), { method: "POST", body: { kind: "train", params } });
            go(route("ws", ws, "jobs", job.id));
          } finally {
            submit.disabled = false;
          }
        });
      },
    },
    h(
      "fieldset",
      { class: "schema-form" },
      h("legend", {}, "What to train"),
      field("Dataset", dataset),
      field("Version", version, "latest is pinned to its number when the run is submitted"),
      field("Model", model, "built from its architecture, never downloaded"),
      field("Register as", name, "the model name its weights are registered under"),
    ),
    hyper.el,
    h("p", { class: "actions" }, submit, h("span", { class: "muted" }, " Only the hyperparameters you change are sent; the rest keep their defaults.")),
  );
  mount(root, head, form);
}
