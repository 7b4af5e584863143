"""A COCO dict → label documents, with every data problem found (contract in ``coco.py``)."""

from __future__ import annotations

from typing import Any

from appliance.domain.labels.coco_model import (
    ABSENT,
    ANN_EXTRA,
    ANN_ID,
    ANN_KEYS,
    AREA,
    BBOX,
    CATEGORY_KEYS,
    IMAGE_EXTRA,
    IMAGE_ID,
    IMAGE_KEYS,
    ISCROWD,
    KEYPOINTS,
    PARTS,
    RING,
    SEGMENTATION,
    CocoCategory,
    CocoImport,
    class_map,
    dumps,
    is_finite,
    is_id,
    is_number,
    norm_box,
    norm_keypoints,
    norm_ring,
    rle_counts,
)
from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject, Scalar

Size = tuple[int, int]
LISTS = ("images", "annotations", "categories")
NOT_FINITE = "not a finite number (NaN or infinity)"


def coco_to_documents(coco: Any) -> CocoImport:
    """Documents by image ``file_name`` and every problem found; raises nothing for
    bad data. Import only when ``problems`` is empty: a document of an image with
    problems may lack the annotations that had them."""
    r = _Reader()
    if not isinstance(coco, dict):
        r.bad("coco", "a COCO file is a JSON object with images, annotations and categories")
        return CocoImport({}, (), {}, r.problems)
    lists: dict[str, list[Any]] = {}
    for key in LISTS:
        value = coco.get(key)
        if key not in coco:
            r.bad("coco", f"missing key {key!r}")
        elif not isinstance(value, list):
            r.bad("coco", f"{key} is a list, not {type(value).__name__}")
        lists[key] = value if isinstance(value, list) else []
        r.complete[key] = isinstance(value, list)
    found = [r.category(i, raw) for i, raw in enumerate(lists["categories"])]
    categories = tuple(c for c in found if c is not None)
    classes = class_map(categories)
    by_id = {c.id: c for c in categories}
    images = [r.image(i, raw) for i, raw in enumerate(lists["images"])]
    for i, raw in enumerate(lists["annotations"]):
        r.annotation(i, raw, classes, by_id)
    documents = {
        name: LabelDocument(tuple(r.objects.get(image_id, ())), size, extra=extra)
        for name, image_id, size, extra in (img for img in images if img is not None)
    }
    top = {k: v for k, v in coco.items() if k not in LISTS}
    return CocoImport(documents, categories, classes, r.problems, top)


def _where(base: str, raw: Any) -> str:
    return f"{base} (id {raw['id']!r})" if isinstance(raw, dict) and "id" in raw else base


class _Reader:
    def __init__(self) -> None:
        self.problems: list[LabelError] = []
        self.sizes: dict[int, Size | None] = {}  # image id → size (None: the image is broken)
        self.names: dict[str, int] = {}  # file_name → index in images
        self.category_ids: set[int] = set()
        self.broken_categories: set[int] = set()
        self.ann_ids: dict[int, int] = {}  # annotation id → index in annotations
        self.objects: dict[int, list[LabelObject]] = {}  # image id → its objects
        # False once some image or category id cannot be read: an annotation naming
        # an unknown id then says nothing new, so it is not reported.
        self.complete = {"images": True, "categories": True}

    def bad(self, where: str, problem: str) -> None:
        self.problems.append(LabelError(where, problem))

    def category(self, i: int, raw: Any) -> CocoCategory | None:
        where = _where(f"categories[{i}]", raw)
        if not isinstance(raw, dict) or not is_id(raw.get("id")):
            self.complete["categories"] = False
        if not isinstance(raw, dict):
            self.bad(where, "a category is a JSON object")
            return None
        before = len(self.problems)
        cid: Any = raw.get("id")
        name: Any = raw.get("name")
        for key in ("id", "name"):
            if key not in raw:
                self.bad(where, f"missing key {key!r}")
        if "id" in raw and not is_id(cid):
            self.bad(where, f"id {cid!r} is not an integer")
        elif cid in self.broken_categories or cid in self.category_ids:
            self.bad(where, f"id {cid} is used by another category")
        if "name" in raw and not isinstance(name, str):
            self.bad(where, "name is a string")
        supercategory = raw.get("supercategory")
        if supercategory is not None and not isinstance(supercategory, str):
            self.bad(where, "supercategory is a string")
        keypoints = raw.get("keypoints")
        if keypoints is not None and not (
            isinstance(keypoints, list) and all(isinstance(k, str) for k in keypoints)
        ):
            self.bad(where, "keypoints is a list of names")
            keypoints = None
        skeleton = raw.get("skeleton")
        top = len(keypoints) if keypoints is not None else None
        if skeleton is not None and not (
            isinstance(skeleton, list)
            and all(
                isinstance(e, list)
                and len(e) == 2
                and all(is_id(j) and j >= 1 and (top is None or j <= top) for j in e)
                for e in skeleton
            )
        ):
            self.bad(where, "skeleton is a list of [a, b] pairs of 1-based keypoint numbers")
        extra = {k: v for k, v in raw.items() if k not in CATEGORY_KEYS}
        if len(self.problems) > before:
            if is_id(cid):
                self.broken_categories.add(cid)
            return None
        self.category_ids.add(cid)
        return CocoCategory(
            cid,
            name,
            supercategory,
            None if keypoints is None else tuple(keypoints),
            None if skeleton is None else tuple((a, b) for a, b in skeleton),
            extra,
        )

    def image(
        self, i: int, raw: Any
    ) -> tuple[str, int, Size, tuple[tuple[str, Scalar], ...]] | None:
        where = _where(f"images[{i}]", raw)
        if not isinstance(raw, dict) or not is_id(raw.get("id")):
            self.complete["images"] = False
        if not isinstance(raw, dict):
            self.bad(where, "an image is a JSON object")
            return None
        before = len(self.problems)
        for key in IMAGE_KEYS:
            if key not in raw:
                self.bad(where, f"missing key {key!r}")
        image_id: Any = raw.get("id")
        name: Any = raw.get("file_name")
        if "id" in raw and not is_id(image_id):
            self.bad(where, f"id {image_id!r} is not an integer")
        elif image_id in self.sizes:
            self.bad(where, f"id {image_id} is used by another image")
            image_id = None  # the first image with the id keeps its annotations
        if "file_name" in raw and not (isinstance(name, str) and name):
            self.bad(where, "file_name is a non-empty string")
        elif name in self.names:
            self.bad(where, f"file_name {name!r} is also images[{self.names[name]}]'s")
        elif isinstance(name, str):
            self.names[name] = i
        for key in ("width", "height"):
            if key in raw and not (is_id(raw[key]) and raw[key] > 0):
                self.bad(where, f"{key} {raw[key]!r} is not a positive integer")
        extra = {k: v for k, v in raw.items() if k not in IMAGE_KEYS}
        kept: dict[str, Scalar] = {}
        if extra:
            try:
                kept[IMAGE_EXTRA] = dumps(extra)
            except ValueError:
                self.bad(where, f"a value is {NOT_FINITE}")
        ok = len(self.problems) == before
        if is_id(image_id):
            self.sizes[image_id] = (raw["width"], raw["height"]) if ok else None
        if not ok or not is_id(image_id):
            return None
        kept[IMAGE_ID] = image_id
        return name, image_id, (raw["width"], raw["height"]), tuple(sorted(kept.items()))

    def annotation(
        self, i: int, raw: Any, classes: dict[int, int], categories: dict[int, CocoCategory]
    ) -> None:
        where = _where(f"annotations[{i}]", raw)
        if not isinstance(raw, dict):
            self.bad(where, "an annotation is a JSON object")
            return
        problems = [f"missing key {k!r}" for k in ANN_KEYS[:4] if k not in raw]
        ann_id: Any = raw.get("id")
        image_id: Any = raw.get("image_id")
        cat_id: Any = raw.get("category_id")
        if "id" in raw and not is_id(ann_id):
            problems.append(f"id {ann_id!r} is not an integer")
        elif ann_id in self.ann_ids:
            problems.append(f"id {ann_id} is also annotations[{self.ann_ids[ann_id]}]'s")
        elif "id" in raw:
            self.ann_ids[ann_id] = i
        size = None
        if "image_id" in raw and not (is_id(image_id) and image_id in self.sizes):
            if self.complete["images"]:
                problems.append(f"image_id {image_id!r} is not the id of an image")
        elif "image_id" in raw:
            size = self.sizes[image_id]
        category = categories.get(cat_id) if is_id(cat_id) else None
        if (
            "category_id" in raw
            and category is None
            and self.complete["categories"]
            and not (is_id(cat_id) and cat_id in self.broken_categories)
        ):
            problems.append(f"category_id {cat_id!r} is not the id of a category")
        if "bbox" in raw:
            problems += _bbox(raw["bbox"], size)
        if "area" in raw and not (is_finite(raw["area"]) and raw["area"] >= 0):
            problems.append(f"area {raw['area']!r} is not a number >= 0")
        if "iscrowd" in raw and not (is_id(raw["iscrowd"]) and raw["iscrowd"] in (0, 1)):
            problems.append(f"iscrowd {raw['iscrowd']!r} is not 0 or 1")
        if "segmentation" in raw:
            problems += _segmentation(raw["segmentation"], size)
        if "keypoints" in raw:
            problems += _keypoints(raw, size, category)
        extra = {k: v for k, v in raw.items() if k not in ANN_KEYS}
        if "num_keypoints" in raw and "keypoints" not in raw:
            extra["num_keypoints"] = raw["num_keypoints"]
        kept_extra = None
        try:
            kept_extra = dumps(extra) if extra else None
        except ValueError:
            problems.append(f"a value is {NOT_FINITE}")
        for problem in problems:
            self.bad(where, problem)
        if problems or size is None or category is None:
            return
        head: dict[str, Scalar] = {BBOX: dumps(raw["bbox"])}
        for key, name in (("area", AREA), ("iscrowd", ISCROWD)):
            if key in raw:
                head[name] = raw[key]
        absent = [k for k in ("area", "iscrowd", "segmentation") if k not in raw]
        if "keypoints" in raw and "num_keypoints" not in raw:
            absent.append("num_keypoints")
        if absent:
            head[ABSENT] = ",".join(absent)
        if kept_extra is not None:
            head[ANN_EXTRA] = kept_extra
        self._objects(ann_id, image_id, classes[category.id], raw, size, head)

    def _objects(
        self, ann_id: int, image_id: int, cls: int, raw: dict[str, Any], size: Size, head: dict
    ) -> None:
        """One object per part: the keypoints or the box (when there are no polygons),
        then one polygon per ring. The head (first part) keeps the annotation's fields."""
        width, height = size
        seg = raw.get("segmentation")
        rings = seg if isinstance(seg, list) else []
        if "segmentation" in raw and not rings:
            head[SEGMENTATION] = dumps(seg)
        box = norm_box(raw["bbox"], width, height)
        parts: list[tuple[str, Any, tuple[tuple[float, ...], ...], dict[str, Scalar]]] = []
        if "keypoints" in raw:
            kps = raw["keypoints"]
            parts.append(
                ("keypoints", box, norm_keypoints(kps, width, height), {KEYPOINTS: dumps(kps)})
            )
        elif not rings:
            parts.append(("box", box, (), {}))
        for ring in rings:
            parts.append(("polygon", None, norm_ring(ring, width, height), {RING: dumps(ring)}))
        head[PARTS] = len(parts)
        out = self.objects.setdefault(image_id, [])
        for k, (kind, b, points, attrs) in enumerate(parts):
            attrs[ANN_ID] = ann_id
            if k == 0:
                attrs.update(head)
            ident = f"coco:{ann_id}" + (f":{k}" if k else "")
            out.append(LabelObject(kind, cls, b, points, ident, tuple(sorted(attrs.items()))))


def _inside(flat: list[Any], step: int, size: Size | None) -> bool:
    if size is None:
        return True
    width, height = size
    return all(
        0 <= flat[j] <= width and 0 <= flat[j + 1] <= height for j in range(0, len(flat), step)
    )


def _bbox(bbox: Any, size: Size | None) -> list[str]:
    if not (isinstance(bbox, list) and len(bbox) == 4 and all(is_number(v) for v in bbox)):
        return ["bbox is [x, y, width, height], four numbers"]
    if not all(is_finite(v) for v in bbox):
        return [f"bbox has a value that is {NOT_FINITE}"]
    x, y, w, h = bbox
    if w <= 0 or h <= 0:
        return [f"bbox {bbox} has a width or height that is not positive"]
    if size is not None:
        width, height = size
        # Rounding is monotonic, so a float sum past the edge is a real overshoot.
        if x < 0 or y < 0 or x + w > width or y + h > height:
            return [f"bbox {bbox} reaches outside the {width}x{height} image"]
        if w / width <= 0 or h / height <= 0:
            return [f"bbox {bbox} is too small to normalize"]
    return []


def _segmentation(seg: Any, size: Size | None) -> list[str]:
    if isinstance(seg, dict):
        return _rle(seg, size)
    if not isinstance(seg, list):
        return ["segmentation is a list of polygons or an RLE object"]
    problems = []
    for k, ring in enumerate(seg):
        at = f"segmentation[{k}]"
        if not (isinstance(ring, list) and all(is_number(v) for v in ring)):
            problems.append(f"{at} is a flat list of numbers [x1, y1, x2, y2, ...]")
        elif not all(is_finite(v) for v in ring):
            problems.append(f"{at} has a value that is {NOT_FINITE}")
        elif len(ring) % 2 or len(ring) < 6:
            problems.append(f"{at} has {len(ring)} numbers; a polygon is 3 or more x, y pairs")
        elif not _inside(ring, 2, size):
            problems.append(f"{at} has a point outside the {size[0]}x{size[1]} image")  # type: ignore[index]
    return problems


def _rle(seg: dict[str, Any], size: Size | None) -> list[str]:
    rle_size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(rle_size, list) and len(rle_size) == 2 and all(is_id(v) for v in rle_size)):
        return ["an RLE segmentation has size [height, width]"]
    if size is not None and rle_size != [size[1], size[0]]:
        return [f"RLE size {rle_size} is not the image's [height, width] {[size[1], size[0]]}"]
    if isinstance(counts, list) and all(is_id(c) and c >= 0 for c in counts):
        runs = rle_counts(counts)
    elif isinstance(counts, str):
        runs = rle_counts(counts)
        if runs is None or any(c < 0 for c in runs):
            return ["RLE counts is not a valid compressed RLE string"]
    else:
        return ["RLE counts is a list of run lengths or a compressed string"]
    if runs is not None and sum(runs) != rle_size[0] * rle_size[1]:
        return [f"RLE runs cover {sum(runs)} pixels, not {rle_size[0]}x{rle_size[1]}"]
    return []


def _keypoints(raw: dict[str, Any], size: Size | None, category: CocoCategory | None) -> list[str]:
    kps = raw["keypoints"]
    if not (isinstance(kps, list) and len(kps) % 3 == 0 and all(is_number(v) for v in kps)):
        return ["keypoints is a flat list of numbers [x1, y1, v1, x2, y2, v2, ...]"]
    if not all(is_finite(v) for v in kps):
        return [f"keypoints has a value that is {NOT_FINITE}"]
    visibility = kps[2::3]
    if not all(is_id(v) and v in (0, 1, 2) for v in visibility):
        return ["keypoint visibility is 0 (not labelled), 1 (hidden) or 2 (visible)"]
    problems = []
    names = category.keypoints if category is not None else None
    if names is not None and len(kps) // 3 != len(names):
        problems.append(f"has {len(kps) // 3} keypoints; category {category.id} names {len(names)}")  # type: ignore[union-attr]
    if not _inside(kps, 3, size):
        problems.append(f"a keypoint lies outside the {size[0]}x{size[1]} image")  # type: ignore[index]
    labelled = sum(1 for v in visibility if v > 0)
    count = raw.get("num_keypoints", labelled)
    if not (is_id(count) and count == labelled):
        problems.append(
            f"num_keypoints {raw['num_keypoints']!r} is not the {labelled} labelled keypoints"
        )
    return problems
