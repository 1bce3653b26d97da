"""Helpers shared by the benchmarks: sockets, servers, safety limits, machine facts, tables.

Every bench binds its servers to 127.0.0.1 on pre-bound sockets (so a URL, and a hub's
domain, are known before anything serves), arms a watchdog so nothing outlives its time
limit, and prints what it ran on beside its results.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import statistics
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

LOOPBACK = "127.0.0.1"


def bound_socket() -> socket.socket:
    """A listening-ready TCP socket on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    """Serve `app` on an already bound socket; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=1024).start()
    return runner


def watchdog(seconds: float) -> None:
    """End this process (SIGALRM) if it is still running `seconds` from now."""
    signal.alarm(max(1, int(seconds)))


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    return [
        ("cores (nproc)", str(len(os.sched_getaffinity(0)))),
        ("cpu", _cpu_model()),
        ("python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("load average at start", " ".join(Path("/proc/loadavg").read_text().split()[:3])),
    ]


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def filesystem_of(path: Path) -> str:
    """The file system type `path` lives on (tmpfs would make fsync free: not durable)."""
    best, kind = "", "unknown"
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        mount = fields[1]
        if str(path.resolve()).startswith(mount) and len(mount) > len(best):
            best, kind = mount, fields[2]
    return kind


def busy_warning() -> str | None:
    """A warning when other work already loads the machine: ratios then get noisier."""
    load = float(Path("/proc/loadavg").read_text().split()[0])
    cores = len(os.sched_getaffinity(0))
    if load > 0.5 * cores:
        return (f"warning: load average {load:.2f} on {cores} cores before the run; "
                "other processes share the CPU, so expect more noise than usual")
    return None


def machine_busy() -> float:
    """CPU seconds all processes have used since boot, on every core (with steal time:
    CPU the hypervisor gave to someone else is CPU this run did not get either)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, iowait = ticks[3], ticks[4]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def processes_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds each of these processes has used so far (those still running)."""
    found = {}
    for pid in pids:
        try:
            # Fields after the command name (which may hold spaces): utime is the 12th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def thread_cpu() -> dict[str, float]:
    """CPU seconds each live thread of this process has run so far, keyed by its name and
    native id (from /proc/self/task/*/schedstat, nanosecond resolution)."""
    found = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text()
        except OSError:
            continue  # ended meanwhile
        found[f"{thread.name}#{thread.native_id}"] = int(stat.split()[0]) / 1e9
    return found


def print_pairs(title: str, pairs: Sequence[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        print(f"  {name.ljust(width)}  {value}")


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table, first column left-aligned, the rest right-aligned."""
    cells = [[str(c) for c in header], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        line = "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        print(f"  {line}")
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0
