"""`ahoy dataset ...`: each command decodes options, calls one service, prints."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from appliance.cli.common import JsonOpt, actor, call, done, want_json
from appliance.cli.output import BarProgress, out
from appliance.domain.diff import ManifestDiff
from appliance.domain.split import SplitConfig
from appliance.services import datasets, importing, pull, versions

app = typer.Typer(help="Create, import, commit, compare and pull datasets.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Dataset name.")]


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def create(
    name: Name,
    description: Annotated[str, typer.Option(help="What the dataset holds.")] = "",
    split: Annotated[str, typer.Option(help="Split ratios.")] = "train=0.8,val=0.1,test=0.1",
    seed: Annotated[str, typer.Option(help="Split seed.")] = "ahoy",
    json_: JsonOpt = False,
) -> None:
    """Create an empty dataset."""
    cfg = SplitConfig.parse(split, seed)
    ds = call(lambda ctx, ws: datasets.create(ctx, ws, name, actor(), description, cfg), json_)
    done(
        {"name": ds.slug, "split": cfg.as_dict()},
        json_,
        lambda: out.print(f"created dataset {ds.slug} (split {cfg})"),
    )


@app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List datasets."""
    rows = call(lambda ctx, ws: datasets.list_all(ctx, ws), json_)

    def human() -> None:
        if not rows:
            out.print("no datasets yet: `ahoy dataset create NAME`")
        for r in rows:
            latest = f"v{r.latest_version}" if r.latest_version else "no versions"
            out.print(f"{r.dataset.slug:24} {latest:12} {r.working_files} files in working area")

    done([r.as_dict() for r in rows], json_, human)


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="Folder (or file) to import, recursively.")],
    name: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to import into.")],
    prefix: Annotated[str, typer.Option(help="Folder inside the dataset to import under.")] = "",
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of names to skip.")] = None,
    mirror: Annotated[
        bool, typer.Option(help="Also drop working-area files the source no longer has.")
    ] = False,
    create: Annotated[bool, typer.Option(help="Create the dataset if it does not exist.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Hash a folder and add it to the working area, uploading only new content."""
    bar = BarProgress(not want_json(json_))

    async def run(ctx, ws):  # type: ignore[no-untyped-def]
        if create:
            names = {r.dataset.slug for r in await datasets.list_all(ctx, ws)}
            if name not in names:
                await datasets.create(ctx, ws, name, actor())
        return await importing.import_tree(
            ctx,
            ws,
            name,
            source,
            actor(),
            prefix=prefix,
            exclude=tuple(exclude or ()),
            mirror=mirror,
            progress=bar,
        )

    report = call(run, json_)
    done(
        report.as_dict(),
        json_,
        lambda: out.print(
            f"imported {report.files} files ({report.bytes:,} bytes) into {name}: "
            f"{report.staged.added} added, {report.staged.updated} changed, "
            f"{report.staged.unchanged} unchanged, {report.staged.removed} removed; "
            f"{report.new_blobs} new blobs stored"
        ),
    )


@app.command()
def status(name: Name, json_: JsonOpt = False) -> None:
    """What changed in the working area since the latest version."""
    st = call(lambda ctx, ws: datasets.status(ctx, ws, name), json_)
    value = {
        "dataset": name,
        "latest_version": st.head.number if st.head else None,
        "working_files": st.working_files,
        "changes": _diff_dict(st.changes),
    }

    def human() -> None:
        head = f"v{st.head.number}" if st.head else "no versions yet"
        out.print(f"dataset {name}: {st.working_files} files, latest {head}")
        if st.changes.is_empty:
            out.print("nothing to commit, working area matches the latest version")
        else:
            _print_diff(st.changes)

    done(value, json_, human)


@app.command()
def commit(
    name: Name,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    split: Annotated[str | None, typer.Option(help="New split ratios for this version.")] = None,
    seed: Annotated[str | None, typer.Option(help="New split seed.")] = None,
    allow_empty: Annotated[bool, typer.Option(help="Commit even if nothing changed.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Freeze the working area into a new immutable version."""

    async def run(ctx, ws):  # type: ignore[no-untyped-def]
        cfg = None
        if split or seed:
            current = (await datasets.status(ctx, ws, name)).dataset.split
            cfg = (
                SplitConfig.parse(split, seed or current.seed)
                if split
                else SplitConfig(current.ratios, seed or current.seed)
            )
        return await versions.commit(ctx, ws, name, message, actor(), cfg, allow_empty)

    v = call(run, json_)
    done(
        v.as_dict(),
        json_,
        lambda: out.print(
            f"committed {name} v{v.number}: {v.file_count} files, {v.total_bytes:,} bytes, "
            f"manifest {v.manifest_hash[:16]}"
        ),
    )


@app.command()
def log(name: Name, json_: JsonOpt = False) -> None:
    """Walk the version lineage from the latest back to the first."""
    chain = call(lambda ctx, ws: versions.log(ctx, ws, name), json_)

    def human() -> None:
        if not chain:
            out.print(f"{name} has no versions yet: `ahoy dataset commit {name}`")
        for v in chain:
            tags = f" ({', '.join(v.tags)})" if v.tags else ""
            parent = f"v{v.parent_number}" if v.parent_number else "-"
            out.print(
                f"v{v.number}{tags}  {v.manifest_hash[:16]}  parent {parent}  "
                f"{v.file_count} files  {_when(v.created_at)}  {v.created_by}  {v.message}"
            )

    done([v.as_dict() for v in chain], json_, human)


@app.command()
def diff(
    name: Name,
    a: Annotated[str, typer.Argument(help="Old side: number, tag, 'latest' or 'working'.")],
    b: Annotated[str, typer.Argument(help="New side.")] = "working",
    json_: JsonOpt = False,
) -> None:
    """Added, removed and modified files between two versions, with their hashes."""
    d = call(lambda ctx, ws: versions.diff(ctx, ws, name, a, b), json_)
    done(_diff_dict(d), json_, lambda: _print_diff(d))


@app.command("pull")
def pull_(
    name: Name,
    dest: Annotated[Path, typer.Argument(help="Folder to rebuild the version in.")],
    version: Annotated[str, typer.Option("--version", "-v", help="Number or tag.")] = "latest",
    split: Annotated[str | None, typer.Option(help="Only this split.")] = None,
    layout: Annotated[str, typer.Option(help="'tree' (as imported) or 'split'.")] = "tree",
    manifest: Annotated[Path | None, typer.Option(help="Also write the manifest here.")] = None,
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Rebuild a version's files byte for byte, verifying every blob."""
    bar = BarProgress(not want_json(json_))
    report = call(
        lambda ctx, ws: pull.pull(
            ctx,
            ws,
            name,
            version,
            dest,
            split=split,
            layout=layout,
            manifest_out=manifest,
            force=force,
            progress=bar,
        ),
        json_,
    )

    def human() -> None:
        out.print(
            f"pulled {name} v{report.version} into {dest}: {report.files} files, "
            f"{report.bytes:,} bytes, all verified"
        )
        for e in report.erased:
            out.print(f"  erased (not restored): {e['filename']} — {e.get('reason', '')}")

    done(report.as_dict(), json_, human)


@app.command()
def tag(
    name: Name,
    tag_name: Annotated[str, typer.Argument(help="Tag, e.g. production.")],
    version: Annotated[str, typer.Argument(help="Version number or tag.")] = "latest",
    delete: Annotated[bool, typer.Option("--delete", help="Remove the tag.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Point a tag at a version (moving it if it exists)."""
    v = call(
        lambda ctx, ws: datasets.tag(ctx, ws, name, tag_name, None if delete else version, actor()),
        json_,
    )
    done(
        {"tag": tag_name, "version": v.number if v else None},
        json_,
        lambda: out.print(
            f"deleted tag {tag_name}" if v is None else f"{name}:{tag_name} -> v{v.number}"
        ),
    )


@app.command()
def rm(
    name: Name,
    paths: Annotated[list[str] | None, typer.Argument(help="Files or folders/ to drop.")] = None,
    version: Annotated[str | None, typer.Option(help="Delete this version instead.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Drop files from the working area, delete a version, or (no arguments) the dataset."""
    if paths:
        gone = call(lambda ctx, ws: datasets.remove_files(ctx, ws, name, paths, actor()), json_)
        done({"removed": gone}, json_, lambda: out.print(f"removed {len(gone)} files from {name}"))
    elif version:
        v = call(lambda ctx, ws: datasets.remove_version(ctx, ws, name, version, actor()), json_)
        done(
            {"deleted_version": v.number},
            json_,
            lambda: out.print(f"deleted {name} v{v.number}; `ahoy gc` reclaims its bytes"),
        )
    else:
        call(lambda ctx, ws: datasets.remove_dataset(ctx, ws, name, actor()), json_)
        done(
            {"deleted_dataset": name},
            json_,
            lambda: out.print(f"deleted dataset {name}; `ahoy gc` reclaims its bytes"),
        )


def _diff_dict(d: ManifestDiff) -> dict[str, object]:
    return {
        "summary": d.summary(),
        "added": [c.as_dict() for c in d.added],
        "removed": [c.as_dict() for c in d.removed],
        "modified": [c.as_dict() for c in d.modified],
    }


def _print_diff(d: ManifestDiff, limit: int = 50) -> None:
    s = d.summary()
    out.print(
        f"{s['added']} added, {s['removed']} removed, {s['modified']} modified, "
        f"{s['unchanged']} unchanged"
    )
    shown = 0
    for sign, changes in (("+", d.added), ("-", d.removed), ("~", d.modified)):
        for c in changes:
            if shown >= limit:
                out.print("... and more (use --json for the full list)")
                return
            row = c.new or c.old
            assert row is not None
            what = f" [{', '.join(c.kinds)}]" if c.kinds else ""
            old = f"{c.old.sha256[:12]} -> " if c.old and c.new else ""
            out.print(f"{sign} {c.filename}{what}  {old}{row.sha256[:12]}", markup=False)
            shown += 1
