"""`augment`: expand a version's TRAIN split N× into a derived version.

At submission the source version is pinned and the target checked (another
dataset, default ``<dataset>-aug``, without uncommitted work). In the worker the
source is held, its labelled train images are transformed in a child process
(albumentations; see appliance.domain.augment for the rules), the copies are
stored, and one transaction writes the target's files and a version whose lineage
names the source version and the recipe hash. Val and test are carried over as
they are. The same source and recipe make the same version again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from appliance.domain.augment import RECIPE_FIELDS, Planned, Recipe, parse_recipe, plan
from appliance.domain.governor import GIB, HostReading, ResourceRequest
from appliance.domain.manifest import ManifestRow
from appliance.domain.records import StagedFile
from appliance.errors import ApplianceError, InvalidInput
from appliance.jobs.blob_files import write_blobs
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.jobs.on_version import dataset_problems, holding_version, pin_version
from appliance.ports.blobstore import BlobPut
from appliance.services import versions
from appliance.services.context import ServiceContext
from appliance.services.derive import Derivation, check_target, commit_derived
from appliance.services.staging import forget_new_blobs

KNOWN = {"dataset", "version", "into", "recipe"}
STORE_BATCH = 64


class AugmentFailed(ApplianceError):
    code = "augment-failed"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    problems += dataset_problems(params)
    into = params.get("into")
    if into is not None and not (isinstance(into, str) and into):
        problems.append("into must name a dataset")
    recipe = params.get("recipe")
    if recipe is not None and not isinstance(recipe, dict):
        problems.append("recipe must be an object of recipe fields")
    if problems:
        raise InvalidInput("; ".join(problems), hint="`ahoy job kinds --json` lists them")
    parsed = parse_recipe(recipe)
    return {
        "dataset": params["dataset"],
        "version": str(params.get("version", "latest")),
        "into": into or f"{params['dataset']}-aug",
        "recipe": parsed.as_dict(),
    }


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    await check_target(ctx, ws, params["dataset"], params["into"])
    return await pin_version(ctx, ws, params)


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=1, ram_bytes=1 * GIB, disk_bytes=2 * GIB)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    recipe = parse_recipe(p["recipe"])
    async with holding_version(job) as scratch:
        _, rows = await versions.manifest(job.ctx, job.ws, p["dataset"], p["version"])
        planned = plan(rows, recipe)
        await job.log(
            f"{p['dataset']}@{p['version']}: {len(planned) // recipe.copies} labelled train"
            f" image(s) × {recipe.copies} cop{'y' if recipe.copies == 1 else 'ies'};"
            f" val/test carried over as they are (recipe {recipe.sha256[:12]})"
        )
        made = await _make_copies(job, scratch, recipe, planned)
        stored = await _store(job, made)
        try:
            files = _files(rows, planned, made, stored)
            version, new = await commit_derived(
                job.ctx,
                job.ws,
                p["into"],
                files,
                Derivation(
                    "augment",
                    p["dataset"],
                    p["version_id"],
                    recipe.as_dict(),
                    recipe.sha256,
                    job.id,
                ),
                job.job["created_by"],
                f"augment {p['dataset']}@{p['version']}: train ×{recipe.copies + 1}",
            )
        except BaseException:
            await forget_new_blobs(job.ctx, job.ws, {b.sha256 for b in stored.values()})
            raise
    if not new:
        await job.log(f"{p['into']}@{version.number} already holds exactly these files")
    return {
        "dataset": p["into"],
        "version": version.number,
        "new_version": new,
        "source": f"{p['dataset']}@{p['version']}",
        "copies": len(planned),
        "files": version.file_count,
        "recipe_sha256": recipe.sha256,
    }


async def _make_copies(
    job: JobHandle, scratch: Path, recipe: Recipe, planned: list[Planned]
) -> dict[str, tuple[Path, Path]]:
    """Runs the child; returns each copy's name → (image file, label file)."""
    src, out = scratch / "in", scratch / "out"
    src.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[Planned]] = {}
    for item in planned:
        by_source.setdefault(item.source.filename, []).append(item)
    items, made = [], {}
    wanted: dict[str, list[Path]] = {}
    for n, copies in enumerate(by_source.values()):
        row = copies[0].source
        assert row.label_sha256 is not None
        image, labels = src / f"{n}{Path(row.filename).suffix}", src / f"{n}.json"
        wanted.setdefault(row.sha256, []).append(image)
        wanted.setdefault(row.label_sha256, []).append(labels)
        outs = []
        for c in copies:
            made[c.name] = (out / f"{n}.{c.index}{image.suffix}", out / f"{n}.{c.index}.json")
            outs.append(
                {
                    "index": c.index,
                    "seed": c.seed,
                    "image": str(made[c.name][0]),
                    "labels": str(made[c.name][1]),
                }
            )
        items.append({"name": row.filename, "src": str(image), "labels": str(labels), "out": outs})
    await write_blobs(job, wanted, "source files fetched")
    spec = scratch / "spec.json"
    threads = (job.job["request"] or {}).get("cpu_cores") or 1
    spec.write_text(json.dumps({"recipe": recipe.as_dict(), "items": items, "threads": threads}))

    async def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "progress":
            await job.progress(event["done"], event["total"], "images")
        elif event["kind"] == "result":
            await job.event("augment", event["data"])

    argv = [sys.executable, "-m", "appliance.jobs.augment_images", str(spec)]
    code = await job.run_process(argv, on_event=on_event)
    if code != 0:
        raise AugmentFailed(f"the augmentation process exited with code {code}", hint="see the log")
    return made


async def _store(job: JobHandle, made: dict[str, tuple[Path, Path]]) -> dict[Path, BlobPut]:
    """Stores every copy and its labels, a batch at a time (nothing held in memory)."""
    paths = [path for pair in made.values() for path in pair]
    puts: dict[Path, BlobPut] = {}
    for i in range(0, len(paths), STORE_BATCH):
        batch = {p: await asyncio.to_thread(_hashed, p) for p in paths[i : i + STORE_BATCH]}
        await asyncio.to_thread(job.ctx.blobs.put_many, job.ws, list(batch.values()))
        puts.update(batch)
        await job.progress(len(puts), len(paths), "files stored")
    return puts


def _hashed(path: Path) -> BlobPut:
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return BlobPut(digest, path.stat().st_size, path=str(path))


def _files(
    rows: list[ManifestRow],
    planned: list[Planned],
    made: dict[str, tuple[Path, Path]],
    stored: dict[Path, BlobPut],
) -> list[StagedFile]:
    """Every source row pinned to its split (sizes come from the catalog), then the
    copies pinned to train."""
    files = [StagedFile(r.filename, r.sha256, 0, r.role, r.label_sha256, 0, r.split) for r in rows]
    for item in planned:
        image, labels = (stored[path] for path in made[item.name])
        files.append(
            StagedFile(
                item.name, image.sha256, image.size, "image", labels.sha256, labels.size, "train"
            )
        )
    return files


KIND = JobKind(
    name="augment",
    summary="Expand a version's train split N× (geometric + colour) into a derived version",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=lambda: {
        "parameters": {
            "dataset": "the source dataset's name",
            "version": "its version: number, tag or latest (default)",
            "into": "the dataset that receives the derived version (default <dataset>-aug)",
            "recipe": "copies (default 7: 8× with the original), seed, and transform limits",
        },
        "recipe": {
            "copies": 7,
            "seed": 0,
            **{name: default for name, (default, _, _) in RECIPE_FIELDS.items()},
        },
    },
)
