// Line charts as inline SVG built through the DOM (training curves per epoch). Every
// point carries data-series, data-x and data-y, so what is drawn can be read back.

import { h, s } from "./dom.js";

const COLOURS = ["#4363d8", "#f58231", "#3cb44b", "#911eb4", "#e6194b", "#42d4f4"];

/** About five "nice" ticks from 0 to at least ``max`` (1, 2 or 5 × 10^k apart). */
function ticks(max) {
  const top = max > 0 ? max : 1;
  const rough = top / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= rough);
  const n = Math.ceil(top / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(6)));
}

const label = (v) => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3))));

/**
 * ``series``: [{name, points: [[x, y], ...]}] (y null: a gap); ``xMax``: the last x
 * the axis shows (e.g. the run's epochs), so the chart fills in as points arrive.
 */
export function lineChart({ series, title, testid, xMax = 1, xLabel = "epoch", width = 460, height = 240 }) {
  const left = 46;
  const right = 12;
  const top = 14;
  const bottom = 34;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const ys = series.flatMap((k) => k.points.map((p) => p[1]).filter((v) => v !== null && Number.isFinite(v)));
  const yTicks = ticks(Math.max(0, ...ys));
  const yMax = yTicks[yTicks.length - 1];
  const xs = series.flatMap((k) => k.points.map((p) => p[0]));
  const last = Math.max(xMax, 1, ...xs);
  const x = (v) => left + (last === 1 ? plotW / 2 : ((v - 1) / (last - 1)) * plotW);
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const xStep = Math.max(1, Math.ceil(last / 10));
  const xTicks = Array.from({ length: Math.floor((last - 1) / xStep) + 1 }, (_, i) => 1 + i * xStep);

  const grid = [
    yTicks.map((v) =>
      s(
        "g",
        { class: "tick" },
        s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v) }),
        s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, label(v)),
      ),
    ),
    xTicks.map((v) => s("text", { class: "xtick", x: x(v), y: top + plotH + 14, "text-anchor": "middle" }, String(v))),
    s("text", { class: "xlabel", x: left + plotW / 2, y: height - 4, "text-anchor": "middle" }, xLabel),
  ];
  const lines = series.map((k, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const drawn = k.points.filter((p) => p[1] !== null && Number.isFinite(p[1]));
    const path = drawn.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    return s(
      "g",
      { class: "series", "data-series": k.name },
      drawn.length > 1 ? s("path", { d: path, fill: "none", stroke: colour, "stroke-width": 2 }) : null,
      drawn.map((p) =>
        s(
          "circle",
          { cx: x(p[0]), cy: y(p[1]), r: 3.5, fill: colour, "data-testid": "point", "data-series": k.name, "data-x": p[0], "data-y": p[1] },
          s("title", {}, `${k.name} · ${xLabel} ${p[0]}: ${label(p[1])}`),
        ),
      ),
    );
  });
  return h(
    "figure",
    { class: "chart line-chart", "data-testid": testid },
    title ? h("figcaption", {}, title) : null,
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title || "chart" },
      grid,
      s("line", { class: "axis", x1: left, x2: width - right, y1: top + plotH, y2: top + plotH }),
      lines,
    ),
    h(
      "ul",
      { class: "legend" },
      series.map((k, i) =>
        h("li", {}, s("svg", { width: 12, height: 12 }, s("rect", { width: 12, height: 12, fill: COLOURS[i % COLOURS.length] })), ` ${k.name}`),
      ),
    ),
  );
}
