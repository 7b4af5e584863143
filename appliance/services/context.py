"""What every service needs: the catalog, the blob store, and who is acting."""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.ports.audit_anchor import AuditAnchor
from appliance.ports.blobstore import BlobStore
from appliance.ports.catalog import Catalog
from appliance.ports.jobs import JobKinds
from appliance.ports.prelabel import NO_MODELS, PrelabelerRegistry
from appliance.services.shield import Shield
from appliance.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings
    catalog: Catalog
    blobs: BlobStore
    #: models that can pre-label images (none until training exists)
    models: PrelabelerRegistry = NO_MODELS
    #: signed audit checkpoints outside the catalog (none: verify the chain alone)
    anchor: AuditAnchor | None = None
    #: in-memory limits: login throttles, refusal tallies, upload slots and their pool
    shield: Shield = field(default_factory=Shield)
    #: the job kinds this process runs (none unless the composition root gave them)
    kinds: JobKinds[ServiceContext] = field(default_factory=JobKinds)
