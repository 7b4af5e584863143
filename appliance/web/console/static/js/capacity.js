// The box as the governor sees it (GET /v1/capacity): cores, RAM, disk, load, each
// GPU or why there is none, and how many jobs run and wait. Re-read every 2 s while
// the tab is visible; the polling stops when the user leaves the page.

import { api } from "./api.js";
import { bytes, h, mount } from "./dom.js";
import { onLeave } from "./router.js";

const REFRESH_MS = 2000;
const MIB = 1024 * 1024;

/** A <meter> of ``used`` out of ``total`` with its words beside it. */
function gauge(used, total, text, testid) {
  return h(
    "span",
    { class: "gauge", "data-testid": testid },
    h("meter", { min: 0, max: total || 1, value: used, low: 0.7 * total, high: 0.9 * total, optimum: 0 }),
    h("span", { class: "muted" }, ` ${text}`),
  );
}

function fact(label, value, testid) {
  return [h("dt", {}, label), h("dd", { "data-testid": testid }, value)];
}

function gpuRow(gpu) {
  const total = gpu.memory_total_mib * MIB;
  const free = gpu.memory_free_mib * MIB;
  const util = Math.round(gpu.utilization || 0);
  return h(
    "li",
    { "data-testid": "cap-gpu", "data-index": gpu.index },
    h("strong", {}, `GPU ${gpu.index}`),
    ` ${gpu.name} `,
    gauge(total - free, total, `${bytes(free)} free of ${bytes(total)}`, "cap-gpu-memory"),
    " ",
    gauge(util, 100, `${util}% busy`, "cap-gpu-utilization"),
    gpu.mig && gpu.mig.length
      ? h("span", { class: "muted" }, ` · MIG: ${gpu.mig.map((m) => `${m.id} (${m.memory_mib} MiB)`).join(", ")}`)
      : null,
  );
}

function view(cap) {
  const r = cap.reading;
  const usedRam = r.ram_total - r.ram_available;
  const gpus = r.gpus.length
    ? h("ul", { class: "gpus" }, r.gpus.map(gpuRow))
    : h("span", { "data-testid": "cap-no-gpu" }, `no GPU: ${r.gpu_note || "none seen"}`);
  return h(
    "dl",
    { class: "facts capacity-facts" },
    fact("Cores", String(r.cores), "cap-cores"),
    fact("RAM", gauge(usedRam, r.ram_total, `${bytes(r.ram_available)} free of ${bytes(r.ram_total)}, ${bytes(cap.reserved_ram_bytes)} kept for the appliance`, "cap-ram"), null),
    fact("Disk", `${bytes(r.disk_free)} free`, "cap-disk"),
    fact("Load", `${Number(r.load1).toFixed(2)} (1 min, ${r.cores} cores)`, "cap-load"),
    fact("GPUs", gpus, "cap-gpus"),
    fact(
      "Jobs",
      h(
        "span",
        {},
        h("span", { "data-testid": "cap-running" }, String(cap.running)),
        " running, ",
        h("span", { "data-testid": "cap-queued" }, String(cap.queued)),
        " queued",
        cap.devices_in_use.length ? ` · devices in use: ${cap.devices_in_use.join(", ")}` : "",
      ),
      "cap-jobs",
    ),
    fact("Worker", h("span", { class: `badge worker-${String(cap.worker).replace(/\W+/g, "-")}` }, cap.worker), "cap-worker"),
  );
}

/**
 * The capacity card, filled at once and then every 2 s while the page is shown.
 * Resolves after the first reading, so a page renders with it filled.
 */
export async function capacityPanel({ title = "Capacity" } = {}) {
  const body = h("div", { "data-testid": "capacity-body" });
  const stamp = h("span", { class: "muted", "data-testid": "capacity-at" });
  const card = h("section", { class: "card capacity", "data-testid": "capacity" }, h("h2", {}, title, " ", stamp), body);
  let busy = false;
  const read = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const cap = await api("/v1/capacity");
      mount(body, view(cap));
      card.dataset.probe = cap.probe;
      stamp.textContent = `read ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (err.name !== "AbortError") mount(body, h("p", { class: "error", "data-testid": "capacity-error" }, err.message));
    } finally {
      busy = false;
    }
  };
  await read();
  const timer = setInterval(read, REFRESH_MS);
  const onVisible = () => {
    if (!document.hidden) read();
  };
  document.addEventListener("visibilitychange", onVisible);
  onLeave(() => {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
  });
  return card;
}
