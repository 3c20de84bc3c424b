"""Timings for the benchmarks: the fastest of repeated calls, and the machine they ran on.

The machine may be shared, so a timing is the fastest of several calls after a warm-up,
and every timing file records the load average before and after it.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from semgan_core import results


def best_time(call, repeats):
    """Fastest of ``repeats`` calls of ``call()`` after one warm-up call, in seconds.

    Parameters
    ----------
    call : callable
        Called with no arguments; force lazy results inside it (e.g. ``.numpy()``).
    repeats : int
        Timed calls, at least 1.

    Returns
    -------
    seconds : float
    """
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def write_timings(path: str | os.PathLike, payload: dict, load_before) -> Path:
    """Write a benchmark's timings as JSON, with the machine they were measured on.

    Parameters
    ----------
    path : path-like
        The JSON file (written atomically by :func:`semgan_core.results.write_json`).
    payload : dict
        The timings (e.g. ``unit``, ``repeats``, ``rows``).
    load_before : tuple of float
        ``os.getloadavg()`` taken before the timings.

    Returns
    -------
    path : pathlib.Path
        Written with ``payload`` followed by ``cpu_count``, ``processor``,
        ``load_average_before``, ``load_average_after`` (now) and ``versions``.
    """
    machine = {"cpu_count": os.cpu_count(),
               "processor": platform.processor() or platform.machine(),
               "load_average_before": load_before, "load_average_after": os.getloadavg(),
               "versions": results.library_versions()}
    return results.write_json(path, {**payload, **machine})


def load_note(load_before) -> str:
    """``"load average before B, after A; the machine may be shared"`` (1-minute averages,
    ``A`` now), for the line a benchmark prints after its timings."""
    return (f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
            "the machine may be shared")
