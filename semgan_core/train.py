"""A training run: the loop, its run folder, resume, logs and the saved generators.

:func:`train` trains a :class:`~semgan_core.trainer.Trainer` (the CycleGAN of the paper,
or, with ``paired=True``, the supervised oracle) into a run folder:
:mod:`semgan_core.checkpoint` writes and restores the checkpoints,
:mod:`semgan_core.runguard` holds the folder's lock and stops on a signal,
:mod:`semgan_core.runlog` keeps the progress bar, ``losses.csv``, TensorBoard and the
sample grids, and :func:`semgan_core.generators.save_generator` writes the trained
generators with their metadata.

Options the paper does not mention are off (or neutral) by default
(:mod:`semgan_core.config`). Engineering options: ``mixed_precision``, ``jit_compile``
(XLA), ``deterministic`` (op determinism: resumed runs then match uninterrupted ones bit
for bit), ``intra_op_threads`` and ``inter_op_threads``; several devices or machines
through :mod:`semgan_core.distribute`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import tensorflow as tf

from semgan_core import (checkpoint, config, crops, datasets, distribute, generators, images,
                         results, runguard, runlog)
from semgan_core.trainer import MODES, Trainer

GENERATOR_FILES = {"G": "generator_G.keras", "F": "generator_F.keras"}
N_SAMPLES = 2        # test images in each sample grid


class NonFiniteLossError(ValueError):
    """A loss term became NaN or infinite; training stopped before saving it."""


def total_steps(cfg: config.Config, data_dir) -> int:
    """The step budget: ``cfg.steps``, or ``cfg.epochs`` passes over trainA.

    Also checks that the training images are ``cfg.image_size`` pixels square.
    """
    paths = crops.list_images(Path(data_dir) / "trainA")
    if not paths:
        raise ValueError(f"train: {Path(data_dir) / 'trainA'} holds no images")
    shape = images.read_image(paths[0]).shape
    if shape != (cfg.image_size, cfg.image_size):
        raise ValueError(f"train: the dataset's images are {shape[0]}x{shape[1]}, the config "
                         f"says image_size={cfg.image_size}; make the dataset with "
                         f"size={cfg.image_size} or set image_size={shape[0]}")
    return cfg.steps or cfg.epochs * math.ceil(len(paths) / cfg.batch_size)


def _sample_batch(data_dir) -> tuple[tf.Tensor, tf.Tensor]:
    """The first test pairs (blurred a, clean b) in the model range, for sample grids."""
    blurred, clean, _, _ = datasets.load_test_pairs(data_dir, n=N_SAMPLES)
    return (tf.constant(images.to_model_range(blurred)[..., None]),
            tf.constant(images.to_model_range(clean)[..., None]))


def train(cfg: config.Config, *, data_dir, run_dir, resume: bool = False,
          paired: bool = False, progress: bool = True,
          allow_other_data: bool = False) -> dict[str, Any]:
    """Train the CycleGAN (or, with ``paired``, the supervised oracle) into ``run_dir``.

    Parameters
    ----------
    cfg : Config
        From :func:`semgan_core.config.get_config`; ``cfg.steps`` (or ``cfg.epochs``)
        sets the budget, counted from step 0 also when resuming.
    data_dir : path-like
        A dataset folder from :func:`semgan_core.datasets.make_dataset`.
    run_dir : path-like
        Run folder for checkpoints, logs, samples, report and generators.
    resume : bool
        Continue from the newest intact checkpoint in ``run_dir``; with none there, start
        from step 0 (so one command both starts and continues a preemptible job).
    paired : bool
        Train G alone on (trainA, trainA_gt) pairs with the paired loss
        (:meth:`semgan_core.trainer.Trainer._paired_step`: L1, 1 - SSIM and each crop's
        log10 MSE, weighted by ``cfg.paired_l1``, ``paired_ssim`` and ``paired_psnr``).
    progress : bool
        Show a tqdm progress bar.
    allow_other_data : bool
        Resume on a dataset other than the checkpoint's (refused otherwise).

    Returns
    -------
    report : dict
        Also written to ``run_dir/report.json``: ``steps`` (reached), ``status``
        ('finished' or 'interrupted'), ``interrupted`` (signal name or None),
        ``seconds_per_step`` (this session, first step excluded: it traces the step),
        ``wall_time_s``, ``final_losses``, ``generator_path`` (G, None if interrupted),
        ``generator_F_path``, ``dataset``, ``config``, ``seed``, ``versions``, ...

    Raises
    ------
    FileExistsError
        Without ``resume``, if ``run_dir`` already holds a run; or while another live
        process trains into ``run_dir`` (its lock file ``run_dir/.lock``).
    ValueError
        For a checkpoint made with an incompatible config or mode (naming the keys) or on
        another dataset (unless ``allow_other_data``), a dataset whose image size differs
        from ``cfg.image_size``, or a batch size that does not split across the replicas.
    NonFiniteLossError
        (a ValueError) When a loss term becomes NaN or infinite: training stops at that
        step, before any checkpoint of it is written.
    FileNotFoundError
        If the dataset folders are missing.

    Notes
    -----
    SIGINT and SIGTERM stop after the current step with a checkpoint (the report says
    ``status: 'interrupted'``); a run killed outright loses at most ``checkpoint_every``
    steps. A resumed run has bit-identical weights to an uninterrupted one when
    ``cfg.deterministic`` is set (which turns on TensorFlow's op determinism for the
    rest of the process) and the number of replicas is unchanged.
    """
    if not isinstance(cfg, config.Config):
        raise TypeError(f"train: cfg must be a Config from get_config, got {type(cfg).__name__}")
    threads = distribute.set_threads(cfg)
    strategy = distribute.distribution_strategy()   # first: multi-worker set-up precedes ops
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    chief, task = distribute.worker(strategy)
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    total = total_steps(cfg, data_dir)               # the data are checked before anything
    with runguard.RunLock(run_dir) if chief else _no_lock():
        run = {**_start(cfg, data_dir, run_dir, resume, paired, chief, allow_other_data),
               "chief": chief, "out_dir": run_dir if chief else run_dir / f"worker_{task}",
               "total": total, "threads": threads}
        trainer = Trainer(cfg, paired=paired, strategy=strategy)
        _restore(trainer, run)
        log = runlog.RunLog(run_dir, trainer.loss_names, total=total, initial=run["start"],
                            elapsed=run["elapsed"], enabled=chief, progress=progress)
        try:
            with runguard.StopOnSignal() as stop:
                batches = iter(trainer.dataset(data_dir, start_step=run["start"]))
                outcome = _loop(trainer, batches, log, stop, run)
        finally:
            log.close()
        report = _finish(trainer, outcome, run)
    trainer.barrier()
    return report


class _no_lock:
    """Non-chief workers write into their own subfolder and take no lock."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _start(cfg, data_dir: Path, run_dir: Path, resume: bool, paired: bool, chief: bool,
           allow_other_data: bool) -> dict:
    """Check the run folder, the checkpoint to resume and the data; describe the run."""
    identity = {"mode": MODES[bool(paired)], "config": cfg.to_dict()}
    dataset = checkpoint.dataset_identity(data_dir)
    if chief:
        checkpoint.prepare_run_dir(run_dir, resume=resume)
    newest = checkpoint.newest_state(run_dir, move_aside=chief) if resume else None
    if newest is not None:
        checkpoint.check_compatible(newest[1], identity)
        if not allow_other_data:
            checkpoint.check_same_dataset(newest[1].get("dataset"), dataset)
    return {"identity": identity, "data_dir": data_dir, "run_dir": run_dir,
            "dataset": dataset, "resume": resume, "start": 0, "elapsed": 0.0,
            "samples": _sample_batch(data_dir), "versions": results.library_versions()}


def _restore(trainer: Trainer, run: dict) -> None:
    """Restore the newest intact checkpoint (resume); set the start step and clock."""
    found = (checkpoint.restore_newest(trainer.checkpoint, run["run_dir"],
                                       move_aside=run["chief"]) if run["resume"] else None)
    if found is not None:
        checkpoint.check_compatible(found[1], run["identity"])
        run.update(start=int(found[1]["step"]), elapsed=float(found[1]["wall_time_s"]))


def _loop(trainer: Trainer, batches, log: runlog.RunLog, stop: runguard.StopOnSignal,
          run: dict) -> dict[str, Any]:
    """Train from ``run['start']`` to ``run['total']``, logging, sampling, checkpointing."""
    cfg, step, total = trainer.cfg, run["start"], run["total"]
    clock, lr, signal_name, values = runlog.Clock(), cfg.learning_rate, None, None
    while step < total and signal_name is None:
        if cfg.lr_decay:
            lr = trainer.set_learning_rate(step, total)
        a, b = next(batches)
        out = trainer.train_step(a, b, warmup=step < cfg.warmup_steps)
        step += 1
        clock.tick(out)
        values = {k: float(v) for k, v in out.items()}
        _check_finite(values, step, run)
        log.step()
        if step % cfg.log_every == 0 or step == total:
            log.losses(step, values, lr=lr, session_time=clock.elapsed())
        if log.enabled and cfg.sample_every and step % cfg.sample_every == 0:
            log.samples(step, trainer.translate(*run["samples"]))
        signal_name = trainer.agree_stop(stop.signal_name)
        if signal_name or step % cfg.checkpoint_every == 0 or step == total:
            _save(trainer, run, step, clock)
    if values is None:          # nothing left to train: the last logged values
        logged = runlog.read_losses(run["run_dir"]) if log.enabled else {}
        values = {k: float(v[-1]) for k, v in logged.items()
                  if k in trainer.loss_names and len(v)}
    outcome = {"step": step, "values": values, "interrupted": signal_name,
               "seconds_per_step": clock.seconds_per_step(), "wall_time_s": clock.elapsed(),
               "steps_this_session": clock.steps}
    if log.enabled and signal_name is None and not runlog.sample_path(log.run_dir, step).exists():
        log.samples(step, trainer.translate(*run["samples"]))
    return outcome


def _check_finite(values: dict[str, float], step: int, run: dict) -> None:
    """Stop with a clear message when a loss term is NaN or infinite (nothing is saved)."""
    bad = [f"{k}={v}" for k, v in values.items() if not math.isfinite(v)]
    if bad:
        kept = checkpoint.list_checkpoints(run["run_dir"]) if run["chief"] else []
        last = f"step {kept[-1][0]}" if kept else "none"
        raise NonFiniteLossError(
            f"train: the loss became non-finite at step {step} ({', '.join(bad)}); training "
            f"stopped without saving it (newest checkpoint: {last}); lower learning_rate or "
            "the loss weights")


def _save(trainer: Trainer, run: dict, step: int, clock: runlog.Clock) -> None:
    """Checkpoint the run at ``step`` (chief only: the other workers hold the same state)."""
    if run["chief"]:
        state = {**run["identity"], "seed": trainer.cfg.seed, "versions": run["versions"],
                 "replicas": trainer.replicas, "data_position": step * trainer.replicas,
                 "total_steps": run["total"], "data_dir": str(run["data_dir"]),
                 "dataset": run["dataset"], "wall_time_s": run["elapsed"] + clock.elapsed()}
        checkpoint.save(trainer.checkpoint, run["run_dir"], step, state,
                        keep=trainer.cfg.keep_checkpoints)


def generator_metadata(cfg: config.Config, mode: str, data_dir, role: str) -> dict:
    """What :func:`semgan_core.generators.save_generator` stores with a trained generator.

    ``role`` is ``"G"`` (blurred -> clear) or ``"F"`` (clear -> blurred). Paired training
    on a folder of pairs synthesised from clear images (:mod:`semgan_core.restorer`, its
    manifest's ``kind`` is ``"restorer-pairs"``) is recorded as ``"synthesized-pairs"``,
    not as the oracle trained on real pairs of the same field.
    """
    manifest = datasets.read_manifest(data_dir) or {}
    if mode != "paired":
        how = "unpaired"
    else:
        how = "synthesized-pairs" if manifest.get("kind") == "restorer-pairs" else "paired"
    return {"generator": "unet" if cfg.recipe == "paper" else "filter", "mode": how,
            "degradation": manifest.get("degradation"), "recipe": cfg.recipe,
            "role": role, "training": {"profile": cfg.profile, "seed": cfg.seed}}


def _finish(trainer: Trainer, outcome: dict, run: dict) -> dict[str, Any]:
    """Save the generators (unless interrupted) and write ``report.json``."""
    paths = {name: None for name in GENERATOR_FILES}
    if outcome["interrupted"] is None:
        for name in trainer.models.keys() & GENERATOR_FILES.keys():
            meta = generator_metadata(trainer.cfg, trainer.mode, run["data_dir"], name)
            paths[name] = str(generators.save_generator(
                trainer.models[name], run["out_dir"] / GENERATOR_FILES[name], metadata=meta))
    latest = checkpoint.latest_checkpoint(run["run_dir"])
    report = {
        "status": "interrupted" if outcome["interrupted"] else "finished",
        **{k: outcome[k] for k in ("interrupted", "steps_this_session", "seconds_per_step",
                                   "wall_time_s")},
        "steps": outcome["step"], "total_steps": run["total"], "start_step": run["start"],
        "total_wall_time_s": run["elapsed"] + outcome["wall_time_s"],
        "final_losses": outcome["values"], "mode": trainer.mode,
        "strategy": distribute.strategy_name(trainer.strategy), "replicas": trainer.replicas,
        "threads": run["threads"], "data_dir": str(run["data_dir"]),
        "dataset": run["dataset"], "run_dir": str(run["run_dir"]),
        "generator_path": paths["G"], "generator_F_path": paths["F"],
        "checkpoint": str(latest) if latest else None,
        "config": trainer.cfg.to_dict(), "seed": trainer.cfg.seed, "versions": run["versions"],
    }
    results.write_json(run["out_dir"] / "report.json", report)
    return report
