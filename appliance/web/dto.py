"""Request bodies. Unknown fields are refused, so a typo is an error, not a no-op."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from appliance.domain.split import SplitConfig

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Sha = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
#: What the catalog can store: SQLite integers are signed 64-bit.
Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class Body(msgspec.Struct, forbid_unknown_fields=True):
    pass


class SetupIn(Body):
    setup_token: Name
    username: Name
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class LoginIn(Body):
    username: Name
    password: Annotated[str, msgspec.Meta(max_length=1000)]
    ttl_seconds: Annotated[int, msgspec.Meta(ge=60)] | None = None


class TokenIn(Body):
    name: Name
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] = 90


class UserIn(Body):
    username: Name
    password: Annotated[str, msgspec.Meta(max_length=1000)]
    is_admin: bool = False


class WorkspaceIn(Body):
    id: Name
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class QuotaIn(Body):
    quota_bytes: Count | None


class MemberIn(Body):
    role: Name


Ratio = Annotated[float, msgspec.Meta(ge=0, le=1)]
PARTS = msgspec.Meta(min_length=1, max_length=20)


class SplitIn(Body):
    """A split in the shape answers give it (``SplitConfig.as_dict``):
    ``{"ratios": [["train", 0.8], ["val", 0.1], ["test", 0.1]], "seed": "..."}``;
    no seed keeps the default one. ``ratios`` as an object, ``{"train": 0.8, ...}``
    in its key order, is still accepted from older clients."""

    ratios: Annotated[list[tuple[Name, Ratio]], PARTS] | Annotated[dict[Name, Ratio], PARTS]
    seed: Annotated[str, msgspec.Meta(max_length=200)] | None = None

    def config(self) -> SplitConfig:
        parts = tuple(self.ratios.items() if isinstance(self.ratios, dict) else self.ratios)
        return SplitConfig(parts) if self.seed is None else SplitConfig(parts, self.seed)


class DatasetIn(Body):
    name: Name
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    split: SplitIn | None = None


class DigestsIn(Body):
    sha256: Annotated[list[Sha], msgspec.Meta(max_length=10000)]


class FileIn(Body):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    sha256: Sha
    size: Count
    #: The file's label document (an uploaded blob of canonical JSON), if it has one.
    label_sha256: Sha | None = None
    label_size: Count = 0


class StageIn(Body):
    files: Annotated[list[FileIn], msgspec.Meta(max_length=1_000_000)]
    mirror_prefix: Annotated[str, msgspec.Meta(max_length=4096)] | None = None


class RemoveIn(Body):
    paths: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]],
        msgspec.Meta(min_length=1, max_length=100000),
    ]


class CommitIn(Body):
    message: Annotated[str, msgspec.Meta(max_length=10000)] = ""
    split: SplitIn | None = None
    allow_empty: bool = False
    #: Take only approved images from the working area; the rest keep the head's entry.
    only_approved: bool = False


class ReviewIn(Body):
    decision: Literal["approve", "reject"]
    #: Required to reject: what the annotator should fix.
    comment: Annotated[str, msgspec.Meta(max_length=10000)] = ""


class PrelabelIn(Body):
    model: Name
    min_score: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.25


class TagIn(Body):
    version: Name


class SchemaIn(Body):
    """Either a preset name, or the classes (and keypoint skeletons) themselves."""

    preset: Name | None = None
    classes: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=10000)] | None = None
    skeletons: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=1000)] | None = None
    #: Kept beside the schema by a COCO import, so a COCO export writes them back.
    coco_categories: Annotated[list[dict[str, Any]], msgspec.Meta(max_length=10000)] | None = None
    coco_top: dict[str, Any] | None = None
    #: Where existing labels go when the new schema changes what their ids mean:
    #: {"3": 5, "7": "drop"} (old id → new id, or drop).
    mapping: dict[str, int | str] | None = None


class GcIn(Body):
    grace_seconds: Count | None = None
    dry_run: bool = False


class VerifyIn(Body):
    deep: bool = False


class ModelIn(Body):
    name: str
    task: str
    weights_sha256: str
    format: str = "pt"


class PromoteIn(Body):
    version: str
    accept_unmeasured: bool = False  # an export whose parity could not be decided (audited)


class JobIn(Body):
    kind: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class ErasureIn(Body):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    sha256: Sha | None = None
    dataset: Name | None = None
    file: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)] | None = None
    #: the version (number, vN, tag or latest) whose ``file`` is meant
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class WebhookIn(Body):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000, pattern="^https?://")]
    events: Annotated[list[Name], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=lambda: ["*"]
    )
