"""`ahoy dataset ...`: each command decodes options, makes SDK calls, prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, want_json
from appliance.cli.output import BarProgress, local_time, out, table
from appliance.cli.pulled import label_docs, pulled_lines
from appliance.domain.split import SplitConfig
from appliance.domain.wording import plural, size
from appliance.sdk import ApiError, Client
from appliance.sdk.profile import config_dir

app = typer.Typer(help="Create, import, commit, compare and pull datasets.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Dataset name.")]


@app.command()
def create(
    name: Name,
    description: Annotated[str, typer.Option(help="What the dataset holds.")] = "",
    split: Annotated[str, typer.Option(help="Split ratios.")] = "train=0.8,val=0.1,test=0.1",
    seed: Annotated[str, typer.Option(help="Split seed.")] = "ahoy",
    json_: JsonOpt = False,
) -> None:
    """Create an empty dataset."""

    def run(c: Client) -> tuple[SplitConfig, dict[str, Any]]:
        cfg = SplitConfig.parse(split, seed)
        return cfg, c.create_dataset(None, name, description, cfg)

    cfg, ds = api(run, json_)
    done(
        {"name": ds.get("name", name), "split": ds.get("split", cfg.as_dict())},
        json_,
        lambda: out.print(f"created dataset {ds.get('name', name)} (split {cfg})"),
    )


@app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """List datasets."""
    rows = api(lambda c: c.list_datasets(None), json_)

    def human() -> None:
        table(
            ("DATASET", "LATEST", "WORKING AREA"),
            (
                (
                    r["name"],
                    f"v{r['latest_version']}" if r.get("latest_version") else "no versions yet",
                    plural(r.get("working_files", 0), "file"),
                )
                for r in rows
            ),
            empty="no datasets yet: `ahoy dataset create NAME`",
        )

    done(rows, json_, human)


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
    every: Annotated[
        int | None, typer.Option(help="SOURCE is a video: import every Nth frame as a JPEG.")
    ] = None,
    labels: Annotated[
        bool,
        typer.Option(help="SOURCE is a pull: give each file the label document it wrote."),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Hash a folder and add it to the working area, uploading only new content
    (or, with --every, a video's frames, each traced to its source and time). A
    folder `ahoy dataset pull` wrote: its .ahoy/ is never imported as files, and
    --labels attaches the label documents it holds."""
    bar = BarProgress(not want_json(json_))
    if every is not None:
        from appliance.sdk.video import import_video

        r = api(lambda c: import_video(c, None, name, source, every, prefix, bar), json_)
        done(
            r,
            json_,
            lambda: out.print(f"imported {plural(r['frames'], 'frame')} of {source} into {name}"),
        )
        return

    def run(c: Client) -> Any:
        if create:
            try:
                c.get_dataset(None, name)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                c.create_dataset(None, name)
        return c.upload_tree(
            None,
            name,
            source,
            prefix=prefix,
            exclude=tuple(exclude or ()),
            mirror=mirror,
            progress=bar,
            stat_cache=config_dir() / "statcache.sqlite",
            labels=labels,
        )

    report = api(run, json_)
    s = report.staged

    def human() -> None:
        out.print(
            f"imported {plural(report.files, 'file')} ({size(report.bytes)}) into {name}: "
            f"{s['added']} added, {s['updated']} changed, {s['unchanged']} unchanged, "
            f"{s['removed']} removed; {plural(report.uploaded_blobs, 'new blob')} uploaded "
            f"({size(report.uploaded_bytes)})"
        )
        if report.pulled:
            pulled_lines(name, report.pulled)

    done(report.as_dict(), json_, human)


@app.command()
def status(name: Name, json_: JsonOpt = False) -> None:
    """What changed in the working area since the latest version."""
    st = api(lambda c: c.working(None, name), json_)
    head = st.get("head")
    number = head.get("number") if isinstance(head, dict) else head
    changes = diff_dict(st.get("changes") or {})
    value = {
        "dataset": name,
        "latest_version": number,
        "working_files": st.get("working_files", 0),
        "changes": changes,
    }

    def human() -> None:
        latest = f"latest version v{number}" if number else "no versions yet"
        out.print(f"dataset {name}: {plural(value['working_files'], 'file')}, {latest}")
        if not any(changes["summary"][k] for k in ("added", "removed", "modified")):
            out.print(
                "nothing to commit, working area matches the latest version"
                if number
                else f"nothing to commit yet: `ahoy dataset import DIR -d {name}` adds files"
            )
        else:
            print_diff(changes)

    done(value, json_, human)


@app.command()
def commit(
    name: Name,
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    split: Annotated[str | None, typer.Option(help="New split ratios for this version.")] = None,
    seed: Annotated[str | None, typer.Option(help="New split seed.")] = None,
    allow_empty: Annotated[bool, typer.Option(help="Commit even if nothing changed.")] = False,
    only_approved: Annotated[
        bool, typer.Option(help="Only approved images; the rest stay as in the latest version.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Freeze the working area into a new immutable version."""

    def run(c: Client) -> Any:
        cfg = None
        if split or seed:
            current = SplitConfig.from_dict(c.get_dataset(None, name)["split"])
            cfg = (
                SplitConfig.parse(split, seed or current.seed)
                if split
                else SplitConfig(current.ratios, seed or current.seed)
            )
        return c.commit(
            None, name, message, split=cfg, allow_empty=allow_empty, only_approved=only_approved
        )

    v = api(run, json_)
    done(
        v,
        json_,
        lambda: out.print(
            f"committed {name} v{v['number']}: {plural(v['file_count'], 'file')}, "
            f"{size(v['total_bytes'])}, manifest {v['manifest_hash'][:16]}"
        ),
    )


@app.command()
def log(name: Name, json_: JsonOpt = False) -> None:
    """Walk the version lineage from the latest back to the first."""
    chain = api(lambda c: c.log(None, name), json_)

    def human() -> None:
        if not chain:
            out.print(f"{name} has no versions yet: `ahoy dataset commit {name}`")
        for v in chain:
            tags = f" ({', '.join(v.get('tags') or [])})" if v.get("tags") else ""
            parent = f"v{v['parent']}" if v.get("parent") else "-"
            out.print(
                f"v{v['number']}{tags}  {v['manifest_hash'][:16]}  parent {parent}  "
                f"{plural(v['file_count'], 'file')}  {local_time(v.get('created_at'))}  "
                f"{v.get('created_by', '')}  {v.get('message', '')}",
                markup=False,
            )

    done(chain, json_, human)


@app.command()
def diff(
    name: Name,
    a: Annotated[str, typer.Argument(help="Old side: number, tag, 'latest' or 'working'.")],
    b: Annotated[str, typer.Argument(help="New side.")] = "working",
    labels: Annotated[bool, typer.Option(help="Also object by object, per relabel.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Added, removed and modified files between two versions, with their hashes."""
    raw = api(lambda c: c.diff(None, name, a, b, labels=labels), json_)
    d = diff_dict(raw) | ({"labels": raw["labels"]} if "labels" in raw else {})
    done(d, json_, lambda: print_diff(d))


@app.command("pull")
def pull_(
    name: Name,
    dest: Annotated[Path, typer.Argument(help="Folder to rebuild the version in.")],
    version: Annotated[str, typer.Option("--version", "-v", help="Number or tag.")] = "latest",
    split: Annotated[str | None, typer.Option(help="Only this split.")] = None,
    layout: Annotated[
        str, typer.Option(help="'tree' (as imported) or 'split' (<split>/<file>).")
    ] = "tree",
    manifest: Annotated[
        Path | None, typer.Option(help="Also write a copy of the manifest here.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    bare: Annotated[
        bool, typer.Option(help="Only the files: no DEST/.ahoy/ (manifest, label documents).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Rebuild a version byte for byte, verifying every hash: its files, and in
    DEST/.ahoy/ its manifest (manifest.json) and each file's label document
    (labels/<file>.json)."""
    bar = BarProgress(not want_json(json_))
    report = api(
        lambda c: c.pull(
            None,
            name,
            version,
            dest,
            split=split,
            layout=layout,
            manifest_out=manifest,
            force=force,
            bare=bare,
            progress=bar,
        ),
        json_,
    )

    def human() -> None:
        out.print(
            f"pulled {name} v{report.version} into {dest}: {plural(report.files, 'file')}, "
            f"{size(report.bytes)}, all verified"
        )
        if report.meta:
            out.print(
                f"  manifest {report.meta}/manifest.json, "
                f"{label_docs(report.labels)} under {report.meta}/labels/",
                markup=False,
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
    if delete:
        api(lambda c: c.delete_tag(None, name, tag_name), json_)
        done(
            {"tag": tag_name, "version": None}, json_, lambda: out.print(f"deleted tag {tag_name}")
        )
        return
    v = api(lambda c: c.set_tag(None, name, tag_name, version), json_)
    done(
        {"tag": tag_name, "version": v["number"]},
        json_,
        lambda: out.print(f"{name}:{tag_name} -> v{v['number']}"),
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
        gone = api(lambda c: c.remove_files(None, name, paths), json_)
        done(
            {"removed": gone},
            json_,
            lambda: out.print(f"removed {plural(len(gone), 'file')} from {name}"),
        )
    elif version:

        def drop(c: Client) -> int:
            number = c.get_version(None, name, version)["number"]  # a tag names a number
            c.delete_version(None, name, number)
            return number

        number = api(drop, json_)
        done(
            {"deleted_version": number},
            json_,
            lambda: out.print(f"deleted {name} v{number}; `ahoy gc` reclaims its bytes"),
        )
    else:
        api(lambda c: c.delete_dataset(None, name), json_)
        done(
            {"deleted_dataset": name},
            json_,
            lambda: out.print(f"deleted dataset {name}; `ahoy gc` reclaims its bytes"),
        )


def diff_dict(d: dict[str, Any]) -> dict[str, Any]:
    """The CLI's diff shape: the API's lists plus a ``summary`` of counts."""
    lists = {k: list(d.get(k) or []) for k in ("added", "removed", "modified")}
    unchanged = d.get("unchanged", 0)
    summary = {k: len(v) for k, v in lists.items()}
    summary["unchanged"] = unchanged if isinstance(unchanged, int) else len(unchanged)
    return {"summary": d.get("summary") or summary, **lists}


def print_diff(d: dict[str, Any], limit: int = 50) -> None:
    s = d["summary"]
    out.print(
        f"{s['added']} added, {s['removed']} removed, {s['modified']} modified, "
        f"{s['unchanged']} unchanged"
    )
    shown = 0
    for sign, key in (("+", "added"), ("-", "removed"), ("~", "modified")):
        for c in d[key]:
            if shown >= limit:
                out.print("... and more (use --json for the full list)")
                return
            old, new = c.get("old"), c.get("new")
            row = new or old or {}
            what = f" [{', '.join(c['changed'])}]" if c.get("changed") else ""
            before = f"{old['sha256'][:12]} -> " if old and new else ""
            out.print(
                f"{sign} {c['filename']}{what}  {before}{row.get('sha256', '')[:12]}", markup=False
            )
            if (objects := d.get("labels", {}).get(c["filename"])) is not None:
                out.print(
                    "    labels: " + ", ".join(f"{n} {k}" for k, n in objects["summary"].items()),
                    markup=False,
                )
            shown += 1
