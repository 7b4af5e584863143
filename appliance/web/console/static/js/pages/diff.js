// Compare two refs (version numbers or "working"): added, removed and modified files,
// object-level label changes, and the old and new image side by side with labels.

import { api, query, wsPath } from "../api.js";
import { h, mount, route } from "../dom.js";
import { classOf, labelledImage, palette } from "../overlay.js";
import { go } from "../router.js";
import { empty, guarded, heading } from "../ui.js";

function picker(name, value, log, withWorking) {
  const refs = log.map((v) => [String(v.number), `v${v.number} — ${v.message || ""}`]);
  if (withWorking) refs.unshift(["working", "working area"]);
  return h(
    "select",
    { name, "data-testid": `ref-${name}` },
    refs.map(([ref, text]) => h("option", { value: ref, selected: ref === value }, text)),
  );
}

function objectChanges(labels, pal) {
  if (!labels) return null;
  const name = (o) => classOf(pal, o.class).name;
  const items = [
    ...labels.added.map((o) => ["added", name(o)]),
    ...labels.removed.map((o) => ["removed", name(o)]),
    ...labels.moved.map((m) => ["moved", name(m.new || m)]),
    ...labels.reclassed.map((m) => ["reclassed", `${name(m.old)} → ${name(m.new)}`]),
  ];
  return h(
    "ul",
    { class: "object-changes", "data-testid": "object-changes" },
    items.map(([kind, text]) => h("li", { class: `change-${kind}` }, h("span", { class: "kind" }, kind), " ", text)),
  );
}

function summaryText(labels) {
  if (!labels) return "";
  const s = labels.summary;
  return ["added", "removed", "moved", "reclassed"].filter((k) => s[k]).map((k) => `${s[k]} ${k}`).join(", ");
}

let shown = 0;

async function showFile(slot, ws, change, labels, pal, refs) {
  const mine = ++shown;
  const sides = [
    [change.old, `old · ${refs.a}`, "side-old"],
    [change.new, `new · ${refs.b}`, "side-new"],
  ];
  const figures = await Promise.all(
    sides.map(([side, caption, testid]) =>
      side ? labelledImage(ws, side, pal, caption, testid) : h("figure", { class: "labelled absent", "data-testid": testid }, `not in ${caption}`),
    ),
  );
  if (mine !== shown) return; // another file was picked meanwhile
  mount(
    slot,
    h("h2", {}, change.filename),
    h("p", { class: "muted" }, `changed: ${(change.changed || []).join(", ") || (change.old ? "removed" : "added")}`),
    h("div", { class: "side-by-side" }, figures),
    objectChanges(labels, pal),
  );
}

function changeList(kind, changes, diff, select) {
  if (!changes.length) return null;
  return h(
    "section",
    { class: "changes" },
    h("h3", {}, `${kind} (${changes.length})`),
    h(
      "ul",
      {},
      changes.map((c) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "link", "data-testid": "change", "data-kind": kind, "data-filename": c.filename, onClick: () => select(c) },
            c.filename,
          ),
          c.changed ? h("span", { class: "muted" }, ` ${c.changed.join(", ")} `) : null,
          diff.labels?.[c.filename] ? h("span", { class: "label-summary" }, summaryText(diff.labels[c.filename])) : null,
        ),
      ),
    ),
  );
}

export async function render(root, params) {
  const { ws, ds } = params;
  const [log, schema] = await Promise.all([
    api(wsPath(ws, "datasets", ds, "log")),
    api(wsPath(ws, "datasets", ds, "schema")),
  ]);
  if (!log.length) {
    mount(root, heading(`Diff of ${ds}`), empty("No versions to compare yet."));
    return;
  }
  const refs = { b: params.b || String(log[0].number), a: params.a || String(log[0].parent || log[0].number) };
  const pal = palette(schema);
  const a = picker("a", refs.a, log, false);
  const b = picker("b", refs.b, log, true);
  const form = h(
    "form",
    {
      class: "inline",
      onSubmit: (e) => {
        e.preventDefault();
        go(`${route("ws", ws, "datasets", ds, "diff")}${query({ a: a.value, b: b.value })}`);
      },
    },
    h("label", {}, "From ", a),
    h("label", {}, "To ", b),
    h("button", { type: "submit", "data-testid": "compare" }, "Compare"),
  );
  const diff = await api(wsPath(ws, "datasets", ds, "diff") + query({ from: refs.a, to: refs.b, labels: "true" }));
  const s = diff.summary;
  const viewer = h("div", { class: "viewer", "data-testid": "viewer" });
  const select = (change) => guarded(() => showFile(viewer, ws, change, diff.labels?.[change.filename], pal, refs));
  mount(
    root,
    heading(`Diff of ${ds}: ${refs.a} → ${refs.b}`),
    form,
    h(
      "p",
      { "data-testid": "diff-summary" },
      `${s.added} added, ${s.removed} removed, ${s.modified} modified, ${s.unchanged} unchanged.`,
    ),
    h(
      "div",
      { class: "diff" },
      h(
        "div",
        { class: "change-lists" },
        changeList("modified", diff.modified, diff, select),
        changeList("added", diff.added, diff, select),
        changeList("removed", diff.removed, diff, select),
        s.added + s.removed + s.modified ? null : empty("No differences."),
      ),
      viewer,
    ),
  );
  const first = diff.modified[0] || diff.added[0] || diff.removed[0];
  if (first) await select(first);
}
