// The work queue (left of the studio): the dataset's images from GET .../items,
// filtered by state ("My rejected" shows the reviewer's comments), a page at a
// time, with the open image highlighted. Next/previous walk this list.

import { h, mount } from "../dom.js";
import { badge } from "../ui.js";

export const FILTERS = {
  all: ["All images", {}],
  unlabelled: ["Unlabelled", { state: "unlabelled" }],
  in_progress: ["In progress", { state: "in_progress" }],
  submitted: ["Submitted", { state: "submitted" }],
  approved: ["Approved", { state: "approved" }],
  rejected: ["Rejected", { state: "rejected" }],
  mine: ["Mine", { annotator: "me" }],
  my_rejected: ["My rejected", { state: "rejected", annotator: "me" }],
};

export function createQueue(slot, { client, onOpen, filter = "all" }) {
  let items = [];
  let cursor = null;
  let current = null;
  let prefix = "";
  const list = h("ol", { class: "queue-list", "data-testid": "queue" });
  const more = h("button", { type: "button", class: "link", hidden: true, onClick: () => page() }, "Load more");
  const select = h(
    "select",
    { "data-testid": "queue-filter", "aria-label": "Show", onChange: (e) => reload(e.target.value) },
    Object.entries(FILTERS).map(([key, [text]]) => h("option", { value: key, selected: key === filter }, text)),
  );
  const search = h("input", {
    type: "search",
    placeholder: "folder/ prefix",
    "aria-label": "Path prefix",
    onChange: (e) => {
      prefix = e.target.value.trim();
      reload(filter);
    },
  });
  mount(slot, h("div", { class: "queue-filters" }, select, search), list, more);

  function row(item) {
    const comment =
      item.state === "rejected" && item.comment
        ? h("p", { class: "review-comment", "data-testid": "review-comment" }, item.comment)
        : null;
    return h(
      "li",
      {
        class: ["queue-item", item.path === current && "current"],
        "data-path": item.path,
        "data-state": item.state,
      },
      h(
        "button",
        { type: "button", class: "link", title: item.path, onClick: () => onOpen(item.path) },
        item.path,
      ),
      " ",
      badge(item.state),
      comment,
    );
  }

  function draw() {
    list.replaceChildren(...items.map(row));
    more.hidden = !cursor;
    if (!items.length) list.append(h("li", { class: "empty" }, "No images here."));
  }

  async function page() {
    const [, params] = FILTERS[filter];
    const answer = await client.items({ ...params, prefix: prefix || null }, cursor);
    items.push(...answer.items);
    cursor = answer.next_cursor || null;
    draw();
    return answer.items;
  }

  async function reload(next) {
    filter = FILTERS[next] ? next : "all";
    items = [];
    cursor = null;
    return page();
  }

  return {
    reload,
    get items() {
      return items;
    },
    get filter() {
      return filter;
    },
    /** Mark ``path`` as the open image. */
    open(path) {
      current = path;
      for (const li of list.children) li.classList.toggle("current", li.dataset.path === path);
      list.querySelector(".current")?.scrollIntoView({ block: "nearest" });
    },
    /** The path ``step`` places from ``path`` (loading the next page when needed), or null. */
    async neighbour(path, step) {
      let at = items.findIndex((x) => x.path === path);
      if (at + step >= items.length && cursor) {
        await page();
        at = items.findIndex((x) => x.path === path);
      }
      const next = items[at + step];
      return at >= 0 && next ? next.path : null;
    },
    /** Update one row after a save, submit or review. */
    update(path, patch) {
      const item = items.find((x) => x.path === path);
      if (!item) return;
      Object.assign(item, patch);
      const li = [...list.children].find((x) => x.dataset.path === path);
      if (li) li.replaceWith(row(item));
    },
  };
}
