// One model: its versions, newest first, with their metrics and tags; the selected
// version's lineage (what exact data, run and code made it) and "Promote to
// production" (PUT .../tags/production; admins and owners).

import { api, wsPath } from "../api.js";
import { h, mount, route, when } from "../dom.js";
import { lineagePanel } from "../lineage.js";
import { guarded, heading, table } from "../ui.js";

const METRICS = ["map50", "map50_95", "precision", "recall"];
const PRODUCTION = "production";

const metric = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(3));

function tagChips(tags) {
  return tags.map((t) => h("span", { class: "tag", "data-testid": "tag" }, t));
}

export async function render(root, { ws, name, v }) {
  const model = await api(wsPath(ws, "models", name));
  const versions = model.versions;
  const panel = h("div", { "data-testid": "lineage-slot" });
  const body = h("tbody", {});
  let selected = versions.find((x) => String(x.number) === String(v)) || versions[0];

  const drawRows = () =>
    mount(
      body,
      versions.map((mv) =>
        h(
          "tr",
          { "data-testid": "model-version", "data-number": mv.number, class: mv === selected ? "selected" : null },
          h("td", {}, h("button", { type: "button", class: "link", "data-testid": "select-version", onClick: () => select(mv) }, `v${mv.number}`)),
          h("td", {}, mv.source),
          METRICS.map((k) => h("td", { class: "num", "data-metric": k }, metric((mv.metrics || {})[k]))),
          h("td", { "data-testid": "tags" }, tagChips(mv.tags)),
          h("td", {}, when(mv.created_at)),
          h("td", {}, mv.created_by),
        ),
      ),
    );

  const promote = (mv) =>
    guarded(async () => {
      const answer = await api(wsPath(ws, "models", name, "tags", PRODUCTION), { method: "PUT", body: { version: String(mv.number) } });
      // A tag points at one version: it leaves the one it was on.
      for (const other of versions) {
        other.tags = other.number === answer.number ? answer.tags : other.tags.filter((t) => t !== PRODUCTION);
      }
      drawRows();
      await showLineage(mv);
    });

  const showLineage = async (mv) => {
    const lineage = await api(wsPath(ws, "models", name, "versions", String(mv.number), "lineage"));
    const promoted = mv.tags.includes(PRODUCTION);
    mount(
      panel,
      lineagePanel(ws, lineage, [
        tagChips(mv.tags),
        h(
          "button",
          { type: "button", "data-testid": "promote", disabled: promoted, onClick: () => promote(mv) },
          promoted ? "In production" : "Promote to production",
        ),
      ]),
    );
  };

  const select = (mv) =>
    guarded(async () => {
      selected = mv;
      drawRows();
      history.replaceState(null, "", `${route("ws", ws, "models", name)}?v=${mv.number}`);
      await showLineage(mv);
    });

  drawRows();
  mount(
    root,
    heading(`Model ${model.name}`, h("span", { class: "muted" }, model.task), h("a", { class: "button secondary", href: route("ws", ws, "models") }, "All models")),
    h("p", { class: "muted" }, `Created ${when(model.created_at)} by ${model.created_by}.`),
    table(["Version", "Source", "mAP50", "mAP50-95", "Precision", "Recall", "Tags", "Created", "By"], [], { "data-testid": "model-versions" }),
    panel,
  );
  root.querySelector("[data-testid=model-versions] tbody").replaceWith(body);
  if (selected) await showLineage(selected);
}
