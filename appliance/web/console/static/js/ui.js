// Shared pieces of the page: the problem banner, the breadcrumb, badges, tables.

import { h, mount, route } from "./dom.js";

const byId = (id) => document.getElementById(id);

/** Show an error's title, detail and hint (an ApiError carries all three). */
export function showError(err, fallback = {}) {
  const title = err.title || fallback.title || "Something went wrong";
  const detail = err.detail ?? (err.title ? "" : String(err.message || err));
  const hint = err.hint || fallback.hint || "";
  const banner = byId("banner");
  mount(
    banner,
    h("strong", { "data-testid": "problem-title" }, title),
    detail ? h("span", { "data-testid": "problem-detail" }, detail) : null,
    hint ? h("em", { "data-testid": "problem-hint" }, hint) : null,
    h("button", { type: "button", class: "close", "aria-label": "dismiss", onClick: clearError }, "×"),
  );
  banner.hidden = false;
  if (!(err.status >= 400)) console.error(err);
}

export function clearError() {
  const banner = byId("banner");
  banner.hidden = true;
  banner.replaceChildren();
}

/** Run ``fn``; show its error in the banner instead of throwing. */
export async function guarded(fn) {
  try {
    clearError();
    return await fn();
  } catch (err) {
    if (err.name !== "AbortError") showError(err);
    return undefined;
  }
}

const LABELS = { datasets: null, versions: "version", diff: "diff", stats: "stats", jobs: "jobs" };

/** Workspaces › ws › dataset › version 2 › stats, from the route itself. */
export function breadcrumb(path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const trail = [];
  if (parts[0] === "ws") {
    trail.push(["Workspaces", route("ws")]);
    const [, ws, kind, ds, ...rest] = parts;
    if (ws) trail.push([ws, route("ws", ws)]);
    if (kind === "jobs" || kind === "train") trail.push(["jobs", route("ws", ws, "jobs")]);
    if (kind === "jobs" && ds) trail.push([`job ${ds}`, null]);
    if (kind === "train") trail.push(["train", null]);
    if (kind === "models") trail.push(["models", route("ws", ws, "models")]);
    if (kind === "models" && ds) trail.push([ds, null]);
    if (kind === "evaluations" || kind === "compare") trail.push(["models", route("ws", ws, "models")]);
    if (kind === "evaluations" && ds) trail.push([`evaluation ${ds}`, null]);
    if (kind === "compare") trail.push(["compare", null]);
    if (kind === "datasets" && ds) {
      trail.push([ds, route("ws", ws, "datasets", ds)]);
      if (rest[0] === "versions" && rest[1]) trail.push([`v${rest[1]}`, null]);
      else if (rest[0]) trail.push([LABELS[rest[0]] || rest[0], null]);
    }
  } else if (parts[0] === "capacity") {
    trail.push(["Workspaces", route("ws")], ["capacity", null]);
  }
  const nav = byId("breadcrumb");
  mount(
    nav,
    trail.map(([text, href], i) => {
      const last = i === trail.length - 1;
      return h("li", {}, last || !href ? h("span", { "aria-current": last ? "page" : null }, text) : h("a", { href }, text));
    }),
  );
}

export function badge(state) {
  return h("span", { class: `badge state-${state}`, "data-testid": "state" }, state);
}

/** A table: ``columns`` are header texts; each row is an array of cells (text or nodes). */
export function table(columns, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((cell) => h("td", {}, cell))))),
    ),
  );
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

export function heading(title, ...extra) {
  return h("header", { class: "page-head" }, h("h1", {}, title), extra.length ? h("div", { class: "actions" }, extra) : null);
}
