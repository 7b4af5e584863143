"""What changed between two label documents of one image, object by object.

Objects are matched by ``id`` when both sides have one, then greedily by box
overlap (IoU). A matched pair is "moved" when its geometry changed and
"reclassed" when its class did; unmatched objects are added or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.domain.labels.document import LabelDocument, LabelObject

MATCH_IOU = 0.5


@dataclass(frozen=True)
class LabelDiff:
    added: list[LabelObject] = field(default_factory=list)
    removed: list[LabelObject] = field(default_factory=list)
    moved: list[tuple[LabelObject, LabelObject]] = field(default_factory=list)
    reclassed: list[tuple[LabelObject, LabelObject]] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary(),
            "added": [o.as_dict() for o in self.added],
            "removed": [o.as_dict() for o in self.removed],
            "moved": [{"old": a.as_dict(), "new": b.as_dict()} for a, b in self.moved],
            "reclassed": [{"old": a.as_dict(), "new": b.as_dict()} for a, b in self.reclassed],
        }

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "moved": len(self.moved),
            "reclassed": len(self.reclassed),
            "unchanged": self.unchanged,
        }


def iou(a: LabelObject, b: LabelObject) -> float:
    ax, ay, aw, ah = a.bbox()
    bx, by, bw, bh = b.bbox()
    ix = max(0.0, min(ax + aw / 2, bx + bw / 2) - max(ax - aw / 2, bx - bw / 2))
    iy = max(0.0, min(ay + ah / 2, by + bh / 2) - max(ay - ah / 2, by - bh / 2))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def diff_labels(old: LabelDocument | None, new: LabelDocument | None) -> LabelDiff:
    before = list(old.objects) if old else []
    after = list(new.objects) if new else []
    pairs: list[tuple[LabelObject, LabelObject]] = []
    by_id = {o.id: o for o in after if o.id is not None}
    for o in list(before):
        if o.id is not None and o.id in by_id:
            match = by_id.pop(o.id)
            pairs.append((o, match))
            before.remove(o)
            after.remove(match)
    candidates = sorted(
        ((iou(a, b), i, j) for i, a in enumerate(before) for j, b in enumerate(after)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for score, i, j in candidates:
        if score < MATCH_IOU:
            break
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((before[i], after[j]))
    result = LabelDiff(
        added=[b for j, b in enumerate(after) if j not in used_b],
        removed=[a for i, a in enumerate(before) if i not in used_a],
    )
    unchanged = 0
    for a, b in pairs:
        if a.cls != b.cls:
            result.reclassed.append((a, b))
        elif (a.box, a.points) != (b.box, b.points):
            result.moved.append((a, b))
        else:
            unchanged += 1
    return LabelDiff(result.added, result.removed, result.moved, result.reclassed, unchanged)
