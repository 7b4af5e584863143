"""Annotation work: the queue, one image and its labels, saving, submitting,
reviewing, per-person figures and pre-labelling (docs/annotation.md).

    item = client.item(None, "photos", "img/001.jpg")    # labels + label_sha256
    doc = item["labels"] or {"objects": []}
    doc["objects"].append({"type": "box", "class": 0, "box": [0.5, 0.5, 0.2, 0.1]})
    client.save_labels(None, "photos", "img/001.jpg", doc, if_match=item["label_sha256"])
    client.submit(None, "photos", "img/001.jpg")
    client.review(None, "photos", "img/001.jpg", "reject", "the box misses the mirror")
    [i["path"] for i in client.items(None, "photos", state="rejected", annotator="me")]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from appliance.sdk.transport import Transport, q

#: ``if_match`` default: no condition (save over whatever labels the file has).
ANY = "*"


def _if_match(value: str | None) -> dict[str, str]:
    """``ANY`` → no header; None → ``none`` (the file had no labels); else the digest."""
    if value == ANY:
        return {}
    return {"If-Match": f'"{value or "none"}"'}


class AnnotateApi(Transport):
    def _file(self, ws: str | None, dataset: str, verb: str, path: str) -> str:
        return f"{self._ws(ws, 'datasets', dataset, verb)}/{q(path, safe='/')}"

    def items(
        self,
        ws: str | None,
        dataset: str,
        *,
        state: str | None = None,
        annotator: str | None = None,
        prefix: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The annotation queue, by path: ``{path, sha256, label_sha256, state, stale,
        annotator, reviewer, comment, updated_at}``. ``annotator="me"``: the caller's."""
        params = {"state": state, "annotator": annotator, "prefix": prefix}
        return self._items(self._ws(ws, "datasets", dataset, "items"), params)

    def item(self, ws: str | None, dataset: str, path: str) -> dict[str, Any]:
        """One image: its queue entry, ``labels`` (the document, or None) and
        ``history`` (its latest saves, submissions and review decisions)."""
        return dict(self._json("GET", self._file(ws, dataset, "items", path)))

    def save_labels(
        self,
        ws: str | None,
        dataset: str,
        path: str,
        doc: dict[str, Any],
        *,
        if_match: str | None = ANY,
    ) -> dict[str, Any]:
        """Save an image's label document → ``{path, label_sha256, previous, changed,
        state}``. ``if_match``: the label_sha256 you loaded (None: it had none); other
        labels there now raise ``ApiError`` 409 and nothing is saved."""
        path_ = self._file(ws, dataset, "labels", path)
        return dict(self._json("PUT", path_, json=doc, headers=_if_match(if_match)))

    def submit(self, ws: str | None, dataset: str, path: str) -> dict[str, Any]:
        """Hand the image's labels to review (from in_progress or rejected)."""
        return dict(self._json("POST", self._file(ws, dataset, "submit", path)))

    def review(
        self,
        ws: str | None,
        dataset: str,
        path: str,
        decision: str,
        comment: str = "",
        *,
        if_match: str | None = ANY,
    ) -> dict[str, Any]:
        """``decision``: ``approve`` or ``reject`` (a rejection needs ``comment``), about
        the labels the image has now (or exactly ``if_match``'s)."""
        body = {"decision": decision, "comment": comment}
        path_ = self._file(ws, dataset, "review", path)
        return dict(self._json("POST", path_, json=body, headers=_if_match(if_match)))

    def review_stats(
        self, ws: str | None, dataset: str, *, since: float | None = None
    ) -> dict[str, Any]:
        """``{since, annotators: [...], reviewers: [...]}`` (unix ``since``: a window)."""
        path = self._ws(ws, "datasets", dataset, "review", "stats")
        return dict(self._json("GET", path, params={"since": since}))

    def prelabel(
        self, ws: str | None, dataset: str, path: str, model: str, *, min_score: float = 0.25
    ) -> dict[str, Any]:
        """Add proposals of ``model`` (``name`` or ``name@ref``) to the image's labels."""
        body = {"model": model, "min_score": min_score}
        return dict(self._json("POST", self._file(ws, dataset, "prelabel", path), json=body))
