"""Pre-labelling: a model proposes objects for an image, an annotator keeps or drops them.

Nothing implements these yet: models arrive with training. Until a model registry
exists the appliance runs with ``NO_MODELS``, and every pre-labelling request
answers that the model is not found. The service side (merging proposals into a
file's labels without touching a person's objects, saving them as a ``prelabel``
activity) is built and tested against a fake; docs/annotation.md has the contract.
"""

from __future__ import annotations

from typing import Protocol

from appliance.domain.labels.document import LabelObject
from appliance.domain.labels.schema import LabelSchema


class Prelabeler(Protocol):
    """One loaded model that can propose labels."""

    #: the registry reference it was looked up by, e.g. ``signs-detector@3``
    ref: str

    def propose(
        self, image: bytes, schema: LabelSchema | None, *, min_score: float
    ) -> list[LabelObject]:
        """Objects for ``image`` (encoded bytes, as stored), in the dataset's class
        ids, coordinates normalized 0..1 like every label document. Each carries its
        confidence as the ``score`` attribute (0..1); none below ``min_score``.

        Blocking (it runs inference); the service calls it off the event loop.
        Raises ``appliance.errors.ApplianceError`` subclasses for refusals (an
        image it cannot decode is ``InvalidInput``)."""
        ...


class PrelabelerRegistry(Protocol):
    """Finds a model by reference within a workspace."""

    def lookup(self, ws: str, ref: str) -> Prelabeler | None:
        """The model, or None when the workspace has no model by that reference."""
        ...


class _NoModels:
    """The registry before any model exists: it knows none."""

    def lookup(self, ws: str, ref: str) -> Prelabeler | None:
        return None


NO_MODELS: PrelabelerRegistry = _NoModels()
