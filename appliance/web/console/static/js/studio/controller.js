// The studio for one dataset: opens an image of the queue with its labels, turns
// every edit into one undoable step that autosaves, and moves between images
// only once the edits are saved (or kept in this browser, and said so).

import { route } from "../dom.js";
import { CONFLICT, createAutosave, FAILED, REFUSED } from "./autosave.js";
import { client as makeClient } from "./client.js";
import { accept, copyObjects, loadDocument, toCanonical } from "./doc.js";
import { createEditor } from "./editor.js";
import { createHistory } from "./history.js";
import { createPanels, submitRefused } from "./panels.js";
import { createQueue } from "./queue.js";
import * as stash from "./stash.js";
import { createTools } from "./tools.js";

export function createController(layout, { ws, ds, filter }) {
  const api = makeClient(ws, ds);
  const steps = createHistory();
  let item = null;
  let doc = loadDocument(null);
  let classes = [];
  let skeletons = new Map();
  let currentClass = 0;
  let imageUrl = null;
  let opening = Promise.resolve();

  const editor = createEditor(layout.canvas, {
    edit,
    onSelect: () => refreshList(),
    onZoom: (scale) => layout.setZoom(scale),
  });
  const tools = createTools(editor, {
    add: (o) => {
      edit((d) => d.objects.push(o));
      editor.select(o.id);
    },
    currentClass: () => currentClass,
    skeletonOf: (cls) => skeletons.get(cls) || null,
    onHint: (text) => layout.setHint(text),
  });
  const autosave = createAutosave({
    save: async (document, ifMatch) => {
      const answer = await api.saveLabels(item.path, document, ifMatch);
      queue.update(item.path, { state: answer.state, label_sha256: answer.label_sha256 });
      item = { ...item, state: answer.state || item.state, label_sha256: answer.label_sha256 };
      panels.setItem(item);
      return answer;
    },
    snapshot: () => toCanonical(doc),
    onState: (state, err) => layout.setSaveState(state, err),
  });
  const panels = createPanels(layout.right, {
    onPickClass: pickClass,
    onSelect: (id) => editor.select(id),
    onDelete: (id) => edit((d) => (d.objects = d.objects.filter((o) => o.id !== id))),
    onReclass: (id, cls) => reclass(id, cls),
    onAccept: (id) => edit((d) => (d.objects = d.objects.map((o) => (o.id === id ? accept(o) : o)))),
    onSubmit: () => layout.guarded(submit),
    onPrelabel: (model, minScore) => prelabel(model, minScore),
  });
  const queue = createQueue(layout.left, { client: api, onOpen: (path) => navigate(path), filter });

  /** Every change of the document goes through here: one undo step, one autosave.
   * A ``mutate`` that changed nothing (a click on a box) is no step and no save. */
  function edit(mutate) {
    const before = steps.snapshot(doc);
    mutate(doc);
    if (steps.snapshot(doc) === before) {
      editor.setDocument(doc);
      refreshList();
      return;
    }
    steps.push(before);
    changed();
  }

  function changed() {
    editor.setDocument(doc);
    refreshList();
    if (item) autosave.changed();
  }

  function refreshList() {
    panels.setObjects(doc.objects, editor.selectedId);
  }

  function pickClass(cls) {
    currentClass = cls;
    panels.setCurrentClass(cls);
    const o = editor.selected();
    if (o && o.class !== cls) reclass(o.id, cls);
  }

  function reclass(id, cls) {
    edit((d) => d.objects.forEach((o) => o.id === id && (o.class = cls)));
  }

  async function loadSchema() {
    const schema = await api.schema();
    classes = (schema.classes || []).filter((c) => !c.reserved);
    skeletons = new Map((schema.skeletons || []).map((s) => [s.class, s]));
    currentClass = classes.length ? classes[0].id : 0;
    editor.setClasses(schema.classes || [], schema.skeletons || []);
    panels.setClasses(classes);
    panels.setCurrentClass(currentClass);
  }

  async function open(path) {
    const next = await api.item(path);
    const url = await api.imageUrl(next.sha256);
    const img = new Image();
    img.src = url;
    await img.decode();
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = url;
    item = next;
    doc = loadDocument(next.labels, [img.naturalWidth, img.naturalHeight]);
    steps.reset();
    autosave.load(next.label_sha256, toCanonical(doc));
    editor.select(null);
    editor.setImage(img);
    editor.setDocument(doc);
    refreshList();
    panels.setItem(item);
    queue.open(path);
    layout.setTitle(path);
    const shown = queue.filter === "all" ? "" : `&filter=${encodeURIComponent(queue.filter)}`;
    const here = `${route("ws", ws, "datasets", ds, "studio")}?path=${encodeURIComponent(path)}${shown}`;
    window.history.replaceState(null, "", here); // no hashchange: the page stays, only the URL follows
    const kept = stash.find(ws, ds, path);
    if (kept) layout.offerRestore(kept, () => restore(kept), () => stash.drop(ws, ds, path));
  }

  function restore(kept) {
    edit((d) => (d.objects = kept.document.objects));
    stash.drop(ws, ds, item.path);
  }

  /** Save, then open ``path``; unsaved edits (a conflict) are kept in this browser first. */
  async function navigate(path) {
    if (!path) return;
    opening = opening.then(async () => {
      if (item && !(await autosave.flush())) {
        if (!window.confirm("This image's edits are not saved. Keep them in this browser and move on?")) return;
        stash.keep(ws, ds, item.path, toCanonical(doc));
      }
      await layout.guarded(() => open(path));
    });
    return opening;
  }

  async function step(by) {
    if (!item) return;
    const path = await queue.neighbour(item.path, by);
    if (path) await navigate(path);
    else panels.say(by > 0 ? "That was the last image of the queue." : "This is the first image of the queue.");
  }

  async function copyPrevious() {
    const path = item && (await queue.neighbour(item.path, -1));
    if (!path) return panels.say("There is no previous image in the queue to copy from.");
    const previous = await api.item(path);
    const objects = previous.labels?.objects || [];
    if (!objects.length) return panels.say(`${path} has no labels to copy.`);
    edit((d) => d.objects.push(...copyObjects(objects)));
    panels.say(`Copied ${objects.length} objects from ${path}.`);
  }

  /** Submit this image for review, then open the next one of the queue. */
  async function submit() {
    if (!item) return;
    if (!(await autosave.flush())) return panels.say("Save the labels before submitting.");
    const why = submitRefused(item);
    if (why) return panels.say(why);
    const done = item.path;
    const answer = await api.submit(done);
    item = { ...item, ...answer, state: answer.state || "submitted" };
    panels.setItem(item);
    queue.update(done, { state: item.state });
    const next = await queue.neighbour(done, 1);
    if (next) await navigate(next);
    panels.say(`Submitted ${done} for review.${next ? "" : " That was the last image of the queue."}`);
  }

  async function loadModels() {
    try {
      const { items } = await api.models();
      panels.setModels(items.filter((m) => m.task === "detect" && m.latest));
    } catch (err) {
      if (!(err.status >= 400 && err.status < 500)) throw err;
      panels.setModels(null, `Pre-labelling needs the models of this workspace: ${err.title}.`);
    }
  }

  async function prelabel(model, minScore) {
    if (!item || !(await autosave.flush())) return;
    try {
      const answer = await api.prelabel(item.path, model, minScore);
      if (answer.changed) await open(item.path);
      const n = answer.proposed;
      const also = answer.skipped ? ` (${answer.skipped} left out: already drawn)` : "";
      panels.say(
        n
          ? `${n} proposal${n === 1 ? "" : "s"} from ${model} added${also}: dashed outlines; accept them one by one (a).`
          : `No proposals: ${model} found nothing scoring ${minScore} or more on this image${also}.`,
      );
    } catch (err) {
      panels.say([err.title, err.detail, err.hint].filter(Boolean).join(" — "));
    }
  }

  /** After a conflict: theirs (drop mine) or mine (save over theirs). */
  const resolve = {
    async reload() {
      if (!window.confirm("Drop your edits of this image and load the newer labels?")) return;
      autosave.load(item.label_sha256);
      await open(item.path);
    },
    async keepMine() {
      const latest = await api.item(item.path);
      await autosave.overwrite(latest.label_sha256);
    },
  };

  const actions = {
    tool: (name) => {
      tools.use(name);
      layout.setTool(name);
    },
    undo: () => steps.undo(doc) && changed(),
    redo: () => steps.redo(doc) && changed(),
    remove: () => editor.selectedId && edit((d) => (d.objects = d.objects.filter((o) => o.id !== editor.selectedId))),
    accept: () => editor.selectedId && edit((d) => (d.objects = d.objects.map((o) => (o.id === editor.selectedId ? accept(o) : o)))),
    pickNth: (n) => classes[n] && pickClass(classes[n].id),
    copyPrevious: () => layout.guarded(copyPrevious),
    next: () => step(1),
    previous: () => step(-1),
    fit: () => editor.fit(),
    zoomIn: () => editor.zoomBy(1.25),
    zoomOut: () => editor.zoomBy(1 / 1.25),
    actualSize: () => editor.actualSize(),
    submit: () => layout.guarded(submit),
    key: (combo) => tools.key(combo),
    flushSoon: () => autosave.flush(),
    resolve,
  };

  window.__studio = {
    objectCount: () => doc.objects.length,
    lastRenderMs: () => editor.view.lastRenderMs,
    document: () => toCanonical(doc),
    selectedId: () => editor.selectedId,
    select: (id) => editor.select(id),
    saveState: () => autosave.state,
    flush: () => autosave.flush(),
    tool: () => tools.tool,
    zoom: () => editor.stage.scaleX(),
    /** Screen position (page pixels) of a normalized image point: for tests. */
    toScreen: (x, y) => {
      const r = layout.canvas.getBoundingClientRect();
      const t = editor.stage.getAbsoluteTransform().point({ x: x * editor.view.width, y: y * editor.view.height });
      return { x: r.left + t.x, y: r.top + t.y };
    },
  };

  return {
    actions,
    async start(path) {
      await loadSchema();
      await loadModels();
      const first = await queue.reload(queue.filter);
      await navigate(path || first[0]?.path);
      if (!path && !first.length) panels.say("No images to label with this filter.");
    },
    /** The page is going away: save what is not saved, or keep it here. */
    leave() {
      tools.destroy();
      autosave.close();
      autosave.flush().then((ok) => {
        if (!ok && item) stash.keep(ws, ds, item.path, toCanonical(doc));
      });
      if ([CONFLICT, FAILED, REFUSED].includes(autosave.state) && item) stash.keep(ws, ds, item.path, toCanonical(doc));
      editor.destroy();
      delete window.__studio;
    },
    get dirty() {
      return autosave.dirty;
    },
  };
}
