// Pieces the jobs list and the job page share: what a job asked of the box, what the
// governor answered, its progress, its log lines as plain text, and the cancel button.

import { api, wsPath } from "./api.js";
import { bytes, h } from "./dom.js";
import { guarded } from "./ui.js";

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** "2 core(s), 976.0 MiB RAM, 316.1 MiB disk" (and GPUs when it asks for any). */
export function requestText(req) {
  if (!req) return "";
  const parts = [`${req.cpu_cores} core(s)`, `${bytes(req.ram_bytes)} RAM`];
  if (req.gpus) parts.push(`${req.gpus} GPU(s)${req.vram_mib ? ` with ${req.vram_mib} MiB each` : ""}`);
  parts.push(`${bytes(req.disk_bytes)} disk`);
  return parts.join(", ");
}

/** The governor's answer: a queued job's place in line and why it waits. */
export function admissionCell(job) {
  const a = job.admission;
  if (!a) return "";
  const devices = (job.devices || a.devices || []).length ? ` on ${(job.devices.length ? job.devices : a.devices).join(", ")}` : "";
  if (job.state === "queued") {
    return h(
      "span",
      { "data-testid": "admission", "data-position": a.position },
      h("strong", { "data-testid": "position" }, `#${a.position}`),
      ` in line · ${a.reason}`,
    );
  }
  const text = job.state === "running" ? `admitted${devices} · ${a.reason}` : a.reason;
  return h("span", { class: "muted", "data-testid": "admission", "data-position": a.position }, text);
}

/**
 * What a job's progress says, as a bar's ``value`` of ``max`` and its text. A
 * training run reports batches within the current epoch ({unit: "batch", epoch});
 * the bar then covers the whole run (epochs done plus this epoch's share) and the
 * text names both: "epoch 9 / 40 · batch 3 / 12". The run's epochs come from its
 * hyperparameters (defaults filled in by the appliance).
 */
export function progressOf(job) {
  const p = job.progress;
  if (!p || !p.total) return null;
  const epochs = Number(p.epochs || job.params?.hyperparameters?.epochs) || 0;
  if (p.unit === "batch" && p.epoch) {
    const batches = `batch ${p.done} / ${p.total}`;
    if (!epochs) return { value: p.done, max: p.total, text: `epoch ${p.epoch} · ${batches}` };
    const value = (Math.min(p.epoch, epochs) - 1) * p.total + p.done;
    return { value, max: epochs * p.total, text: `epoch ${p.epoch} / ${epochs} · ${batches}` };
  }
  if (p.unit === "epoch") return { value: p.done, max: p.total, text: `epoch ${p.done} / ${p.total}` };
  return { value: p.done, max: p.total, text: `${p.done} / ${p.total}${p.unit ? ` ${p.unit}` : ""}` };
}

export function progressBar(job) {
  const p = progressOf(job);
  if (job.state === "succeeded" && !p) return h("progress", { max: 1, value: 1, "data-testid": "progress" });
  if (job.state === "queued") return h("span", { class: "muted", "data-testid": "progress" }, "waiting");
  if (!p) return h("progress", { "data-testid": "progress" });
  return [
    h("progress", { max: p.max, value: p.value, "data-testid": "progress" }),
    h("span", { class: "muted", "data-testid": "progress-text" }, ` ${p.text}`),
  ];
}

// Terminal escape sequences: CSI (colours, cursor moves), OSC (titles, links, ended
// by BEL or ST) and the short ones (ESC ( B, ESC 7 …). Tools such as Ultralytics colour their
// output; the appliance keeps a job's log as the job wrote it (the API gives each
// line unchanged) and the console shows it as plain text.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]/g;

/** A log line without its terminal escape sequences. */
export function plainText(line) {
  return String(line).replace(ANSI, "");
}

export function errorText(error) {
  if (!error) return "";
  if (typeof error === "string") return error;
  return [error.title || error.code, error.detail || error.message, error.hint ? `(${error.hint})` : ""]
    .filter(Boolean)
    .join(": ");
}

/** Cancel a queued or running job; ``done(job)`` gets the appliance's answer. */
export function cancelButton(ws, job, done) {
  if (TERMINAL.has(job.state)) return null;
  const button = h(
    "button",
    {
      type: "button",
      class: "danger",
      "data-testid": "cancel",
      onClick: () =>
        guarded(async () => {
          button.disabled = true;
          try {
            done(await api(wsPath(ws, "jobs", job.id, "cancel"), { method: "POST" }));
          } finally {
            button.disabled = false;
          }
        }),
    },
    "Cancel",
  );
  return button;
}
