"""Child processes that die with their parent.

`lingtan run` starts dbt as a child process. If lingtan is killed (SIGKILL, OOM killer) nothing in it runs, so
dbt would live on and keep writing the warehouse build. `lingtan-dbt` is the dbt the pipeline starts: it asks
the kernel to send it SIGKILL when its parent dies (Linux `prctl(PR_SET_PDEATHSIG)`, kept across `exec`), checks
the parent did not die in between, then replaces itself with the real dbt of the same environment, or hands its
command to the dbt the run forked ahead (orchestration/lib/warm_dbt.py).
"""

import ctypes
import json
import os
import signal
import socket
import struct
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1
EXIT_CODE = struct.Struct("!i")  # the warm dbt's reply to `delegate`: the dbt command's exit code
PARENT_ENV = "LINGTAN_PARENT_PID"  # the pid of the process that started the child, set by the starter
WARM_ENV = "LINGTAN_DBT_WARM"  # the run's warm dbt (orchestration/lib/warm_dbt.py), when it has one
CWD_ENV = (
    "LINGTAN_DBT_CWD"  # the folder dbt runs in, when set (the home's build folder: dbt_project/profiles.yml)
)


def die_with_parent(expected_parent: int | None = None) -> None:
    """Have the kernel kill this process when its parent exits; exit now if the parent is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have died before prctl took effect: then we were re-parented already.
    if expected_parent is not None and os.getppid() != expected_parent:
        sys.exit(f"lingtan-dbt: parent process {expected_parent} is gone, not starting dbt")


def dbt_main() -> None:
    """Entry point `lingtan-dbt`: dbt with the same arguments, bound to the parent's lifetime."""
    expected = os.environ.get(PARENT_ENV)
    die_with_parent(int(expected) if expected and expected.isdigit() else None)
    if cwd := os.environ.get(CWD_ENV):
        os.chdir(cwd)  # dagster-dbt starts dbt in the project folder; the project is in DBT_PROJECT_DIR
    dbt = Path(sys.executable).with_name("dbt")
    if warm := os.environ.pop(WARM_ENV, None):  # the run's dbt, forked ahead with dbt imported
        code = delegate(warm, str(dbt), sys.argv[1:])
        if code is not None:
            sys.exit(code)
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


def delegate(address: str, argv0: str, args: list[str]) -> int | None:
    """`lingtan-dbt`'s side: hand this command to the warm dbt at `address` and return its exit code; None when
    there is no warm dbt to take it (then the caller starts dbt itself)."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect("\0" + address)
    except OSError:
        conn.close()
        return None
    request = {"argv0": argv0, "args": args, "env": dict(os.environ), "cwd": os.getcwd()}
    try:
        socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
    except OSError:
        conn.close()
        return None

    def forward(signum: int, _frame: Any) -> None:
        with suppress(OSError):
            conn.send(b"I" if signum == signal.SIGINT else b"T")

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    reply = b""
    while len(reply) < EXIT_CODE.size:
        try:
            chunk = conn.recv(EXIT_CODE.size)
        except InterruptedError:
            continue
        if not chunk:
            break
        reply += chunk
    conn.close()
    if len(reply) < EXIT_CODE.size:
        print("lingtan-dbt: the warm dbt process ended without an exit code", file=sys.stderr)
        return 1
    return EXIT_CODE.unpack(reply)[0]
