"""Annotation event stream benchmark: events/s of one 10,000-event msgpack batch
through the API, against the physical floor of the same work in-process.

Each round sends one batch that relabels every file of a 10,000-image dataset
(`POST .../annotation-events`, a real `ahoy serve` on loopback): decode, check,
store 10,000 new label documents, one transaction. The floor is what no
implementation can skip: decoding the same msgpack body and parsing, canonically
encoding and hashing every document, in this process. Then the same batch again
(all duplicates), which is the cost of an idempotent resend.

    .venv/bin/python benchmarks/bench_events.py                 # seaweedfs, 3 rounds
    .venv/bin/python benchmarks/bench_events.py --store local --doc

Not part of `make bench`: starting `weed` alone takes longer than its budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.domain.canonical import sha256_hex  # noqa: E402
from appliance.domain.labels.events import parse_events  # noqa: E402
from appliance.sdk import Client  # noqa: E402
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from benchmarks.data_engine.served import served  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:events:start -->", "<!-- bench:events:end -->"
DS = "events"


def populate(client: Client, n: int) -> list[str]:
    """``n`` small distinct images in the working area (uploaded as one tar)."""
    client.create_dataset(None, DS)
    images = {f"cam{i % 8}/{i:06d}.jpg": b"JFIF" + i.to_bytes(8, "big") * 16 for i in range(n)}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for data in images.values():
            info = tarfile.TarInfo(hashlib.sha256(data).hexdigest())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    client.upload_blob_tar(None, buf.getvalue())
    files = [
        {"name": name, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
        for name, d in images.items()
    ]
    client.stage_files(None, DS, files)
    return list(images)


def batch(names: list[str], rnd: int) -> list[dict[str, Any]]:
    """One event per file: a document of 3 boxes, different every round."""
    out = []
    for i, name in enumerate(names):
        objects = [
            {"type": "box", "class": (i + k + rnd) % 17, "box": [0.1 + 0.2 * k, 0.5, 0.1, 0.2]}
            for k in range(3)
        ]
        out.append({"id": f"r{rnd}-{i}", "file": name, "op": "set", "labels": {"objects": objects}})
    return out


def floor(body: bytes) -> float:
    """Decode, parse, canonically encode and hash every document: seconds."""
    t0 = time.perf_counter()
    events, problems = parse_events(msgspec.msgpack.decode(body)["events"])
    assert not problems
    for ev in events:
        assert ev.labels is not None
        sha256_hex(ev.labels.to_bytes())
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--store", choices=("seaweedfs", "local"), default="seaweedfs")
    p.add_argument("--workdir", type=Path, default=Path(".bench"))
    p.add_argument("--doc", action="store_true", help="rewrite the section of docs/benchmarks.md")
    args = p.parse_args(argv)
    run = args.workdir.resolve() / f"events-{time.strftime('%Y%m%d-%H%M%S')}"
    api: list[float] = []
    resend: list[float] = []
    floors: list[float] = []
    size = 0
    with served(run / "appliance", args.store) as app:
        client = Client(app.url, app.token)
        names = populate(client, args.events)
        for rnd in range(args.rounds):
            events = batch(names, rnd)
            body = msgspec.msgpack.encode({"events": events})
            size = len(body)
            floors.append(floor(body))
            t0 = time.perf_counter()
            r = client.send_annotation_events(None, DS, "bench", events)
            api.append(time.perf_counter() - t0)
            assert (r["accepted"], r["changed"]) == (args.events, args.events), r
            t0 = time.perf_counter()
            r = client.send_annotation_events(None, DS, "bench", events)
            resend.append(time.perf_counter() - t0)
            assert r["duplicates"] == args.events, r
            print(
                f"round {rnd + 1}: API {api[-1]:.2f} s, resend {resend[-1]:.2f} s, "
                f"floor {floors[-1]:.2f} s"
            )
    n = args.events
    best, best_floor, best_resend = min(api), min(floors), min(resend)
    lines = [
        f"Command: `python benchmarks/bench_events.py --store {args.store}"
        f" --rounds {args.rounds}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(args.workdir)}",
        "",
        f"One msgpack batch of {n:,} `set` events ({size / 1e6:.1f} MB), each relabelling"
        f" one image with 3 boxes; {args.store} blob store; best of {args.rounds} rounds:",
        "",
        "| path | seconds | events/s |",
        "|---|---|---|",
        f"| `POST .../annotation-events` (`ahoy serve` on loopback) | {best:.2f}"
        f" | {n / best:,.0f} |",
        f"| the same batch again (all duplicates) | {best_resend:.2f} | {n / best_resend:,.0f} |",
        f"| floor: decode + parse + encode + sha256 in-process | {best_floor:.2f}"
        f" | {n / best_floor:,.0f} |",
        "",
        f"API / floor: **{best / best_floor:.1f}x** the time of the work no"
        " implementation can skip.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.doc:
        write_doc(text)
    return 0


def write_doc(text: str) -> None:
    section = f"{START}\n## Annotation event stream\n\n{text}\n{END}"
    write_section(DOC, section, START, END)


if __name__ == "__main__":
    raise SystemExit(main())
