"""Tests for semgan_core.workers: workers die with their parent; stale folders go."""

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from semgan_core import datasets, workers

LINUX = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()


def test_run_tasks_keeps_the_order_in_and_out_of_process():
    # builtins and math: the spawned workers import nothing else
    assert workers.run_tasks(abs, [-3, 1, -2]) == [3, 1, 2]
    if (os.cpu_count() or 1) >= 2:
        assert workers.run_tasks(abs, [-3, 1, -2, 5, -4], processes=2,
                                 sizes=[1, 2, 1, 1, 1]) == [3, 1, 2, 5, 4]
        with pytest.raises(ValueError, match="math domain error"):
            workers.run_tasks(math.sqrt, [4.0, 1.0, -1.0, 9.0], processes=2)


def _dead_pid():
    """The id of a child that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_process_alive():
    assert workers.process_alive(os.getpid()) and workers.process_alive(os.getppid())
    assert not workers.process_alive(_dead_pid())
    if LINUX:   # an exited child that nobody has waited for is a zombie: dead
        zombie = subprocess.Popen([sys.executable, "-c", "pass"])
        deadline = time.monotonic() + 30
        while workers.process_alive(zombie.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not workers.process_alive(zombie.pid)
        zombie.wait()


def test_partial_folder_removes_only_folders_of_dead_runs(tmp_path):
    out = tmp_path / "ds"
    dead = tmp_path / f".ds.{_dead_pid()}.0badcafe.partial"
    live = tmp_path / f".ds.{os.getppid()}.12345678.partial"
    other = tmp_path / f".other.{_dead_pid()}.12345678.partial"
    for folder in (dead, live, other):
        (folder / "trainA").mkdir(parents=True)
    tmp = workers.partial_folder(out)
    assert tmp.is_dir() and tmp.name.startswith(f".ds.{os.getpid()}.")
    assert tmp.name.endswith(".partial") and not any(tmp.iterdir())
    assert not dead.exists() and live.exists() and other.exists()
    assert workers.remove_stale_partials(out) == []   # this run's own folder stays
    assert workers.remove_stale_partials(tmp_path / "missing" / "ds") == []


def _descendants(pid):
    """Process ids whose parent chain leads to ``pid`` (from /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _start_mid_run(command, tmp_path):
    """Start ``command`` in its own process group; return it with its descendants once the
    hidden .partial folder of ``tmp_path / "ds"`` holds a crop."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    # The child starts with Ctrl-C's default action even when this process ignores
    # SIGINT (an ignored signal is inherited across exec, and Python then installs no
    # KeyboardInterrupt handler), as it is when run in the background or under some runners.
    proc = subprocess.Popen(command, env=env, start_new_session=True,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline, children = time.monotonic() + 120, set()
    while time.monotonic() < deadline and proc.poll() is None:
        children |= _descendants(proc.pid)
        partial = list(tmp_path.glob(".ds.*.partial"))
        if len(children) >= 3 and partial and any((partial[0] / "trainA").glob("*.png")):
            return proc, children
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"make_dataset did not reach its workers' crops: {proc.communicate()[1]}")


def _survivors(children, seconds=10):
    """The processes of ``children`` still alive after up to ``seconds`` (then killed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(workers.process_alive(p) for p in children):
        time.sleep(0.1)
    survivors = [p for p in children if workers.process_alive(p)]
    for pid in survivors:   # clean up before failing
        os.kill(pid, signal.SIGKILL)
    return survivors


OPTIONS = dict(degradation="A", n_crops=4000, n_source=8, size=128, progress=False)
needs_workers = pytest.mark.skipif(
    not LINUX or (os.cpu_count() or 1) < 2,
    reason="reads the process tree from /proc; make_dataset uses 2 processes from 2 CPUs")


@needs_workers
def test_sigkill_of_make_dataset_leaves_no_process_and_no_folder(tmp_path):
    """SIGKILL mid-run: every worker (and the resource tracker) exits within seconds,
    and the next run removes the hidden .partial folder of the killed one."""
    out = tmp_path / "ds"
    code = textwrap.dedent(f"""
        from semgan_core import datasets
        datasets.make_dataset({str(out)!r}, processes=2, **{OPTIONS!r})
    """)
    proc, children = _start_mid_run([sys.executable, "-c", code], tmp_path)
    assert len(children) >= 3  # two workers and the resource tracker
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert _survivors(children) == []
    partial = list(tmp_path.glob(".ds.*.partial"))
    assert len(partial) == 1 and not out.exists()   # the killed run's folder is left
    manifest = datasets.make_dataset(out, **dict(OPTIONS, n_crops=4, n_source=2),
                                     processes=1)
    assert manifest["counts"]["testA"] == 1
    assert not list(tmp_path.glob(".ds.*.partial"))    # ... and removed by the next run


@needs_workers
def test_ctrl_c_of_make_dataset_stops_it_cleanly(tmp_path):
    """SIGINT to the process group (Ctrl-C): one line, status 130, no worker traceback,
    no process and no folder left."""
    command = [sys.executable, "-m", "semgan_core", "make-dataset", "--degradation", "A",
               "--n-crops", "40000", "--size", "128", "--quiet", "--out", str(tmp_path / "ds")]
    proc, children = _start_mid_run(command, tmp_path)
    os.killpg(proc.pid, signal.SIGINT)   # mid-run: 40 000 crops take minutes
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "semgan: interrupted"
    assert "Traceback" not in err
    assert _survivors(children) == []
    assert list(tmp_path.iterdir()) == []
