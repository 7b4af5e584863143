// The studio's frame: queue | toolbar, canvas, status line | classes and objects.
// It owns the save indicator (with the conflict choices), the help overlay and
// the keyboard; the controller owns the data.

import { h, mount } from "../dom.js";
import { guarded } from "../ui.js";
import { CONFLICT, STATE_TEXT } from "./autosave.js";
import { display, helpOverlay, listen, loadKeymap } from "./shortcuts.js";

const TOOL_NAMES = { box: "Box", polygon: "Polygon", keypoints: "Keypoints", select: "Select" };

export function createLayout(root) {
  const keymap = loadKeymap();
  const left = h("aside", { class: "studio-queue", "aria-label": "Images" });
  const right = h("aside", { class: "studio-side" });
  const canvas = h("div", { class: "studio-canvas", "data-testid": "studio-canvas", tabindex: "0" });
  const title = h("h1", { class: "studio-title", "data-testid": "studio-title" });
  const saveState = h("span", { class: "save-state", "data-testid": "save-state", "data-state": "saved" }, STATE_TEXT.saved);
  const conflict = h("span", { class: "conflict-actions", hidden: true });
  const hint = h("span", { class: "hint", "data-testid": "hint" });
  const zoomLevel = h("span", { class: "zoom-level", "data-testid": "zoom-level", title: "Zoom (100%: one image pixel per screen pixel)" }, "");
  const restore = h("div", { class: "restore", hidden: true, "data-testid": "restore" });
  const toolButtons = {};
  const toolbar = h("div", { class: "studio-toolbar", role: "toolbar" });
  const wrap = h(
    "div",
    { class: "studio", "data-testid": "studio" },
    left,
    h("div", { class: "studio-centre" }, h("div", { class: "studio-head" }, title, toolbar), restore, canvas, h("div", { class: "studio-status" }, saveState, conflict, hint)),
    right,
  );
  mount(root, wrap);
  // A click on a button must not leave the focus there: a focused button takes
  // Space (a second click on keyup) and the keys meant for the canvas. Keyboard
  // users still Tab to buttons; the canvas takes the focus back when pressed.
  wrap.addEventListener("mousedown", (e) => {
    if (e.button === 0 && e.target.closest("button")) e.preventDefault();
  });
  canvas.addEventListener("mousedown", () => canvas.focus({ preventScroll: true }));
  let actions = null;
  let help = null;

  const keyOf = (action) => (keymap[action] || []).map(display).join(" / ");
  const button = (text, action, run) =>
    h("button", { type: "button", "data-action": action, title: `${text} (${keyOf(action)})`, onClick: run }, text);

  function toggleHelp() {
    if (help) {
      help.remove();
      help = null;
      return;
    }
    help = helpOverlay(keymap, toggleHelp);
    wrap.append(help);
  }

  return {
    root: wrap,
    left,
    right,
    canvas,
    guarded,
    setTitle(text) {
      title.textContent = text;
    },
    setHint(text) {
      hint.textContent = text || "";
    },
    setZoom(scale) {
      zoomLevel.textContent = `${Math.round(scale * 100)}%`;
      zoomLevel.dataset.scale = String(scale);
    },
    setTool(name) {
      for (const [tool, el] of Object.entries(toolButtons)) el.setAttribute("aria-pressed", String(tool === name));
      canvas.dataset.tool = name;
    },
    setSaveState(state, err) {
      saveState.textContent = STATE_TEXT[state] || state;
      saveState.dataset.state = state;
      saveState.title = err ? [err.title, err.detail, err.hint].filter(Boolean).join(" — ") : "";
      conflict.hidden = state !== CONFLICT;
    },
    offerRestore(kept, onRestore, onDiscard) {
      const when = new Date(kept.at).toLocaleString();
      const close = () => {
        restore.hidden = true;
        restore.replaceChildren();
      };
      mount(
        restore,
        `Edits of this image that could not be saved (${when}, ${kept.document.objects.length} objects) are kept in this browser. `,
        h("button", { type: "button", "data-testid": "restore-yes", onClick: () => (onRestore(), close()) }, "Restore them"),
        h("button", { type: "button", onClick: () => (onDiscard(), close()) }, "Discard"),
      );
      restore.hidden = false;
    },
    /** Wire the toolbar and the keyboard to the controller's actions. */
    bind(a) {
      actions = a;
      const tools = Object.entries(TOOL_NAMES).map(([tool, text]) => {
        toolButtons[tool] = button(text, tool, () => a.tool(tool));
        return toolButtons[tool];
      });
      mount(
        toolbar,
        tools,
        button("Undo", "undo", a.undo),
        button("Redo", "redo", a.redo),
        button("Copy previous", "copyPrevious", a.copyPrevious),
        button("−", "zoomOut", a.zoomOut),
        zoomLevel,
        button("+", "zoomIn", a.zoomIn),
        button("Fit", "fit", a.fit),
        button("‹ Prev", "previous", a.previous),
        button("Next ›", "next", a.next),
        h("button", { type: "button", "data-testid": "help", title: "Keyboard shortcuts (?)", onClick: toggleHelp }, "?"),
      );
      mount(
        conflict,
        h("button", { type: "button", "data-testid": "conflict-reload", onClick: () => guarded(a.resolve.reload) }, "Reload theirs"),
        h("button", { type: "button", "data-testid": "conflict-mine", onClick: () => guarded(a.resolve.keepMine) }, "Keep mine"),
      );
      const handlers = {
        box: () => a.tool("box"),
        polygon: () => a.tool("polygon"),
        keypoints: () => a.tool("keypoints"),
        select: () => a.tool("select"),
        delete: a.remove,
        undo: a.undo,
        redo: a.redo,
        copyPrevious: a.copyPrevious,
        accept: a.accept,
        next: a.next,
        previous: a.previous,
        fit: a.fit,
        zoomIn: a.zoomIn,
        zoomOut: a.zoomOut,
        actualSize: a.actualSize,
        submit: a.submit,
        help: toggleHelp,
      };
      for (let i = 0; i < 9; i += 1) handlers[`class${i + 1}`] = () => a.pickNth(i);
      const stop = listen(keymap, handlers, (event, combo) => {
        if (combo === "Escape" && help) return toggleHelp();
        if (a.key(combo)) event.preventDefault();
      });
      a.tool("box");
      return stop;
    },
    get actions() {
      return actions;
    },
  };
}
