// Label statistics of one version: objects per class and split, box size and aspect
// histograms, unlabelled images and label-quality warnings.

import { api, query, wsPath } from "../api.js";
import { groupedBars, histogram } from "../charts.js";
import { h, mount, route } from "../dom.js";
import { palette } from "../overlay.js";
import { go } from "../router.js";
import { empty, heading, table } from "../ui.js";

const SPLIT_ORDER = ["train", "val", "test"];

function splitsOf(stats) {
  const seen = new Set(Object.keys(stats.images_per_split || {}));
  for (const c of stats.per_class) for (const k of Object.keys(c.per_split)) seen.add(k);
  const known = SPLIT_ORDER.filter((k) => seen.has(k));
  return [...known, ...[...seen].filter((k) => !SPLIT_ORDER.includes(k)).sort()];
}

function perClassTable(stats, splits) {
  return table(
    ["Class", ...splits, "Total"],
    stats.per_class.map((c) =>
      h(
        "tr",
        { "data-testid": "class-row", "data-class": c.name },
        h("th", { scope: "row" }, c.name),
        splits.map((k) => h("td", { class: "num", "data-split": k }, String(c.per_split[k] || 0))),
        h("td", { class: "num", "data-split": "total" }, String(c.objects)),
      ),
    ),
    { "data-testid": "per-class-table" },
  );
}

function warnings(list) {
  if (!list.length) return empty("No label-quality warnings.");
  return table(
    ["File", "Object", "Kind", "Detail"],
    list.map((w) =>
      h(
        "tr",
        { "data-testid": "warning", "data-kind": w.kind },
        h("td", {}, w.filename),
        h("td", { class: "num" }, w.object === null ? "—" : String(w.object)),
        h("td", {}, h("span", { class: `badge warn-${w.kind}` }, w.kind)),
        h("td", {}, w.detail),
      ),
    ),
    { "data-testid": "warnings" },
  );
}

export async function render(root, { ws, ds, ref }) {
  const [log, schema] = await Promise.all([
    api(wsPath(ws, "datasets", ds, "log")),
    api(wsPath(ws, "datasets", ds, "schema")),
  ]);
  if (!log.length) {
    mount(root, heading(`Stats of ${ds}`), empty("No versions yet."));
    return;
  }
  const chosen = ref || String(log[0].number);
  const stats = await api(wsPath(ws, "datasets", ds, "versions", chosen, "stats"));
  const splits = splitsOf(stats);
  const pal = palette(schema);
  const picker = h(
    "select",
    {
      "data-testid": "stats-ref",
      onChange: (e) => go(`${route("ws", ws, "datasets", ds, "stats")}${query({ ref: e.target.value })}`),
    },
    log.map((v) => h("option", { value: String(v.number), selected: String(v.number) === chosen }, `v${v.number}`)),
  );
  const perSplit = splits.map((k) => `${k} ${stats.images_per_split[k] || 0}`).join(", ");
  const classGroups = stats.per_class.map((c) => ({ label: c.name, values: c.per_split }));
  mount(
    root,
    heading(`Stats of ${ds} v${chosen}`, h("label", {}, "Version ", picker)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Images"),
      h("dd", { "data-testid": "images" }, String(stats.images), perSplit ? ` (${perSplit})` : ""),
      h("dt", {}, "Objects"),
      h("dd", { "data-testid": "objects" }, String(stats.objects)),
      h("dt", {}, "Images without labels"),
      h("dd", { "data-testid": "unlabelled" }, String(stats.unlabelled_images)),
      h("dt", {}, "Warnings"),
      h("dd", {}, String(stats.warnings.length)),
    ),
    h("h2", {}, "Objects per class and split"),
    classGroups.length
      ? h(
          "div",
          { class: "chart-row" },
          groupedBars({ groups: classGroups, series: splits, title: "objects per class, by split", testid: "per-class-chart" }),
          perClassTable(stats, splits),
        )
      : empty("No labelled objects."),
    h(
      "div",
      { class: "chart-row" },
      histogram({
        ...stats.box_size_histogram,
        title: "box size (√(w·h), fraction of the image)",
        testid: "size-histogram",
      }),
      histogram({ ...stats.aspect_histogram, title: "aspect (w / h)", testid: "aspect-histogram" }),
    ),
    h("h2", {}, "Label-quality warnings"),
    warnings(stats.warnings),
  );
  for (const row of root.querySelectorAll("[data-testid=class-row]")) {
    const c = [...pal.values()].find((x) => x.name === row.dataset.class);
    if (c) row.querySelector("th").style.borderLeftColor = c.colour;
  }
}
