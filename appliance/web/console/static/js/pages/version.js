// One version: its facts, its tags, and its files (a page at a time); a file opens
// with its labels drawn over it.

import { api, query, wsPath } from "../api.js";
import { augmentPanel, derivedFrom } from "../augment.js";
import { bytes, h, mount, route, shortHash, when } from "../dom.js";
import { labelledImage, palette } from "../overlay.js";
import { guarded, heading, table } from "../ui.js";

const PAGE = 100;

export async function render(root, { ws, ds, ref }) {
  const path = wsPath(ws, "datasets", ds, "versions", ref);
  const [v, schema, first] = await Promise.all([
    api(path),
    api(wsPath(ws, "datasets", ds, "schema")),
    api(`${path}/manifest${query({ limit: PAGE })}`),
  ]);
  const pal = palette(schema);
  const base = route("ws", ws, "datasets", ds);
  const preview = h("div", { class: "viewer", "data-testid": "preview" });
  const open = (row) =>
    guarded(async () => {
      mount(preview, await labelledImage(ws, row, pal, `${row.filename} · ${row.split}`, "file-preview"));
    });
  const body = h("tbody", {});
  const more = h("button", { type: "button", class: "more", hidden: true }, "More files");
  const add = (page) => {
    for (const row of page.items) {
      body.append(
        h(
          "tr",
          { "data-testid": "file-row" },
          h("td", {}, h("button", { type: "button", class: "link", onClick: () => open(row) }, row.filename)),
          h("td", {}, row.split),
          h("td", {}, row.role),
          h("td", {}, h("code", { title: row.sha256 }, shortHash(row.sha256))),
          h("td", {}, row.label_sha256 ? h("code", { title: row.label_sha256 }, shortHash(row.label_sha256)) : "—"),
        ),
      );
    }
    more.hidden = !page.next_cursor;
    more.onclick = () =>
      guarded(async () => add(await api(`${path}/manifest${query({ limit: PAGE, cursor: page.next_cursor })}`)));
  };
  add(first);
  const erased = first.erased || [];
  mount(
    root,
    heading(
      `${ds} v${v.number}`,
      v.parent ? h("a", { class: "button", href: `${base}/diff?a=${v.parent}&b=${v.number}` }, `Diff against v${v.parent}`) : null,
      h("a", { class: "button", href: `${base}/stats?ref=${v.number}` }, "Stats"),
    ),
    h(
      "dl",
      { class: "facts", "data-testid": "version-facts" },
      [
        ["Message", v.message || ""],
        ["Author", v.created_by],
        ["Time", when(v.created_at)],
        ["Parent", v.parent ? `v${v.parent}` : "—"],
        ["Derived from", derivedFrom(ws, v.derived_from)],
        ["Manifest hash", h("code", {}, v.manifest_hash)],
        ["Files", `${v.file_count} (${bytes(v.total_bytes)})`],
        ["Tags", v.tags.length ? v.tags.join(", ") : "—"],
      ].map(([k, val]) => [h("dt", {}, k), h("dd", {}, val)]),
    ),
    erased.length ? h("p", { class: "warning" }, `${erased.length} files of this version were erased.`) : null,
    augmentPanel(ws, ds, v),
    h(
      "div",
      { class: "browse" },
      h("div", { class: "files" }, table(["File", "Split", "Role", "Content", "Labels"], [], { "data-testid": "files" }), more),
      preview,
    ),
  );
  root.querySelector("[data-testid=files] tbody").replaceWith(body);
}
