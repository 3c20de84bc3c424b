"""The CycleGAN trainer: the training step, the loop, checkpoints, distribution.

:func:`train` trains the two generators (G: blurred -> clear, F: clear -> blurred) and
the two discriminators (D_B judges clear images, D_A blurred ones) of the paper (Methods,
"Experimental settings"; NOTES.md sections 3-4), or, with ``paired=True``, the generator
G alone on (blurred, clean) pairs with L1 + (1 - SSIM): the supervised oracle. A
:class:`Trainer` holds the models, optimizers and pools (built by :mod:`semgan_core.gan`)
and the compiled step; :mod:`semgan_core.checkpoint` writes and restores the run folder;
:mod:`semgan_core.runlog` keeps the progress bar, ``losses.csv``, TensorBoard and the
sample grids.

The training step (:meth:`Trainer._cyclegan_step`) reads top to bottom. Each generator
pass runs once: F(a) and G(b) serve both the identity loss and the (literal) edge loss,
and each network runs once per batch of independent inputs (G on a and b together, each
D on fakes and real images together: the same values as separate passes, since instance
norm is per image, with larger matrix products). Eq. 16 is split as NOTES.md section 3
says: the generators minimise ``lambda_adv (L_GAN(G) + L_GAN(F)) + lambda1 L_cycle +
lambda2 L_id + gamma L_edge``, each discriminator its own least-squares loss.

Options the paper does not mention are off (or neutral) by default, so the default is
the paper's recipe: the image history pool (``pool_size``; CycleGAN uses 50), linear
learning-rate decay over the second half (``lr_decay``) and, for the convergence study,
a residual generator (``residual``), an identity warm-up (``warmup_steps``: generators
trained on the cycle, identity and edge terms only, discriminators idle), the
adversarial weight ``lambda_adv``, a two-time-scale learning rate (``lr_d_multiplier``)
a high-pass discriminator input (``disc_input='highpass'``), an R1 penalty (``r1_gamma``),
and the CPU recipe's unpaired spectrum and histogram matching (``lambda_spectral``,
``lambda_histogram``; :mod:`semgan_core.matching`); with ``lambda_adv = 0`` the
discriminators are not trained at all. Engineering options:
``mixed_precision``, ``jit_compile`` (XLA), ``deterministic`` (op determinism: resumed
runs then match uninterrupted ones bit for bit), ``intra_op_threads`` and
``inter_op_threads``. Several GPUs are used through ``MirroredStrategy``, several
machines through ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers.
"""

from __future__ import annotations

import functools
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

import keras

from semgan_core import checkpoint, config, data, gan, images, losses, matching, results, runlog

MODES = ("cyclegan", "paired")
LOSS_NAMES = {
    "cyclegan": ("gen_total", "gan_g", "gan_f", "cycle", "identity", "edge",
                 "disc_a", "disc_b", "spectral", "histogram"),
    "paired": ("total", "l1", "ssim_loss"),
}
GENERATOR_FILES = {"G": "generator_G.keras", "F": "generator_F.keras"}


class Trainer:
    """Models, optimizers, image pools and the compiled training step of one run.

    Parameters
    ----------
    cfg : Config
    paired : bool
        Train G alone on (blurred, clean) pairs (L1 + 1 - SSIM) instead of the CycleGAN.
    strategy : tf.distribute.Strategy, optional
        Default: the current strategy (one device). Variables are made in its scope;
        ``cfg.batch_size`` is the global batch, split across its replicas.
    """

    def __init__(self, cfg: config.Config, *, paired: bool = False, strategy=None) -> None:
        self.cfg, self.mode = cfg, MODES[bool(paired)]
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = int(self.strategy.num_replicas_in_sync)
        if cfg.batch_size % self.replicas:
            raise ValueError(f"Trainer: batch_size={cfg.batch_size} (the global batch) must "
                             f"be a multiple of the {self.replicas} replicas")
        policy = "mixed_float16" if cfg.mixed_precision else "float32"
        with gan.dtype_policy(policy), self.strategy.scope():
            config.set_seed(cfg.seed)
            self.models = gan.build_models(cfg, self.mode)
            self.optimizers, self.variables = gan.build_optimizers(cfg, self.models)
            # running mean spectra of both domains (spectral_target="mean", matching.py)
            self.stats = (matching.SpectrumStats(cfg.image_size)
                          if self.mode == "cyclegan" and cfg.lambda_spectral > 0
                          and cfg.spectral_target == "mean" else None)
        self.pools = gan.build_pools(cfg, self.mode, self.strategy)
        self.checkpoint = tf.train.Checkpoint(
            **self.models, **{f"optimizer_{k}": v for k, v in self.optimizers.items()},
            **{f"pool_{k}": v for k, v in self.pools.items()},
            **({"spectrum_stats": self.stats} if self.stats is not None else {}))
        body = self._paired_step if self.mode == "paired" else self._cyclegan_step
        self._replica_step = tf.function(body, jit_compile=cfg.jit_compile, autograph=False)
        self._step = tf.function(self._distributed_step, autograph=False)

    # ---- the training step ---------------------------------------------------------
    def _cyclegan_step(self, real_a, real_b, warmup=False):
        """One CycleGAN step on a replica's batch: real_a blurred, real_b clear."""
        cfg, (G, F, D_A, D_B) = self.cfg, (self.models[k] for k in ("G", "F", "D_A", "D_B"))
        run = gan.run_batches           # run(net, x, y, ...): net on x, y, ... in one pass
        nan = tf.constant(float("nan"))
        # The discriminators train unless warming up, or the adversarial term is off
        # (lambda_adv = 0: nothing would use them; they stay as initialised).
        adversarial = not warmup and cfg.lambda_adv > 0
        with tf.GradientTape(persistent=True) as tape:
            # 1. Each generator on both domains, in one batch: G(a) should look clear and
            #    G(b) ~ b (identity); F(b) should look blurred and F(a) ~ a.
            fake_b, same_b = run(G, real_a, real_b)
            fake_a, same_a = run(F, real_b, real_a)
            # 2. Translate back: the cycles F(G(a)) ~ a and G(F(b)) ~ b.
            (cycled_a,), (cycled_b,) = run(F, fake_b), run(G, fake_a)
            # 3. Cycle (1 - SSIM), identity (MSE) and edge (Sobel/Kirsch MSE) terms; the
            #    identity outputs F(a), G(b) also serve the literal edge loss (eq. 13).
            terms = {
                "cycle": losses.cycle_loss(real_a, cycled_a, real_b, cycled_b),
                "identity": losses.identity_loss(real_a, same_a, real_b, same_b),
                "edge": losses.edge_loss(real_a, cycled_a, same_a, real_b, cycled_b, same_b,
                                         operator=cfg.edge_operator,
                                         reference=cfg.edge_reference),
            }
            gen_total = (cfg.lambda_cycle * terms["cycle"] + cfg.lambda_identity
                         * terms["identity"] + cfg.gamma_edge * terms["edge"])
            terms.update(gan_g=nan, gan_f=nan, disc_a=nan, disc_b=nan, spectral=nan,
                         histogram=nan)
            # 3b. (Not in the paper; the CPU recipe.) Unpaired statistic matching: each
            #     translation's power spectrum and grey-level histogram against an
            #     unrelated image of its target domain, or (spectral_target="mean") each
            #     translation's spectral gain against the ratio of the domains' running
            #     mean spectra (matching.py).
            for key, weight, match in (("spectral", cfg.lambda_spectral,
                                        matching.spectral_loss),
                                       ("histogram", cfg.lambda_histogram,
                                        matching.histogram_loss)):
                if weight > 0 and key == "spectral" and self.stats is not None:
                    spec_a, spec_b = self.stats.update(real_a, real_b)
                    terms[key] = sum(matching.equalization_loss(
                        fake, spectrum, self.stats.log_gain(cfg.spectral_cap, towards=towards),
                        self.stats.weight(towards))
                        for fake, spectrum, towards in ((fake_b, spec_a, "b"),
                                                        (fake_a, spec_b, "a")))
                    gen_total += weight * terms[key]
                elif weight > 0:
                    terms[key] = match(fake_b, real_b) + match(fake_a, real_a)
                    gen_total += weight * terms[key]
            if adversarial:
                # 4. Each discriminator judges, in one batch, the fresh fakes, (with
                #    pool_size > 0) fakes from its history pool, and real images.
                d_b = run(D_B, fake_b, *self._pooled("B", fake_b), real_b, view=self._view)
                d_a = run(D_A, fake_a, *self._pooled("A", fake_a), real_a, view=self._view)
                # 5. Least-squares adversarial terms (eqs. 9-10): G and F want their fresh
                #    fakes judged real (1); D wants real as 1 and (pooled) fakes as 0.
                terms["gan_g"] = losses.lsgan_generator_loss(d_b[0])
                terms["gan_f"] = losses.lsgan_generator_loss(d_a[0])
                gen_total += cfg.lambda_adv * (terms["gan_g"] + terms["gan_f"])
                terms["disc_b"] = losses.lsgan_discriminator_loss(d_b[-1], d_b[-2])
                terms["disc_a"] = losses.lsgan_discriminator_loss(d_a[-1], d_a[-2])
                if cfg.r1_gamma > 0:  # R1: D's gradient on real images, gamma / 2 |grad|^2
                    for key, disc, real in (("disc_b", D_B, real_b), ("disc_a", D_A, real_a)):
                        terms[key] += 0.5 * cfg.r1_gamma * gan.r1_penalty(disc,
                                                                          self._view(real))
            terms["gen_total"] = gen_total
            # 6. Scale each loss for its gradient (replicas, mixed-precision loss scale).
            targets = {"generators": self._for_gradient(gen_total, "generators")}
            if adversarial:
                targets["D_A"] = self._for_gradient(terms["disc_a"], "D_A")
                targets["D_B"] = self._for_gradient(terms["disc_b"], "D_B")
        # 7. One gradient per optimizer: G and F on the joint loss, each D on its own.
        for name, target in targets.items():
            self._apply(tape, target, name)
        return terms

    def _pooled(self, domain: str, fakes: tf.Tensor) -> list[tf.Tensor]:
        """``[fakes from the history pool]``, or ``[]`` without a pool."""
        return [self.pools[domain].query(fakes)] if self.pools else []

    def _paired_step(self, blurred, clean, warmup=False):
        """One supervised step: G(blurred) against the clean original, L1 + (1 - SSIM)."""
        with tf.GradientTape() as tape:
            # 1. Restore the blurred batch.
            restored = gan.as_float32(self.models["G"](blurred, training=True))
            # 2. L1 on [0, 1] images (the scale of the other pixel losses) + 1 - SSIM.
            to_01 = images.from_model_range
            l1 = tf.reduce_mean(tf.abs(to_01(restored) - to_01(clean)))
            ssim_loss = 1.0 - losses.ssim_tf(restored, clean)
            total = l1 + ssim_loss
            target = self._for_gradient(total, "generators")
        # 3. Update G.
        self._apply(tape, target, "generators")
        return {"total": total, "l1": l1, "ssim_loss": ssim_loss}

    def _view(self, batch: tf.Tensor) -> tf.Tensor:
        """What a discriminator sees: the images, or their high-pass part x - g * x."""
        return gan.disc_view(batch, self.cfg.disc_input)

    def _for_gradient(self, loss: tf.Tensor, name: str) -> tf.Tensor:
        """``loss`` divided by the replicas (their gradients are summed: a global-batch
        mean, as ``tf.nn.compute_average_loss``), times the loss scale under mixed
        precision."""
        return self.optimizers[name].scale_loss(loss / self.replicas)

    def _apply(self, tape, target: tf.Tensor, name: str) -> None:
        variables = self.variables[name]
        self.optimizers[name].apply(tape.gradient(target, variables), variables)

    def _distributed_step(self, a, b, warmup):
        per_replica = self.strategy.run(self._replica_step, args=(a, b),
                                        kwargs={"warmup": warmup})
        return {k: self.strategy.reduce("MEAN", v, axis=None)
                for k, v in per_replica.items()}

    # ---- public --------------------------------------------------------------------
    def train_step(self, a, b, *, warmup: bool = False) -> dict[str, tf.Tensor]:
        """Run one step on a (distributed) batch; return the replica-mean loss terms."""
        return self._step(a, b, bool(warmup))

    def agree_stop(self, signal_name: str | None) -> str | None:
        """Whether to stop now: this process's signal, or (multi-worker) any worker's."""
        if not self._multi_worker:
            return signal_name
        anyone = self._sum_over_workers(tf.constant(float(signal_name is not None)))
        return signal_name or ("SIGTERM" if float(anyone) > 0 else None)

    def barrier(self) -> None:
        """Multi-worker: wait until every worker gets here (so none exits while the chief
        still writes; the coordination service aborts a job whose tasks vanish)."""
        if self._multi_worker:
            float(self._sum_over_workers(tf.constant(1.0)))

    @property
    def _multi_worker(self) -> bool:
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    @functools.cached_property
    def _sum_over_workers(self):
        return tf.function(lambda value: self.strategy.reduce(
            "SUM", self.strategy.run(tf.identity, args=(value,)), axis=None))

    def set_learning_rate(self, step: int, total: int) -> float:
        """Set the learning rates for ``step`` (0-based) of ``total``; return G's."""
        lr = self.cfg.learning_rate * gan.lr_factor(self.cfg, step, total)
        for name, opt in self.optimizers.items():
            scale = 1.0 if name == "generators" else self.cfg.lr_d_multiplier
            opt.learning_rate.assign(lr * scale)
        return lr

    def dataset(self, data_dir, *, start_step: int = 0):
        """The training stream as a distributed dataset, from global step ``start_step``.

        Each replica reads per-replica batches; input pipeline ``i`` of ``n`` (one per
        worker) takes every ``n``-th batch of the seeded stream, so after ``s`` steps
        ``s * replicas`` batches of the stream are consumed (which is where a resumed run
        starts it: same-topology resumes are exact).
        """
        make = data.paired_dataset if self.mode == "paired" else data.unpaired_dataset

        def dataset_fn(ctx: tf.distribute.InputContext):
            per_replica = ctx.get_per_replica_batch_size(self.cfg.batch_size)
            stream = make(data_dir, batch_size=per_replica, seed=self.cfg.seed,
                          start_step=int(start_step) * self.replicas)
            return stream.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    def translate(self, a: tf.Tensor, b: tf.Tensor | None = None) -> list[np.ndarray]:
        """Sample-grid columns in [0, 1]: a, G(a), F(G(a)), b, F(b) (paired: a, G(a), b)."""
        G = self.models["G"]
        fake_b = gan.as_float32(G(a, training=False))
        if self.mode == "paired":
            columns = [a, fake_b, b]
        else:
            F = self.models["F"]
            columns = [a, fake_b, gan.as_float32(F(fake_b, training=False)), b,
                       gan.as_float32(F(b, training=False))]
        return [images.from_model_range(np.asarray(c, np.float32))[..., 0] for c in columns]


# ---- the training run ------------------------------------------------------------------
N_SAMPLES = 2        # test images in each sample grid


@functools.cache
def distribution_strategy() -> tf.distribute.Strategy:
    """The strategy for this process (made once; call it before other TensorFlow work).

    ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers (one
    process per machine, each running the same command), ``MirroredStrategy`` when
    several GPUs are visible, else the default one-device strategy.
    """
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def set_threads(cfg: config.Config) -> dict[str, int]:
    """Apply ``cfg.intra_op_threads`` / ``cfg.inter_op_threads`` (0: leave TensorFlow's).

    TensorFlow accepts them only before it runs its first operation; later, a differing
    setting is reported with a warning and training goes on with the current one.
    Returns the settings in force.
    """
    threading = tf.config.threading
    for name, value in (("intra_op", cfg.intra_op_threads), ("inter_op", cfg.inter_op_threads)):
        get = getattr(threading, f"get_{name}_parallelism_threads")
        if value and get() != value:
            try:
                getattr(threading, f"set_{name}_parallelism_threads")(value)
            except RuntimeError:
                warnings.warn(f"train: {name}_threads={value} not applied: TensorFlow is "
                              f"already running (set it in a fresh process); using {get()} "
                              "(0: TensorFlow's default)", RuntimeWarning, stacklevel=3)
    return {"intra_op_threads": threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": threading.get_inter_op_parallelism_threads()}


def _strategy_name(strategy) -> str:
    for kind in (tf.distribute.MultiWorkerMirroredStrategy, tf.distribute.MirroredStrategy):
        if isinstance(strategy, kind):
            return kind.__name__
    return "default"


def _worker(strategy) -> tuple[bool, int]:
    """(is this the chief, task index) for the current process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    return task_type == "chief" or (not has_chief and task_id == 0), task_id


def total_steps(cfg: config.Config, data_dir) -> int:
    """The step budget: ``cfg.steps``, or ``cfg.epochs`` passes over trainA.

    Also checks that the training images are ``cfg.image_size`` pixels square.
    """
    paths = data.list_images(Path(data_dir) / "trainA")
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
    blurred, clean, _, _ = data.load_test_pairs(data_dir, n=N_SAMPLES)
    return (tf.constant(images.to_model_range(blurred)[..., None]),
            tf.constant(images.to_model_range(clean)[..., None]))


def train(cfg: config.Config, *, data_dir, run_dir, resume: bool = False,
          paired: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train the CycleGAN (or, with ``paired``, the supervised oracle) into ``run_dir``.

    Parameters
    ----------
    cfg : Config
        From :func:`semgan_core.config.get_config`; ``cfg.steps`` (or ``cfg.epochs``)
        sets the budget, counted from step 0 also when resuming.
    data_dir : path-like
        A dataset folder from :func:`semgan_core.data.make_dataset`.
    run_dir : path-like
        Run folder for checkpoints, logs, samples, report and generators.
    resume : bool
        Continue from the newest checkpoint in ``run_dir``; with no checkpoint there,
        start from step 0 (so one command both starts and continues a preemptible job).
    paired : bool
        Train G alone on (trainA, trainA_gt) pairs with L1 + (1 - SSIM).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    report : dict
        Also written to ``run_dir/report.json``: ``steps`` (reached), ``status``
        ('finished' or 'interrupted'), ``interrupted`` (signal name or None),
        ``seconds_per_step`` (this session, first step excluded: it traces the step),
        ``wall_time_s``, ``final_losses``, ``generator_path`` (G, None if interrupted),
        ``generator_F_path``, ``config``, ``seed``, ``versions``, ...

    Raises
    ------
    FileExistsError
        Without ``resume``, if ``run_dir`` already holds a run.
    ValueError
        For a checkpoint made with an incompatible config or mode (naming the keys), a
        dataset whose image size differs from ``cfg.image_size``, or a batch size that
        does not split across the replicas.
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
    threads = set_threads(cfg)
    strategy = distribution_strategy()       # first: multi-worker set-up precedes other ops
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    run = {**_start(cfg, strategy, Path(data_dir), Path(run_dir), resume, paired),
           "threads": threads}
    trainer = Trainer(cfg, paired=paired, strategy=strategy)
    if run["checkpoint"] is not None:
        checkpoint.restore(trainer.checkpoint, run["checkpoint"])
    log = runlog.RunLog(run["run_dir"], LOSS_NAMES[trainer.mode], total=run["total"],
                        initial=run["start"], elapsed=run["elapsed"], enabled=run["chief"],
                        progress=progress)
    try:
        with checkpoint.StopOnSignal() as stop:
            batches = iter(trainer.dataset(run["data_dir"], start_step=run["start"]))
            outcome = _loop(trainer, batches, log, stop, run)
    finally:
        log.close()
    report = _finish(trainer, outcome, run)
    trainer.barrier()
    return report


def _start(cfg, strategy, data_dir: Path, run_dir: Path, resume: bool, paired: bool) -> dict:
    """Check the run folder, the checkpoint to resume and the data; describe the run."""
    chief, task = _worker(strategy)
    identity = {"mode": MODES[bool(paired)], "config": cfg.to_dict()}
    if chief:
        found = checkpoint.prepare_run_dir(run_dir, resume=resume)
    else:
        found = checkpoint.latest_checkpoint(run_dir) if resume else None
    state = {"step": 0, "wall_time_s": 0.0}
    if found is not None:
        state = checkpoint.read_state(found)
        checkpoint.check_compatible(state, identity)
    return {"identity": identity, "data_dir": data_dir, "run_dir": run_dir, "chief": chief,
            "out_dir": run_dir if chief else run_dir / f"worker_{task}",
            "checkpoint": found, "start": int(state["step"]),
            "elapsed": float(state["wall_time_s"]), "total": total_steps(cfg, data_dir),
            "samples": _sample_batch(data_dir), "versions": results.library_versions()}


def _loop(trainer: Trainer, batches, log: runlog.RunLog, stop: checkpoint.StopOnSignal,
          run: dict) -> dict[str, Any]:
    """Train from ``run['start']`` to ``run['total']``, logging, sampling, checkpointing."""
    cfg, step, total = trainer.cfg, run["start"], run["total"]
    clock, lr, signal_name, out = runlog.Clock(), cfg.learning_rate, None, None
    while step < total and signal_name is None:
        if cfg.lr_decay:
            lr = trainer.set_learning_rate(step, total)
        a, b = next(batches)
        out = trainer.train_step(a, b, warmup=step < cfg.warmup_steps)
        step += 1
        clock.tick(out)
        log.step()
        if step % cfg.log_every == 0 or step == total:
            log.losses(step, {k: float(v) for k, v in out.items()}, lr=lr,
                       session_time=clock.elapsed())
        if log.enabled and cfg.sample_every and step % cfg.sample_every == 0:
            log.samples(step, trainer.translate(*run["samples"]))
        signal_name = trainer.agree_stop(stop.signal_name)
        if signal_name or step % cfg.checkpoint_every == 0 or step == total:
            _save(trainer, run, step, clock)
    if out is not None:
        values = {k: float(v) for k, v in out.items()}
    else:                       # nothing left to train: the last logged values
        logged = runlog.read_losses(run["run_dir"]) if log.enabled else {}
        values = {k: float(v[-1]) for k, v in logged.items()
                  if k in LOSS_NAMES[trainer.mode] and len(v)}
    outcome = {"step": step, "values": values, "interrupted": signal_name,
               "seconds_per_step": clock.seconds_per_step(), "wall_time_s": clock.elapsed(),
               "steps_this_session": clock.steps}
    if log.enabled and signal_name is None and not runlog.sample_path(log.run_dir, step).exists():
        log.samples(step, trainer.translate(*run["samples"]))
    return outcome


def _save(trainer: Trainer, run: dict, step: int, clock: runlog.Clock) -> None:
    """Checkpoint the run at ``step`` (chief only: the other workers hold the same state)."""
    if run["chief"]:
        state = {**run["identity"], "seed": trainer.cfg.seed, "versions": run["versions"],
                 "replicas": trainer.replicas, "data_position": step * trainer.replicas,
                 "total_steps": run["total"], "data_dir": str(run["data_dir"]),
                 "wall_time_s": run["elapsed"] + clock.elapsed()}
        checkpoint.save(trainer.checkpoint, run["run_dir"], step, state,
                        keep=trainer.cfg.keep_checkpoints)


def _finish(trainer: Trainer, outcome: dict, run: dict) -> dict[str, Any]:
    """Save the generators (unless interrupted) and write ``report.json``."""
    paths = {name: None for name in GENERATOR_FILES}
    if outcome["interrupted"] is None:
        for name in trainer.models.keys() & GENERATOR_FILES.keys():
            paths[name] = str(checkpoint.save_generator(
                trainer.models[name], run["out_dir"] / GENERATOR_FILES[name]))
    latest = checkpoint.latest_checkpoint(run["run_dir"])
    report = {
        "status": "interrupted" if outcome["interrupted"] else "finished",
        **{k: outcome[k] for k in ("interrupted", "steps_this_session", "seconds_per_step",
                                   "wall_time_s")},
        "steps": outcome["step"], "total_steps": run["total"], "start_step": run["start"],
        "total_wall_time_s": run["elapsed"] + outcome["wall_time_s"],
        "final_losses": outcome["values"], "mode": trainer.mode,
        "strategy": _strategy_name(trainer.strategy), "replicas": trainer.replicas,
        "threads": run["threads"],
        "data_dir": str(run["data_dir"]), "run_dir": str(run["run_dir"]),
        "generator_path": paths["G"], "generator_F_path": paths["F"],
        "checkpoint": str(latest) if latest else None,
        "config": trainer.cfg.to_dict(), "seed": trainer.cfg.seed, "versions": run["versions"],
    }
    results.write_json(run["out_dir"] / "report.json", report)
    return report


def load_generator(path) -> keras.Model:
    """Load a generator written by :func:`train` (``RUN_DIR/generator_G.keras``).

    See :func:`semgan_core.checkpoint.load_generator`.
    """
    return checkpoint.load_generator(path)
