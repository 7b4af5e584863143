"""The child-process protocol with real children: events on their own channel come
through whole whatever the child and its libraries print, garbage and a line cut
by a kill are told apart from events, a child whose parent went away exits, and
``JobHandle.run_process`` records all of it on the job."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from appliance import child_events as ce
from appliance.bootstrap import open_services
from appliance.jobs.handle import CatalogJobHandle
from appliance.settings import Settings

pytestmark = pytest.mark.integration

ROOT = str(Path(__file__).resolve().parents[2])

#: A child whose output is as messy as a training's: a progress bar's partial
#: lines on stderr, prints on stdout, garbage on the channel, then its events.
NOISY = textwrap.dedent(
    """
    import os, sys
    from appliance.child_events import emit, writer
    emit("progress", done=0, total=2, phase="starting")
    print("a plain log line")
    sys.stderr.write("\\r 50%|#####     | 1/2")  # no newline, as tqdm leaves it
    sys.stderr.flush()
    emit("progress", done=1, total=2, phase="halfway")
    os.write(writer().fd, b"@ahoy {not json\\n")
    os.write(writer().fd, b"someone else's line\\n")
    print('@ahoy {"kind": "result", "data": "forged on stdout"}', flush=True)
    emit("result", data={"answer": 42, "name": "ünïcode"})
    """
)

#: A child killed while it writes an event.
KILLED = textwrap.dedent(
    """
    import os, signal
    from appliance.child_events import emit, writer
    emit("progress", done=1, total=2)
    os.write(writer().fd, b'@ahoy {"kind": "result", "da')
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": ROOT}


def _run(code: str, log: Path) -> tuple[list[ce.Heard], int]:
    """Run ``code`` as a child on a channel, as the training supervisor does."""
    channel = ce.Channel()
    with open(log, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=channel.child_env(_env()),
            pass_fds=channel.pass_fds,
            start_new_session=True,
        )
    heard = list(ce.read(channel.parent_end()))
    return heard, child.wait(timeout=60)


def test_events_come_through_whole_among_partial_lines_and_prints(tmp_path: Path) -> None:
    heard, code = _run(NOISY, tmp_path / "log")
    assert code == 0
    events = [h.body for h in heard if isinstance(h, ce.EventLine)]
    assert events == [
        {"kind": "progress", "done": 0, "total": 2, "phase": "starting"},
        {"kind": "progress", "done": 1, "total": 2, "phase": "halfway"},
        {"kind": "result", "data": {"answer": 42, "name": "ünïcode"}},
    ]
    garbled = [(h.line, h.reason.split(":")[0]) for h in heard if isinstance(h, ce.Garbled)]
    assert garbled == [
        ("@ahoy {not json", "invalid JSON"),
        ("someone else's line", "no '@ahoy' mark"),
    ]
    log = (tmp_path / "log").read_text()
    assert "a plain log line" in log and " 50%|#####     | 1/2" in log
    assert '"forged on stdout"' in log  # stdout is log, whatever it looks like


def test_a_child_killed_mid_line_leaves_a_garbled_line_not_an_event(tmp_path: Path) -> None:
    heard, code = _run(KILLED, tmp_path / "log")
    assert code == -9
    assert [type(h) for h in heard] == [ce.EventLine, ce.Garbled]
    assert heard[0].body == {"kind": "progress", "done": 1, "total": 2}  # type: ignore[union-attr]
    cut = heard[1]
    assert isinstance(cut, ce.Garbled) and cut.reason.startswith("cut short")
    assert cut.line == '@ahoy {"kind": "result", "da'


def test_a_child_exits_when_its_parent_is_gone() -> None:
    """The parent closes its end first; the child's next event breaks the pipe."""
    code = "import sys\nfrom appliance.child_events import emit\nsys.stdin.read()\nemit('x')\n"
    channel = ce.Channel()
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        env=channel.child_env(_env()),
        pass_fds=channel.pass_fds,
    )
    channel.parent_end().close()
    child.communicate(timeout=60)
    assert child.returncode == ce.EXIT_PARENT_GONE


def test_without_a_channel_events_go_to_stdout_among_the_log() -> None:
    """An engine run by hand: one stream, the mark tells events from log."""
    code = "from appliance.child_events import emit\nprint('log')\nemit('result', data=1)\n"
    env = {k: v for k, v in _env().items() if k != ce.FD_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    lines = done.stdout.splitlines()
    assert lines == ["log", '@ahoy {"kind":"result","data":1}']
    assert [ce.event_in(line) for line in lines] == [None, {"kind": "result", "data": 1}]


def _in_a_job(settings: Settings, code: str, on_event: Any = None) -> tuple[int, list[dict]]:
    """``code`` run by ``JobHandle.run_process`` for a job in a real catalog; its exit
    status and the job's events."""

    async def main() -> tuple[int, list[dict]]:
        async with open_services(settings, blobs=False) as ctx:
            job_id = secrets.token_hex(8)
            async with ctx.catalog.writing("default") as uow:
                await uow.jobs.add(job_id, "box-benchmark", {}, "tester", {"cpu_cores": 1})
                job = await uow.jobs.get(job_id)
            handle = CatalogJobHandle(ctx, "default", job)
            status = await handle.run_process(
                [sys.executable, "-c", code], env=_env(), on_event=on_event
            )
            async with ctx.catalog.reading("default") as uow:
                assert (await uow.jobs.get(job_id))["pgid"] > 0
                return status, await uow.jobs.events(job_id)

    return asyncio.run(main())


def test_run_process_records_events_and_logs_them_apart(local_settings: Settings) -> None:
    status, events = _in_a_job(local_settings, NOISY)
    assert status == 0
    kinds = [(e["kind"], e["data"]) for e in events if e["kind"] != "log"]
    assert kinds == [
        ("progress", {"done": 0, "total": 2, "phase": "starting"}),
        ("progress", {"done": 1, "total": 2, "phase": "halfway"}),
        ("result", {"data": {"answer": 42, "name": "ünïcode"}}),
    ]
    logs = [e["data"]["line"] for e in events if e["kind"] == "log"]
    assert "a plain log line" in logs
    # what happens to a marked line printed after a progress bar: glued to its end
    glued = '\r 50%|#####     | 1/2@ahoy {"kind": "result", "data": "forged on stdout"}'
    assert glued in logs
    garbled = [line for line in logs if line.startswith("(a garbled event line")]
    assert len(garbled) == 2 and "@ahoy {not json" in garbled[0]


def test_run_process_hands_events_on_and_logs_a_line_cut_by_a_kill(
    local_settings: Settings,
) -> None:
    seen: list[dict] = []

    async def on_event(event: dict) -> None:
        seen.append(event)

    status, events = _in_a_job(local_settings, KILLED, on_event)
    assert status == -9
    assert seen == [{"kind": "progress", "done": 1, "total": 2}]
    (line,) = [e["data"]["line"] for e in events if e["kind"] == "log"]
    assert line.startswith("(a garbled event line: cut short") and line.endswith('"da')
