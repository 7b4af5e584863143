"""Where signed audit checkpoints are kept, outside the catalog they vouch for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from appliance.domain.audit_chain import Checkpoint


@dataclass(frozen=True)
class AnchorRead:
    #: checkpoints whose signature the appliance key verifies, in file order
    checkpoints: list[Checkpoint] = field(default_factory=list)
    #: one reason per line that is not a valid checkpoint of this appliance's key
    rejected: list[str] = field(default_factory=list)


class AuditAnchor(Protocol):
    """An append-only record of signed checkpoints. Blocking; services call it off
    the event loop."""

    key_id: str
    public_key: str  # base64 of the raw Ed25519 public key that verifies the lines

    def append(self, checkpoint: Checkpoint) -> None:
        """Sign ``checkpoint`` and record it durably (and send it to any external
        stream the install configured)."""

    def read(self) -> AnchorRead:
        """Every recorded checkpoint, each signature checked."""
