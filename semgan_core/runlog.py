"""What a training run shows and keeps: progress bar, loss log, TensorBoard, sample grids.

Files in the run folder (written by the chief worker only):

* ``losses.csv``: one row every ``log_every`` steps (and at the last step): ``step``,
  ``time_s`` (wall seconds since the run started, over all resumptions), ``lr`` (the
  generators' learning rate) and every loss term the run computes (the trainer's
  ``loss_names``); flushed after each row. Resuming at
  step ``s`` first drops the rows after ``s`` (written after the last checkpoint), so
  the file reads as one uninterrupted run.
* ``tb/``: the same scalars and the sample grids for TensorBoard
  (``tensorboard --logdir RUN_DIR/tb``).
* ``samples/step_000123.png``: a grid, one row per test image, columns
  a, G(a), F(G(a)), b, F(b) for the CycleGAN (b is the clean original of a) and
  a, G(a), b for the paired oracle.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import numpy as np

from semgan_core import images

LOSSES_FILE = "losses.csv"
SAMPLES_DIR = "samples"
TENSORBOARD_DIR = "tb"
_GAP = 4        # white pixels between the tiles of a sample grid


def montage(columns: list[np.ndarray], *, gap: int = _GAP) -> np.ndarray:
    """Tile images into a grid: ``columns[j][i]`` goes to row i, column j.

    Parameters
    ----------
    columns : list of ndarray, each (N, H, W) float in [0, 1]

    Returns
    -------
    grid : ndarray, (N H + (N-1) gap, J W + (J-1) gap), float32 in [0, 1], white gaps
    """
    rows = []
    for i in range(len(columns[0])):
        tiles = [np.clip(np.asarray(c[i], np.float32), 0, 1) for c in columns]
        line = np.ones((tiles[0].shape[0], gap), np.float32)
        rows.append(np.concatenate([t for tile in tiles for t in (tile, line)][:-1], 1))
    sep = np.ones((gap, rows[0].shape[1]), np.float32)
    return np.concatenate([r for row in rows for r in (row, sep)][:-1], 0)


def sample_path(run_dir: str | os.PathLike, step: int) -> Path:
    """Where the sample grid of ``step`` goes."""
    return Path(run_dir) / SAMPLES_DIR / f"step_{int(step):06d}.png"


def list_samples(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """The sample grids of a run as ``(step, path)``, in step order."""
    folder = Path(run_dir) / SAMPLES_DIR
    found = folder.glob("step_*.png") if folder.is_dir() else []
    return sorted((int(p.stem[5:]), p) for p in found if p.stem[5:].isdigit())


def read_losses(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """``losses.csv`` of a run as columns: ``{"step": ..., "gen_total": ..., ...}`` (float64).

    Raises
    ------
    FileNotFoundError
        If the run has no ``losses.csv``.
    """
    path = Path(run_dir) / LOSSES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"read_losses: {path} not found; is {run_dir} a run folder?")
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        names = reader.fieldnames or []
    return {k: np.array([float(r[k]) for r in rows]) for k in names}


def _write_summary(tag: str, value, plugin: str) -> None:
    """``tf.summary.write`` tagged for a TensorBoard plugin ('scalars' or 'images').

    The same records ``tf.summary.scalar`` / ``tf.summary.image`` write, without needing
    the ``tensorboard`` package at training time (only to view them).
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    meta = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))
    tf.summary.write(tag, value, metadata=meta)


class RunLog:
    """The observers of one run: tqdm bar, ``losses.csv``, TensorBoard, sample grids.

    Parameters
    ----------
    run_dir : path-like
    loss_names : sequence of str
        The loss terms, in column order.
    total, initial : int
        Step budget and the step this session starts at.
    elapsed : float
        Wall seconds of the previous sessions (for the ``time_s`` column).
    enabled : bool
        False on non-chief workers: nothing is shown or written.
    progress : bool
        Show the progress bar.
    """

    def __init__(self, run_dir, loss_names, *, total: int, initial: int,
                 elapsed: float = 0.0, enabled: bool = True, progress: bool = True) -> None:
        import tensorflow as tf
        from tqdm import tqdm      # text bar: renders its final state in executed notebooks

        self.run_dir, self.names, self.enabled = Path(run_dir), list(loss_names), enabled
        self.elapsed = float(elapsed)
        self.bar = tqdm(total=total, initial=initial, unit="step", desc="train",
                        disable=not (enabled and progress), dynamic_ncols=True)
        self._csv = self._writer = None
        if enabled:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._csv = self._open_csv(initial)
            self._writer = tf.summary.create_file_writer(str(self.run_dir / TENSORBOARD_DIR))

    def _open_csv(self, initial: int):
        """Open losses.csv for appending, keeping only the rows up to ``initial``."""
        path = self.run_dir / LOSSES_FILE
        header = ["step", "time_s", "lr", *self.names]
        kept = []
        if path.is_file() and initial > 0:
            with open(path, newline="") as fh:
                kept = [r for r in csv.reader(fh)][1:]
            kept = [r for r in kept if r and int(float(r[0])) <= initial]
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w", newline="") as fh:
            csv.writer(fh).writerows([header, *kept])
        os.replace(tmp, path)
        return open(path, "a", newline="")

    def step(self, n: int = 1) -> None:
        """Advance the progress bar."""
        self.bar.update(n)

    def losses(self, step: int, values: dict[str, float], *, lr: float,
               session_time: float) -> None:
        """Log the loss terms of ``step`` (CSV row, TensorBoard scalars, bar postfix).

        A column missing from ``values`` (a term that did not run at this step, such as
        the adversarial ones during a warm-up) is written as NaN.
        """
        values = {k: values.get(k, float("nan")) for k in self.names}
        shown = {k: f"{values[k]:.3g}" for k in self.names[:4] if np.isfinite(values[k])}
        self.bar.set_postfix(shown, refresh=False)
        if not self.enabled:
            return
        row = [step, f"{self.elapsed + session_time:.3f}", f"{lr:.6g}"]
        csv.writer(self._csv).writerow(row + [f"{values[k]:.6g}" for k in self.names])
        self._csv.flush()
        with self._writer.as_default(step=step):
            for name in self.names:
                _write_summary(f"loss/{name}", np.float32(values[name]), "scalars")
            _write_summary("learning_rate", np.float32(lr), "scalars")
        self._writer.flush()

    def samples(self, step: int, columns: list[np.ndarray]) -> Path | None:
        """Write the sample grid of ``step`` (PNG and TensorBoard); return its path."""
        if not self.enabled:
            return None
        import tensorflow as tf

        grid = montage(columns)
        path = images.write_image(sample_path(self.run_dir, step), grid)
        png = tf.io.encode_png(tf.constant(np.round(grid * 255).astype(np.uint8)[..., None]))
        size = [tf.constant(str(n)) for n in grid.shape[::-1]]
        with self._writer.as_default(step=step):
            _write_summary("samples", tf.stack([*size, png]), "images")
        self._writer.flush()
        return path

    def close(self) -> None:
        """Close the bar and the files."""
        self.bar.close()
        if self._csv is not None:
            self._csv.close()
            self._writer.close()


class Clock:
    """Wall time of this session; seconds per step leave out the first (tracing) step."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_done: float | None = None
        self.steps = 0

    def tick(self, out: dict) -> None:
        """Count a step; after the first, wait for its result (``out``: its tensors)."""
        self.steps += 1
        if self.steps == 1:
            float(next(iter(out.values())))
            self.first_done = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the session started."""
        return time.perf_counter() - self.start

    def seconds_per_step(self) -> float:
        """Mean seconds per step after the first (NaN before any step)."""
        if self.steps < 2:
            return self.elapsed() / self.steps if self.steps else float("nan")
        return (time.perf_counter() - self.first_done) / (self.steps - 1)
