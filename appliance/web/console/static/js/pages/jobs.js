// The workspace's jobs under the box's capacity: state badges, the governor's answer
// (a queued job's place in line and why it waits), progress bars and a cancel button,
// kept live: each unfinished job is followed over its SSE stream, and the list is
// re-read for new jobs.

import { api, events, query, wsPath } from "../api.js";
import { capacityPanel } from "../capacity.js";
import { h, mount, route, when } from "../dom.js";
import { TERMINAL, admissionCell, cancelButton, errorText, progressBar } from "../jobview.js";
import { onLeave } from "../router.js";
import { badge, guarded, heading, showError } from "../ui.js";

const POLL_MS = 2000;
// A browser opens about six connections to one host: a few streams leave room for the
// list and capacity reads; other unfinished jobs are updated by the list.
const MAX_STREAMS = 3;
const shown = (job) => JSON.stringify([job.state, job.admission, job.progress, job.result, job.error]);

function outcome(ws, job) {
  if (job.error) return h("span", { class: "error" }, errorText(job.error));
  if (!job.result) return "";
  if (job.kind === "train" && job.result.model_version !== undefined) {
    const { model, model_version: n } = job.result;
    return h("a", { href: `${route("ws", ws, "models", model)}?v=${n}`, "data-testid": "model-link" }, `model ${model} v${n}`);
  }
  return Object.entries(job.result)
    .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(", ");
}

function row(ws, job, source, put) {
  return h(
    "tr",
    { "data-testid": "job-row", "data-id": job.id, "data-state": job.state, "data-kind": job.kind, "data-source": source },
    h("td", {}, h("a", { href: route("ws", ws, "jobs", job.id), "data-testid": "job-link" }, h("code", {}, job.id))),
    h("td", {}, job.kind),
    h("td", {}, badge(job.state)),
    h("td", { class: "admission" }, admissionCell(job)),
    h("td", { class: "progress-cell" }, progressBar(job)),
    h("td", {}, job.created_by || ""),
    h("td", {}, when(job.created_at)),
    h("td", {}, when(job.finished_at)),
    h("td", { class: "outcome" }, outcome(ws, job)),
    h("td", {}, cancelButton(ws, job, (answer) => put(answer, "cancel"))),
  );
}

export async function render(root, { ws }) {
  const jobs = new Map(); // id → job
  const followed = new Map(); // id → AbortController
  const body = h("tbody", {});
  const put = (job, source) => {
    const old = body.querySelector(`tr[data-id="${CSS.escape(job.id)}"]`);
    jobs.set(job.id, job);
    const fresh = row(ws, job, source, put);
    if (old) old.replaceWith(fresh);
    else body.prepend(fresh);
  };
  let streams = 0;
  const follow = (job) => {
    if (TERMINAL.has(job.state) || followed.has(job.id) || streams >= MAX_STREAMS) return;
    const stop = new AbortController();
    followed.set(job.id, stop);
    streams += 1;
    events(
      wsPath(ws, "jobs", job.id, "events"),
      ({ event, data }) => {
        if (event === "state") put(data.job, "sse");
        else if (event === "progress") put({ ...jobs.get(job.id), progress: data.progress }, "sse");
      },
      stop.signal,
    )
      .catch((err) => showError(err))
      .finally(() => {
        streams -= 1;
        // A stream cut short leaves the job to the list, which follows it again.
        if (!stop.signal.aborted && !TERMINAL.has(jobs.get(job.id)?.state)) followed.delete(job.id);
      });
  };
  const refresh = async () => {
    const page = await api(wsPath(ws, "jobs") + query({ limit: 50 }));
    for (const job of [...page.items].reverse()) {
      const known = jobs.get(job.id);
      if (!known || (!followed.has(job.id) && shown(known) !== shown(job))) put(job, "list");
      follow(job);
    }
  };
  const startGc = () =>
    guarded(async () => {
      const job = await api(wsPath(ws, "gc"), { method: "POST", body: { dry_run: true } });
      put(job, "post");
      follow(job);
    });

  await refresh();
  const timer = setInterval(() => refresh().catch((err) => showError(err)), POLL_MS);
  onLeave(() => {
    clearInterval(timer);
    for (const stop of followed.values()) stop.abort();
  });
  const capacity = await capacityPanel();
  mount(
    root,
    heading(
      `Jobs of ${ws}`,
      h("a", { class: "button", href: route("ws", ws, "train"), "data-testid": "train-link" }, "Train a model"),
      h("a", { class: "button secondary", href: route("ws", ws, "models"), "data-testid": "models-link" }, "Models"),
      h("button", { type: "button", "data-testid": "start-gc", onClick: startGc }, "Start GC (dry run)"),
    ),
    capacity,
    h(
      "table",
      { "data-testid": "jobs" },
      h(
        "thead",
        {},
        h("tr", {}, ["Job", "Kind", "State", "Admission", "Progress", "By", "Created", "Finished", "Outcome", ""].map((c) => h("th", {}, c))),
      ),
      body,
    ),
    h("p", { class: "muted" }, "Unfinished jobs update live; the list is re-read every few seconds."),
  );
}
