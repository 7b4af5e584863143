"""The measured tools: the hash+copy limit, DVC, and ours (the `ahoy` CLI against a
real `ahoy serve`, the path users run)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from appliance.domain.pulled import META
from benchmarks.data_engine.common import (
    BIN,
    SLUG,
    Trash,
    bench_env,
    count_files,
    merge_tree,
    settle,
    sh,
    timed_sh,
    warm,
)
from benchmarks.data_engine.report import Results, fs_type
from benchmarks.data_engine.served import served

# -- the physical limit ----------------------------------------------------------------


def bench_limit(tree: Path, run: Path, res: Results, files: int) -> None:
    print("limit: sha256 of every byte + cp -r")
    warm(tree)
    settle()
    paths = sorted(os.path.join(d, n) for d, _, names in os.walk(tree) for n in names)
    t0 = time.perf_counter()
    digests = set()
    for path in paths:
        with open(path, "rb") as fh:
            digests.add(hashlib.sha256(fh.read()).digest())
    t_hash = time.perf_counter() - t0
    settle()
    _, t_copy = timed_sh(["cp", "-r", tree, run / "limit-copy"])
    res.add("limit", "sha256 all bytes", t_hash, files)
    res.add("limit", "cp -r", t_copy, files)
    res.add("limit", "hash+copy", t_hash + t_copy, files)
    if len(digests) != len(paths):
        res.notes.append(f"only {len(digests)} of {len(paths)} generated files are unique")


# -- DVC -------------------------------------------------------------------------------


def dvc_available() -> bool:
    try:
        import dvc  # noqa: F401
    except ImportError:
        return False
    return (BIN / "dvc").exists()


def bench_dvc(repo: Path, extra: Path, trash: Trash, res: Results, files: int, added: int) -> None:
    print("dvc: add + git commit, add again, diff, checkout")
    dvc, env = str(BIN / "dvc"), bench_env()
    sh(["git", "init", "-q"], repo, env)
    sh([dvc, "init", "-q"], repo, env)
    sh([dvc, "config", "core.analytics", "false"], repo, env)
    sh([dvc, "config", "core.autostage", "true"], repo, env)
    # Its hash cache (state db) lives here, not in a shared /var/tmp of earlier runs.
    sh([dvc, "config", "core.site_cache_dir", repo.parent / "dvc-site-cache"], repo, env)
    sh(["git", "add", ".dvc", ".dvcignore"], repo, env)
    sh(["git", "commit", "-qm", "dvc init"], repo, env)
    version = sh([dvc, "--version"], repo, env).strip()
    res.notes.append(
        f"DVC {version}, default cache link type (this file system: "
        f"{fs_type(repo)}); the DVC steps include `git commit` of the .dvc file"
    )
    warm(repo / "data")

    def add_and_commit(step: str, message: str, count: int) -> None:
        settle()
        _, t_add = timed_sh([dvc, "add", "-q", "data"], repo, env)
        _, t_git = timed_sh(["git", "commit", "-qm", message], repo, env)
        res.add(
            "dvc", step, t_add + t_git, count, f"dvc add {t_add:.2f}s + git commit {t_git:.2f}s"
        )

    add_and_commit("import+commit", "v1", files)
    merge_tree(extra, repo / "data")
    add_and_commit("recommit", "v2", files + added)
    settle()
    out, t = timed_sh([dvc, "diff", "--json", "HEAD~1"], repo, env)
    seen = len(json.loads(out or "{}").get("added", []))
    res.add("dvc", "diff", t, files + added, f"{seen} added")
    trash.move(repo / "data")
    settle()
    _, t = timed_sh([dvc, "checkout", "-q"], repo, env)
    res.add("dvc", "pull", t, files + added, "dvc checkout into an emptied workspace")
    _check_count(repo / "data", files + added, "dvc checkout")


# -- ours ------------------------------------------------------------------------------


def bench_cli(
    store: str, tree: Path, extra: Path, run: Path, res: Results, files: int, added: int
) -> None:
    tool = f"ahoy CLI/{store}"
    print(f"{tool}: the real `ahoy` command over HTTP to a real `ahoy serve`")
    ahoy = [str(BIN / "ahoy"), "--json"]
    with served(run / f"cli-{store}", store) as appliance:
        env = appliance.env(run / f"cli-config-{store}")
        warm(tree)
        settle()
        _, t = timed_sh([*ahoy, "dataset", "list"], env=env)
        res.add(tool, "start-up", t, 0, "`ahoy dataset list` on an empty catalog")
        sh([*ahoy, "dataset", "create", SLUG], env=env)
        for step, message, count in (
            ("import+commit", "v1", files),
            ("recommit", "v2", files + added),
        ):
            if step == "recommit":
                merge_tree(extra, tree)
            settle()
            _, t_import = timed_sh([*ahoy, "dataset", "import", tree, "-d", SLUG], env=env)
            _, t_commit = timed_sh([*ahoy, "dataset", "commit", SLUG, "-m", message], env=env)
            res.add(
                tool,
                step,
                t_import + t_commit,
                count,
                f"import {t_import:.2f}s + commit {t_commit:.2f}s",
            )
        settle()
        _, t = timed_sh([*ahoy, "dataset", "diff", SLUG, "1", "2"], env=env)
        res.add(tool, "diff", t, files + added)
        settle()
        dest = run / f"cli-pull-{store}"
        _, t = timed_sh([*ahoy, "dataset", "pull", SLUG, dest, "--version", "2"], env=env)
        res.add(tool, "pull", t, files + added)
        _check_count(dest, files + added, f"{tool} pull")


def _check_count(tree: Path, expected: int, what: str) -> None:
    got = count_files(tree) - count_files(tree / META)  # a pull's manifest is not data
    if got != expected:
        raise RuntimeError(f"{what} produced {got} files, expected {expected}")
