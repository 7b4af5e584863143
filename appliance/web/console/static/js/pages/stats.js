// Label statistics of one version: objects per class and split (every class of the
// schema, a class without objects flagged), box size and aspect histograms,
// unlabelled images and label-quality warnings. A class without objects is the
// first warning; a warning about a file links to it (?file=, shown beside the
// table with its labels) and to the studio, where it can be fixed.

import { api, query, wsPath } from "../api.js";
import { groupedBars, histogram } from "../charts.js";
import { h, mount, route } from "../dom.js";
import { labelledImage, palette } from "../overlay.js";
import { go } from "../router.js";
import { empty, guarded, heading, table } from "../ui.js";

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
        { "data-testid": "class-row", "data-class": c.name, class: c.objects ? null : "missing", "data-objects": c.objects },
        h("th", { scope: "row" }, c.name, c.objects ? null : h("span", { class: "badge warn-missing-class" }, "no objects")),
        splits.map((k) => h("td", { class: "num", "data-split": k }, String(c.per_split[k] || 0))),
        h("td", { class: "num", "data-split": "total" }, String(c.objects)),
      ),
    ),
    { "data-testid": "per-class-table" },
  );
}

/** The file a warning is about: a link to it on this page, and one to the studio. */
function fileCell(w, links) {
  if (w.filename === null) return h("td", { class: "muted" }, "the whole version");
  const here = links.here(w.filename);
  return h(
    "td",
    {},
    h(
      "a",
      {
        href: here,
        "data-testid": "warning-file",
        onClick: (e) => {
          e.preventDefault();
          links.show(w);
        },
      },
      w.filename,
    ),
    " ",
    h("a", { href: links.studio(w.filename), class: "muted", "data-testid": "warning-studio" }, "(studio)"),
  );
}

function warnings(list, links) {
  if (!list.length) return empty("No label-quality warnings.");
  return table(
    ["File", "Object", "Kind", "Detail"],
    list.map((w) =>
      h(
        "tr",
        { "data-testid": "warning", "data-kind": w.kind, class: w.kind === "missing-class" ? "missing" : null },
        fileCell(w, links),
        h("td", { class: "num" }, w.object === null ? "—" : String(w.object)),
        h("td", {}, h("span", { class: `badge warn-${w.kind}` }, w.kind)),
        h("td", {}, w.detail),
      ),
    ),
    { "data-testid": "warnings" },
  );
}

export async function render(root, { ws, ds, ref, file }) {
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
  const missing = stats.warnings.filter((w) => w.kind === "missing-class").length;
  const statsHref = (extra) => `${route("ws", ws, "datasets", ds, "stats")}${query({ ref: chosen, ...extra })}`;
  const viewer = h("div", { class: "viewer", "data-testid": "warning-viewer" });
  const links = {
    here: (name) => statsHref({ file: name }),
    studio: (name) => `${route("ws", ws, "datasets", ds, "studio")}${query({ path: name })}`,
    show: (w) =>
      guarded(async () => {
        window.history.replaceState(null, "", links.here(w.filename)); // shareable, no re-render
        const what = w.object === null ? w.kind : `object ${w.object}: ${w.kind}`;
        mount(viewer, await labelledImage(ws, w, pal, `${w.filename} · ${w.split} · ${what}`, "warning-preview"));
      }),
  };
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
      h(
        "dd",
        { "data-testid": "warning-count" },
        String(stats.warnings.length),
        missing ? h("strong", { class: "warning" }, ` — ${missing} ${missing === 1 ? "class has" : "classes have"} no objects`) : "",
      ),
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
    h("div", { class: "browse" }, h("div", { class: "files" }, warnings(stats.warnings, links)), viewer),
  );
  const opened = file && stats.warnings.find((w) => w.filename === file);
  if (opened) await links.show(opened);
  for (const row of root.querySelectorAll("[data-testid=class-row]")) {
    const c = [...pal.values()].find((x) => x.name === row.dataset.class);
    if (c) row.querySelector("th").style.borderLeftColor = c.colour;
  }
}
