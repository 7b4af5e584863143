// A form built from a JSON Schema (draft 2020-12) object of scalar properties, as the
// appliance publishes for training hyperparameters: integer and number inputs with
// their bounds and step, an enum as a select, a boolean as a checkbox, a string as
// a text field; defaults pre-filled, title as the label, description as the help.
// ``changed()`` answers only what differs from the defaults.

import { h } from "./dom.js";

function input(name, prop) {
  const common = { name, id: `field-${name}`, "data-testid": `hp-${name}`, "aria-describedby": `help-${name}` };
  if (Array.isArray(prop.enum)) {
    return h(
      "select",
      common,
      prop.enum.map((v) => h("option", { value: String(v), selected: v === prop.default }, String(v))),
    );
  }
  if (prop.type === "boolean") return h("input", { ...common, type: "checkbox", checked: Boolean(prop.default) });
  if (prop.type === "integer" || prop.type === "number") {
    const integer = prop.type === "integer";
    return h("input", {
      ...common,
      type: "number",
      min: prop.minimum ?? prop.exclusiveMinimum,
      max: prop.maximum ?? prop.exclusiveMaximum,
      // The browser measures steps from min: fine for multipleOf when min is a multiple.
      step: prop.multipleOf ?? (integer ? 1 : "any"),
      value: prop.default ?? "",
      required: prop.default === undefined,
      inputmode: integer ? "numeric" : "decimal",
    });
  }
  return h("input", { ...common, type: "text", value: prop.default ?? "" });
}

/** The value a field holds, typed as the schema says; undefined when left empty. */
function read(el, prop) {
  if (el.type === "checkbox") return el.checked;
  if (el.value === "") return undefined;
  if (Array.isArray(prop.enum)) return prop.enum.find((v) => String(v) === el.value) ?? el.value;
  if (prop.type === "integer") return Number.parseInt(el.value, 10);
  if (prop.type === "number") return Number(el.value);
  return el.value;
}

function bounds(prop) {
  const lo = prop.exclusiveMinimum !== undefined ? `> ${prop.exclusiveMinimum}` : prop.minimum !== undefined ? `≥ ${prop.minimum}` : "";
  const hi = prop.maximum !== undefined ? `≤ ${prop.maximum}` : "";
  const step = prop.multipleOf ? `multiple of ${prop.multipleOf}` : "";
  return [lo, hi, step].filter(Boolean).join(", ");
}

/**
 * ``schema``: {properties: {name: {type, default, minimum, maximum, enum, title,
 * description}}}. Answers {el, changed(), set(name, value)}.
 */
export function schemaForm(schema, { testid = "schema-form" } = {}) {
  const fields = new Map(); // name → {el, prop}
  const rows = Object.entries(schema.properties || {}).map(([name, prop]) => {
    const el = input(name, prop);
    fields.set(name, { el, prop });
    const help = [prop.description, bounds(prop), prop.default !== undefined ? `default ${prop.default}` : ""]
      .filter(Boolean)
      .join(" · ");
    const label = h("label", { for: el.id }, prop.title || name, " ", h("code", { class: "muted" }, name));
    return h(
      "div",
      { class: ["field", prop.type === "boolean" ? "check" : null], "data-field": name },
      prop.type === "boolean" ? [el, label] : [label, el],
      h("small", { id: `help-${name}`, class: "help" }, help),
    );
  });
  const el = h("fieldset", { class: "schema-form", "data-testid": testid }, schema.title ? h("legend", {}, schema.title) : null, rows);
  return {
    el,
    /** Only the values that differ from the schema's defaults. */
    changed() {
      const out = {};
      for (const [name, { el: field, prop }] of fields) {
        const value = read(field, prop);
        if (value !== undefined && value !== prop.default) out[name] = value;
      }
      return out;
    },
    set(name, value) {
      const field = fields.get(name);
      if (!field) return;
      if (field.el.type === "checkbox") field.el.checked = Boolean(value);
      else field.el.value = String(value);
    },
  };
}
