// The studio's right column: the class picker (colour swatch and shortcut number
// per class), the object list (select, change class, accept a proposal, delete;
// capped, so a 1,000-box image makes ~100 rows, not 1,000) and the item panel
// (state, reviewer comment, Submit) and pre-labelling: a registered detect model
// and the minimum score of its proposals.

import { h, mount } from "../dom.js";
import { badge } from "../ui.js";
import { isProposal } from "./doc.js";

const LIST_CAP = 100;

/** Why this image cannot be submitted now, or "" when it can. */
export function submitRefused(item) {
  if (item.state === "submitted") return "Already submitted: waiting for the reviewer.";
  if (item.state === "approved") return "Already approved: change its labels to start again.";
  if (!item.label_sha256) return "No labels to submit yet.";
  return "";
}

/** The references a detect model can be picked by: its tags first (production
 * before the others), then its latest version. */
function modelChoices(models) {
  const out = [];
  for (const m of models) {
    const tags = Object.entries(m.tags || {}).sort(([a], [b]) => (a === "production" ? -1 : b === "production" ? 1 : a.localeCompare(b)));
    for (const [tag, n] of tags) out.push({ ref: `${m.name}@${tag}`, text: `${m.name}@${tag} (v${n})` });
    if (m.latest) out.push({ ref: `${m.name}@${m.latest}`, text: `${m.name} v${m.latest} (latest)` });
  }
  return out;
}

export function createPanels(slot, handlers) {
  let classes = [];
  let current = null;
  const classList = h("ul", { class: "class-picker", "data-testid": "class-picker" });
  const objectHead = h("h3", {}, "Objects");
  const objectList = h("ol", { class: "object-list", "data-testid": "object-list" });
  const itemBox = h("div", { class: "item-panel", "data-testid": "item-panel" });
  const prelabelBox = h("div", { class: "prelabel", "data-testid": "prelabel-panel" });
  const message = h("p", { class: "muted", "data-testid": "studio-message", role: "status" });
  mount(
    slot,
    h("h3", {}, "Classes"),
    classList,
    objectHead,
    objectList,
    h("h3", {}, "Image"),
    itemBox,
    prelabelBox,
    message,
  );

  const nameOf = (cls) => classes.find((c) => c.id === cls)?.name ?? `class ${cls}`;
  const colourOf = (cls) => classes.find((c) => c.id === cls)?.colour ?? "#ff00ff";
  const swatch = (cls) => {
    const el = h("span", { class: "swatch", "aria-hidden": "true" });
    el.style.backgroundColor = colourOf(cls); // CSSOM, allowed by the CSP (no inline style attribute)
    return el;
  };

  function drawClasses() {
    classList.replaceChildren(
      ...classes.map((c, i) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: ["class-choice", c.id === current && "current"],
              "data-class": c.id,
              "aria-pressed": c.id === current ? "true" : "false",
              onClick: () => handlers.onPickClass(c.id),
            },
            swatch(c.id),
            i < 9 ? h("kbd", {}, String(i + 1)) : null,
            " ",
            c.name,
          ),
        ),
      ),
    );
    if (!classes.length) classList.append(h("li", { class: "empty" }, "No classes: set the dataset's schema first."));
  }

  function objectRow(o, index, selected) {
    const isSelected = o.id === selected;
    const klass = isSelected
      ? h(
          "select",
          {
            "aria-label": "Class",
            "data-testid": "object-class",
            onChange: (e) => handlers.onReclass(o.id, Number(e.target.value)),
          },
          classes.map((c) => h("option", { value: c.id, selected: c.id === o.class }, c.name)),
        )
      : h("span", {}, nameOf(o.class));
    return h(
      "li",
      { class: ["object-row", isSelected && "selected", isProposal(o) && "proposal"], "data-id": o.id },
      h(
        "button",
        { type: "button", class: "link", onClick: () => handlers.onSelect(o.id) },
        swatch(o.class),
        ` ${index + 1}. ${o.type}`,
      ),
      " ",
      klass,
      isProposal(o)
        ? h("button", { type: "button", "data-testid": "accept", onClick: () => handlers.onAccept(o.id) }, "accept")
        : null,
      h(
        "button",
        { type: "button", class: "delete", "aria-label": "Delete object", onClick: () => handlers.onDelete(o.id) },
        "×",
      ),
    );
  }

  return {
    setClasses(list) {
      classes = list;
      drawClasses();
    },
    setCurrentClass(cls) {
      current = cls;
      drawClasses();
    },
    /** The object list: the first LIST_CAP objects (and the selected one), then "+N more". */
    setObjects(objects, selected) {
      const proposals = objects.filter(isProposal).length;
      objectHead.textContent = `Objects (${objects.length}${proposals ? `, ${proposals} proposed` : ""})`;
      const shown = objects.slice(0, LIST_CAP).map((o, i) => [o, i]);
      const at = objects.findIndex((o) => o.id === selected);
      if (at >= LIST_CAP) shown.unshift([objects[at], at]);
      objectList.replaceChildren(...shown.map(([o, i]) => objectRow(o, i, selected)));
      if (objects.length > LIST_CAP) {
        objectList.append(
          h("li", { class: "more", "data-testid": "more-objects" }, `+${objects.length - LIST_CAP} more (select them on the image)`),
        );
      }
    },
    setItem(item) {
      const rejected = item.state === "rejected" && item.comment;
      const refused = submitRefused(item);
      mount(
        itemBox,
        h("p", { class: "path", "data-testid": "item-path" }, item.path),
        h("p", {}, badge(item.state), item.annotator ? ` by ${item.annotator}` : ""),
        rejected ? h("p", { class: "review-comment", "data-testid": "item-comment" }, `Reviewer: ${item.comment}`) : null,
        h(
          "button",
          {
            type: "button",
            class: "primary",
            "data-testid": "submit",
            disabled: Boolean(refused),
            title: refused || "Submit these labels for review, then open the next image",
            onClick: handlers.onSubmit,
          },
          "Submit for review",
        ),
        refused ? h("p", { class: "muted", "data-testid": "submit-why" }, refused) : null,
      );
    },
    /** The detect models one may pre-label with (``null``: they cannot be listed). */
    setModels(models, why = "") {
      if (!models || !models.length) {
        const text = models ? "No detect model is registered yet: train or register a model first." : why;
        mount(prelabelBox, h("p", { class: "muted", "data-testid": "prelabel-none" }, text));
        return;
      }
      const choices = modelChoices(models);
      const picker = h(
        "select",
        { "aria-label": "Model", "data-testid": "prelabel-model" },
        choices.map((c, i) => h("option", { value: c.ref, selected: i === 0 }, c.text)),
      );
      const score = h("input", {
        type: "number",
        min: "0",
        max: "1",
        step: "0.05",
        value: "0.25",
        "aria-label": "Minimum score",
        "data-testid": "prelabel-score",
      });
      const run = () => {
        const minScore = score.value.trim() === "" ? 0.25 : Number(score.value);
        if (!(minScore >= 0 && minScore <= 1)) return void (message.textContent = "The minimum score is a number from 0 to 1.");
        return handlers.onPrelabel(picker.value, minScore);
      };
      mount(
        prelabelBox,
        h("label", {}, "Model ", picker),
        h("label", {}, "Min. score ", score),
        h("button", { type: "button", "data-testid": "prelabel", onClick: run }, "Pre-label with model…"),
      );
    },
    say(text) {
      message.textContent = text || "";
    },
  };
}
