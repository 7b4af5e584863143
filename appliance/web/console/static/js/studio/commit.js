// Two panels of the review page: per-person figures (GET .../review/stats) and
// the commit form (POST .../versions, optionally only approved images), which
// ends with a link to the new version's diff against its parent.

import { h, mount, route } from "../dom.js";
import { guarded, table } from "../ui.js";

const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)}%`);
const num = (v) => (v === null || v === undefined ? "—" : String(v));

export async function showStats(slot, api) {
  const stats = await api.stats();
  mount(
    slot,
    h("h3", {}, "Annotators"),
    stats.annotators.length
      ? table(
          ["Annotator", "Files", "Submitted", "Approved", "Rejected", "Rejected %", "Files/h"],
          stats.annotators.map((a) => [
            a.annotator,
            num(a.files_saved),
            num(a.submitted),
            num(a.approved),
            num(a.rejected),
            pct(a.rejection_rate),
            num(a.files_per_active_hour),
          ]),
          { "data-testid": "annotator-stats" },
        )
      : h("p", { class: "empty" }, "No annotation work yet."),
    h("h3", {}, "Reviewers"),
    stats.reviewers.length
      ? table(
          ["Reviewer", "Approvals", "Rejections", "Files"],
          stats.reviewers.map((r) => [r.reviewer, num(r.approvals), num(r.rejections), num(r.files_reviewed)]),
          { "data-testid": "reviewer-stats" },
        )
      : h("p", { class: "empty" }, "No decisions yet."),
  );
}

export function commitPanel(slot, api, { ws, ds }) {
  const message = h("input", {
    type: "text",
    name: "message",
    required: true,
    placeholder: "What changed",
    "aria-label": "Commit message",
    "data-testid": "commit-message",
  });
  const onlyApproved = h("input", { type: "checkbox", name: "only_approved", "data-testid": "only-approved" });
  const result = h("div", { class: "commit-result", "data-testid": "commit-result", role: "status" });
  const form = h(
    "form",
    {
      class: "commit",
      onSubmit: (e) => {
        e.preventDefault();
        guarded(async () => {
          result.textContent = "Committing…";
          try {
            const version = await api.commit(message.value.trim(), onlyApproved.checked);
            message.value = "";
            showVersion(result, version, { ws, ds });
          } catch (err) {
            result.textContent = "";
            throw err;
          }
        });
      },
    },
    h("h3", {}, "Commit a version"),
    h("label", {}, "Message ", message),
    h("label", { class: "check" }, onlyApproved, " only approved images"),
    h("button", { type: "submit", class: "primary", "data-testid": "commit" }, "Commit"),
    result,
  );
  mount(slot, form);
}

function showVersion(slot, version, { ws, ds }) {
  const base = route("ws", ws, "datasets", ds);
  const diff = version.parent
    ? h(
        "a",
        { href: `${base}/diff?a=${encodeURIComponent(version.parent)}&b=${encodeURIComponent(version.number)}`, "data-testid": "commit-diff" },
        `See what changed: v${version.parent} → v${version.number}`,
      )
    : h("a", { href: route("ws", ws, "datasets", ds, "versions", version.number), "data-testid": "commit-diff" }, `v${version.number} (the first version)`);
  mount(slot, h("p", {}, `Committed v${version.number} (${version.file_count} files). `, diff));
}
