// The version page's augmentation panel: copies, seed and target dataset; it submits
// an `augment` job (the governor admits or queues it) and opens the job's page.

import { api, wsPath } from "./api.js";
import { h, route } from "./dom.js";
import { go } from "./router.js";
import { guarded } from "./ui.js";

function number(name, value, min, max) {
  return h("input", { type: "number", name, id: `augment-${name}`, value: String(value), min: String(min), max: String(max), required: true });
}

export function augmentPanel(ws, ds, v) {
  const copies = number("copies", 7, 1, 31);
  const seed = number("seed", 0, 0, 2 ** 31);
  const into = h("input", { type: "text", name: "into", id: "augment-into", value: `${ds}-aug`, required: true });
  const submit = (event) => {
    event.preventDefault();
    guarded(async () => {
      const params = {
        dataset: ds,
        version: String(v.number),
        into: into.value.trim(),
        recipe: { copies: Number(copies.value), seed: Number(seed.value) },
      };
      const job = await api(wsPath(ws, "jobs"), { method: "POST", body: { kind: "augment", params } });
      go(route("ws", ws, "jobs", job.id));
    });
  };
  const field = (label, control) => h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  return h(
    "details",
    { class: "panel", "data-testid": "augment" },
    h("summary", {}, "Augment the train split"),
    h(
      "form",
      { onSubmit: submit },
      h("p", { class: "help" }, "Each labelled train image gains N transformed copies (flip, rotate, scale, shift, colour); val and test are carried over untouched. The result is a new version of the target dataset that records this version and the recipe."),
      field("Copies per image", copies),
      field("Seed", seed),
      field("Into dataset", into),
      h("button", { type: "submit", "data-testid": "augment-submit" }, "Augment"),
    ),
  );
}

export function derivedFrom(ws, d) {
  if (!d) return "—";
  const href = route("ws", ws, "datasets", d.dataset, "versions", String(d.version));
  return h(
    "span",
    { "data-testid": "derived-from" },
    `${d.kind} of `,
    h("a", { href }, `${d.dataset} v${d.version}`),
    " · recipe ",
    h("code", { title: d.recipe_sha256 }, d.recipe_sha256.slice(0, 12)),
  );
}
