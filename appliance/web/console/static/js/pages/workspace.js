// One workspace: its usage and its datasets with their latest version.

import { all, api, wsPath } from "../api.js";
import { bytes, h, mount, route, when } from "../dom.js";
import { empty, heading, table } from "../ui.js";

export async function render(root, { ws }) {
  const [info, datasets] = await Promise.all([api(wsPath(ws)), all(wsPath(ws, "datasets"))]);
  const quota = info.quota_bytes === null ? "default quota" : `quota ${bytes(info.quota_bytes)}`;
  const rows = datasets.map((d) => [
    h("a", { href: route("ws", ws, "datasets", d.name), "data-testid": "dataset-link" }, d.name),
    d.description || "",
    d.latest_version ? h("a", { href: route("ws", ws, "datasets", d.name, "versions", d.latest_version) }, `v${d.latest_version}`) : "none",
    String(d.working_files),
    when(d.created_at),
  ]);
  mount(
    root,
    heading(
      `Workspace ${info.id}`,
      h("a", { class: "button", href: route("ws", ws, "jobs"), "data-testid": "jobs-link" }, "Jobs"),
      h("a", { class: "button", href: route("ws", ws, "models"), "data-testid": "models-link" }, "Models"),
      h("a", { class: "button", href: route("ws", ws, "train"), "data-testid": "train-link" }, "Train a model"),
      h("a", { class: "button secondary", href: route("capacity"), "data-testid": "capacity-link" }, "Capacity"),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Your role"),
      h("dd", {}, info.role),
      h("dt", {}, "Storage"),
      h("dd", {}, `${bytes(info.used_bytes)} used, ${quota}`),
      h("dt", {}, "Datasets"),
      h("dd", { "data-testid": "dataset-count" }, String(datasets.length)),
    ),
    h("h2", {}, "Datasets"),
    rows.length
      ? table(["Dataset", "Description", "Latest version", "Working files", "Created"], rows, { "data-testid": "datasets" })
      : empty("No datasets yet: create one with `ahoy dataset create`."),
  );
}
