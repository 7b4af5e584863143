"""Cut a YOLO detect ONNX before its head's decoding, so INT8 can quantize it.

Ultralytics' detect ONNX ends in one output ``[1, 4 + classes, anchors]``: box
centres and sizes in input pixels concatenated with class scores (0..1). An int8
tensor has one scale, set by the box coordinates (hundreds of pixels), so every
score rounds to zero and an INT8 RKNN detects nothing. Cutting only that last
concat (boxes and scores apart) is not enough either: on the shapes set at 128 px
it still lost 5.4 mAP50-95 points, as the decoded boxes, and the anchor sums inside
the NPU before them, share one scale over the whole input.

So the model is cut where Rockchip's model zoo cuts YOLOv8 and YOLO11: per stride,
finest first, the box branch's DFL logits ``[1, 4 * reg_max, h, w]`` (``box_<i>``)
and the class branch's scores after a sigmoid ``[1, classes, h, w]``
(``score_<i>``), each an output with its own scale. The rest (softmax over each
side's distribution, its expectation, anchors, stride) runs on the CPU:
:func:`ahoy_agent.runtime.decode.join_branches` rebuilds the head's output from
these, equal to the uncut model's to float rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from appliance.errors import InvalidInput

LAYOUT = "yolo-branches"


class UnsupportedHead(InvalidInput):
    """The ONNX model does not end the way an Ultralytics detect head does."""

    code = "rknn-unsupported-head"

    def __init__(self, model: Path, found: str) -> None:
        super().__init__(
            f"RKNN export needs an Ultralytics detect head (one output, boxes and class"
            f" scores concatenated, no NMS inside); {model.name} {found}",
            hint="export the detect model to a static ONNX without NMS inside: nms=False",
        )
        self.model = str(model)
        self.found = found


def split_head(source: Path, target: Path) -> list[dict[str, Any]]:
    """Write ``target``: ``source`` cut into per-stride box logits and class scores.
    Returns its outputs in order: ``name``, ``kind`` ("box" | "score"), ``shape``."""
    import onnx
    from onnx import helper

    model = onnx.shape_inference.infer_shapes(onnx.load(str(source)))
    graph = model.graph
    made = {out: node for node in graph.node for out in node.output}
    if len(graph.output) != 1 or graph.output[0].name not in made:
        raise UnsupportedHead(source, f"has {len(graph.output)} outputs")
    last = made[graph.output[0].name]
    if last.op_type != "Concat" or len(last.input) != 2:
        raise UnsupportedHead(source, f"ends in {last.op_type} of {len(last.input)} inputs")
    axis = next((a.i for a in last.attribute if a.name == "axis"), None)
    if axis != 1:  # boxes then scores along the channels, as in [1, 4 + classes, anchors]
        raise UnsupportedHead(source, f"ends in a Concat on axis {axis}, not 1")
    shapes = _shapes(model)
    boxes = _branch_ends(made, last.input[0])
    scores = _branch_ends(made, last.input[1])
    if not boxes or len(boxes) != len(scores) or set(boxes) & set(scores):
        raise UnsupportedHead(source, "has no separate box and class branches per stride")
    boxes, scores = _by_stride(source, boxes, shapes), _by_stride(source, scores, shapes)
    for box, score in zip(boxes, scores, strict=True):
        if shapes[box][2:] != shapes[score][2:] or shapes[box][1] % 4:
            raise UnsupportedHead(source, f"has branches {shapes[box]} and {shapes[score]}")
    outputs: list[dict[str, Any]] = []
    for i, (box, score) in enumerate(zip(boxes, scores, strict=True)):
        made[box].output[0] = f"box_{i}"  # nothing else reads it once the rest is cut
        graph.node.append(helper.make_node("Sigmoid", [score], [f"score_{i}"], f"score_{i}"))
        outputs.append({"name": f"box_{i}", "kind": "box", "shape": shapes[box]})
        outputs.append({"name": f"score_{i}", "kind": "score", "shape": shapes[score]})
    del graph.output[:]
    graph.output.extend(
        helper.make_tensor_value_info(o["name"], onnx.TensorProto.FLOAT, o["shape"])
        for o in outputs
    )
    _prune(graph, [o["name"] for o in outputs])
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return outputs


def _branch_ends(made: dict[str, Any], tensor: str) -> list[str]:
    """The convolutions a branch of the head decodes, walking back from ``tensor``:
    the first Conv on each path, past the DFL's own (a Conv fed by a Softmax)."""
    ends: list[str] = []
    queue, seen = [tensor], set()
    while queue:
        name = queue.pop(0)
        node = made.get(name)
        if name in seen or node is None:
            continue
        seen.add(name)
        dfl = (
            node.op_type == "Conv" and getattr(made.get(node.input[0]), "op_type", "") == "Softmax"
        )
        if node.op_type == "Conv" and not dfl:
            ends.append(name)
        else:
            queue.extend(node.input)
    return ends


def _shapes(model: Any) -> dict[str, list[int]]:
    infos = [*model.graph.value_info, *model.graph.output]
    return {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in infos
        if all(d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)
    }


def _by_stride(source: Path, names: Iterable[str], shapes: dict[str, list[int]]) -> list[str]:
    """Finest grid first, the order in which Ultralytics concatenates the anchors."""
    names = list(names)
    if any(len(shapes.get(n, ())) != 4 for n in names):
        raise UnsupportedHead(source, "has a branch whose shape is not static NCHW")
    return sorted(names, key=lambda n: -shapes[n][2] * shapes[n][3])


def _prune(graph: Any, outputs: list[str]) -> None:
    """Drop the nodes and weights the new outputs no longer need."""
    made = {out: node for node in graph.node for out in node.output}
    live: set[int] = set()
    needed: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        needed.add(name)
        node = made.get(name)
        if node is None or id(node) in live:
            continue
        live.add(id(node))
        stack.extend(i for i in node.input if i)
    kept = [n for n in graph.node if id(n) in live]
    del graph.node[:]
    graph.node.extend(kept)
    weights = [w for w in graph.initializer if w.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(weights)
