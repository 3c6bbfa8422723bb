"""The console of `lingtan run`: one line per stage for people, everything else (dbt, Dagster) to a log file.

`Console` writes lines to the stream it was given (or through an `echo` callable) and, only when that stream
is a terminal, keeps a live status line (stage, steps, outputs, elapsed seconds) refreshed by a background
thread. `capture_output` sends the process's stdout and stderr — Python writes, subprocesses and C code alike
(file descriptors 1 and 2) — to a log file for the duration of a run, while the console keeps writing to
where the user is looking.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

CLEAR_LINE = "\r\x1b[K"  # only ever written to a terminal


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _fileno(stream: Any) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, ValueError, OSError):
        return None


class Console:
    """Lines for people. `live()` shows a transient status on a terminal and does nothing anywhere else, so a
    log or a pipe gets only whole lines and never an escape code."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        echo: Callable[[str], Any] | None = None,
        tty: bool | None = None,
        refresh_seconds: float = 0.5,
    ) -> None:
        self._echo = echo
        self._stream = stream if stream is not None or echo is not None else sys.stdout
        self.tty = (
            tty if tty is not None else (echo is None and _is_tty(self._stream) and "TERM" in os.environ)
        )
        self._lock = threading.RLock()
        self._status: Callable[[], str] | None = None
        self._shown = False
        self._saved_std: tuple[Any, Any] | None = None
        self._refresh = refresh_seconds
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # --- whole lines -------------------------------------------------------------------------------------
    def line(self, text: str = "") -> None:
        with self._lock:
            self._clear()
            self._write_line(text)
            self._draw()

    def _write_line(self, text: str) -> None:
        if self._echo is not None:
            # An echo such as print looks up sys.stdout when called: show it the console, not the log.
            if self._saved_std is not None:
                captured = sys.stdout, sys.stderr
                sys.stdout, sys.stderr = self._saved_std
                try:
                    self._echo(text)
                finally:
                    sys.stdout, sys.stderr = captured
            else:
                self._echo(text)
            return
        assert self._stream is not None
        self._stream.write(text + "\n")
        self._stream.flush()

    # --- live status (terminal only) ---------------------------------------------------------------------
    def live(self, status: Callable[[], str] | None) -> None:
        """Show `status()` on a self-refreshing line until replaced or cleared (None); no-op off a terminal."""
        if not self.tty:
            return
        with self._lock:
            self._status = status
            self._clear()
            self._draw()
        if status is not None and self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick, name="lingtan-console", daemon=True)
            self._ticker.start()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None
        with self._lock:
            self._status = None
            self._clear()

    def _tick(self) -> None:
        while not self._stop.wait(self._refresh):
            with self._lock:
                if self._status is not None:
                    self._draw()

    def _draw(self) -> None:
        if not self.tty or self._status is None or self._stream is None:
            return
        try:
            text = self._status()
        except Exception:  # a status is decoration: never let it break a run
            return
        self._stream.write(CLEAR_LINE + text)
        self._stream.flush()
        self._shown = True

    def _clear(self) -> None:
        if self._shown and self._stream is not None:
            self._stream.write(CLEAR_LINE)
            self._stream.flush()
            self._shown = False

    # --- tool output to a log file -----------------------------------------------------------------------
    @contextmanager
    def capture_output(self, log_path: Path) -> Iterator[IO[str]]:
        """Redirect stdout/stderr (Python objects and file descriptors 1 and 2) to `log_path`; this console
        keeps writing to the original stream. Yields the log file (append, line-buffered)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
        for s in (sys.stdout, sys.stderr):
            with suppress(AttributeError, ValueError, OSError):
                s.flush()
        saved_fds: dict[int, int] = {}
        own_stream, orig_stream = None, self._stream
        try:
            if self._stream is not None and _fileno(self._stream) in (1, 2):
                # The console is the real terminal: keep a private copy of it before fd 1/2 point at the log.
                own_stream = os.fdopen(os.dup(_fileno(self._stream)), "w", buffering=1, encoding="utf-8")
                self._stream = own_stream
            for fd in (1, 2):
                try:
                    saved_fds[fd] = os.dup(fd)
                    os.dup2(log.fileno(), fd)
                except OSError:
                    saved_fds.pop(fd, None)
            self._saved_std = (sys.stdout, sys.stderr)
            sys.stdout = sys.stderr = log
            yield log
        finally:
            if self._saved_std is not None:
                sys.stdout, sys.stderr = self._saved_std
                self._saved_std = None
            # a full disk must not leave fds 1 and 2 on the log: the run's error line would go there
            with suppress(OSError):
                log.flush()
            for fd, saved in saved_fds.items():
                os.dup2(saved, fd)
                os.close(saved)
            if own_stream is not None:
                self.close()
                self._stream = orig_stream
                own_stream.close()
            with suppress(OSError):
                log.close()


def bar(done: int, total: int, width: int = 20) -> str:
    """`[######--------------]` for a terminal status line."""
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def elapsed(seconds: float) -> str:
    return f"{seconds:5.1f} s" if seconds < 100 else f"{int(seconds) // 60}:{int(seconds) % 60:02d} min"


def now() -> float:
    return time.perf_counter()
