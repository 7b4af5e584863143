// Undo/redo as snapshots of the document's objects, kept as JSON text: a snapshot
// cannot be changed by a later edit, and 100 of them for a 1,000-box image are a
// few megabytes. The editor calls ``record`` before each change it makes.

export function createHistory(limit = 100) {
  let undo = [];
  let redo = [];

  const snapshot = (doc) => JSON.stringify(doc.objects);
  const push = (text) => {
    if (undo[undo.length - 1] === text) return;
    undo.push(text);
    if (undo.length > limit) undo.shift();
    redo = [];
  };
  const restore = (doc, text) => {
    doc.objects = JSON.parse(text);
    return doc;
  };

  return {
    /** Forget everything (a new image was opened). */
    reset() {
      undo = [];
      redo = [];
    },
    /** The objects of ``doc`` as the history keeps them (compare two to see a change). */
    snapshot,
    /** Remember ``doc`` as it is now, before a change; a new change forgets the redos. */
    record(doc) {
      push(snapshot(doc));
    },
    /** Remember a ``snapshot`` taken before a change (see ``record``). */
    push,
    /** Back one step: true when ``doc`` changed. */
    undo(doc) {
      if (!undo.length) return false;
      redo.push(snapshot(doc));
      restore(doc, undo.pop());
      return true;
    },
    /** Forward one step: true when ``doc`` changed. */
    redo(doc) {
      if (!redo.length) return false;
      undo.push(snapshot(doc));
      restore(doc, redo.pop());
      return true;
    },
    get canUndo() {
      return undo.length > 0;
    },
    get canRedo() {
      return redo.length > 0;
    },
  };
}
