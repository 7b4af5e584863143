// The review page: a queue of submitted images, the image with its labels drawn
// read-only (zoom and pan still work), Approve (a) / Reject (r, a comment is
// required), per-person figures, and the commit panel.

import { h, mount, route } from "../dom.js";
import { guarded, showError } from "../ui.js";
import { client as makeClient } from "./client.js";
import { showStats, commitPanel } from "./commit.js";
import { loadDocument } from "./doc.js";
import { createEditor } from "./editor.js";
import { createQueue } from "./queue.js";
import { listen } from "./shortcuts.js";

const KEYS = { approve: ["a"], reject: ["r"], next: ["n", "ArrowRight"], previous: ["ArrowLeft"], fit: ["f"] };

export function createReview(root, { ws, ds, path, filter }) {
  const api = makeClient(ws, ds);
  const left = h("aside", { class: "studio-queue", "aria-label": "Images to review" });
  const canvas = h("div", { class: "studio-canvas", "data-testid": "review-canvas" });
  const title = h("h1", { class: "studio-title", "data-testid": "review-title" }, `Review ${ds}`);
  const info = h("p", { class: "muted", "data-testid": "review-info" });
  const comment = h("textarea", {
    rows: 2,
    placeholder: "What to fix (required to reject)",
    "aria-label": "Comment",
    "data-testid": "review-comment-input",
  });
  const message = h("p", { class: "muted", role: "status", "data-testid": "review-message" });
  const stats = h("section", { class: "review-stats" });
  const commit = h("section", { class: "review-commit" });
  const buttons = h(
    "div",
    { class: "decisions" },
    h("button", { type: "button", class: "primary", "data-testid": "approve", title: "Approve (A)", onClick: () => decide("approve") }, "Approve"),
    h("button", { type: "button", class: "danger", "data-testid": "reject", title: "Reject (R)", onClick: () => decide("reject") }, "Reject"),
  );
  mount(
    root,
    h(
      "div",
      { class: "studio review", "data-testid": "review" },
      left,
      h(
        "div",
        { class: "studio-centre" },
        h("div", { class: "studio-head" }, title, h("a", { href: `${route("ws", ws, "datasets", ds, "studio")}` }, "Open the studio")),
        canvas,
        h("div", { class: "studio-status" }, info),
        comment,
        buttons,
        message,
      ),
      h("aside", { class: "studio-side" }, stats, commit),
    ),
  );

  const editor = createEditor(canvas, { readOnly: true });
  const queue = createQueue(left, { client: api, onOpen: (p) => guarded(() => open(p)), filter: filter || "submitted" });
  let item = null;
  let imageUrl = null;

  async function open(p) {
    const next = await api.item(p);
    const url = await api.imageUrl(next.sha256);
    const img = new Image();
    img.src = url;
    await img.decode();
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = url;
    item = next;
    editor.setImage(img);
    editor.setDocument(loadDocument(next.labels));
    queue.open(p);
    title.textContent = `Review: ${p}`;
    const count = next.labels?.objects?.length || 0;
    info.textContent = `${next.state} · ${count} objects${next.annotator ? ` · by ${next.annotator}` : ""}`;
    comment.value = "";
    message.textContent = "";
    const here = `${route("ws", ws, "datasets", ds, "review")}?path=${encodeURIComponent(p)}`;
    window.history.replaceState(null, "", here);
  }

  async function decide(decision) {
    if (!item) return;
    const text = comment.value.trim();
    if (decision === "reject" && !text) {
      message.textContent = "A rejection needs a comment: say what to fix.";
      comment.focus();
      return;
    }
    await guarded(async () => {
      const done = await api.review(item.path, decision, text, item.label_sha256);
      queue.update(item.path, { state: done.state, comment: done.comment, reviewer: done.reviewer });
      message.textContent = `${decision === "approve" ? "Approved" : "Rejected"} ${item.path}.`;
      const decided = item.path;
      item = { ...item, state: done.state };
      comment.value = "";
      info.textContent = `${done.state}${done.comment ? ` · “${done.comment}”` : ""}`;
      await showStats(stats, api);
      const next = await queue.neighbour(decided, 1);
      if (next) await open(next);
    });
  }

  async function step(by) {
    const p = item && (await queue.neighbour(item.path, by));
    if (p) await guarded(() => open(p));
  }

  const stopKeys = listen(KEYS, {
    approve: () => decide("approve"),
    reject: () => decide("reject"),
    next: () => step(1),
    previous: () => step(-1),
    fit: () => editor.fit(),
  });

  return {
    async start() {
      commitPanel(commit, api, { ws, ds });
      const schema = await api.schema();
      editor.setClasses(schema.classes || [], schema.skeletons || []);
      const [first] = await Promise.all([queue.reload(queue.filter), showStats(stats, api).catch(showError)]);
      const p = path || first[0]?.path;
      if (p) await open(p);
      else message.textContent = "Nothing waiting for review with this filter.";
    },
    leave() {
      stopKeys();
      editor.destroy();
    },
  };
}
