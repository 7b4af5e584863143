// One job, live: its state, the governor's answer and what it asked for, progress,
// the training curves per epoch, a tail of its log, then its result or error, its
// artifacts (plots shown) and what it made: a training run's or an export's model
// version (with the export's parity), an evaluation's page.
// Recorded epochs and log lines are read first; the SSE stream (which replays the
// job's events from the start) then adds only what is new: epochs by number, log
// lines by sequence number.

import { api, events, query, wsPath } from "../api.js";
import { bytes, h, mount, route, when } from "../dom.js";
import { evaluationHref, measurementText, parityBadge, score } from "../evaluations.js";
import { TERMINAL, admissionCell, cancelButton, errorText, plainText, progressBar, requestText } from "../jobview.js";
import { artifactsPanel } from "../artifacts.js";
import { lineChart } from "../linechart.js";
import { onLeave } from "../router.js";
import { badge, heading, showError } from "../ui.js";

const LOG_TAIL = 200;
const RETRY_MS = 1500;

const pick = (losses) => (losses ? (losses.box ?? Object.values(losses)[0] ?? null) : null);

function charts(epochs, total) {
  const rows = [...epochs.values()].sort((a, b) => a.epoch - b.epoch);
  const xMax = Math.max(total || 1, ...rows.map((e) => e.epoch));
  const series = (name, fn) => ({ name, points: rows.map((e) => [e.epoch, fn(e)]) });
  return [
    lineChart({
      title: "Box loss",
      testid: "loss-chart",
      xMax,
      series: [series("train", (e) => pick(e.train_losses)), series("val", (e) => pick(e.val_losses))],
    }),
    lineChart({
      title: "Validation mAP",
      testid: "map-chart",
      xMax,
      series: [series("mAP50", (e) => e.map50), series("mAP50-95", (e) => e.map50_95)],
    }),
  ];
}

function paramsView(job) {
  const p = job.params || {};
  if (job.kind !== "train") return h("code", {}, JSON.stringify(p));
  const hyper = Object.entries(p.hyperparameters || {}).map(([k, v]) => `${k}=${v}`).join(" ");
  return h(
    "span",
    {},
    `${p.model} on `,
    h("a", { href: route("ws", job.ws, "datasets", p.dataset, "versions", p.version) }, `${p.dataset}@${p.version}`),
    ` → model ${p.name}`,
    h("br", {}),
    h("code", { class: "hyper", "data-testid": "hyperparameters" }, hyper),
  );
}

/** A link to the model version a job registered (its result's model and number). */
function modelLink(ws, r) {
  const href = `${route("ws", ws, "models", r.model)}?v=${r.model_version}`;
  return h("a", { href, "data-testid": "model-link" }, `${r.model} v${r.model_version}`);
}

function resultView(ws, job) {
  if (job.error) return h("p", { class: "error", "data-testid": "job-error" }, errorText(job.error));
  if (!job.result) return null;
  const r = job.result;
  if (job.kind === "train" && r.model_version !== undefined) {
    const m = r.metrics || {};
    const fmt = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(3));
    return h(
      "div",
      { "data-testid": "job-result" },
      h(
        "p",
        {},
        "Registered ",
        modelLink(ws, r),
        ` after ${r.epochs_run} epoch(s) in ${r.seconds}s (best epoch ${r.best_epoch}).`,
      ),
      h("p", { class: "muted" }, `mAP50 ${fmt(m.map50)} · mAP50-95 ${fmt(m.map50_95)} · precision ${fmt(m.precision)} · recall ${fmt(m.recall)} (${measurementText(r.measurement)})`),
    );
  }
  if (job.kind === "augment" && r.version !== undefined) {
    const href = route("ws", ws, "datasets", r.dataset, "versions", String(r.version));
    return h(
      "div",
      { "data-testid": "job-result" },
      h(
        "p",
        {},
        r.new_version ? "Wrote " : "Unchanged: ",
        h("a", { href, "data-testid": "version-link" }, `${r.dataset} v${r.version}`),
        `: ${r.copies} train copies of ${r.source}, ${r.files} files in all.`,
      ),
    );
  }
  if (job.kind === "evaluate" && r.evaluation) {
    return h(
      "div",
      { "data-testid": "job-result" },
      h(
        "p",
        {},
        h("a", { href: evaluationHref(ws, r.evaluation), "data-testid": "evaluation-link" }, `Evaluation of ${r.model}`),
        ` on ${r.dataset}@${r.version} ${r.split} (${r.images} images): mAP50 ${score(r.map50)} · mAP50-95 ${score(r.map50_95)}`,
      ),
    );
  }
  if (job.kind === "export" && r.model_version !== undefined) {
    return h(
      "div",
      { "data-testid": "job-result" },
      h(
        "p",
        {},
        "Registered ",
        modelLink(ws, r),
        ` (${r.format}, opset ${r.opset}, ${bytes(r.size)}), an export of v${r.source_version}.`,
      ),
      r.parity ? h("p", {}, parityBadge(r.parity), r.parity.where ? ` on ${r.parity.where}` : "") : null,
    );
  }
  return h("pre", { class: "result", "data-testid": "job-result" }, JSON.stringify(r, null, 2));
}

export async function render(root, { ws, job: id }) {
  const base = wsPath(ws, "jobs", id);
  const [first, recordedEpochs, recordedLog] = await Promise.all([
    api(base),
    api(`${base}/log${query({ kind: "epoch" })}`),
    api(`${base}/log${query({ kind: "log" })}`),
  ]);
  let job = { ...first, ws };
  const epochs = new Map(); // epoch number → its metrics
  let lines = [];
  let lastLogSeq = 0;
  const addEpoch = (e) => epochs.has(e.epoch) || epochs.set(e.epoch, e);
  const addLine = (seq, line) => {
    if (seq <= lastLogSeq) return false;
    lastLogSeq = seq;
    lines.push(plainText(line));
    if (lines.length > LOG_TAIL) lines = lines.slice(-LOG_TAIL);
    return true;
  };
  for (const e of recordedEpochs.events) addEpoch(e.data);
  for (const e of recordedLog.events) addLine(e.seq, e.data.line);

  const slots = {
    head: h("div"),
    facts: h("dl", { class: "facts", "data-testid": "job-facts" }),
    progress: h("div", { class: "progress-line" }),
    charts: h("div", { class: "chart-row", "data-testid": "training-charts" }),
    result: h("div"),
    artifacts: h("div"),
  };
  const log = h("pre", { class: "log", "data-testid": "log" });
  const counter = h("span", { "data-testid": "epoch-counter" });

  const drawCharts = () => {
    if (job.kind !== "train" && !epochs.size) return;
    const total = [...epochs.values()].reduce((n, e) => Math.max(n, e.epochs || 0), 0) || job.params?.hyperparameters?.epochs || 1;
    const done = epochs.size ? Math.max(...epochs.keys()) : 0;
    counter.textContent = `epoch ${done} / ${total}`;
    counter.dataset.epoch = done;
    counter.dataset.epochs = total;
    mount(slots.charts, charts(epochs, total));
  };
  const drawLog = () => {
    log.textContent = lines.length ? lines.join("\n") : "no log lines yet";
    log.scrollTop = log.scrollHeight;
  };
  const drawJob = () => {
    mount(
      slots.head,
      heading(`${job.kind} job ${job.id}`, badge(job.state), cancelButton(ws, job, (answer) => update(answer))),
    );
    slots.head.firstChild.dataset.state = job.state;
    mount(
      slots.facts,
      [
        ["Asked for", h("span", { "data-testid": "request" }, requestText(job.request) || "—")],
        ["Admission", admissionCell(job) || "—"],
        ["Devices", (job.devices || []).length ? job.devices.join(", ") : "CPU"],
        ["Parameters", paramsView(job)],
        ["By", job.created_by || ""],
        ["Created", when(job.created_at)],
        ["Started", when(job.started_at) || "—"],
        ["Finished", when(job.finished_at) || "—"],
      ].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    );
    mount(slots.progress, progressBar(job), job.kind === "train" ? [" ", counter] : null);
    mount(slots.result, resultView(ws, job));
  };
  let artifactsShown = false;
  const showArtifacts = async () => {
    if (artifactsShown || !TERMINAL.has(job.state)) return;
    artifactsShown = true;
    mount(slots.artifacts, await artifactsPanel(ws, id));
  };
  const update = (fresh) => {
    job = { ...fresh, ws };
    drawJob();
    if (TERMINAL.has(job.state)) showArtifacts().catch((err) => showError(err));
  };

  const stop = new AbortController();
  onLeave(() => stop.abort());
  const onEvent = ({ event, data }) => {
    if (event === "state") update(data.job);
    else if (event === "progress") update({ ...job, progress: data.progress });
    else if (event === "epoch" && !epochs.has(data.epoch)) {
      addEpoch(data);
      drawCharts();
    } else if (event === "log" && addLine(data.seq, data.line)) drawLog();
  };
  const followLive = async () => {
    while (!stop.signal.aborted && !TERMINAL.has(job.state)) {
      try {
        await events(`${base}/events`, onEvent, stop.signal);
      } catch (err) {
        if (err.name === "AbortError") return;
        showError(err);
        if (err.status >= 400 && err.status < 500) return; // refused: retrying will not help
      }
      if (!TERMINAL.has(job.state)) await new Promise((done) => setTimeout(done, RETRY_MS));
    }
  };

  drawJob();
  drawCharts();
  drawLog();
  mount(
    root,
    slots.head,
    slots.facts,
    slots.progress,
    job.kind === "train" ? [h("h2", {}, "Training"), slots.charts] : null,
    slots.result,
    h("h2", {}, "Log ", h("span", { class: "muted" }, `(last ${LOG_TAIL} lines)`)),
    log,
    slots.artifacts,
  );
  await showArtifacts();
  followLive();
}
