// Pieces the jobs list and the job page share: what a job asked of the box, what the
// governor answered, its progress, and the cancel button.

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

export function progressBar(job) {
  const p = job.progress;
  if (job.state === "succeeded" && !(p && p.total)) return h("progress", { max: 1, value: 1, "data-testid": "progress" });
  if (job.state === "queued") return h("span", { class: "muted", "data-testid": "progress" }, "waiting");
  if (!p || !p.total) return h("progress", { "data-testid": "progress" });
  const text = `${p.done} / ${p.total}${p.unit ? ` ${p.unit}` : ""}`;
  return [
    h("progress", { max: p.total, value: p.done, "data-testid": "progress" }),
    h("span", { class: "muted", "data-testid": "progress-text" }, ` ${text}`),
  ];
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
