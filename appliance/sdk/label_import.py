"""What the YOLO and COCO imports share before and after their upload: settling
the dataset's label schema with the file's classes (before a byte is sent, so a
refused change stores nothing), and saying how the dataset's content-hash split
places the images a folder had split its own way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from appliance.domain.labels.schema import LabelSchema, schema_from_dict
from appliance.domain.labels.schema_change import import_schema, same_classes
from appliance.domain.split import SplitConfig, split_moves

if TYPE_CHECKING:
    from appliance.sdk.client import Client


def settle_schema(
    client: Client,
    ws: str | None,
    dataset: str,
    incoming: LabelSchema,
    mapping: Mapping[int, int | None] | None = None,
    coco: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Give the dataset the classes an import names. Kept as it is when it already
    has them; otherwise changed through ``set_schema``, which refuses a change that
    would re-mean existing labels unless ``mapping`` says where each goes.
    ``coco``: ``{"categories", "top"}``, stored when the schema is the file's own."""
    raw = client.get_schema(ws, dataset)
    existing = schema_from_dict(raw) if raw.get("classes") else None
    proposal = import_schema(existing, incoming)
    target = proposal or existing or incoming
    own = same_classes(target, incoming)
    if proposal is None and not mapping and not (coco and own):
        return {"changed": False, "classes": len(target.classes)}
    answer = client.set_schema(
        ws,
        dataset,
        classes=[c.as_dict() for c in target.classes],
        mapping=mapping,
        coco_categories=coco["categories"] if coco and own else None,
        coco_top=coco["top"] if coco and own else None,
    )
    return {
        "changed": proposal is not None,
        "classes": len(target.classes),
        "relabelled": answer.get("relabelled") or {},
    }


def split_report(
    client: Client, ws: str | None, dataset: str, placed: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """How many of the folder's (split, sha256) pairs the dataset's split keeps in
    their folder's split and how many it moves (``{"train->val": 3, ...}``)."""
    config = SplitConfig.from_dict(client.get_dataset(ws, dataset)["split"])
    moves = split_moves(config, placed)
    moved = {f"{a}->{b}": n for (a, b), n in sorted(moves.items()) if a != b}
    return {
        "split": str(config),
        "kept": sum(n for (a, b), n in moves.items() if a == b),
        "moved": sum(moved.values()),
        "moves": moved,
    }
