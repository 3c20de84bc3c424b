"""The run folder of a training run: atomic checkpoints, resume, the dataset trained on.

A run folder holds::

    RUN_DIR/checkpoints/step_000250/ckpt.index, ckpt.data-*  (tf.train.Checkpoint: the
        networks G, F, D_A, D_B, their optimizers' state, the image pools)
    RUN_DIR/checkpoints/step_000250/state.json  (step, data position, mode, config, seed,
        library versions, wall time, the dataset: resolved path and manifest hash)
    RUN_DIR/losses.csv, RUN_DIR/tb/, RUN_DIR/samples/, RUN_DIR/report.json,
    RUN_DIR/generator_G.keras, RUN_DIR/generator_F.keras

A checkpoint is written into a temporary folder beside the others and renamed into place
only when complete, so a run killed at any moment (even by SIGKILL) leaves either the
previous checkpoints or the new one, never a half-written one; at most one checkpoint
interval of training is lost. Only the last ``keep_checkpoints`` are kept.

Resuming checks that the saved configuration matches: only the keys in
:data:`RESUMABLE_KEYS` (the step budget, logging and speed settings) may change; and that
the dataset is the same one (:func:`dataset_identity`, :func:`check_same_dataset`). A
checkpoint that cannot be read (a data file missing or truncated, a corrupt
``state.json``) is reported in one line, moved aside to ``checkpoints/corrupt-step_N``
and the next older one is used (:func:`restore_newest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from semgan_core import results

CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "state.json"
_PREFIX = "ckpt"
_TMP = ".tmp-"

# Config keys that may differ between a run and its resumption: they change how long
# or how observably or how fast it trains, not what it trains. (With lr_decay, a new
# ``steps`` stretches the decay: the resumed run then differs from an uninterrupted one.)
RESUMABLE_KEYS = frozenset({
    "steps", "epochs", "checkpoint_every", "keep_checkpoints", "sample_every",
    "log_every", "jit_compile", "deterministic", "intra_op_threads", "inter_op_threads",
})

# Files a run writes; a folder holding any of them belongs to a run.
RUN_FILES = ("losses.csv", "report.json", "generator_G.keras", "generator_F.keras")


def step_dir(run_dir: str | os.PathLike, step: int) -> Path:
    """The folder of the checkpoint at ``step``."""
    return Path(run_dir) / CHECKPOINT_DIR / f"step_{int(step):06d}"


def list_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """Complete checkpoints of ``run_dir`` as ``(step, folder)``, oldest first."""
    root = Path(run_dir) / CHECKPOINT_DIR
    found = []
    if root.is_dir():
        for path in root.glob("step_*"):
            if (path / STATE_FILE).is_file() and path.name[5:].isdigit():
                found.append((int(path.name[5:]), path))
    return sorted(found)


def latest_checkpoint(run_dir: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint folder of ``run_dir``, or None."""
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def read_state(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``state.json`` of a checkpoint folder."""
    return json.loads((Path(folder) / STATE_FILE).read_text())


def prepare_run_dir(run_dir: str | os.PathLike, *, resume: bool) -> Path | None:
    """Check ``run_dir`` before training; return the checkpoint to resume from, or None.

    Leftover temporary folders of a killed run are removed. Without ``resume``, a folder
    that already holds a run (checkpoints or any of :data:`RUN_FILES`) is refused, so
    nothing is overwritten silently. With ``resume`` and no checkpoint, training starts
    from step 0 (so the same command can start a job and continue it after preemption).

    Raises
    ------
    FileExistsError
        Without ``resume``, when ``run_dir`` already holds a run.
    NotADirectoryError
        When ``run_dir`` exists and is a file.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise NotADirectoryError(f"train: run folder {run_dir} exists and is not a folder")
    root = run_dir / CHECKPOINT_DIR
    if root.is_dir():
        for leftover in root.glob(_TMP + "*"):
            shutil.rmtree(leftover, ignore_errors=True)
    latest = latest_checkpoint(run_dir)
    if resume:
        return latest
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    if latest is not None or existing:
        what = (f"checkpoints up to step {list_checkpoints(run_dir)[-1][0]}" if latest
                else ", ".join(existing))
        raise FileExistsError(
            f"train: {run_dir} already holds a run ({what}); pass --resume "
            "(resume=True) to continue it, or choose another --out (run_dir)")
    return None


def check_compatible(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume a run whose configuration or mode differs.

    Parameters
    ----------
    saved, current : dict
        ``{"mode": ..., "config": {...}}`` of the checkpoint and of the new run.

    Raises
    ------
    ValueError
        Naming every differing key with both values.
    """
    old = {**saved["config"], "mode": saved["mode"]}
    new = {**current["config"], "mode": current["mode"]}
    keys = sorted((set(old) | set(new)) - RESUMABLE_KEYS)
    differ = [k for k in keys if old.get(k, "<missing>") != new.get(k, "<missing>")]
    if differ:
        detail = "; ".join(f"{k}: checkpoint {old.get(k, '<missing>')!r}, "
                           f"now {new.get(k, '<missing>')!r}" for k in differ)
        raise ValueError(
            f"train: cannot resume, the checkpoint was trained with a different "
            f"configuration ({detail}); use the same settings or another run folder "
            f"(only {', '.join(sorted(RESUMABLE_KEYS))} may change)")


def save(checkpoint, run_dir: str | os.PathLike, step: int, state: dict[str, Any], *,
         keep: int) -> Path:
    """Write ``checkpoint`` (a ``tf.train.Checkpoint``) and ``state`` atomically.

    Both go to a temporary folder beside the others, renamed to ``step_NNNNNN`` when
    complete; then all but the newest ``keep`` checkpoints are deleted. A checkpoint
    already saved at ``step`` is kept as it is. (Multi-worker runs: only the chief calls
    this; mirrored variables are read locally, without collective operations.)

    Returns
    -------
    folder : pathlib.Path
    """
    final = step_dir(run_dir, step)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP}{final.name}-", dir=final.parent))
    try:
        checkpoint.write(str(tmp / _PREFIX))
        results.write_json(tmp / STATE_FILE, {**state, "step": int(step)})
        if not final.exists():
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for _, old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def restore(checkpoint, folder: str | os.PathLike) -> None:
    """Restore ``checkpoint`` from ``folder``; every saved object must find its variable."""
    checkpoint.read(str(Path(folder) / _PREFIX)).assert_existing_objects_matched()


def _unreadable(folder: Path, error: BaseException, move: bool) -> None:
    """Report a checkpoint that cannot be read in one line; move it aside (``move``)."""
    reason = " ".join(f"{type(error).__name__}: {error}".split())[:200]
    print(f"semgan: warning: checkpoint {folder} cannot be read ({reason}); "
          "using the previous one", file=sys.stderr)
    if not move:
        return
    try:
        os.replace(folder, folder.with_name(f"corrupt-{folder.name}"))
    except OSError:
        pass


def newest_state(run_dir: str | os.PathLike, *,
                 move_aside: bool = True) -> tuple[Path, dict[str, Any]] | None:
    """``(folder, state)`` of the newest checkpoint whose ``state.json`` reads, or None.

    Checkpoints with an unreadable ``state.json`` are reported and (``move_aside``, the
    run folder's writer only) moved aside.
    """
    for _, folder in reversed(list_checkpoints(run_dir)):
        try:
            return folder, read_state(folder)
        except (OSError, ValueError) as error:
            _unreadable(folder, error, move_aside)
    return None


def restore_newest(checkpoint, run_dir: str | os.PathLike, *,
                   move_aside: bool = True) -> tuple[Path, dict] | None:
    """Restore ``checkpoint`` from the newest intact checkpoint of ``run_dir``.

    A checkpoint whose files cannot be read (a data file missing or truncated, a corrupt
    index or ``state.json``) is reported on stderr in one line and, with ``move_aside``
    (the run folder's writer only: the chief worker), moved aside to
    ``checkpoints/corrupt-step_N``; the next older one is tried.

    Returns
    -------
    found : (pathlib.Path, dict) or None
        The folder restored from and its state, or None when no checkpoint is intact.
    """
    import tensorflow as tf

    for _, folder in reversed(list_checkpoints(run_dir)):
        try:
            state = read_state(folder)
            restore(checkpoint, folder)
            return folder, state
        except (tf.errors.OpError, OSError, ValueError, IndexError) as error:
            _unreadable(folder, error, move_aside)
    return None


def dataset_identity(data_dir: str | os.PathLike) -> dict[str, Any]:
    """What identifies a dataset: its resolved path and the SHA-256 of its manifest.

    Returns
    -------
    identity : dict
        ``{"path": str, "manifest_sha256": str or None}`` (None without a
        ``manifest.json``).
    """
    data_dir = Path(data_dir).resolve()
    manifest = data_dir / "manifest.json"
    digest = (hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file()
              else None)
    return {"path": str(data_dir), "manifest_sha256": digest}


def check_same_dataset(saved: dict[str, Any] | None, current: dict[str, Any]) -> None:
    """Refuse to resume on another dataset than the checkpoint's.

    Two datasets are the same when their manifests hash alike (a copied or moved dataset
    is the same), or, without manifests, when their resolved paths are equal.

    Raises
    ------
    ValueError
        Naming both datasets, and how to go on anyway (``--allow-other-data``).
    """
    if not saved:
        return
    if saved.get("manifest_sha256") or current.get("manifest_sha256"):
        same = saved.get("manifest_sha256") == current.get("manifest_sha256")
    else:
        same = saved.get("path") == current.get("path")
    if not same:
        raise ValueError(
            f"train: cannot resume, the checkpoint was trained on another dataset "
            f"({saved.get('path')}, manifest {str(saved.get('manifest_sha256'))[:12]}; now "
            f"{current['path']}, manifest {str(current.get('manifest_sha256'))[:12]}); use "
            "the same --data, or pass --allow-other-data (allow_other_data=True) to "
            "continue on this one")
