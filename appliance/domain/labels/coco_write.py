"""Label documents → a COCO dict (contract in ``coco.py``)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from appliance.domain.labels.coco_model import (
    ABSENT,
    ANN_EXTRA,
    ANN_ID,
    AREA,
    BBOX,
    DEFAULT_TOP,
    IMAGE_EXTRA,
    IMAGE_ID,
    ISCROWD,
    KEYPOINTS,
    PARTS,
    RING,
    SEGMENTATION,
    CocoCategory,
    attribute,
    is_finite,
    is_id,
    loads,
    norm_box,
    norm_keypoints,
    norm_ring,
    shoelace,
)
from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject

Size = tuple[int, int]
Group = list[tuple[int, LabelObject]]  # (index in the document, object)
DECIMALS = 2  # pixel values computed from 0..1 coordinates: COCO's own precision


def documents_to_coco(
    documents: Mapping[str, LabelDocument],
    categories: Sequence[CocoCategory],
    *,
    top: Mapping[str, Any] | None = None,
    image_ids: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A COCO dict: images in the documents' order, each image's annotations in its
    objects' order. Class index i is the i-th category by id. Image ids come from
    ``image_ids``, else the id kept at import, else the next free id; annotation ids
    from the id kept at import, else the next free id. ``top`` gives the other
    top-level keys (``CocoImport.top``; default empty info and licenses).

    Raises LabelError for a document without a size or an object whose class has
    no category: COCO cannot say either."""
    by_class = sorted(categories, key=lambda c: c.id)
    given: list[int | None] = []
    kept: list[int | None] = []
    for name, doc in documents.items():
        if doc.size is None:
            raise LabelError(name, "has no size; COCO needs the image's width and height")
        want = image_ids.get(name) if image_ids is not None else None
        if want is not None and not is_id(want):
            raise LabelError(name, f"image id {want!r} is not an integer")
        given.append(want)
        old = dict(doc.extra).get(IMAGE_ID)
        kept.append(old if is_id(old) else None)  # type: ignore[arg-type]
    images = []
    pending: list[tuple[int, str, Size, Group]] = []
    for (name, doc), image_id in zip(documents.items(), _assign(given, kept), strict=True):
        images.append(_image(name, doc, image_id))
        assert doc.size is not None
        pending += [(image_id, name, doc.size, g) for g in _groups(doc.objects)]
    preferred = [attribute(g[0][1], ANN_ID) for _, _, _, g in pending]
    ann_ids = _assign([None] * len(preferred), [a if is_id(a) else None for a in preferred])
    annotations = []
    for ann_id, (image_id, name, size, group) in zip(ann_ids, pending, strict=True):
        index, first = group[0]
        if first.cls >= len(by_class):
            raise LabelError(
                f"{name} object {index}",
                f"class {first.cls} has no COCO category ({len(by_class)} categories)",
            )
        ann = {"id": ann_id, "image_id": image_id, "category_id": by_class[first.cls].id}
        annotations.append(ann | _annotation([o for _, o in group], size))
    out = copy.deepcopy(dict(top if top is not None else DEFAULT_TOP))
    out["images"] = images
    out["annotations"] = annotations
    out["categories"] = [copy.deepcopy(c.as_dict()) for c in categories]
    return out


def annotations_of(doc: LabelDocument, size: Size) -> list[tuple[LabelObject, dict[str, Any]]]:
    """The annotations COCO export writes for ``doc`` at ``size`` (bbox, area,
    iscrowd, segmentation, ... in pixels), each with the first of its objects."""
    return [(g[0][1], _annotation([o for _, o in g], size)) for g in _groups(doc.objects)]


def _assign(given: list[int | None], kept: list[int | None]) -> list[int]:
    """Ids given by the caller first, then kept ids while free (first come first
    served), then the next unused ids in order."""
    out: list[int | None] = list(given)
    taken = {g for g in given if g is not None}
    if len(taken) < sum(g is not None for g in given):
        raise LabelError("image_ids", "two images are given the same id")
    for i, k in enumerate(kept):
        if out[i] is None and k is not None and k not in taken:
            out[i] = k
            taken.add(k)
    next_id = max(taken, default=0) + 1
    result = []
    for v in out:
        if v is None:
            v, next_id = next_id, next_id + 1
        result.append(v)
    return result


def _image(name: str, doc: LabelDocument, image_id: int) -> dict[str, Any]:
    extra = loads(dict(doc.extra).get(IMAGE_EXTRA))
    width, height = doc.size  # type: ignore[misc]
    base = extra if isinstance(extra, dict) else {}
    return base | {"id": image_id, "file_name": name, "width": width, "height": height}


def _groups(objects: Sequence[LabelObject]) -> list[Group]:
    """Objects of one annotation (same kept id and class; at most one box or
    keypoints object) together; every other object is an annotation of its own."""
    groups: list[Group] = []
    by_id: dict[int, Group] = {}
    for i, o in enumerate(objects):
        ann_id = attribute(o, ANN_ID)
        group = by_id.get(ann_id) if is_id(ann_id) else None
        if (
            group is not None
            and group[0][1].cls == o.cls
            and (o.type == "polygon" or all(p.type == "polygon" for _, p in group))
        ):
            group.append((i, o))
            continue
        group = [(i, o)]
        groups.append(group)
        if is_id(ann_id) and ann_id not in by_id:
            by_id[ann_id] = group
    return groups


def _annotation(objects: list[LabelObject], size: Size) -> dict[str, Any]:
    head = next((o for o in objects if attribute(o, PARTS) is not None), objects[0])
    kept = dict(head.attributes)
    primary = next((o for o in objects if o.type != "polygon"), None)
    rings = [o for o in objects if o.type == "polygon"]
    kept_rings = [_kept(o, RING, 2, norm_ring, size) for o in rings]
    kept_bbox = _kept_bbox(primary, size) if primary is not None else None
    keypoints = primary is not None and primary.type == "keypoints"
    kept_kps = None
    if primary is not None and keypoints:
        kept_kps = _kept(primary, KEYPOINTS, 3, norm_keypoints, size)
    intact = (
        kept.get(PARTS) == len(objects)
        and all(r is not None for r in kept_rings)
        and (primary is None or kept_bbox is not None)
        and (not keypoints or kept_kps is not None)
    )
    ring_px = [
        r if r is not None else _px_ring(o.points, size)
        for r, o in zip(kept_rings, rings, strict=True)
    ]
    if primary is not None:
        assert primary.box is not None
        bbox = kept_bbox or _px_box(primary.box, size)
    elif intact and _numbers(loads(kept.get(BBOX)), 4):
        bbox = loads(kept[BBOX])
    else:
        bbox = _extent(ring_px)
    segmentation: Any = ring_px
    if not rings:
        segmentation = loads(kept.get(SEGMENTATION))
        segmentation = segmentation if isinstance(segmentation, list | dict) else []
    area = kept.get(AREA)
    # A kept mask is never edited here, so its area holds even when the box moved.
    if not (is_finite(area) and (intact or isinstance(segmentation, dict))):
        area = sum(shoelace(r) for r in ring_px) if rings else bbox[2] * bbox[3]
        area = round(area, DECIMALS)
    iscrowd = kept.get(ISCROWD)
    out: dict[str, Any] = {
        "bbox": bbox,
        "area": area,
        "iscrowd": iscrowd if is_id(iscrowd) and iscrowd in (0, 1) else 0,
        "segmentation": segmentation,
    }
    if keypoints:
        assert primary is not None
        kps = kept_kps or _px_keypoints(primary.points, size)
        out["keypoints"] = kps
        out["num_keypoints"] = sum(1 for v in kps[2::3] if v > 0)
    extra = loads(kept.get(ANN_EXTRA))
    if isinstance(extra, dict):
        out = {k: v for k, v in extra.items() if k not in ("id", "image_id", "category_id")} | out
    if intact:
        for key in str(kept.get(ABSENT, "")).split(","):
            out.pop(key, None)
    return out


# -- kept pixel values, trusted only while they still give the object's geometry -----


def _numbers(value: Any, arity: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) % arity == 0
        and all(is_finite(v) for v in value)
        and (arity != 4 or len(value) == 4)
    )


def _kept_bbox(obj: LabelObject, size: Size) -> list[float] | None:
    bbox = loads(attribute(obj, BBOX))
    if _numbers(bbox, 4) and norm_box(bbox, *size) == obj.box:
        return bbox
    return None


def _kept(
    obj: LabelObject, key: str, arity: int, norm: Callable[..., Any], size: Size
) -> list[float] | None:
    flat = loads(attribute(obj, key))
    if _numbers(flat, arity) and flat and norm(flat, *size) == obj.points:
        return flat
    return None


# -- pixels computed from 0..1 coordinates ------------------------------------------


def _px(v: float) -> float:
    return round(v, DECIMALS)


def _px_box(box: tuple[float, float, float, float], size: Size) -> list[float]:
    """The box clipped to the image, in pixels."""
    width, height = size
    cx, cy, w, h = box
    x0, x1 = (_px(max(0.0, v) * width) for v in (cx - w / 2, cx + w / 2))
    y0, y1 = (_px(max(0.0, v) * height) for v in (cy - h / 2, cy + h / 2))
    x1, y1 = min(x1, width), min(y1, height)
    return [x0, y0, _px(x1 - x0), _px(y1 - y0)]


def _px_ring(points: tuple[tuple[float, ...], ...], size: Size) -> list[float]:
    return [c for x, y in points for c in (_px(x * size[0]), _px(y * size[1]))]


def _px_keypoints(points: tuple[tuple[float, ...], ...], size: Size) -> list[float]:
    """COCO writes a keypoint that is not labelled (v 0) as 0, 0, 0."""
    out: list[float] = []
    for x, y, v in points:
        out += [_px(x * size[0]), _px(y * size[1]), int(v)] if v else [0, 0, 0]
    return out


def _extent(rings: list[list[float]]) -> list[float]:
    xs = [x for r in rings for x in r[0::2]]
    ys = [y for r in rings for y in r[1::2]]
    return [min(xs), min(ys), _px(max(xs) - min(xs)), _px(max(ys) - min(ys))]
