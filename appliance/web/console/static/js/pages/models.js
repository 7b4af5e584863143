// The workspace's models: task, latest version and where each tag points.

import { api, wsPath } from "../api.js";
import { h, mount, route, when } from "../dom.js";
import { empty, heading, table } from "../ui.js";

export async function render(root, { ws }) {
  const { items } = await api(wsPath(ws, "models"));
  const rows = items.map((m) =>
    h(
      "tr",
      { "data-testid": "model-row", "data-name": m.name },
      h("td", {}, h("a", { href: route("ws", ws, "models", m.name), "data-testid": "model-link" }, m.name)),
      h("td", {}, m.task),
      h("td", { "data-testid": "latest" }, m.latest ? h("a", { href: `${route("ws", ws, "models", m.name)}?v=${m.latest}` }, `v${m.latest}`) : "—"),
      h("td", { class: "num" }, String(m.versions)),
      h("td", { "data-testid": "tags" }, Object.entries(m.tags || {}).map(([tag, n]) => h("span", { class: "tag" }, `${tag} → v${n}`))),
      h("td", {}, when(m.created_at)),
    ),
  );
  mount(
    root,
    heading(
      `Models of ${ws}`,
      h("a", { class: "button", href: route("ws", ws, "train"), "data-testid": "train-link" }, "Train a model"),
      h("a", { class: "button secondary", href: route("ws", ws, "jobs") }, "Jobs"),
    ),
    rows.length
      ? table(["Model", "Task", "Latest", "Versions", "Tags", "Created"], rows, { "data-testid": "models" })
      : empty("No models yet: train one, or register weights with `ahoy model register`."),
  );
}
