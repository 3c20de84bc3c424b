"""What guards a training run: one run per folder, and a clean stop on a signal.

* :class:`RunLock`: a lock file ``RUN_DIR/.lock`` holding the process id; a second run
  into the same folder is refused while that process lives, and a stale lock (its
  process gone, e.g. after SIGKILL) is taken over.
* :class:`StopOnSignal`: SIGINT and SIGTERM end the run after the current step, with a
  checkpoint.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

from semgan_core.workers import process_alive

LOCK_FILE = ".lock"


class RunLock:
    """Context manager: hold ``RUN_DIR/.lock`` for the duration of a run.

    Parameters
    ----------
    run_dir : path-like
        Made if missing (and removed again on exit if it is then empty).

    Raises
    ------
    FileExistsError
        On entry, when another live process on this machine holds the lock (the message
        names its process id), or a process on another machine does.
    """

    def __init__(self, run_dir) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._made_dir = False
        self._held = False

    def __enter__(self) -> "RunLock":
        self._made_dir = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        me = f"{os.getpid()} {socket.gethostname()}"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._holder_alive():
                    self.__exit__()
                    raise FileExistsError(
                        f"train: {self.run_dir} is in use by another training run "
                        f"({self._describe()}); wait for it to end or choose another "
                        "--out (run_dir)") from None
                self.path.unlink(missing_ok=True)       # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me + "\n")
            self._held = True
            return self
        raise FileExistsError(f"train: could not take the lock {self.path}")

    def _holder(self) -> tuple[int, str]:
        try:
            pid, _, host = self.path.read_text().strip().partition(" ")
            return int(pid), host
        except (OSError, ValueError):
            return -1, ""

    def _holder_alive(self) -> bool:
        pid, host = self._holder()
        if pid <= 0:
            return False                    # unreadable or empty: a lock never finished
        if host and host != socket.gethostname():
            return True                     # another machine: cannot tell, assume alive
        return process_alive(pid)

    def _describe(self) -> str:
        pid, host = self._holder()
        return f"process {pid} on {host or 'this machine'}, lock file {self.path}"

    def __exit__(self, *exc: Any) -> None:
        if self._held:
            self.path.unlink(missing_ok=True)
            self._held = False
        if self._made_dir:
            try:
                self.run_dir.rmdir()            # only if the run wrote nothing
            except OSError:
                pass


class StopOnSignal:
    """Context manager: SIGINT and SIGTERM set :attr:`signal_name` instead of killing.

    The training loop checks :attr:`requested` after each step, saves a checkpoint and
    returns. A second signal of the same kind while stopping falls back to the default
    behaviour. Outside the main thread (where handlers cannot be set) it does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self.signal_name is not None

    def _handle(self, signum, frame) -> None:
        if self.requested:  # second signal: give up waiting for the step
            signal.signal(signum, self._previous.get(signum, signal.SIG_DFL))
            signal.raise_signal(signum)
            return
        self.signal_name = signal.Signals(signum).name

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
