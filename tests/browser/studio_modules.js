// Run in the page by test_studio.py: the studio's pure modules (the document
// rules, undo history, autosave's conflict handling, key combos), imported from
// the appliance and exercised with fakes. Answers what it saw; Python asserts.
async () => {
  const doc = await import("/console/static/js/studio/doc.js");
  const { createHistory } = await import("/console/static/js/studio/history.js");
  const autosave = await import("/console/static/js/studio/autosave.js");
  const keys = await import("/console/static/js/studio/shortcuts.js");
  const out = {};
  const raw = {
    format: "ahoy.labels/1", size: [640, 480], tags: ["night"], by: "user:x", at: 1,
    attributes: {camera: "c1"}, future: {kept: true},
    objects: [
      {type: "box", class: 0, box: [0.1234567891, 0.5, 0.2, 0.2], attributes: {occluded: true}},
      {type: "box", class: 1, box: [0.95, 0.5, 0.2, 0.2], id: "edge", extra: 7},
      {type: "box", class: 1, box: [1.5, 0.5, 0.2, 0.2], id: "gone"},
    ],
  };
  const loaded = doc.loadDocument(raw);
  out.ids = loaded.objects.map((o) => typeof o.id === "string" && o.id.length > 0);
  out.canonical = doc.toCanonical(loaded);
  out.untouched = raw.objects[0].box;
  const saved = crypto.randomUUID;
  Object.defineProperty(crypto, "randomUUID", {value: undefined, configurable: true});
  out.fallbackId = doc.newId();
  Object.defineProperty(crypto, "randomUUID", {value: saved, configurable: true});
  out.copied = doc.copyObjects([{id: "a", type: "box", class: 2, box: [0.5, 0.5, 0.1, 0.1]}]);
  out.accepted = doc.accept({id: "p", attributes: {proposal: true, score: 0.9}});

  const h = createHistory(2);
  const d = {objects: []};
  for (const n of [1, 2, 3]) { h.record(d); d.objects.push(n); }
  out.history = [h.undo(d), [...d.objects], h.undo(d), [...d.objects]];
  out.history.push(h.undo(d), h.redo(d), [...d.objects]);

  const states = [];
  let answer = () => Promise.resolve({label_sha256: "b".repeat(64)});
  const sent = [];
  const saver = autosave.createAutosave({
    delay: 5,
    snapshot: () => ({n: sent.length}),
    save: (body, ifMatch) => { sent.push(ifMatch); return answer(); },
    onState: (s) => states.push(s),
  });
  saver.load("a".repeat(64));
  saver.changed(); saver.changed();
  out.flushed = await saver.flush();
  answer = () => Promise.reject(Object.assign(new Error("conflict"), {status: 409}));
  saver.changed();
  out.flushedAfterConflict = await saver.flush();
  out.conflictState = saver.state;
  out.dirty = saver.dirty;
  answer = () => Promise.resolve({label_sha256: "d".repeat(64)});
  out.overwritten = await saver.overwrite("c".repeat(64));
  out.sent = sent;
  out.states = states;
  saver.close();

  const none = {ctrlKey: false, metaKey: false, altKey: false, shiftKey: false};
  const ev = (key, mods = {}) => keys.comboOf({key, ...none, ...mods});
  out.combos = [
    ev("z", {ctrlKey: true}),
    ev("Z", {ctrlKey: true, shiftKey: true}),
    ev("?", {shiftKey: true}),
    ev("ArrowRight"),
    ev("1"),
    ev("z", {metaKey: true}),
  ];
  const map = keys.defaultKeymap();
  out.lost = keys.rebind(map, "fit", "n");
  out.nextKeys = map.next;
  keys.resetKeymap();
  return out;
}
