"""dbt started ahead of the nightly's dbt step, from the run's own imports (docs/performance.md, "A dbt process
forked ahead of its step").

A new dbt process spends ~2.5 CPU-s importing dbt-core before it reads a file; the run's process has imported
most of it already (dagster-dbt's definitions import dbt-core's contracts and adapters). So `lingtan run` forks
itself once, right after loading the definitions and before any thread of Dagster's instance or run exists: the
fork ("warm dbt") imports the rest of dbt (~0.5 CPU-s, on the second core while ingestion and the engines run)
and waits on a Linux abstract socket. When the dbt step starts `lingtan-dbt build …` as usual (dagster-dbt's
subprocess, its stdout pipe and its signals unchanged), that small process hands its argv, environment, working
folder and its stdin/stdout/stderr to the warm dbt (SCM_RIGHTS) and waits for the exit code. The warm dbt runs
dbt's own command line in that environment and exits: one build per fork, nothing shared with the run's process
after the fork (its DuckDB, its threads, its open files are the fork's own).

Lifetimes: the warm dbt dies with the run's process (PR_SET_PDEATHSIG, like `lingtan-dbt`) and with the
`lingtan-dbt` that handed it the work (a closed socket: SIGKILL itself, so a killed dbt step leaves no build
writing on); SIGINT and SIGTERM of `lingtan-dbt` (dagster-dbt's interrupt) are passed on. A run that does not
reach its dbt step stops the fork at its end (`stop`). Without a warm dbt (a run launched from the UI, another
OS, a second dbt command in the same step) `lingtan-dbt` starts dbt as before.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing import resource_tracker
from typing import Any

from orchestration.lib.child import EXIT_CODE, WARM_ENV, die_with_parent

__all__ = ["WARM_ENV", "ahead", "address", "start", "stop"]
_MAX_MESSAGE = 1 << 20  # argv + environment of one request; the socket keeps message boundaries

# The warm dbt of this process: (owner pid, fork pid, socket address). A fork of the owner is not the owner.
_warm: tuple[int, int, str] | None = None


def _flush_before_fork() -> None:
    """Nothing buffered in the parent may be written twice by the fork."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    for handler in list(logging.root.handlers):
        with suppress(OSError, ValueError):
            handler.flush()


def start() -> str | None:
    """Fork the warm dbt of this run (Linux only; once per process at a time). Returns its socket address."""
    global _warm
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return None
    stop()
    owner = os.getpid()
    address = f"lingtan-dbt-{owner}-{secrets.token_hex(8)}"  # in Linux's abstract namespace: no file
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind("\0" + address)
    server.listen(1)
    _flush_before_fork()
    pid = os.fork()
    if pid == 0:  # the warm dbt: never returns into the run's code
        code = 70
        try:
            code = _serve(server, owner)
        except BaseException as exc:
            with suppress(OSError):
                os.write(2, f"lingtan-dbt: the warm dbt process failed: {exc!r}\n".encode())
        finally:
            os._exit(code)
    server.close()
    _warm = (owner, pid, address)
    return address


@contextmanager
def ahead(wanted: bool = True) -> Iterator[str | None]:
    """A warm dbt for the block (when `wanted`), ended with it whatever happens in it."""
    try:
        yield start() if wanted else None
    finally:
        stop()


def address() -> str | None:
    """The socket of this process's warm dbt, if it has one that has not ended."""
    if _warm is None or _warm[0] != os.getpid():
        return None
    try:
        done, _ = os.waitpid(_warm[1], os.WNOHANG)
    except ChildProcessError:
        return None
    return None if done else _warm[2]


def stop() -> None:
    """End this process's warm dbt: kill it if it still waits (or still runs), and reap it."""
    global _warm
    if _warm is None or _warm[0] != os.getpid():
        _warm = None
        return
    pid = _warm[1]
    _warm = None
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _serve(server: socket.socket, owner: int) -> int:
    """The fork: bind to the run's life, finish dbt's imports, run one dbt command handed over, return its code."""
    die_with_parent(owner)
    # the run's open files (its log, the terminal's copy, pipes a caller waits on) are not the fork's to keep
    keep = server.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 4096)
    # multiprocessing's tracker of the run (its pipe just closed): dbt's locks start the fork's own, as in a new dbt
    tracker = resource_tracker._resource_tracker
    tracker._lock, tracker._fd, tracker._pid = threading.RLock(), None, None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    logging.root.handlers.clear()  # the run's handlers (its log file, Dagster's) are not dbt's
    import dbt.adapters.duckdb  # noqa: F401 - the project's adapter, imported at dbt's first statement otherwise
    from dbt.cli.main import cli  # the rest of dbt's start-up, off the run's critical path

    conn, _ = server.accept()
    server.close()
    message, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 3)
    request: dict[str, Any] = json.loads(message)
    for target, fd in enumerate(fds):  # the caller's stdin, stdout and stderr become ours
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - stdio of the process
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = [request["argv0"], *request["args"]]
    finished = threading.Event()
    threading.Thread(target=_watch_caller, args=(conn, finished), daemon=True).start()
    try:
        code = cli.main(args=list(request["args"]), prog_name="dbt")
    except SystemExit as done:
        code = done.code
    except KeyboardInterrupt:
        code = 130
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    logging.shutdown()
    finished.set()  # the caller may go once it has the code: that is no longer a reason to kill this process
    with suppress(OSError):
        conn.send(EXIT_CODE.pack(code))
    return code


def _watch_caller(conn: socket.socket, finished: threading.Event) -> None:
    """Signals from `lingtan-dbt` as one-byte messages; its end (killed, or gone) ends this dbt at once."""
    while True:
        try:
            data = conn.recv(16)
        except OSError:
            data = b""
        if not data:
            if not finished.is_set():
                os.kill(os.getpid(), signal.SIGKILL)
            return
        sig = {b"I": signal.SIGINT, b"T": signal.SIGTERM}.get(data[:1])
        if sig is not None:
            os.kill(os.getpid(), sig)
