"""The model registry: register what a run made (or weights a user uploaded),
answer "what exact data and code made this model?", and promote with a tag.

Registering a model version from a run holds the dataset version it was trained
on: that version cannot be deleted or collected while the model exists (the
lineage guard; a delete answers 409 naming the models).
"""

from __future__ import annotations

import asyncio
from typing import Any

from appliance.domain import names, parity
from appliance.domain.measurement import KEY as MEASUREMENT
from appliance.domain.records import ModelSummary, ModelVersion
from appliance.errors import BlobsNotUploaded, Conflict, InvalidInput, NotFound
from appliance.services.context import ServiceContext

HOLD_KIND = "model"
TASKS = ("detect", "segment", "pose", "classify")


def check_name(name: str, kind: str = "model") -> None:
    names.check_name(kind, name)
    ok = name and len(name) <= 64 and all(c.isalnum() or c in "-_." for c in name)
    if not ok or name[0] in "-.":
        raise InvalidInput(
            f"{kind} name {name!r} is not valid",
            hint="use up to 64 letters, digits, '-', '_' or '.', not starting with '-' or '.'",
        )


async def register_run(
    ctx: ServiceContext,
    ws: str,
    *,
    name: str,
    task: str,
    run_id: str,
    dataset_version_id: int,
    weights: tuple[str, int],
    metrics: dict[str, Any],
    code: dict[str, Any],
    config: dict[str, Any],
    actor: str,
) -> ModelVersion:
    """A training run's weights (already stored as a blob) become a model version."""
    check_name(name)
    async with ctx.catalog.writing(ws) as uow:
        model = await uow.models.ensure(name, task, actor)
        mv = await uow.models.add_version(
            model["id"],
            dataset_version_id=dataset_version_id,
            run_id=run_id,
            source="run",
            weights_sha256=weights[0],
            weights_size=weights[1],
            format="pt",
            metrics=metrics,
            code=code,
            config=config,
            actor=actor,
        )
        await uow.versions.add_hold(dataset_version_id, HOLD_KIND, f"{name}:{mv['number']}")
        await uow.audit.record(actor, "model.register", f"model:{name}:{mv['number']}", run=run_id)
    return mv


async def register_upload(
    ctx: ServiceContext,
    ws: str,
    *,
    name: str,
    task: str,
    weights_sha256: str,
    actor: str,
    fmt: str = "pt",
) -> ModelVersion:
    """Weights a user uploaded (``PUT /blobs/{sha256}``) as a model version: what a
    fine-tuning run starts from, with no download from any hub."""
    check_name(name)
    if task not in TASKS:
        raise InvalidInput(f"task {task!r} is not known", hint=f"use one of {', '.join(TASKS)}")
    async with ctx.catalog.writing(ws) as uow:
        if await asyncio.to_thread(ctx.blobs.missing, ws, {weights_sha256}):
            raise BlobsNotUploaded(
                [(name, f"its weights sha256:{weights_sha256} were not uploaded")],
                [weights_sha256],
            )
        size = (await uow.files.sizes({weights_sha256})).get(weights_sha256)
        if size is None:
            size = len(await asyncio.to_thread(ctx.blobs.read, ws, weights_sha256))
        model = await uow.models.ensure(name, task, actor)
        mv = await uow.models.add_version(
            model["id"],
            source="upload",
            weights_sha256=weights_sha256,
            weights_size=size,
            format=fmt,
            actor=actor,
        )
        await uow.audit.record(actor, "model.upload", f"model:{name}:{mv['number']}")
    return mv


async def register_export(
    ctx: ServiceContext,
    ws: str,
    *,
    source: ModelVersion,
    fmt: str,
    weights: tuple[str, int],
    code: dict[str, Any],
    config: dict[str, Any],
    run_id: str,
    actor: str,
    number: int | None = None,
) -> ModelVersion:
    """An export of ``source`` (a model version) as a new version of the same model
    that names its source; tied to the same data, and holding it likewise.
    ``number``: the version number the file was stamped with (``next_number``);
    :class:`VersionTaken` when another version took it meanwhile."""
    async with ctx.catalog.writing(ws) as uow:
        model = await uow.models.get(source["model"])
        if number is not None and _next(await uow.models.versions(model["id"])) != number:
            raise VersionTaken(source["model"], number)
        data = source["dataset_version_id"]
        mv = await uow.models.add_version(
            model["id"],
            dataset_version_id=data,
            run_id=run_id if data is not None else None,
            source="export",
            weights_sha256=weights[0],
            weights_size=weights[1],
            format=fmt,
            code=code,
            config=config,
            actor=actor,
            parent_version_id=source["id"],
        )
        if data is not None:
            await uow.versions.add_hold(data, HOLD_KIND, f"{source['model']}:{mv['number']}")
        await uow.audit.record(
            actor,
            "model.export",
            f"model:{source['model']}:{mv['number']}",
            source=source["number"],
            format=fmt,
        )
    return mv


class VersionTaken(Conflict):
    code = "model-version-taken"

    def __init__(self, name: str, number: int) -> None:
        super().__init__(
            f"version {number} of model {name!r} was registered meanwhile",
            hint="register again with the next number",
        )
        self.name = name
        self.number = number


def _next(versions: list[ModelVersion]) -> int:
    return max((v["number"] for v in versions), default=0) + 1


async def next_number(ctx: ServiceContext, ws: str, name: str) -> int:
    """The number the next version of model ``name`` will get (an export stamps
    it into its file before it is registered)."""
    async with ctx.catalog.reading(ws) as uow:
        model = await uow.models.get(name)
        return _next(await uow.models.versions(model["id"]))


async def set_parity(
    ctx: ServiceContext,
    ws: str,
    name: str,
    number: int,
    parity: dict[str, Any],
    measured: dict[str, Any] | None = None,
) -> ModelVersion:
    """Record an export's parity; its own figures are those of the parity
    measurement, named by ``measured`` (``appliance.domain.measurement``)."""
    async with ctx.catalog.writing(ws) as uow:
        model = await uow.models.get(name)
        mv = await uow.models.version(model["id"], str(number))
        own = {"map50": parity.get("export_map50"), "map50_95": parity.get("export_map50_95")}
        if measured is not None:
            own[MEASUREMENT] = measured
        await uow.models.set_metrics(mv["id"], {**mv["metrics"], **own, "parity": parity})
        return await uow.models.version(model["id"], str(number))


async def list_models(ctx: ServiceContext, ws: str) -> list[ModelSummary]:
    async with ctx.catalog.reading(ws) as uow:
        return await uow.models.list()


async def show(ctx: ServiceContext, ws: str, name: str) -> dict[str, Any]:
    async with ctx.catalog.reading(ws) as uow:
        model = await uow.models.get(name)
        return {**model, "versions": await uow.models.versions(model["id"])}


async def version(ctx: ServiceContext, ws: str, name: str, ref: str) -> ModelVersion:
    async with ctx.catalog.reading(ws) as uow:
        model = await uow.models.get(name)
        return await uow.models.version(model["id"], ref)


async def lineage(ctx: ServiceContext, ws: str, name: str, ref: str) -> dict[str, Any]:
    """The model version, the dataset version it was trained on (with its manifest
    hash: `ahoy dataset pull` rebuilds those bytes), and the run that made it."""
    async with ctx.catalog.reading(ws) as uow:
        model = await uow.models.get(name)
        mv = await uow.models.version(model["id"], ref)
        data: dict[str, Any] | None = None
        if mv["dataset_version_id"] is not None:
            v = await uow.versions.by_id(mv["dataset_version_id"])
            if v is None:
                raise NotFound("dataset version", str(mv["dataset_version_id"]))
            slug = next(
                (d.slug for d, _, _ in await uow.datasets.list() if d.id == v.dataset_id), None
            )
            data = {"dataset": slug, **v.as_dict()}
        run = await uow.jobs.get(mv["run_id"]) if mv["run_id"] else None
    return {
        "model": mv,
        "data": data,
        "run": run,
        "code": mv["code"],
        "config": mv["config"],
    }


async def promote(
    ctx: ServiceContext,
    ws: str,
    name: str,
    ref: str,
    tag: str,
    actor: str,
    accept_unmeasured: bool = False,
) -> ModelVersion:
    """Point ``tag`` (``production``, ``candidate``, ...) at a model version. An
    export must have passed its parity gate; one whose parity was measured on too
    little data to decide ("not measurable") is promoted only when the caller (an
    admin: promotion is theirs) accepts that, which the audit trail records."""
    check_name(tag, "model tag")
    rules = parity_rules(ctx.settings)
    async with ctx.catalog.writing(ws) as uow:
        model = await uow.models.get(name)
        mv = await uow.models.version(model["id"], ref)
        target = f"model:{name}:{mv['number']}"
        refusal, state, accepted = None, None, {}
        if mv["source"] == "export":
            refusal, state = parity_refusal(mv, rules)
            if state == parity.UNMEASURABLE and accept_unmeasured:
                counts = parity.counts(mv["metrics"]["parity"])
                refusal, accepted = None, {"parity": "not measurable, accepted", "on": counts}
        if refusal is not None:  # recorded (this transaction commits), then refused
            await uow.audit.record(actor, "model.promote.refused", target, tag=tag, why=refusal)
        else:
            await uow.models.set_tag(model["id"], tag, mv["id"], actor)
            await uow.audit.record(actor, "model.promote", target, tag=tag, **accepted)
            return await uow.models.version(model["id"], str(mv["number"]))
    if state == parity.UNMEASURABLE:
        raise ParityNotMeasurable(refusal, hint=UNMEASURABLE_HINT)
    raise ParityFailed(refusal, hint=PARITY_HINT)


PARITY_HINT = (
    "promote the source weights, export again (e.g. FP16 instead of INT8, or another"
    " opset), or raise AHOY_PARITY_TOLERANCE if the loss is acceptable"
)
UNMEASURABLE_HINT = (
    "measure the export on more data (`ahoy model export` with --dataset/--version/--split),"
    " or, as an admin who accepts an unmeasured export, promote with --accept-unmeasured"
)


class ParityFailed(Conflict):
    code = "parity-failed"


class ParityNotMeasurable(Conflict):
    code = "parity-not-measurable"


def parity_rules(settings: Any) -> parity.ParityRules:
    return parity.ParityRules(
        settings.parity_tolerance, settings.parity_min_images, settings.parity_min_objects
    )


def parity_refusal(mv: ModelVersion, rules: parity.ParityRules) -> tuple[str | None, str | None]:
    """Why an export may not be promoted (``None``: it may), and its parity's
    verdict under today's ``rules``: never measured against its source, measured
    on too little data to decide, or lost more than the tolerance."""
    record = mv["metrics"].get("parity")
    label = f"{mv['model']}@{mv['number']} ({mv['format']} export of v{mv['parent']})"
    if not record:
        return f"{label} has no parity measurement against its source", None
    state = parity.verdict(record, rules)
    if state == parity.PASSED:
        return None, state
    return f"{label}: {parity.describe(record, rules)}", state
