// Model versions side by side (GET .../model-comparison?model=a@1&model=b@2): the data
// they were all measured on, one column per version (its format, the data it was
// trained on, its tags), AP50-95 per class with the best marked, and the winner.
// The route repeats ``model``, which the router's params keep only once: the page
// reads its own query.

import { ApiError, api, wsPath } from "../api.js";
import { h, mount, route } from "../dom.js";
import { evaluationHref, formatBadge, score } from "../evaluations.js";
import { empty, heading, showError, table } from "../ui.js";

const OPTIONAL = ["dataset", "version", "split"];

function ownQuery() {
  const at = location.hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : location.hash.slice(at + 1));
}

function best(value, winning) {
  if (!winning) return h("td", { class: "num" }, score(value));
  return h(
    "td",
    { class: "num winner", "data-testid": "winner" },
    h("span", { class: "mark", title: "best", "aria-label": "best" }, "★ "),
    score(value),
  );
}

function column(ws, m) {
  const trained = m.trained_on;
  return h(
    "div",
    { class: "model-column", "data-testid": "compare-model", "data-ref": `${m.model}@${m.version}` },
    h("span", {}, h("a", { href: `${route("ws", ws, "models", m.model)}?v=${m.version}` }, `${m.model} v${m.version}`), " ", formatBadge(m.format)),
    h(
      "div",
      { class: "muted", "data-testid": "trained-on" },
      trained ? ["trained on ", h("a", { href: route("ws", ws, "datasets", trained.dataset, "versions", trained.version) }, `${trained.dataset}@${trained.version}`)] : "uploaded weights",
    ),
    m.tags.length ? h("div", {}, m.tags.map((t) => h("span", { class: "tag", "data-testid": "tag" }, t))) : null,
    h("a", { href: evaluationHref(ws, m.evaluation), "data-testid": "compare-evaluation" }, "evaluation"),
  );
}

export async function render(root, { ws }) {
  const own = ownQuery();
  const refs = own.getAll("model");
  const q = new URLSearchParams();
  for (const ref of refs) q.append("model", ref);
  for (const key of OPTIONAL) if (own.get(key)) q.set(key, own.get(key));
  const head = heading(`Compare ${refs.join(" · ")}`, h("a", { class: "button secondary", href: route("ws", ws, "models") }, "All models"));
  let r;
  try {
    r = await api(`${wsPath(ws, "model-comparison")}?${q}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status < 400) throw err;
    mount(root, head, empty("Nothing to compare: see the problem above."));
    showError(err);
    return;
  }
  // Every version with the best mAP50-95 wins (ties mark each), not only the first.
  const scores = r.models.map((m) => m.map50_95 ?? null);
  const top = Math.max(...scores.filter((v) => v !== null));
  const tops = scores.map((v, i) => (v !== null && v === top ? i : -1)).filter((i) => i >= 0);
  if (!tops.length) tops.push(r.winner);
  const winners = tops.map((i) => r.models[i]);
  const rows = r.classes.map((c) =>
    h(
      "tr",
      { "data-testid": "compare-class", "data-name": c.name, "data-winners": c.winners.join(",") },
      h("th", { scope: "row" }, c.name),
      c.ap50_95.map((v, i) => best(v, c.winners.includes(i))),
    ),
  );
  const overall = (key, label, mark) =>
    h("tr", { class: "overall", "data-testid": `compare-${key}` }, h("th", { scope: "row" }, label), r.models.map((m, i) => best(m[key], mark && tops.includes(i))));
  const t = table(["Class (AP50-95)", ...r.models.map((m) => column(ws, m))], [...rows, overall("map50_95", "mAP50-95", true), overall("map50", "mAP50", false)], {
    "data-testid": "comparison",
  });
  for (const th of [...t.querySelectorAll("thead th")].slice(1)) th.classList.add("num");
  mount(
    root,
    head,
    h(
      "p",
      { "data-testid": "compare-data" },
      "Measured on ",
      h("a", { href: route("ws", ws, "datasets", r.data.dataset, "versions", r.data.version) }, `${r.data.dataset}@${r.data.version}`),
      ` (${r.data.split} split, COCO evaluation, ${r.data.images} images); each column is that version's latest evaluation there.`,
    ),
    t,
    h(
      "p",
      { class: "overall-winner", "data-testid": "overall-winner", "data-ref": winners.map((w) => `${w.model}@${w.version}`).join(",") },
      h("span", { class: "mark", "aria-hidden": "true" }, "★ "),
      `${winners.length > 1 ? "Tied best overall" : "Best overall"}: ${winners.map((w) => `${w.model} v${w.version}`).join(", ")} (mAP50-95 ${score(winners[0].map50_95)}).`,
    ),
    h("p", { class: "help" }, "★ marks the best score of each row (ties mark each)."),
  );
}
