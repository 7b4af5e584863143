"""The first code that runs inside the sandbox, before the user's script.

Bound read-only at ``/job/launch.py`` and run by the appliance's own interpreter,
so it imports the standard library only (the ``appliance`` package is not
visible in the sandbox). It sets the kernel limits (hard and soft alike, so the
script cannot raise them), gives up root when the appliance runs as root, and
runs ``/job/train.py`` as ``__main__``. The one argument is a JSON object:
``{"rlimits": {"RLIMIT_AS": n, ...}, "uid": n, "gid": n, "argv": [...]}``.
"""

from __future__ import annotations

import json
import os
import resource
import runpy
import signal
import sys

SCRIPT = "/job/train.py"
#: exit codes the supervisor reads as "a limit stopped it" (the launcher's own)
EXIT_MEMORY = 86
EXIT_SETUP = 87
#: how a C extension reports a refused allocation (torch's CPU allocator)
_ALLOC_FAILED = ("can't allocate memory", "cannot allocate memory", "out of memory")


def main() -> int:
    config = json.loads(sys.argv[1])
    try:
        for name, value in config["rlimits"].items():
            resource.setrlimit(getattr(resource, name), tuple(value))
        if os.getuid() == 0 or os.geteuid() == 0:
            _drop_root(int(config["uid"]), int(config["gid"]))
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        print(f"sandbox: could not set up the limits: {exc}", file=sys.stderr)
        return EXIT_SETUP
    # Python ignores SIGXFSZ; restored, a file grown past the limit ends the script
    # with that signal, which the supervisor names (rather than a stray EFBIG)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    sys.argv = [SCRIPT, *config.get("argv", [])]
    sys.path[0] = "/job"
    try:
        runpy.run_path(SCRIPT, run_name="__main__")
    except MemoryError:
        return _out_of_memory()
    except RuntimeError as exc:  # torch: "DefaultCPUAllocator: can't allocate memory"
        if any(marker in str(exc).lower() for marker in _ALLOC_FAILED):
            return _out_of_memory()
        raise
    return 0


def _drop_root(uid: int, gid: int) -> None:
    """Root in the sandbox (the appliance runs as root) becomes an unprivileged user
    that owns nothing on the box: no capabilities, the process limit counted for it
    alone. Refuses to go on if any trace of root is left."""
    if uid == 0 or gid == 0:
        raise ValueError("the sandbox user must not be root")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if 0 in os.getresuid() or 0 in os.getresgid() or os.getgroups():
        raise ValueError("root privileges were not given up")


def _out_of_memory() -> int:
    print("sandbox: the script ran out of memory (the job's memory limit)", file=sys.stderr)
    return EXIT_MEMORY


if __name__ == "__main__":
    sys.exit(main())
