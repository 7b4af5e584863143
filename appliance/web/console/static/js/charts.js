// Bar charts as inline SVG built through the DOM: no chart library, no markup strings.
// Every bar carries data-group, data-series and data-value, so what is drawn can be
// read back (by people through its tooltip, by tests through its attributes).

import { h, s } from "./dom.js";

const SERIES_COLOURS = ["#4363d8", "#f58231", "#3cb44b", "#911eb4", "#e6194b", "#42d4f4"];

/** A whole tick step of 1, 2 or 5 × 10^k giving at most about five ticks. */
function tickStep(max) {
  const rough = Math.max(1, max / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= rough);
  return Math.max(1, Math.round(step));
}

/**
 * Grouped bars. ``groups``: [{label, values: {series: number}}]; ``series``: names
 * in drawing order; ``colours``: series → colour (defaults to a fixed palette).
 */
export function groupedBars({ groups, series, colours = {}, title, testid, height = 220 }) {
  const bar = series.length > 1 ? 18 : 34;
  const gap = series.length > 1 ? 18 : 30;
  const left = 40;
  const bottom = 36;
  const top = 16;
  const groupWidth = series.length * bar + gap;
  const width = Math.max(320, left + groups.length * groupWidth + gap);
  const plot = height - top - bottom;
  const highest = Math.max(0, ...groups.flatMap((g) => series.map((k) => g.values[k] || 0)));
  const step = tickStep(highest);
  const max = Math.max(step, Math.ceil(highest / step) * step);
  const y = (v) => top + plot - (v / max) * plot;
  const colourOf = (k, i) => colours[k] || SERIES_COLOURS[i % SERIES_COLOURS.length];

  // Counts are whole numbers: so are the ticks.
  const ticks = Array.from({ length: max / step + 1 }, (_, i) => i * step);
  const grid = ticks.map((v) =>
    s(
      "g",
      { class: "tick" },
      s("line", { x1: left, x2: width, y1: y(v), y2: y(v) }),
      s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)),
    ),
  );
  const bars = groups.map((g, gi) => {
    const x0 = left + gap / 2 + gi * groupWidth;
    return s(
      "g",
      { class: "group" },
      series.map((k, si) => {
        const value = g.values[k] || 0;
        const x = x0 + si * bar;
        return s(
          "g",
          {},
          s(
            "rect",
            {
              class: "bar",
              x,
              y: y(value),
              width: bar - 2,
              height: Math.max(0, top + plot - y(value)),
              fill: colourOf(k, si),
              "data-testid": "bar",
              "data-group": g.label,
              "data-series": k,
              "data-value": value,
            },
            s("title", {}, `${g.label}${series.length > 1 ? ` · ${k}` : ""}: ${value}`),
          ),
          value ? s("text", { class: "value", x: x + (bar - 2) / 2, y: y(value) - 3, "text-anchor": "middle" }, String(value)) : null,
        );
      }),
      s("text", { class: "label", x: x0 + (series.length * bar) / 2, y: height - bottom + 16, "text-anchor": "middle" }, g.label),
    );
  });
  const legend =
    series.length > 1
      ? h(
          "ul",
          { class: "legend" },
          series.map((k, i) => h("li", {}, s("svg", { width: 12, height: 12 }, s("rect", { width: 12, height: 12, fill: colourOf(k, i) })), ` ${k}`)),
        )
      : null;
  return h(
    "figure",
    { class: "chart", "data-testid": testid },
    title ? h("figcaption", {}, title) : null,
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title || "chart" },
      grid,
      s("line", { class: "axis", x1: left, x2: width, y1: top + plot, y2: top + plot }),
      bars,
    ),
    legend,
  );
}

/** A histogram from upper bin edges (null: no upper bound) and counts per bin. */
export function histogram({ bins, counts, title, testid, format = String }) {
  const labels = bins.map((edge, i) => {
    const lower = i ? bins[i - 1] : null;
    if (edge === null) return `> ${format(lower)}`;
    return lower === null ? `≤ ${format(edge)}` : `${format(lower)}–${format(edge)}`;
  });
  const groups = labels.map((label, i) => ({ label, values: { count: counts[i] || 0 } }));
  return groupedBars({ groups, series: ["count"], title, testid });
}
