"""Edge-loss ablations: a resumable sweep of training runs, scored on the validation split.

The paper's edge loss (eqs. 13-15, weight gamma in eq. 16) is its title claim; its Fig. 5a
varies gamma, Fig. 5b shows artefacts without it and Table S4 swaps the Sobel operator
for Kirsch's. :data:`SETTINGS` names those ablations as config overrides of one trainer,
each spelling out all three edge options so that a setting means the same on every
training recipe. :func:`run_sweep` trains every (setting, seed) once
(:func:`semgan_core.train.train`, one call per run) and scores the final generator G on
the dataset's *validation* pairs: PSNR, SSIM and the edge error (the mean absolute
difference of the edge maps of G(a) and of the clean original, the artefacts of Fig.
5b). The test split is read once, by :func:`score_on_test`, for the setting chosen on the
validation split.

A sweep resumes: each finished run writes ``RUN/ablation.json`` (its setting, seed,
config, scores and step time) and is skipped when the sweep runs again; a run stopped
during training continues from its newest checkpoint (``resume=True``).
:mod:`semgan_core.ablation_report` gathers the runs into one table with 95 % Student-t
intervals over the seeds and judges the paper's three edge-loss claims from it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from semgan_core import checks, config, datasets, images, metrics, results

#: Per-run result file inside each run folder.
RUN_FILE = "ablation.json"
FORMAT = "semgan-ablation/1"
#: The edge options every setting starts from: the paper's weight, Sobel, input-referenced.
BASE = {"gamma_edge": 10.0, "edge_operator": "sobel", "edge_reference": "input"}
#: The ablations: name -> changes to :data:`BASE`.
CHANGES = {"gamma-0": {"gamma_edge": 0.0}, "gamma-2.5": {"gamma_edge": 2.5},
           "gamma-5": {"gamma_edge": 5.0}, "gamma-10": {}, "gamma-20": {"gamma_edge": 20.0},
           "kirsch": {"edge_operator": "kirsch"}, "literal": {"edge_reference": "paper"}}
SETTINGS = {name: {**BASE, **change} for name, change in CHANGES.items()}
GAMMAS = ("gamma-0", "gamma-2.5", "gamma-5", "gamma-10", "gamma-20")
#: Keys the sweep sets itself.
SWEEP_KEYS = ("profile", "seed", "steps", "epochs")


def _check_settings(settings, common):
    if not isinstance(settings, dict) or not settings:
        raise ValueError(f"run_sweep: settings must be a non-empty dict name -> overrides, "
                         f"got {settings!r}")
    for name, overrides in settings.items():
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ValueError(f"run_sweep: setting names must be non-empty strings without "
                             f"'/', got {name!r}")
        clash = sorted((set(overrides) | set(common)) & set(SWEEP_KEYS))
        if clash:
            raise ValueError(f"run_sweep: {name!r} sets {clash}, which the sweep sets itself; "
                             "use steps= and seeds=")


@contextlib.contextmanager
def _quiet_retracing():
    """Hide TensorFlow's warning that a function was traced again: each run of a sweep
    builds its own trainer, whose step is traced once, as intended."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_run(path: Path, cfg) -> dict | None:
    """A finished run's record, None if absent; refuses one made with another config."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("format") != FORMAT or record.get("config") != json.loads(
            json.dumps(cfg.to_dict())):
        raise ValueError(f"run_sweep: {path} holds a run with another configuration; use "
                         "another out_dir (or delete that run folder)")
    return record


def edge_error(restored, clean, *, operator="sobel") -> float:
    """Mean absolute difference of the edge maps of ``restored`` and ``clean``.

    Parameters
    ----------
    restored, clean : ndarray, shape (N, H, W), float32 in [0, 1]
    operator : {'sobel', 'kirsch'}
        The edge operator (:func:`semgan_core.losses.edge_map`).

    Returns
    -------
    float
        Over all pixels of all images, in the operator's units (a unit step gives 4
        with Sobel).
    """
    return float(np.mean(np.abs(edge_difference(restored, clean, operator=operator))))


def edge_difference(restored, clean, *, operator="sobel") -> np.ndarray:
    """Edge map of ``restored`` minus that of ``clean`` (the artefact maps of Fig. 5b).

    Parameters
    ----------
    restored, clean : ndarray, shape (N, H, W) or (H, W), float32 in [0, 1]
    operator : {'sobel', 'kirsch'}

    Returns
    -------
    ndarray, float32, the shape of the inputs
        Positive where ``restored`` has edges that ``clean`` lacks (halos, ringing,
        amplified noise), negative where it misses edges.

    Raises
    ------
    ValueError
        For inputs of two shapes.
    """
    from semgan_core import losses

    restored, clean = np.asarray(restored, np.float32), np.asarray(clean, np.float32)
    if restored.shape != clean.shape:
        raise ValueError(f"edge_difference: restored and clean must have one shape, got "
                         f"{restored.shape} and {clean.shape}")
    stack = np.stack([restored, clean]).reshape(2, -1, *restored.shape[-2:], 1)
    edges = np.asarray(losses.edge_map(stack.reshape(-1, *stack.shape[2:]), operator))
    edges = edges.reshape(2, *restored.shape)
    return (edges[0] - edges[1]).astype(np.float32)


def restore(generator, blurred, *, batch_size=4) -> np.ndarray:
    """G applied to (N, H, W) crops in [0, 1] (sides multiples of 128); (N, H, W) out."""
    out = []
    for start in range(0, len(blurred), batch_size):
        x = images.to_model_range(np.asarray(blurred[start:start + batch_size]))[..., None]
        out.append(images.from_model_range(np.asarray(generator(x, training=False),
                                                      np.float32)[..., 0]))
    return np.clip(np.concatenate(out), 0, 1)


def score_images(restored, clean) -> dict[str, float]:
    """Mean PSNR, SSIM and Sobel edge error of restored crops against their originals.

    ``restored`` and ``clean`` are (N, H, W) float32 in [0, 1] (pass the blurred crops as
    ``restored`` to score the input itself).
    """
    return {"psnr": float(np.mean([metrics.psnr(c, r) for c, r in zip(clean, restored)])),
            "ssim": float(np.mean([metrics.ssim(c, r) for c, r in zip(clean, restored)])),
            "edge_error": edge_error(restored, clean)}


def score(generator, blurred, clean) -> dict[str, float]:
    """:func:`score_images` of G applied to the blurred crops."""
    return score_images(restore(generator, blurred), clean)


def run_sweep(data_dir, settings, *, profile, seeds, steps, out_dir, common=None, n_eval=16,
              progress=False, processes=1) -> pd.DataFrame:
    """Train every setting with every seed (one :func:`train.train` call each) and score it.

    Parameters
    ----------
    data_dir : path-like
        A dataset with a validation split (``datasets.make_dataset(..., val_fraction>0)``).
    settings : dict
        ``{name: config overrides}``, e.g. :data:`SETTINGS`.
    profile : {'smoke', 'book', 'paper'}
    seeds : sequence of int
    steps : int
        Training steps of every run.
    out_dir : path-like
        Run folders ``out_dir/<setting>/seed<k>/``, each with its :data:`RUN_FILE`.
    common : dict, optional
        Overrides shared by every setting (e.g. ``{"recipe": "paper", "width": 0.25}``);
        a setting's own win.
    n_eval : int
        Validation pairs scored.
    progress : bool
        A line per run and the trainer's progress bar.
    processes : int, optional
        Runs trained at once, each in its own worker process (:func:`workers.run_tasks`).
        The book profile trains on one thread per run (``intra_op_threads=1``), so two
        processes keep both cores of a 2-core machine busy; the step times then come from
        runs that share the machine. 1 (default) trains the runs one after the other in
        this process; on a single GPU keep 1.

    Returns
    -------
    runs : pandas.DataFrame
        One row per run, in order: ``setting``, ``seed``, ``psnr``, ``ssim``,
        ``edge_error``, ``seconds_per_step``, ``wall_time_s``, ``steps``, ``resumed``
        (True when read back from an earlier sweep), ``run_dir``.

    Raises
    ------
    ValueError
        For invalid settings (checked, with every config, before anything trains), a
        run folder that holds a run with another configuration, or ``processes`` < 1.
    KeyboardInterrupt
        When a run is stopped by SIGINT/SIGTERM (at a checkpoint: run again to resume).
    """
    from semgan_core import workers

    common = dict(common or {})
    _check_settings(settings, common)
    processes = checks.check_int("run_sweep", "processes", processes, low=1)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_sweep: seeds must name at least one seed, got none")
    datasets.load_test_pairs(data_dir, n=1, split="val")  # no validation split: fail now
    configs = {(name, seed): config.get_config(profile, **{**common, **overrides},
                                               seed=seed, steps=steps, epochs=0)
               for name, overrides in settings.items() for seed in seeds}
    records = {key: _read_run(Path(out_dir) / key[0] / f"seed{key[1]}" / RUN_FILE, cfg)
               for key, cfg in configs.items()}
    pending = [(name, seed, settings[name], cfg,
                str(Path(out_dir) / name / f"seed{seed}"), str(data_dir), n_eval, progress)
               for (name, seed), cfg in configs.items() if records[name, seed] is None]
    done = workers.run_tasks(_train_and_score, pending,
                             processes=min(processes, max(1, len(pending))))
    fresh = {(task[0], task[1]): record for task, record in zip(pending, done)}
    rows = []
    for (name, seed) in configs:
        record = records[name, seed] or fresh[name, seed]
        rows.append({"setting": name, "seed": seed,
                     **{k: record[k] for k in ("psnr", "ssim", "edge_error",
                                               "seconds_per_step", "wall_time_s", "steps")},
                     "resumed": records[name, seed] is not None,
                     "run_dir": str(Path(out_dir) / name / f"seed{seed}")})
    return pd.DataFrame(rows)


def _train_and_score(task) -> dict:
    """Worker of :func:`run_sweep`: train one (setting, seed), score its G on the
    validation pairs, write and return its record."""
    from semgan_core import generators, train

    name, seed, overrides, cfg, run_dir, data_dir, n_eval, progress = task
    run_dir = Path(run_dir)
    if progress:
        print(f"ablation: {name} seed {seed}: training {cfg.steps} steps", flush=True)
    with _quiet_retracing():
        report = train.train(cfg, data_dir=data_dir, run_dir=run_dir, resume=True,
                             progress=progress)
    if report["status"] != "finished":
        raise KeyboardInterrupt(f"run_sweep: {run_dir} stopped by "
                                f"{report['interrupted']}; run the sweep again")
    blurred, clean, _, _ = datasets.load_test_pairs(data_dir, n=n_eval, split="val")
    start = time.perf_counter()
    scores = score(generators.load_generator(report["generator_path"]), blurred, clean)
    record = {"format": FORMAT, "setting": name, "seed": seed,
              "overrides": overrides, "config": cfg.to_dict(), **scores,
              "seconds_per_step": float(report["seconds_per_step"]),
              "wall_time_s": float(report["total_wall_time_s"]),
              "score_seconds": time.perf_counter() - start,
              "steps": int(report["steps"]), "n_eval": len(blurred),
              "generator_path": report["generator_path"],
              "versions": results.library_versions()}
    results.write_json(run_dir / RUN_FILE, record)
    return record


def operator_seconds(operator, *, size=256, batch=2, repeats=20, rounds=5) -> float:
    """Seconds per call of the edge map (:func:`losses.edge_map`) of a (batch, size, size) batch.

    The best of ``rounds`` rounds of ``repeats`` calls each (as :mod:`timeit` advises: on a
    shared machine the fastest round is the least disturbed).
    """
    import tensorflow as tf

    from semgan_core import losses

    x = tf.random.stateless_uniform((batch, size, size, 1), seed=(0, 0))
    step = tf.function(lambda t: losses.edge_map(t, operator))
    step(x)                                         # trace
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            step(x).numpy()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def _generator_file(run_dir) -> Path:
    """G of a finished run, found beside its record (so a moved run folder still works)."""
    record = json.loads((Path(run_dir) / RUN_FILE).read_text())
    return Path(run_dir) / Path(record["generator_path"]).name


def score_on_test(runs, setting, data_dir, *, n=None) -> pd.DataFrame:
    """Score each seed's generator of one setting on the *test* split (read once, at the end).

    Parameters
    ----------
    runs : pandas.DataFrame
        From :func:`run_sweep`.
    setting : str
        The setting chosen on the validation split.
    data_dir : path-like
        The sweep's dataset.
    n : int, optional
        Test pairs scored (default all).

    Returns
    -------
    pandas.DataFrame
        One row per seed (``seed``, ``psnr``, ``ssim``, ``edge_error``), then a row
        ``seed = -1`` holding the blurred input's scores.

    Raises
    ------
    ValueError
        If ``setting`` has no runs.
    """
    from semgan_core import generators

    rows = runs[runs["setting"] == setting]
    if rows.empty:
        raise ValueError(f"score_on_test: no runs of setting {setting!r}; the runs hold "
                         f"{sorted(runs['setting'].unique())}")
    blurred, clean, _, _ = datasets.load_test_pairs(data_dir, n=n, split="test")
    out = []
    for seed, run_dir in zip(rows["seed"], rows["run_dir"]):
        generator = generators.load_generator(_generator_file(run_dir))
        out.append({"seed": int(seed), **score(generator, blurred, clean)})
    out.append({"seed": -1, **score_images(blurred, clean)})
    return pd.DataFrame(out)


def run_generator(runs, setting, seed):
    """The trained G of one run of a sweep (:func:`run_sweep`'s table), loaded.

    Raises
    ------
    ValueError
        If the table has no such run.
    """
    from semgan_core import generators

    rows = runs[(runs["setting"] == setting) & (runs["seed"] == seed)]
    if rows.empty:
        raise ValueError(f"run_generator: no run of setting {setting!r} with seed {seed}")
    return generators.load_generator(_generator_file(rows["run_dir"].iloc[0]))
