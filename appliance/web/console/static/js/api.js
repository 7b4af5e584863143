// The console's one way to the /v1 API: a Bearer token kept in sessionStorage
// (tabs.js shares it with the console's other tabs, never through a cookie),
// JSON in and out, problem+json errors thrown as ApiError (title, detail, hint).

const TOKEN_KEY = "ahoy.token";
let unauthorized = () => {};
const objectUrls = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem || {};
    super([p.title, p.detail].filter(Boolean).join(": ") || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.title = p.title || `HTTP ${status}`;
    this.detail = p.detail || "";
    this.hint = p.hint || "";
    this.problem = p;
  }
}

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** Called when the appliance refuses the token we sent (expired, revoked). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** "/v1/workspaces/{ws}/a/b" with every segment encoded. */
export function wsPath(ws, ...segments) {
  return ["/v1/workspaces", ws, ...segments].map((x, i) => (i ? encodeURIComponent(x) : x)).join("/");
}

/** "?a=1&b=2" from an object, leaving out null and undefined. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) q.set(k, v);
  const text = q.toString();
  return text ? `?${text}` : "";
}

async function problemOf(res) {
  const type = res.headers.get("content-type") || "";
  let body = null;
  try {
    body = type.includes("json") ? await res.json() : { detail: (await res.text()).slice(0, 300) };
  } catch {
    body = null;
  }
  return new ApiError(res.status, body || { title: res.statusText });
}

async function send(path, { method = "GET", body, accept = "application/json", signal } = {}) {
  const headers = { Accept: accept };
  const sent = token();
  if (sent) headers.Authorization = `Bearer ${sent}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, {
      title: "Cannot reach the appliance",
      detail: String(err.message || err),
      hint: "check that the appliance is running and that this machine can reach it",
    });
  }
  if (!res.ok) {
    const err = await problemOf(res);
    if (res.status === 401 && sent) {
      clearToken();
      unauthorized(err);
    }
    throw err;
  }
  return res;
}

/** A JSON call: the decoded answer, or null for 204. */
export async function api(path, options) {
  const res = await send(path, options);
  return res.status === 204 ? null : res.json();
}

/** Every item of a cursor-paginated list, up to ``max``. */
export async function all(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(path + (cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ""));
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** Bytes that hold JSON but are served as octet-stream (label documents are blobs). */
export async function blobJson(path) {
  const res = await send(path, { accept: "*/*" });
  return JSON.parse(await res.text());
}

/** Bytes that hold text (a job's log, a CSV), decoded as UTF-8. */
export async function blobText(path) {
  const res = await send(path, { accept: "*/*" });
  return res.text();
}

/** An authenticated download as an object URL for an <img>; released on navigation. */
export async function blobUrl(path) {
  const res = await send(path, { accept: "*/*" });
  const url = URL.createObjectURL(await res.blob());
  objectUrls.add(url);
  return url;
}

export function releaseObjectUrls() {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}

function parseFrame(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue; // a comment: the server's keep-alive ping
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  const text = data.join("\n");
  try {
    return { event, data: JSON.parse(text) };
  } catch {
    return { event, data: text };
  }
}

/**
 * Server-Sent Events over fetch, since EventSource cannot send the Authorization
 * header. Calls ``onEvent({event, data})`` per event; resolves when the stream ends.
 */
export async function events(path, onEvent, signal) {
  const res = await send(path, { accept: "text/event-stream", signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.match(/\r?\n\r?\n/))) {
        const message = parseFrame(buffer.slice(0, end.index));
        buffer = buffer.slice(end.index + end[0].length);
        if (message) onEvent(message);
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") throw err;
  } finally {
    reader.releaseLock();
  }
}
