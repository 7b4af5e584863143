// Edits that could not be saved (a conflict, the appliance unreachable) when the
// user moved on: kept in this browser's localStorage, per image, and offered
// back the next time that image is opened. Nothing is dropped without asking.

const PREFIX = "ahoy.studio.unsaved:";
const key = (ws, ds, path) => `${PREFIX}${ws}/${ds}/${path}`;

export function keep(ws, ds, path, document) {
  try {
    localStorage.setItem(key(ws, ds, path), JSON.stringify({ at: Date.now(), document }));
  } catch (err) {
    console.warn("could not keep unsaved labels:", err);
  }
}

export function find(ws, ds, path) {
  try {
    return JSON.parse(localStorage.getItem(key(ws, ds, path)) || "null");
  } catch {
    return null;
  }
}

export function drop(ws, ds, path) {
  localStorage.removeItem(key(ws, ds, path));
}
