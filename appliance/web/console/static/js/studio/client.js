// The annotation endpoints of one dataset (/v1/workspaces/{ws}/datasets/{ds}/...):
// the work queue, one item with its labels, saving (conditional, If-Match),
// submit, review, review stats, commit and pre-labelling.

import { ApiError, api, blobUrl, query, token, wsPath } from "../api.js";

/** A file path as URL segments: each part encoded, the slashes kept. */
export const itemPath = (path) => String(path).split("/").map(encodeURIComponent).join("/");

async function problemOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = { title: res.statusText };
  }
  return new ApiError(res.status, body);
}

/** A JSON call with extra headers (If-Match), which api() does not take. */
async function send(method, url, body, extra = {}, keepalive = false) {
  const headers = { Accept: "application/json", "Content-Type": "application/json", ...extra };
  const sent = token();
  if (sent) headers.Authorization = `Bearer ${sent}`;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      keepalive,
    });
  } catch (err) {
    throw new ApiError(0, { title: "Cannot reach the appliance", detail: String(err.message || err) });
  }
  if (!res.ok) throw await problemOf(res);
  return res.json();
}

export function client(ws, ds) {
  const base = wsPath(ws, "datasets", ds);
  // A path may hold slashes, so it is always last: the verb comes before it.
  const at = (verb, path) => `${base}/${verb}/${itemPath(path)}`;

  return {
    schema: () => api(`${base}/schema`),
    /** One page of the queue: ``filter`` is {state, annotator, prefix}. */
    items: (filter, cursor, limit = 100) =>
      api(`${base}/items${query({ ...filter, cursor, limit })}`),
    /** The item with ``labels`` (its document or null) and ``label_sha256``. */
    item: (path) => api(at("items", path)),
    imageUrl: (sha256) => blobUrl(wsPath(ws, "blobs", sha256)),
    /** Save a label document, only if the labels are still ``ifMatch`` (a hash or "none"). */
    saveLabels: (path, document, ifMatch, keepalive = false) =>
      send("PUT", at("labels", path), document, { "If-Match": `"${ifMatch || "none"}"` }, keepalive),
    submit: (path) => send("POST", at("submit", path), {}),
    /** Approve or reject the labels the reviewer saw (``seen``: their label_sha256). */
    review: (path, decision, comment, seen) =>
      send("POST", at("review", path), { decision, comment }, { "If-Match": `"${seen || "none"}"` }),
    prelabel: (path, model, minScore) => send("POST", at("prelabel", path), { model, min_score: minScore }),
    /** The workspace's models (name, task, latest, tags). */
    models: () => api(wsPath(ws, "models")),
    stats: () => api(`${base}/review/stats`),
    commit: (message, onlyApproved) =>
      send("POST", `${base}/versions`, { message, only_approved: onlyApproved }),
  };
}
