"""Charts as self-contained SVG text: no scripts, fonts or links to fetch, every
label escaped. They are stored as artifacts and shown as images in the console."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from appliance.domain.evaluation.confusion import ConfusionMatrix
from appliance.domain.evaluation.results import Evaluation

FONT = 'font-family="sans-serif"'
#: Distinguishable line colours (Tableau 10), cycled past ten classes.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
LEGEND_ROWS = 20
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def pr_curves_svg(evaluation: Evaluation, classes: Sequence[int | str] | None = None) -> str:
    """Interpolated precision against recall at IoU 0.5, one line per class
    (``classes`` picks some by id or name; default all with ground truth) and
    their mean in black, each labelled with its AP50."""
    wanted = None if classes is None else set(classes)
    shown = [
        (c, c.pr_curve)
        for c in evaluation.per_class
        if c.pr_curve is not None and (wanted is None or c.class_id in wanted or c.name in wanted)
    ]
    left, top, size, legend_w = 60, 40, 360, 220
    width, height = left + size + 30 + legend_w, top + size + 50

    def line(recall: Sequence[float], precision: Sequence[float], color: str, stroke: float) -> str:
        points = " ".join(
            f"{left + r * size:.1f},{top + (1 - p) * size:.1f}"
            for r, p in zip(recall, precision, strict=True)
        )
        return (
            f'<polyline points="{points}" fill="none" stroke="{color}"'
            f' stroke-width="{stroke}" stroke-linejoin="round"/>'
        )

    out = _open(width, height, f"Precision-recall, IoU 0.50 (mAP50 {_fmt(evaluation.map50)})")
    out += _axes(left, top, size, "Recall", "Precision")
    legend: list[tuple[str, str, float]] = []
    for i, (c, curve) in enumerate(shown):
        color = PALETTE[i % len(PALETTE)]
        out.append(line(curve.recall, curve.precision, color, 1.5))
        legend.append((f"{c.name} {_fmt(c.ap50)}", color, 1.5))
    if shown:
        n, grid = len(shown), shown[0][1].recall
        mean = [sum(curve.precision[j] for _, curve in shown) / n for j in range(len(grid))]
        mean_ap = sum(c.ap50 or 0.0 for c, _ in shown) / n
        label = "all classes" if classes is None else "shown classes"
        out.append(line(grid, mean, "#000000", 3.0))
        legend.insert(0, (f"{label} {_fmt(mean_ap)}", "#000000", 3.0))
    else:
        out.append(_text(left + size / 2, top + size / 2, "no class with ground truth", "middle"))
    lx = left + size + 30
    for i, (label, color, stroke) in enumerate(legend[:LEGEND_ROWS]):
        ly = top + 8 + 18 * i
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{color}"'
            f' stroke-width="{stroke}"/>'
        )
        out.append(_text(lx + 28, ly + 4, label))
    if len(legend) > LEGEND_ROWS:
        more = len(legend) - LEGEND_ROWS
        out.append(_text(lx + 28, top + 8 + 18 * LEGEND_ROWS + 4, f"and {more} more"))
    return _close(out)


def confusion_svg(
    matrix: ConfusionMatrix, class_names: Sequence[str], normalize: bool = False
) -> str:
    """The matrix as a heat map, true class down, predicted class across, with
    the score and IoU thresholds it was counted at in the title."""
    names = [
        class_names[k] if k < len(class_names) else str(k) for k in range(matrix.num_classes)
    ] + ["background"]
    values: Sequence[Sequence[float]] = matrix.normalized() if normalize else matrix.counts
    n = matrix.num_classes + 1
    cell = max(14, min(44, 520 // n))
    label_w = min(180, 12 + 7 * max(len(name) for name in names))
    left, top = label_w + 30, 50
    grid = n * cell
    width, height = left + grid + 90, top + grid + label_w + 30
    # shares run to 1; counts to the largest cell
    peak = 1.0 if normalize else max((v for row in values for v in row), default=0) or 1
    title = f"Confusion matrix (conf ≥ {matrix.conf:g}, IoU ≥ {matrix.iou:g})"
    out = _open(width, height, title + (", share of each true class" if normalize else ""))
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            shade = v / peak
            cx, cy = left + j * cell, top + i * cell
            out.append(
                f'<rect x="{cx}" y="{cy}" width="{cell}" height="{cell}"'
                f' fill="{_blue(shade)}" stroke="#ffffff"><title>{escape(names[i])} → '
                f"{escape(names[j])}: {_cell_text(v, normalize)}</title></rect>"
            )
            if cell >= 22 and v:
                ink = "#ffffff" if shade > 0.55 else "#222222"
                out.append(
                    _text(cx + cell / 2, cy + cell / 2 + 4, _cell_text(v, normalize), "middle", ink)
                )
    for k, name in enumerate(names):
        mid = k * cell + cell / 2
        out.append(_text(left - 6, top + mid + 4, name, anchor="end"))
        px, py = left + mid + 4, top + grid + 8
        out.append(
            f'<text x="{px}" y="{py}" {FONT} font-size="12" text-anchor="end"'
            f' transform="rotate(-90 {px} {py})">{escape(name)}</text>'
        )
    out.append(_text(left + grid / 2, height - 8, "Predicted", anchor="middle"))
    ty = top + grid / 2
    out.append(
        f'<text x="14" y="{ty}" {FONT} font-size="13" text-anchor="middle"'
        f' transform="rotate(-90 14 {ty})">True</text>'
    )
    bar_x, steps = left + grid + 30, 20
    for s in range(steps):
        out.append(
            f'<rect x="{bar_x}" y="{top + s * grid / steps:.1f}" width="14"'
            f' height="{grid / steps + 0.5:.1f}" fill="{_blue(1 - s / (steps - 1))}"/>'
        )
    out.append(_text(bar_x + 18, top + 10, _cell_text(peak, normalize)))
    out.append(_text(bar_x + 18, top + grid, "0"))
    return _close(out)


# -- pieces --------------------------------------------------------------------------


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2}" y="24" {FONT} font-size="15" text-anchor="middle">'
        f"{escape(title)}</text>",
    ]


def _close(parts: list[str]) -> str:
    return "\n".join([*parts, "</svg>"]) + "\n"


def _axes(left: int, top: int, size: int, x_label: str, y_label: str) -> list[str]:
    bottom = top + size
    out = [f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#444"/>']
    for t in TICKS:
        px, py = left + t * size, bottom - t * size
        out += [
            f'<line x1="{px}" y1="{top}" x2="{px}" y2="{bottom}" stroke="#e4e4e4"/>',
            f'<line x1="{left}" y1="{py}" x2="{left + size}" y2="{py}" stroke="#e4e4e4"/>',
            f'<line x1="{px}" y1="{bottom}" x2="{px}" y2="{bottom + 5}" stroke="#444"/>',
            f'<line x1="{left - 5}" y1="{py}" x2="{left}" y2="{py}" stroke="#444"/>',
            _text(px, bottom + 18, f"{t:.1f}", anchor="middle"),
            _text(left - 8, py + 4, f"{t:.1f}", anchor="end"),
        ]
    mid = top + size / 2
    out += [
        _text(left + size / 2, bottom + 38, x_label, anchor="middle"),
        f'<text x="16" y="{mid}" {FONT} font-size="13" text-anchor="middle"'
        f' transform="rotate(-90 16 {mid})">{escape(y_label)}</text>',
    ]
    return out


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#222222") -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" {FONT} font-size="12" text-anchor="{anchor}"'
        f' fill="{fill}">{escape(text)}</text>'
    )


def _blue(shade: float) -> str:
    """White at 0 to a deep blue at 1."""
    r, g, b = (round(255 + (c - 255) * shade) for c in (8, 69, 148))
    return f"#{r:02x}{g:02x}{b:02x}"


def _cell_text(v: float, normalize: bool) -> str:
    return f"{v:.2f}" if normalize else str(int(v))


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"
