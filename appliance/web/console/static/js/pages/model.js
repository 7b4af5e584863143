// One model: its versions, newest first, with their format, metrics and tags (an
// export names its source version and its parity); per version Evaluate and Export
// ONNX (jobs, then their page), a pick for Compare; the selected version's
// evaluations and lineage (what exact data, run and code made it) and "Promote to
// production" (PUT .../tags/production; admins and owners; an export that lost too
// much against its source is refused with the reason).

import { api, wsPath } from "../api.js";
import { h, mount, route, when } from "../dom.js";
import { RUNNABLE, compareHref, evaluationsTable, formatBadge, measurementText, parityBadge, score, submitJob } from "../evaluations.js";
import { lineagePanel } from "../lineage.js";
import { go } from "../router.js";
import { empty, guarded, heading, table } from "../ui.js";

const METRICS = ["map50", "map50_95", "precision", "recall"];
const PRODUCTION = "production";

function tagChips(tags) {
  return tags.map((t) => h("span", { class: "tag", "data-testid": "tag" }, t));
}

function sourceCell(mv) {
  if (mv.source !== "export") return h("td", { "data-testid": "source" }, mv.source);
  return h(
    "td",
    { "data-testid": "source", "data-parent": mv.parent },
    h("span", { "data-testid": "export-of" }, `export of v${mv.parent}`),
    " ",
    parityBadge((mv.metrics || {}).parity),
  );
}

// Export targets offered for trained weights: [format, button, what it does]. A box
// without the RKNN environment or TensorRT refuses the job with the reason.
const EXPORTS = [
  ["onnx", "Export ONNX", "export to ONNX and measure it against these weights"],
  ["rknn", "Export RKNN", "export for RK3588 (FP16) and measure it on the toolkit's simulator"],
  ["tensorrt", "Export TensorRT", "build a TensorRT FP16 engine (needs TensorRT and an NVIDIA GPU on this box)"],
];

export async function render(root, { ws, name, v }) {
  const model = await api(wsPath(ws, "models", name));
  const versions = model.versions;
  const panel = h("div", { "data-testid": "lineage-slot" });
  const evaluations = h("section", { class: "evaluations", "data-testid": "evaluations-slot" });
  const body = h("tbody", {});
  const picked = new Set();
  const compare = h("button", { type: "button", class: "secondary", "data-testid": "compare", disabled: true }, "Compare");
  let selected = versions.find((x) => String(x.number) === String(v)) || versions[0];
  const ref = (mv) => `${name}@${mv.number}`;

  const pick = (mv, on) => {
    if (on) picked.add(mv.number);
    else picked.delete(mv.number);
    compare.disabled = picked.size < 2;
    compare.textContent = picked.size ? `Compare (${picked.size})` : "Compare";
  };
  compare.addEventListener("click", () => {
    const chosen = versions.filter((mv) => picked.has(mv.number)).reverse(); // oldest first
    go(compareHref(ws, chosen.map(ref)));
  });

  const actions = (mv) =>
    h(
      "td",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          "data-testid": "evaluate",
          disabled: !RUNNABLE.has(mv.format),
          title: RUNNABLE.has(mv.format) ? "measure it on the test split of the data it was trained on" : `a ${mv.format} version is measured by its export job`,
          onClick: () => submitJob(ws, "evaluate", { model: ref(mv) }),
        },
        "Evaluate",
      ),
      ...(mv.format === "pt" ? EXPORTS.map(([format, label, title]) =>
        h(
          "button",
          { type: "button", class: "secondary", "data-testid": `export-${format}`, title, onClick: () => submitJob(ws, "export", { model: ref(mv), format }) },
          label,
        ),
      ) : []),
    );

  const drawRows = () =>
    mount(
      body,
      versions.map((mv) =>
        h(
          "tr",
          { "data-testid": "model-version", "data-number": mv.number, "data-format": mv.format, class: mv === selected ? "selected" : null },
          h(
            "td",
            {},
            h("input", {
              type: "checkbox",
              "data-testid": "compare-pick",
              "aria-label": `compare v${mv.number}`,
              checked: picked.has(mv.number),
              onChange: (e) => pick(mv, e.target.checked),
            }),
          ),
          h("td", {}, h("button", { type: "button", class: "link", "data-testid": "select-version", onClick: () => select(mv) }, `v${mv.number}`)),
          h("td", {}, formatBadge(mv.format)),
          sourceCell(mv),
          METRICS.map((k) => h("td", { class: "num", "data-metric": k }, score((mv.metrics || {})[k]))),
          // the figures' own measurement: a weights' validation and an export's COCO test differ
          h("td", { class: "muted", "data-testid": "measured" }, measurementText((mv.metrics || {}).measurement)),
          h("td", { "data-testid": "tags" }, tagChips(mv.tags)),
          h("td", {}, when(mv.created_at)),
          h("td", {}, mv.created_by),
          actions(mv),
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

  const showEvaluations = async (mv) => {
    const { items } = await api(wsPath(ws, "models", name, "versions", String(mv.number), "evaluations"));
    mount(
      evaluations,
      h("h2", {}, `Evaluations of v${mv.number}`),
      items.length ? evaluationsTable(ws, items) : empty("Not evaluated yet: Evaluate measures it on the test split of the data it was trained on."),
    );
  };

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
      await Promise.all([showEvaluations(mv), showLineage(mv)]);
    });

  drawRows();
  mount(
    root,
    heading(`Model ${model.name}`, h("span", { class: "muted" }, model.task), compare, h("a", { class: "button secondary", href: route("ws", ws, "models") }, "All models")),
    h("p", { class: "muted" }, `Created ${when(model.created_at)} by ${model.created_by}. Tick two or more versions to compare them on data they were all evaluated on.`),
    table(["", "Version", "Format", "Source", "mAP50", "mAP50-95", "Precision", "Recall", "Measured", "Tags", "Created", "By", ""], [], { "data-testid": "model-versions" }),
    evaluations,
    panel,
  );
  root.querySelector("[data-testid=model-versions] tbody").replaceWith(body);
  if (selected) await Promise.all([showEvaluations(selected), showLineage(selected)]);
}
