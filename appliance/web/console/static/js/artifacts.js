// The files a job made (GET .../jobs/{id}/artifacts): a table with downloads, and the
// training plots shown as images. Blobs are fetched with the token and shown through
// object URLs (released when the user leaves the page).

import { api, blobText, blobUrl, wsPath } from "./api.js";
import { bytes, h, mount, shortHash } from "./dom.js";
import { empty, guarded, table } from "./ui.js";

/** The plots worth a look first, in this order; other images stay downloads. */
const PLOTS = [/^results\.png$/, /^confusion_matrix\.png$/, /PR_curve\.png$/];

function rank(name) {
  const i = PLOTS.findIndex((re) => re.test(name));
  return i < 0 ? null : i;
}

function download(ws, artifact) {
  return guarded(async () => {
    const url = await blobUrl(wsPath(ws, "blobs", artifact.sha256));
    const a = h("a", { href: url, download: artifact.name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  });
}

/** Text files a person reads (the trainer's whole log, the results table). */
const TEXT = /\.(log|csv|ya?ml|txt|json)$/;
const TEXT_TAIL = 400;

function viewText(ws, artifact, pane) {
  return guarded(async () => {
    const lines = (await blobText(wsPath(ws, "blobs", artifact.sha256))).split(/\r?\n/);
    const shown = lines.length > TEXT_TAIL ? lines.slice(-TEXT_TAIL) : lines;
    mount(
      pane,
      h("h3", {}, artifact.name, lines.length > TEXT_TAIL ? ` (last ${TEXT_TAIL} lines)` : ""),
      h("pre", { class: "log", "data-testid": "artifact-text", "data-name": artifact.name }, shown.join("\n")),
    );
  });
}

function plot(ws, artifact) {
  const img = h("img", { alt: artifact.name, "data-testid": "plot", "data-name": artifact.name });
  blobUrl(wsPath(ws, "blobs", artifact.sha256))
    .then((url) => {
      img.src = url;
    })
    .catch(() => {
      img.alt = `${artifact.name} could not be loaded`;
    });
  return h("figure", { class: "plot" }, img, h("figcaption", {}, artifact.name));
}

export async function artifactsPanel(ws, jobId) {
  const { artifacts } = await api(wsPath(ws, "jobs", jobId, "artifacts"));
  if (!artifacts.length) return [h("h2", {}, "Artifacts"), empty("This job kept no files.")];
  const plots = artifacts.filter((a) => rank(a.name) !== null).sort((a, b) => rank(a.name) - rank(b.name));
  const pane = h("div", { "data-testid": "artifact-view" });
  const rows = artifacts.map((a) =>
    h(
      "tr",
      { "data-testid": "artifact", "data-name": a.name },
      h("td", {}, h("button", { type: "button", class: "link", onClick: () => download(ws, a) }, a.name)),
      h("td", { class: "num" }, bytes(a.size)),
      h("td", {}, h("code", { title: a.sha256 }, shortHash(a.sha256))),
      h("td", {}, TEXT.test(a.name) ? h("button", { type: "button", class: "link", "data-testid": "view-text", onClick: () => viewText(ws, a, pane) }, "view") : null),
    ),
  );
  return [
    h("h2", {}, "Artifacts"),
    plots.length ? h("div", { class: "plots", "data-testid": "plots" }, plots.map((a) => plot(ws, a))) : null,
    table(["File", "Size", "Content", ""], rows, { "data-testid": "artifacts" }),
    pane,
  ];
}
