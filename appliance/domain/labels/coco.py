"""COCO (``instances_*.json``, ``person_keypoints_*.json``) to and from label documents.

Pure: dicts in, dicts out; reading and writing the JSON file is the caller's.

    coco_to_documents(coco) -> CocoImport   # documents by file_name, categories,
                                            # class_map, problems, top-level keys
    documents_to_coco(documents, categories, top=..., image_ids=...) -> dict

Classes: class index i is the i-th category sorted by COCO id; the categories
(ids, names, supercategory, keypoint names, 1-based skeleton, other keys) are
returned as they were so export writes the same ids back.

One annotation becomes one or more objects:

* keypoints → a ``keypoints`` object (box from ``bbox``; v kept);
* else polygons (``segmentation`` a list of rings) → one ``polygon`` per ring;
* else (RLE, ``[]`` or no segmentation) → a ``box`` object;
* with keypoints *and* polygons, the keypoints object comes first, then the rings.

Every object gets ``id`` ``coco:<ann id>`` (``coco:<ann id>:<k>`` for later parts) and
the attribute ``coco.id``. The first object (the head) also keeps what the
document model has no place for: ``coco.parts`` (how many objects), ``coco.bbox``
(JSON), ``coco.area``, ``coco.iscrowd``, ``coco.segmentation`` (JSON of an RLE or
``[]``; rings travel as polygons), ``coco.extra`` (JSON of non-standard keys) and
``coco.absent`` (standard keys the original lacked). The document ``extra`` keeps
``coco.image_id`` and ``coco.image`` (JSON of the image record's other keys:
license, date_captured, coco_url…).

Losslessness. Normalizing is ``x / width`` (box: ``(x + w / 2) / width``…), and
``x / width * width`` is not always ``x`` in floating point, so export does not
compute pixels back when it can avoid it: each object keeps its original pixel
values as JSON (``coco.bbox``, ``coco.ring`` per polygon, ``coco.keypoints``), and
export uses them only while normalizing them again gives exactly the object's
current coordinates — the same arithmetic, so an untouched object always matches
and an edited one never does. JSON text keeps ints as ints and floats by repr, so
the values come back bit for bit, also after the document has been stored as
canonical JSON and parsed again. Area, bbox of polygons and absent keys are
trusted only while the whole annotation is intact (same part count, every part
unchanged). So a COCO dict that imports without problems exports to an equal
dict (images and annotations in the same order); ``num_keypoints`` is derived
from the visibilities (import reports a count that disagrees).

Edited or native objects are written from their 0..1 coordinates: boxes clipped
to the image, values rounded to 0.01 px, area from the polygon (shoelace) or
``w * h``, v 0 keypoints as ``0, 0, 0``, ``segmentation`` ``[]`` for a box; ids
kept when free, else the next free id, in document order. A kept RLE stays with
its box even when the box moved (the model cannot edit masks).

Problems (never raised on import): bad shapes, missing keys, duplicate image,
annotation or category ids, duplicate file names, annotations naming an unknown
image or category, bboxes with a non-positive size or reaching outside the image,
points outside the image, NaN or infinity, images without a positive integer
width and height, RLEs that do not cover the image, keypoint counts that do not
match the category. Each names where: ``annotations[12] (id 57)``.
"""

from __future__ import annotations

from appliance.domain.labels.coco_model import (
    CocoCategory,
    CocoImport,
    LabelProblem,
    categories_from_names,
    class_map,
    class_names,
)
from appliance.domain.labels.coco_read import coco_to_documents
from appliance.domain.labels.coco_write import documents_to_coco

__all__ = [
    "CocoCategory",
    "CocoImport",
    "LabelProblem",
    "categories_from_names",
    "class_map",
    "class_names",
    "coco_to_documents",
    "documents_to_coco",
]
