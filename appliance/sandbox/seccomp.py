"""The sandbox's system-call filter: what no training script needs, refused.

Namespaces hide the box and limits bound the run; the filter closes the kernel
doors an escape would go through: tracing other processes, new namespaces and
mounts, kernel modules and BPF, keyrings, perf counters, userfaultfd and
io_uring (both frequent in kernel exploits), clocks, reboot. Each refused call
fails with EPERM (a script that probes gets an error, not a crash). bubblewrap
loads the program (``--seccomp FD``) just before it starts the launcher, so the
launcher and everything the script starts run under it.

The program is compiled by libseccomp (through pyseccomp) for this machine's
architecture. Without libseccomp the sandbox is unavailable: script mode never
runs with less protection than it says it has.
"""

from __future__ import annotations

import errno
import os
from functools import cache

#: Refused with EPERM. A name this kernel/architecture does not know is skipped.
DENIED: tuple[str, ...] = (
    # other processes' memory and execution
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # new namespaces, mounts and roots
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    # the kernel itself
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "lookup_dcookie",
    "syslog",
    "acct",
    "quotactl",
    "swapon",
    "swapoff",
    "reboot",
    "vhangup",
    # the box's clocks
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
)


class SeccompUnavailable(RuntimeError):
    """libseccomp (or its Python binding) cannot build the filter here."""


@cache
def program() -> tuple[bytes, int]:
    """The compiled BPF program and how many calls it refuses. Raises
    SeccompUnavailable naming what is missing."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError) as exc:  # the binding loads libseccomp.so.2
        raise SeccompUnavailable(f"libseccomp cannot be loaded: {exc}") from None
    flt = sc.SyscallFilter(sc.ALLOW)
    denied = 0
    for name in DENIED:
        try:
            flt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            continue  # not a call of this architecture or kernel headers
        denied += 1
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(write_end, "wb") as sink:
            flt.export_bpf(sink)
        chunks = []
        while chunk := os.read(read_end, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(read_end)
    return b"".join(chunks), denied


def readable_fd() -> int:
    """A pipe's read end holding the program, for bubblewrap's ``--seccomp``; the
    caller passes it to the child and closes it after the start."""
    data, _ = program()
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data)  # a few hundred bytes: well within a pipe's buffer
    finally:
        os.close(write_end)
    return read_end
