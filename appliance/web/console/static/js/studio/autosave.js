// Autosave: a change is saved ~800 ms after the last one, and at once when the
// user moves to another image or page (``flush``). Every save is conditional on
// the labels this editor started from (If-Match), so someone else's newer labels
// are never overwritten silently; on a conflict saving stops, the edits stay in
// the editor, and the user chooses: reload theirs, or save mine over them.
// A document equal to the one last loaded or saved is not sent at all (an edit
// undone, a click that moved nothing): saving it would change nothing but could
// still reset the image's review state.

export const SAVED = "saved";
export const PENDING = "pending";
export const SAVING = "saving";
export const CONFLICT = "conflict";
export const FAILED = "failed";
export const REFUSED = "refused";

export const STATE_TEXT = {
  [SAVED]: "Saved",
  [PENDING]: "Unsaved changes",
  [SAVING]: "Saving…",
  [CONFLICT]: "Conflict — reload",
  [FAILED]: "Save failed — retrying",
  [REFUSED]: "Not saved — the appliance refused these labels",
};

/** JSON text with every object's keys sorted: equal documents give equal text. */
export function stableJson(value) {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * ``save(document, ifMatch)`` stores a document and answers ``{label_sha256}``; it
 * throws an error with ``status`` 409 on a conflict. ``snapshot()`` answers the
 * document to save now. ``onState(state, error)`` hears every change of state.
 */
export function createAutosave({ save, snapshot, onState = () => {}, delay = 800 }) {
  let etag = "none";
  let version = 0; // bumped by every change
  let saved = 0; // the version the appliance has
  let timer = null;
  let running = null; // the save in flight
  let state = SAVED;
  let retryMs = 1000;
  let closed = false;
  let baseline = null; // stableJson of what the appliance has, when known

  const set = (next, error) => {
    state = next;
    onState(next, error);
  };

  const arm = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      run();
    }, ms);
  };

  async function attempt() {
    const target = version;
    const body = snapshot();
    const text = stableJson(body);
    if (text === baseline) {
      saved = Math.max(saved, target); // nothing to send: the appliance has this document
      set(SAVED);
      return;
    }
    set(SAVING);
    try {
      const answer = await save(body, etag);
      etag = answer.label_sha256 || etag;
      baseline = text;
      saved = Math.max(saved, target);
      retryMs = 1000;
      if (version > saved) {
        set(PENDING);
        if (!closed) arm(delay);
      } else {
        set(SAVED);
      }
    } catch (err) {
      if (err && err.status === 409) {
        set(CONFLICT, err);
      } else if (err && err.status >= 400 && err.status < 500 && ![408, 429].includes(err.status)) {
        set(REFUSED, err); // retrying cannot help; the next edit tries again
      } else {
        set(FAILED, err);
        if (!closed) arm(retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    }
  }

  function run() {
    if (running || state === CONFLICT || version <= saved) return running;
    running = attempt().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    /** A freshly opened image: its labels' hash (or "none"), nothing to save.
     * ``document``: what the editor shows of them now (canonical); saving the same
     * again is skipped. */
    load(labelSha256, document) {
      clearTimeout(timer);
      timer = null;
      etag = labelSha256 || "none";
      baseline = document === undefined ? null : stableJson(document);
      version = 0;
      saved = 0;
      retryMs = 1000;
      set(SAVED);
    },
    /** The document changed: save it after a quiet moment. */
    changed() {
      version += 1;
      if (state === CONFLICT) return;
      if (state !== SAVING) set(PENDING);
      arm(delay);
    },
    /** Save now what is not saved yet; true when nothing is left unsaved. */
    async flush() {
      clearTimeout(timer);
      timer = null;
      if (running) await running;
      if (version > saved && state !== CONFLICT) await run();
      return version <= saved;
    },
    /** After a conflict: save these edits over the newer labels (``current`` is their hash). */
    async overwrite(current) {
      etag = current || "none";
      baseline = null; // theirs are there now: mine are sent even if they equal what I loaded
      set(PENDING);
      return this.flush();
    },
    /** Stop timers (the page is going away); a pending flush still completes. */
    close() {
      closed = true;
      clearTimeout(timer);
    },
    get state() {
      return state;
    },
    get dirty() {
      return version > saved;
    },
    get etag() {
      return etag;
    },
  };
}
