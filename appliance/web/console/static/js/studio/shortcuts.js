// The studio's keyboard: a key map (action → key combos) with defaults, kept per
// browser in localStorage, the listener that dispatches it, and the help overlay
// (opened with "?") that lists it and lets a key be changed.

import { h } from "../dom.js";

const STORE = "ahoy.studio.keys";

/** Every remappable action, in the order the help shows them. */
export const ACTIONS = [
  ...Array.from({ length: 9 }, (_, i) => ({
    action: `class${i + 1}`,
    label: `Pick class ${i + 1} (the ${ordinal(i + 1)} in the class list)`,
    keys: [String(i + 1)],
  })),
  { action: "box", label: "Box tool", keys: ["b"] },
  { action: "polygon", label: "Polygon tool", keys: ["p"] },
  { action: "keypoints", label: "Keypoints tool", keys: ["k"] },
  { action: "select", label: "Select / move tool", keys: ["v"] },
  { action: "delete", label: "Delete the selected object", keys: ["Delete", "Backspace"] },
  { action: "undo", label: "Undo", keys: ["Ctrl+z"] },
  { action: "redo", label: "Redo", keys: ["Ctrl+Shift+z", "Ctrl+y"] },
  { action: "copyPrevious", label: "Copy the previous image's labels", keys: ["c"] },
  { action: "accept", label: "Accept the selected proposal", keys: ["a"] },
  { action: "next", label: "Next image", keys: ["n", "ArrowRight"] },
  { action: "previous", label: "Previous image", keys: ["ArrowLeft"] },
  { action: "fit", label: "Fit the image to the screen", keys: ["f"] },
  { action: "zoomIn", label: "Zoom in", keys: ["+", "="] },
  { action: "zoomOut", label: "Zoom out", keys: ["-"] },
  { action: "actualSize", label: "Zoom to 100% (one image pixel per screen pixel)", keys: ["0"] },
  { action: "submit", label: "Submit for review", keys: ["Ctrl+Enter"] },
  { action: "help", label: "This help", keys: ["?"] },
];

/** Fixed gestures, listed in the help but not remappable. */
export const GESTURES = [
  ["Wheel", "Zoom around the cursor"],
  ["Space + drag, or middle mouse drag", "Pan"],
  ["Click, click, … then Enter or double-click", "Close a polygon (at least 3 points)"],
  ["Click in skeleton order; Shift+click", "A visible keypoint; a hidden one"],
  ["Enter", "Finish keypoints early (the rest are absent)"],
  ["Escape", "Cancel the shape being drawn, else clear the selection"],
];

function ordinal(n) {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

export function defaultKeymap() {
  return Object.fromEntries(ACTIONS.map((a) => [a.action, [...a.keys]]));
}

export function loadKeymap() {
  const map = defaultKeymap();
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "{}");
    for (const [action, keys] of Object.entries(saved)) {
      if (action in map && Array.isArray(keys)) map[action] = keys.map(String);
    }
  } catch {
    // a damaged entry falls back to the defaults
  }
  return map;
}

export function saveKeymap(map) {
  localStorage.setItem(STORE, JSON.stringify(map));
}

export function resetKeymap() {
  localStorage.removeItem(STORE);
  return defaultKeymap();
}

/** "Ctrl+Shift+z" for a keydown. Shift counts only for letters and named keys ("?" is "?"). */
export function comboOf(event) {
  let key = event.key;
  if (key === " " || key === "Spacebar") key = "Space";
  const single = key.length === 1;
  if (single) key = key.toLowerCase();
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey && (!single || /[a-z]/.test(key))) parts.push("Shift");
  parts.push(key);
  return parts.join("+");
}

/** A combo as the help shows it: "Ctrl+Shift+Z". */
export function display(combo) {
  return combo.replace(/(^|\+)([a-z])$/, (_, sep, k) => sep + k.toUpperCase());
}

/** Map ``combo`` to ``action``, taking it away from any other action; answers who lost it. */
export function rebind(map, action, combo) {
  let lost = null;
  for (const [other, keys] of Object.entries(map)) {
    if (other !== action && keys.includes(combo)) {
      map[other] = keys.filter((k) => k !== combo);
      lost = other;
    }
  }
  map[action] = [combo];
  saveKeymap(map);
  return lost;
}

function typing(target) {
  const tag = target && target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target?.isContentEditable;
}

/**
 * Dispatch keydowns to ``handlers[action](event)``; ``fallback(event, combo)`` sees
 * the keys no action has (Enter, Escape, Space for the tools). Keys typed into a
 * form field are left alone. Answers the function that stops listening.
 */
export function listen(map, handlers, fallback) {
  const onKey = (event) => {
    if (typing(event.target) || event.defaultPrevented) return;
    const combo = comboOf(event);
    const found = Object.entries(map).find(([, keys]) => keys.includes(combo));
    if (found && handlers[found[0]]) {
      event.preventDefault();
      handlers[found[0]](event);
    } else if (fallback) {
      fallback(event, combo);
    }
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}

/** The help overlay: every shortcut, a "change" button per action, the fixed gestures. */
export function helpOverlay(map, onClose) {
  const rows = h("tbody");
  const status = h("p", { class: "muted", "data-testid": "keys-status" });
  const fill = () => {
    rows.replaceChildren(
      ...ACTIONS.map(({ action, label }) =>
        h(
          "tr",
          { "data-action": action },
          h("td", {}, label),
          h("td", {}, ...(map[action] || []).map((k) => h("kbd", {}, display(k)))),
          h("td", {}, h("button", { type: "button", onClick: () => capture(action) }, "change")),
        ),
      ),
    );
  };
  const capture = (action) => {
    status.textContent = "Press the new key (Escape to keep the old one)…";
    const onKey = (event) => {
      event.preventDefault();
      event.stopPropagation();
      if (["Shift", "Control", "Alt", "Meta"].includes(event.key)) return;
      window.removeEventListener("keydown", onKey, true);
      if (event.key === "Escape") {
        status.textContent = "";
        return;
      }
      const combo = comboOf(event);
      const lost = rebind(map, action, combo);
      status.textContent = lost ? `${display(combo)} was taken from "${lost}".` : "";
      fill();
    };
    window.addEventListener("keydown", onKey, true);
  };
  const reset = () => {
    Object.assign(map, resetKeymap());
    status.textContent = "Back to the default keys.";
    fill();
  };
  fill();
  const close = h("button", { type: "button", onClick: onClose }, "Close");
  return h(
    "div",
    { class: "studio-help", role: "dialog", "aria-label": "Keyboard shortcuts" },
    h("h2", {}, "Keyboard shortcuts"),
    h("table", {}, rows),
    status,
    h("button", { type: "button", onClick: reset }, "Reset to defaults"),
    h("h3", {}, "Mouse"),
    h(
      "table",
      {},
      h("tbody", {}, ...GESTURES.map(([k, what]) => h("tr", {}, h("td", {}, what), h("td", {}, k)))),
    ),
    close,
  );
}
