"""Pre-labelling: a model proposes objects for an image, an annotator keeps or drops them.

The appliance serves registered Ultralytics weights (appliance/adapters/prelabel);
``NO_MODELS`` runs none. The service merges proposals into a file's labels without
touching a person's objects and saves them as a ``prelabel`` activity;
docs/annotation.md has the contract.
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
    """Finds a model by reference within a workspace, or loads registered weights."""

    def lookup(self, ws: str, ref: str) -> Prelabeler | None:
        """A model it serves itself by that reference (a plugin's), or None: the
        service then resolves the reference in the model registry and ``load``s it."""
        ...

    def load(self, ref: str, sha256: str, weights: bytes) -> Prelabeler | None:
        """A model from registered weights (None: this registry runs no models).
        Blocking: the service calls it off the event loop."""
        ...


class _NoModels:
    """A registry that runs no models (tests, and processes that never pre-label)."""

    def lookup(self, ws: str, ref: str) -> Prelabeler | None:
        return None

    def load(self, ref: str, sha256: str, weights: bytes) -> Prelabeler | None:
        return None


NO_MODELS: PrelabelerRegistry = _NoModels()
