"""The sandbox adapter against a real bubblewrap: what a hostile script cannot do.

Each script writes what it managed into /out/report.json; the test reads it from
the host. Skipped, with the reason, where this box cannot make the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from appliance.sandbox import bwrap
from appliance.sandbox import run as sandbox
from tests.integration.sandbox_scripts import PRELUDE

pytestmark = pytest.mark.integration

UID = 1_900_000_123  # as the job kind does, when the tests run as root
NOBODY = 65534


_STATUS = bwrap.status()
_WHY = None if _STATUS["available"] else f"{_STATUS['reason']} ({_STATUS['hint']})"
needs_sandbox = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")


class Box:
    """One sandboxed run of a script, with a dataset dir and an output dir."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.data = tmp / "data"
        self.out = tmp / "out"
        self.data.mkdir()
        self.out.mkdir()
        (self.data / "data.yaml").write_text("names: {0: thing}\n")
        if os.geteuid() == 0:
            os.chown(self.out, UID, UID)
        self.lines: list[str] = []
        self.pgid: int | None = None

    def run(self, body: str, limits: sandbox.Limits | None = None, **kw: Any) -> sandbox.Outcome:
        script = self.tmp / "train.py"
        script.write_text(PRELUDE + textwrap.dedent(body))
        layout = bwrap.Layout(script=script, output=self.out, data=self.data, **kw)

        async def line(text: str) -> None:
            self.lines.append(text)

        async def started(pgid: int) -> None:
            self.pgid = pgid

        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONUNBUFFERED": "1"}
        return asyncio.run(
            sandbox.run(
                layout,
                limits or sandbox.Limits(timeout_s=30),
                env=env,
                on_line=line,
                on_start=started,
                uid=UID,
            )
        )

    def report(self) -> dict[str, Any]:
        return json.loads((self.out / "report.json").read_text())


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


@needs_sandbox
def test_a_well_behaved_script_reads_the_data_and_writes_its_output(box: Box) -> None:
    outcome = box.run(
        """
        print("@ahoy " + json.dumps({"kind": "epoch", "epoch": 1, "epochs": 1}))
        report(data=open("/data/data.yaml").read(), uid=os.getuid(), cwd=os.getcwd(),
               params=sys.argv, env=sorted(os.environ))
        """
    )
    assert outcome.ok, box.lines
    found = box.report()
    assert found["data"] == "names: {0: thing}\n" and found["cwd"] == "/out"
    assert box.lines[0] == '@ahoy {"kind": "epoch", "epoch": 1, "epochs": 1}'
    assert found["env"] == ["HOME", "LC_CTYPE", "PATH", "PWD", "PYTHONUNBUFFERED"]
    if os.geteuid() == 0:
        assert found["uid"] == UID  # never root
    assert (box.out / "report.json").stat().st_uid == (UID if os.geteuid() == 0 else os.getuid())


@needs_sandbox
def test_the_host_is_out_of_sight(box: Box, tmp_path: Path) -> None:
    """The appliance's data dir, /root, /home, the repo, the host's /tmp, other
    processes, inherited descriptors: none of it exists in the sandbox."""
    secret = tmp_path / "appliance-data" / "catalog.sqlite"
    secret.parent.mkdir()
    secret.write_text("the catalog")
    repo = Path(__file__).resolve().parents[2]
    box.run(
        f"""
        report(
            secret=attempt(lambda: open({str(secret)!r}).read()),
            repo=attempt(lambda: open({str(repo / "pyproject.toml")!r}).read()),
            appliance=attempt(lambda: __import__("appliance")),
            root=attempt(lambda: sorted(os.listdir("/root"))),
            home=attempt(lambda: os.listdir("/home")),
            host_tmp=attempt(lambda: os.listdir({str(tmp_path)!r})),
            shadow=attempt(lambda: open("/etc/shadow").read()),
            passwd=attempt(lambda: open("/etc/passwd").read()),
            sys=attempt(lambda: os.listdir("/sys")),
            pids=[p for p in os.listdir("/proc") if p.isdigit()],
            init=attempt(lambda: os.listdir("/proc/1/root")),
            fds=os.listdir("/proc/self/fd"),
        )
        """
    )
    found = box.report()
    for key in ("secret", "repo", "host_tmp", "shadow", "passwd", "sys", "home", "appliance"):
        assert not found[key].startswith("ok"), (key, found[key])
    assert found["appliance"] == "ModuleNotFoundError"
    if found["root"].startswith("ok"):  # only the interpreter's own path, if under /root
        assert found["root"] in ("ok: []", "ok: ['.pyenv']"), found["root"]
    assert len(found["pids"]) <= 3  # bwrap's init, the script (and nothing of the host)
    assert not found["init"].startswith("ok")
    assert sorted(found["fds"]) == ["0", "1", "2", "3"]  # 3: the listing itself


@needs_sandbox
def test_no_network_not_even_the_appliance_on_loopback(box: Box) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        box.run(
            f"""
            import socket
            def connect(addr):
                with socket.create_connection(addr, timeout=3):
                    return "connected"
            report(
                appliance=attempt(lambda: connect(("127.0.0.1", {port}))),
                internet=attempt(lambda: connect(("1.1.1.1", 53))),
                dns=attempt(lambda: socket.getaddrinfo("example.com", 80)),
                interfaces=[n for _, n in socket.if_nameindex()],
            )
            """
        )
    found = box.report()
    assert found["appliance"] == "ConnectionRefusedError"
    assert found["internet"] == "OSError"  # network is unreachable
    assert not found["dns"].startswith("ok")
    assert found["interfaces"] == ["lo"]


@needs_sandbox
def test_writes_land_only_in_out(box: Box, tmp_path: Path) -> None:
    box.run(
        f"""
        def write(path):
            with open(path, "w") as fh:
                fh.write("x")
        report(
            data=attempt(lambda: write("/data/evil.txt")),
            root=attempt(lambda: write("/evil.txt")),
            job=attempt(lambda: write("/job/evil.py")),
            usr=attempt(lambda: write("/usr/evil.txt")),
            host_tmp=attempt(lambda: write({str(tmp_path / "evil.txt")!r})),
            tmp=attempt(lambda: write("/tmp/scratch.txt")),
            out=attempt(lambda: write("/out/fine.txt")),
        )
        """
    )
    found = box.report()
    for key in ("data", "root", "job", "usr", "host_tmp"):
        assert found[key] in ("OSError", "PermissionError", "FileNotFoundError"), (key, found)
    assert found["tmp"].startswith("ok") and found["out"].startswith("ok")
    assert not (box.data / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert (box.out / "fine.txt").read_text() == "x"


@needs_sandbox
def test_memory_beyond_the_limit_is_refused(box: Box) -> None:
    limits = sandbox.Limits(ram_bytes=256 << 20, timeout_s=30)
    outcome = box.run("hog = bytearray(512 << 20)\n", limits)
    assert outcome.limit == sandbox.MEMORY and not outcome.ok
    assert "the memory limit (256 MiB)" in limits.describe(outcome.limit)


@needs_sandbox
def test_memory_spread_over_processes_is_stopped_by_the_supervisor(box: Box) -> None:
    """Each process stays under the per-process limit; together they do not."""
    limits = sandbox.Limits(ram_bytes=300 << 20, timeout_s=30)
    outcome = box.run(
        """
        import time
        for _ in range(3):
            if os.fork() == 0:
                block = bytearray(200 << 20)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(30)
        time.sleep(30)
        """,
        limits,
    )
    assert outcome.limit == sandbox.MEMORY and outcome.seconds < 20
    assert outcome.peak_memory > 300 << 20


@needs_sandbox
def test_time_beyond_the_limit_kills_everything_inside(box: Box) -> None:
    outcome = box.run(
        """
        import subprocess, time
        subprocess.Popen(["sleep", "60"])
        if os.fork() == 0:
            os.setsid()  # a daemon that tries to outlive the run
            time.sleep(60)
        time.sleep(60)
        """,
        sandbox.Limits(timeout_s=1.5),
    )
    assert outcome.limit == sandbox.TIME and outcome.seconds < 5
    assert box.pgid is not None
    assert not _left_over(box.pgid)


@needs_sandbox
def test_a_fork_bomb_meets_the_process_limit(box: Box) -> None:
    outcome = box.run(
        """
        import time
        children = 0
        error = None
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as exc:
                error = type(exc).__name__
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children += 1
        report(children=children, error=error)
        """,
        sandbox.Limits(processes=16, timeout_s=30),
    )
    found = box.report()
    assert found["error"] == "BlockingIOError" and found["children"] < 16
    assert outcome.ok  # the script itself went on; its children died with the sandbox


@needs_sandbox
def test_a_file_past_the_size_limit_ends_the_script(box: Box) -> None:
    limits = sandbox.Limits(output_bytes=1 << 20, timeout_s=30)
    outcome = box.run(
        """
        with open("/out/big.bin", "wb") as fh:
            for _ in range(4):
                fh.write(b"x" * (512 << 10))
        """,
        limits,
    )
    assert outcome.limit == sandbox.FILE_SIZE
    assert (box.out / "big.bin").stat().st_size <= 1 << 20


@needs_sandbox
def test_killing_the_recorded_group_ends_the_run_at_once(box: Box) -> None:
    """What a cancel does: the group handed to ``on_start`` is everything."""

    async def go() -> sandbox.Outcome:
        script = box.tmp / "train.py"
        script.write_text("import time\nimport subprocess\nsubprocess.run(['sleep', '60'])\n")
        layout = bwrap.Layout(script=script, output=box.out, data=box.data)
        pgids: list[int] = []

        async def started(pgid: int) -> None:
            pgids.append(pgid)

        async def ignore(_: str) -> None:
            return None

        task = asyncio.create_task(
            sandbox.run(layout, sandbox.Limits(), env={}, on_line=ignore, on_start=started, uid=UID)
        )
        await asyncio.sleep(1.0)
        os.killpg(pgids[0], 9)
        outcome = await task
        box.pgid = pgids[0]
        return outcome

    started = time.monotonic()
    outcome = asyncio.run(go())
    assert outcome.exit_code != 0 and time.monotonic() - started < 5
    assert box.pgid is not None and not _left_over(box.pgid)


@needs_sandbox
def test_a_data_dir_under_a_bound_system_path_is_masked(box: Box) -> None:
    """Were the appliance's data dir inside the interpreter's tree, it is hidden (here
    pytest's package stands in for it)."""
    hidden = Path(pytest.__file__).resolve().parent
    assert any(hidden.is_relative_to(r) for r in bwrap.python_roots())
    box.run(
        f"report(listing=attempt(lambda: os.listdir({str(hidden)!r})))\n",
        hide=(hidden,),
    )
    assert box.report()["listing"] == "ok: []"


SYSTEM_PYTHON = Path("/usr/bin/python3")


@needs_sandbox
@pytest.mark.skipif(
    os.geteuid() != 0 or not SYSTEM_PYTHON.exists(),
    reason="needs root (to become another user) and the system's /usr/bin/python3",
)
def test_unprivileged_mode_when_the_appliance_is_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """An appliance running as its own user: bwrap makes a user namespace. Played
    here by nobody, with the system's Python (the venv's interpreter lives where
    nobody may not go). No capabilities, no network, and the process limit counted
    for the sandbox alone (the user namespace's own count)."""
    monkeypatch.setattr(bwrap, "python_roots", lambda: [])
    tmp = Path(tempfile.mkdtemp(prefix="ahoy-unprivileged-"))
    try:
        tmp.chmod(0o755)
        (tmp / "out").mkdir()
        os.chown(tmp / "out", NOBODY, NOBODY)
        script = tmp / "train.py"
        script.write_text(
            PRELUDE
            + textwrap.dedent(
                """
                import socket, time
                children, error = 0, None
                for _ in range(100):
                    try:
                        pid = os.fork()
                    except OSError as exc:
                        error = type(exc).__name__
                        break
                    if pid == 0:
                        time.sleep(10)
                        os._exit(0)
                    children += 1
                status = open("/proc/self/status").read().splitlines()
                report(
                    uid=os.getuid(),
                    children=children,
                    error=error,
                    net=attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=2)),
                    caps=[line.split()[1] for line in status if line.startswith("CapEff")],
                )
                """
            )
        )
        limits = sandbox.Limits(processes=16)
        config = {"rlimits": limits.rlimits(), "uid": UID, "gid": UID, "argv": []}
        layout = bwrap.Layout(script=script, output=tmp / "out")
        line = bwrap.argv(
            layout,
            [str(SYSTEM_PYTHON), "/job/launch.py", json.dumps(config)],
            env={"PATH": "/usr/bin:/bin"},
            tmp_bytes=1 << 24,
            as_root=False,
        )
        done = subprocess.run(
            line,
            user=NOBODY,
            group=NOBODY,
            extra_groups=[],
            env={},
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        found = json.loads((tmp / "out" / "report.json").read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert found["uid"] == NOBODY  # its own uid, seen through the user namespace
    assert found["error"] == "BlockingIOError" and found["children"] < 16
    assert found["net"] == "OSError"
    assert found["caps"] == ["0000000000000000"]


def test_the_command_line_shares_nothing_it_should_not(tmp_path: Path) -> None:
    layout = bwrap.Layout(script=tmp_path / "s.py", output=tmp_path / "o", data=tmp_path / "d")
    line = bwrap.argv(layout, ["python"], env={"A": "1"}, tmp_bytes=1 << 20, as_root=True)
    assert {"--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv"} <= set(line)
    assert "--share-net" not in line and "--dev-bind" not in line
    assert line[line.index("--cap-drop") + 1] == "ALL"
    binds = [line[i + 1 : i + 3] for i, a in enumerate(line) if a == "--bind"]
    assert binds == [[str(tmp_path / "o"), "/out"]]  # the only writable host path
    assert line[line.index("--remount-ro") + 1] == "/"
    unprivileged = bwrap.argv(layout, ["python"], env={}, tmp_bytes=1 << 20, as_root=False)
    assert "--unshare-user" in unprivileged and "--cap-add" not in unprivileged


def _left_over(pgid: int) -> list[int]:
    """Processes still alive that the sandbox started (its group or its children)."""
    time.sleep(0.2)
    alive = []
    for p in psutil.process_iter(["pid", "status", "uids"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if os.getpgid(p.pid) == pgid or (os.geteuid() == 0 and p.info["uids"].real == UID):
                alive.append(p.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


@needs_sandbox
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 system call numbers")
def test_kernel_doors_are_shut_by_the_system_call_filter(box: Box) -> None:
    # Each of these succeeds for an ordinary unprivileged process; only the filter
    # stops them inside the sandbox.
    outcome = box.run(
        """
        import ctypes, errno
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        def call(number, *args):
            result = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) for a in args])
            return errno.errorcode.get(ctypes.get_errno(), "?") if result == -1 else "allowed"
        params = ctypes.create_string_buffer(120)
        report(
            traceme=call(101, 0, 0, 0, 0),  # ptrace(PTRACE_TRACEME)
            keyring=call(250, 0, -3, 0),  # keyctl(GET_KEYRING_ID, session keyring)
            io_uring=call(425, 1, ctypes.addressof(params)),  # io_uring_setup
            getpid=call(39),
            threads=attempt(lambda: __import__("threading").Thread(target=print).start()),
        )
        """
    )
    assert outcome.ok, box.lines
    found = box.report()
    assert found["traceme"] == found["keyring"] == found["io_uring"] == "EPERM", found
    assert found["getpid"] == "allowed" and found["threads"].startswith("ok"), found
    assert bwrap.status()["seccomp"].endswith("system calls refused")
