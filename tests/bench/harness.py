"""Run one benchmark case in a child process and measure its wall time, CPU time (user + system of the child
and the processes it waited for) and peak memory (ru_maxrss via wait4), so cases do not inherit each other's
memory. CPU seconds are the figure that holds on a shared machine: wall time there includes waiting for a core.
The system part of it is shown on its own (`sys_s`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_mb: float
    info: dict
    cpu_s: float = 0.0
    # the kernel's part of cpu_s: on a VM whose host takes freed memory back (free page reporting), mostly
    # first touches of memory, which can cost seconds per GB (docs/performance.md, 5 December)
    sys_s: float = 0.0

    def line(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.info.items())
        return (
            f"{self.name:<44}{self.seconds:>9.2f} s{self.cpu_s:>9.2f} s{self.sys_s:>9.2f} s{self.peak_mb:>8.0f} MB"
            f"  {extra}"
        )


def measure(name: str, module: str, *args: str) -> Measurement:
    """`python -m <module> args…`; the child prints one JSON object (its own figures) as its last line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark {name} failed:\n{out}\n{err[-3000:]}")
    info = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(name, seconds, usage.ru_maxrss / 1024, info, round(cpu, 2), round(usage.ru_stime, 2))


def child_clock() -> Callable[[], dict[str, float]]:
    """In a case's child: from this call on, `seconds` (wall), `cpu_s` (CPU of every thread) and `user_s`, its user
    part. On this VM the system part is mostly memory touched for the first time, whose cost depends on what ran in
    the seconds before (docs/performance.md, 5 December): user seconds are the figure that does not."""
    t0, c0, u0 = time.perf_counter(), time.process_time(), os.times().user
    return lambda: {
        "seconds": round(time.perf_counter() - t0, 3),
        "cpu_s": round(time.process_time() - c0, 3),
        "user_s": round(os.times().user - u0, 3),
    }
