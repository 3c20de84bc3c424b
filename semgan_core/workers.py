"""Worker processes that die with their parent, and output folders no killed run leaves.

Two guarantees for a command that writes a folder with the help of worker processes,
even when it is killed with SIGKILL (which no ``try``/``finally`` sees):

* :func:`run_tasks` starts its workers (spawned, not forked) so that each one exits as
  soon as its parent dies: on Linux the kernel sends it SIGKILL
  (``prctl(PR_SET_PDEATHSIG)``), elsewhere a thread in the worker watches the parent's
  process id. The resource tracker of :mod:`multiprocessing` then exits by itself, since
  its last client is gone.
* :func:`partial_folder` names the hidden temporary folder of a run after the process
  (``.NAME.<pid>.<hex>.partial`` beside the output), and first removes every such
  folder of the same output whose process is no longer alive (:func:`process_alive`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

_PR_SET_PDEATHSIG = 1       # from <linux/prctl.h>
_WATCH_SECONDS = 0.5        # parent check interval where prctl is not available
_log = logging.getLogger(__name__)


def run_tasks(func, tasks, *, processes=1, sizes=None, progress=False, desc=None,
              unit="item"):
    """Call ``func(task)`` for every task, in worker processes when ``processes > 1``.

    Parameters
    ----------
    func : callable
        A module-level function (workers import it by name).
    tasks : sequence
        Picklable arguments, one per call.
    processes : int
        Worker processes; 1 runs every call in this process, in order.
    sizes : sequence of int, optional
        Progress units of each task (default 1 each).
    progress : bool
        Show a tqdm progress bar.
    desc, unit : str, optional
        Label and unit of the progress bar.

    Returns
    -------
    results : list
        ``func(task)`` for each task, in the order of ``tasks``.

    Notes
    -----
    Workers are started with the ``spawn`` method, from the calling thread (Linux ties
    the parent-death signal to the thread that started a worker; this one waits for
    them), and die with this process (see the module notes); they ignore SIGINT. An
    exception in a call (or a KeyboardInterrupt here) cancels the calls not yet started,
    waits for the running ones and is raised again.
    """
    from tqdm.auto import tqdm

    sizes = [1] * len(tasks) if sizes is None else list(sizes)
    out = [None] * len(tasks)
    with tqdm(total=sum(sizes), disable=not progress, desc=desc, unit=unit) as bar:
        if processes <= 1:
            for i, task in enumerate(tasks):
                out[i] = func(task)
                bar.update(sizes[i])
            return out
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn"),
                                 initializer=_die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(func, task): i for i, task in enumerate(tasks)}
            try:
                for future in as_completed(futures):
                    out[futures[future]] = future.result()
                    bar.update(sizes[futures[future]])
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return out


def _die_with_parent(parent_pid):
    """Worker initializer: exit when the process ``parent_pid`` dies; ignore Ctrl-C.

    Ctrl-C in a terminal interrupts the whole process group: the parent stops the
    workers (cancels what has not started, waits for the running calls), so the workers
    themselves ignore SIGINT rather than each printing a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _set_parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:      # the parent died before the line above
        os._exit(1)


def _set_parent_death_signal():
    """Ask Linux to SIGKILL this process when its parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid):
    """Exit this process once it is no longer the child of ``parent_pid``."""
    while os.getppid() == parent_pid:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


def partial_folder(out):
    """Create and return a new hidden temporary folder for the output folder ``out``.

    Parameters
    ----------
    out : path-like
        The folder the caller will rename the temporary folder to when it is complete.

    Returns
    -------
    tmp : pathlib.Path
        ``out.parent / ".{out.name}.{pid}.{hex}.partial"``, created empty (and its
        parent folders).

    Notes
    -----
    Before creating it, removes the temporary folders of ``out`` left by runs that died
    (SIGKILL, power loss): those whose process id is not alive. Folders of live runs,
    including other runs of this process, are kept.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(out)
    tmp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
    tmp.mkdir()
    return tmp


def remove_stale_partials(out):
    """Remove the ``.partial`` folders of ``out`` whose process is dead; return them."""
    out = Path(out)
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(\d+)\.[0-9a-f]+\.partial")
    removed = []
    if not out.parent.is_dir():
        return removed
    for path in sorted(out.parent.iterdir()):
        match = pattern.fullmatch(path.name)
        if match and path.is_dir() and not process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            _log.info("removed %s, left by a run (process %s) that did not finish",
                      path, match.group(1))
            removed.append(path)
    return removed


def process_alive(pid):
    """Whether process ``pid`` runs on this machine.

    Parameters
    ----------
    pid : int

    Returns
    -------
    alive : bool
        True for this process, and for a process that exists (also one of another
        user) and is not a zombie (exited, not yet reaped: on Linux, from ``/proc``).
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # exists, owned by another user
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True             # no /proc (not Linux): trust kill(pid, 0)
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
