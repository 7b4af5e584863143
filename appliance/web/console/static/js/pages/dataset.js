// One dataset: its working area against the head, its classes, and the version log
// with lineage, each version linked to its diff against its parent and its stats.

import { api, wsPath } from "../api.js";
import { h, mount, route, shortHash, when } from "../dom.js";
import { empty, heading, table } from "../ui.js";

function classChips(schema) {
  if (!schema.classes.length) return empty("No label schema yet.");
  return h(
    "ul",
    { class: "chips", "data-testid": "classes" },
    schema.classes.map((c) => h("li", {}, h("span", { class: "swatch", "data-colour": c.colour, title: c.colour }), `${c.id} ${c.name}`)),
  );
}

function working(ws, ds, w) {
  const s = w.changes.summary;
  const dirty = s.added + s.removed + s.modified > 0;
  return h(
    "div",
    { class: "card", "data-testid": "working" },
    h("h2", {}, "Working area"),
    h(
      "p",
      {},
      `${w.working_files} files staged on top of `,
      w.head ? `v${w.head}` : "nothing committed yet",
      `: ${s.added} added, ${s.removed} removed, ${s.modified} modified, ${s.unchanged} unchanged.`,
    ),
    dirty && w.head
      ? h("a", { href: `${route("ws", ws, "datasets", ds, "diff")}?a=${w.head}&b=working` }, "Diff the working area against the head")
      : h("p", { class: "muted" }, dirty ? "Commit it to make the first version." : "Nothing to commit."),
  );
}

function versionRow(ws, ds, v) {
  const base = route("ws", ws, "datasets", ds);
  return h(
    "tr",
    { "data-testid": "version-row", "data-number": v.number },
    h("td", {}, h("a", { href: route("ws", ws, "datasets", ds, "versions", v.number) }, `v${v.number}`)),
    h("td", {}, v.message || ""),
    h("td", {}, v.created_by),
    h("td", {}, when(v.created_at)),
    h("td", {}, v.parent ? `v${v.parent}` : "—"),
    h("td", {}, h("code", { title: v.manifest_hash }, shortHash(v.manifest_hash))),
    h("td", { class: "num" }, String(v.file_count)),
    h("td", {}, v.tags.map((t) => h("span", { class: "tag" }, t))),
    h(
      "td",
      { class: "links" },
      v.parent ? h("a", { href: `${base}/diff?a=${v.parent}&b=${v.number}`, "data-testid": "diff-link" }, "diff") : null,
      h("a", { href: `${base}/stats?ref=${v.number}`, "data-testid": "stats-link" }, "stats"),
    ),
  );
}

export async function render(root, { ws, ds }) {
  const [dataset, work, log, schema] = await Promise.all([
    api(wsPath(ws, "datasets", ds)),
    api(wsPath(ws, "datasets", ds, "working")),
    api(wsPath(ws, "datasets", ds, "log")),
    api(wsPath(ws, "datasets", ds, "schema")),
  ]);
  const base = route("ws", ws, "datasets", ds);
  const split = dataset.split.ratios.map(([name, r]) => `${name} ${Math.round(r * 100)}%`).join(", ");
  mount(
    root,
    heading(
      `Dataset ${dataset.name}`,
      h("a", { class: "button", href: `${base}/studio`, "data-testid": "studio-link" }, "Label studio"),
      h("a", { class: "button", href: `${base}/review`, "data-testid": "review-link" }, "Review"),
      log.length ? h("a", { class: "button", href: `${base}/stats?ref=${log[0].number}` }, "Stats") : null,
      log.length ? h("a", { class: "button", href: `${route("ws", ws, "train")}?dataset=${encodeURIComponent(ds)}`, "data-testid": "train-link" }, "Train a model") : null,
    ),
    dataset.description ? h("p", {}, dataset.description) : null,
    h("p", { class: "muted", "data-testid": "split" }, `Split ${split} (seed ${dataset.split.seed}).`),
    working(ws, ds, work),
    h("h2", {}, "Classes"),
    classChips(schema),
    h("h2", {}, "Versions"),
    log.length
      ? table(
          ["Version", "Message", "Author", "Time", "Parent", "Manifest", "Files", "Tags", ""],
          log.map((v) => versionRow(ws, ds, v)),
          { "data-testid": "version-log" },
        )
      : empty("No versions yet: `ahoy dataset commit` makes the first."),
  );
  for (const swatch of root.querySelectorAll(".swatch")) swatch.style.backgroundColor = swatch.dataset.colour;
}
