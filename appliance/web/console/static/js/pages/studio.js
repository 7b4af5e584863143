// The annotation studio: #/ws/{ws}/datasets/{ds}/studio?path=&filter=
// The page only wires the frame (studio/layout.js) to the controller
// (studio/controller.js); the editor, tools, undo, keys and autosave live in studio/.

import { onLeave } from "../router.js";
import { createController } from "../studio/controller.js";
import { createLayout } from "../studio/layout.js";
import { loadKonva } from "../studio/vendor.js";

export async function render(root, { ws, ds, path, filter }) {
  await loadKonva();
  const layout = createLayout(root);
  const studio = createController(layout, { ws, ds, filter });
  const stopKeys = layout.bind(studio.actions);
  const beforeUnload = (event) => {
    if (!studio.dirty) return;
    studio.actions.flushSoon();
    event.preventDefault();
    event.returnValue = ""; // the browser asks "leave the page?" while edits are unsaved
  };
  window.addEventListener("beforeunload", beforeUnload);
  onLeave(() => {
    stopKeys();
    window.removeEventListener("beforeunload", beforeUnload);
    studio.leave();
  });
  await studio.start(path);
}
