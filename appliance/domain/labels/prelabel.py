"""Model proposals merged into a file's labels, never over a person's work.

A proposal is an object whose attributes say ``proposal: true`` and ``score``
(the model's confidence, 0..1) and ``model`` (the reference it came from). An
annotator accepts one by removing its ``proposal`` attribute (it is then a human
object like any other) and rejects one by deleting it.

Merging keeps every human object as it is, drops the proposals of an earlier run
that nobody accepted, and adds the new ones, except a proposal that overlaps a
human object of the same class by ``DUPLICATE_IOU`` or more: that is already done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from appliance.domain.labels.diff import iou
from appliance.domain.labels.document import LabelDocument, LabelObject

PROPOSAL = "proposal"
SCORE = "score"
MODEL = "model"
DUPLICATE_IOU = 0.7


def is_proposal(obj: LabelObject) -> bool:
    return dict(obj.attributes).get(PROPOSAL) is True


def as_proposal(obj: LabelObject, model: str) -> LabelObject:
    """Mark a model's object as a proposal; its ``score`` attribute is kept, clamped
    to 0..1 and rounded (so equal runs hash equal)."""
    attrs = dict(obj.attributes)
    raw = attrs.get(SCORE, 0.0)
    score = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else 0.0
    attrs.update({PROPOSAL: True, SCORE: round(min(max(score, 0.0), 1.0), 4), MODEL: model})
    return replace(obj, attributes=tuple(sorted(attrs.items())))


@dataclass(frozen=True, slots=True)
class Merged:
    document: LabelDocument
    added: int
    skipped: int  # proposals a person had already drawn
    replaced: int  # earlier, unaccepted proposals dropped


def merge_proposals(
    current: LabelDocument | None, proposals: Iterable[LabelObject], model: str
) -> Merged:
    base = current or LabelDocument()
    human = [o for o in base.objects if not is_proposal(o)]
    replaced = len(base.objects) - len(human)
    added: list[LabelObject] = []
    skipped = 0
    for p in proposals:
        if any(h.cls == p.cls and iou(h, p) >= DUPLICATE_IOU for h in human):
            skipped += 1
            continue
        added.append(as_proposal(p, model))
    doc = replace(base, objects=tuple(human + added))
    return Merged(doc, len(added), skipped, replaced)
