"""The CycleGAN trainer's models and its training step (and the paired oracle's).

A :class:`Trainer` holds one run's networks (:mod:`semgan_core.gan`), optimizers
(:mod:`semgan_core.optim`), image pools (:mod:`semgan_core.imagepool`), the training
recipe's extra loss terms (:mod:`semgan_core.recipes`, interface in
:mod:`semgan_core.plugin`) and the compiled step; the loop, the run folder and the logs
are :mod:`semgan_core.train`'s.

The CycleGAN step (:meth:`Trainer._cyclegan_step`) trains the two generators (G:
blurred -> clear, F: clear -> blurred) and the two discriminators (D_B judges clear
images, D_A blurred ones) of the paper (Methods, "Experimental settings"). It reads top
to bottom. Each generator pass runs once: F(a) and G(b) serve both the identity loss and
the (literal) edge loss, and each network runs once per batch of independent inputs (G
on a and b together, each D on fakes and real images together: the same values as
separate passes, since instance norm is per image, with larger matrix products). The
generators minimise eq. 16 (:func:`semgan_core.losses.total_generator_loss`) plus the
recipe's extra terms, each with its weight; each discriminator its own least-squares
loss (eqs. 9-10, read as LSGAN: G wants D(G(a)) = 1, D wants real 1 and fake 0). Without
the adversarial term (``lambda_adv = 0``) there are no discriminators; during an
identity warm-up (``warmup_steps``) they exist but idle.

The paired step (:meth:`Trainer._paired_step`) trains G alone on (blurred, clean) pairs
with ``paired_l1`` L1 + ``paired_ssim`` (1 - SSIM) + ``paired_psnr`` times each crop's
log10 MSE (-PSNR / 10): the supervised oracle, or the restorer on synthesised pairs
(:mod:`semgan_core.restorer`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import tensorflow as tf

from semgan_core import (config, gan, generators, imagepool, images, losses, optim, pipeline,
                         plugin, recipes)

MODES = ("cyclegan", "paired")
#: The paired loss's settings and their defaults (a CycleGAN run refuses any other value).
PAIRED_DEFAULTS = {key: getattr(config.Config(), key) for key in config.SECTIONS["paired"]}


class Trainer:
    """Models, optimizers, image pools, loss terms and the compiled step of one run.

    Parameters
    ----------
    cfg : Config
    paired : bool
        Train G alone on (blurred, clean) pairs (``cfg.paired_l1`` L1 + ``cfg.paired_ssim``
        (1 - SSIM) + ``cfg.paired_psnr`` log10(MSE + ``cfg.paired_mse_floor``) per crop)
        instead of the CycleGAN.
    strategy : tf.distribute.Strategy, optional
        Default: the current strategy (one device). Variables are made in its scope;
        ``cfg.batch_size`` is the global batch, split across its replicas.

    Attributes
    ----------
    loss_names : list of str
        What :meth:`train_step` returns, in column order: only the terms that run.
        CycleGAN: ``gen_total``, ``gan_g``, ``gan_f`` (with the adversarial term),
        ``cycle``, ``identity``, ``edge``, ``disc_a``, ``disc_b`` (with the adversarial
        term), then the recipe's extra terms (e.g. ``spectral``, ``histogram``).
        Paired: ``total``, ``l1``, ``ssim_loss``, ``log_mse``.
    extra_terms : list of plugin.LossTerm
        The recipe's extra loss terms (none in mode 'paired').
    """

    def __init__(self, cfg: config.Config, *, paired: bool = False, strategy=None) -> None:
        self.cfg, self.mode = cfg, MODES[bool(paired)]
        if not paired:
            for key, neutral in PAIRED_DEFAULTS.items():
                if getattr(cfg, key) != neutral:
                    raise ValueError(f"Trainer: {key}={getattr(cfg, key):g} would be ignored: "
                                     "it weighs the paired loss (train --paired), not the "
                                     "CycleGAN's")
        if paired and cfg.paired_l1 == cfg.paired_ssim == cfg.paired_psnr == 0:
            raise ValueError("Trainer: paired_l1, paired_ssim and paired_psnr are all 0: the "
                             "paired loss would be empty")
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = int(self.strategy.num_replicas_in_sync)
        if cfg.batch_size % self.replicas:
            raise ValueError(f"Trainer: batch_size={cfg.batch_size} (the global batch) must "
                             f"be a multiple of the {self.replicas} replicas")
        recipe = recipes.get_recipe(cfg.recipe)
        policy = "mixed_float16" if cfg.mixed_precision else "float32"
        with gan.dtype_policy(policy), self.strategy.scope():
            config.set_seed(cfg.seed)
            self.models = gan.build_models(cfg, self.mode, recipe.build_generator)
            if cfg.init_generator:          # a resumed run's checkpoint overrides it
                generators.warm_start(self.models["G"], cfg.init_generator)
            self.optimizers, self.variables = optim.build_optimizers(cfg, self.models)
            self.extra_terms = recipe.extra_terms(cfg) if self.mode == "cyclegan" else []
        self.adversarial = "D_B" in self.models
        self.pools = imagepool.build_pools(cfg, self.mode, self.strategy)
        paired_names = ["total", "l1", "ssim_loss", "log_mse"]
        self.loss_names = (paired_names if self.mode == "paired" else [
            "gen_total", *(["gan_g", "gan_f"] if self.adversarial else []), "cycle",
            "identity", "edge", *(["disc_a", "disc_b"] if self.adversarial else []),
            *(term.name for term in self.extra_terms)])
        self.checkpoint = tf.train.Checkpoint(
            **self.models, **{f"optimizer_{k}": v for k, v in self.optimizers.items()},
            **{f"pool_{k}": v for k, v in self.pools.items()},
            **{f"term_{t.name}": t.state for t in self.extra_terms if t.state is not None})
        body = self._paired_step if self.mode == "paired" else self._cyclegan_step
        self._replica_step = tf.function(body, jit_compile=cfg.jit_compile, autograph=False)
        self._step = tf.function(self._distributed_step, autograph=False)

    # ---- the training step ---------------------------------------------------------
    def _cyclegan_step(self, real_a, real_b, warmup=False):
        """One CycleGAN step on a replica's batch: real_a blurred, real_b clear."""
        cfg, G, F = self.cfg, self.models["G"], self.models["F"]
        run = gan.run_batches           # run(net, x, y, ...): net on x, y, ... in one pass
        adversarial = self.adversarial and not warmup
        with tf.GradientTape(persistent=True) as tape:
            # 1. Each generator on both domains, in one batch: G(a) should look clear and
            #    G(b) ~ b (identity); F(b) should look blurred and F(a) ~ a.
            fake_b, same_b = run(G, real_a, real_b)
            fake_a, same_a = run(F, real_b, real_a)
            # 2. Translate back: the cycles F(G(a)) ~ a and G(F(b)) ~ b.
            (cycled_a,), (cycled_b,) = run(F, fake_b), run(G, fake_a)
            # 3. Each discriminator judges, in one batch, the fresh fakes, (with
            #    pool_size > 0) fakes from its history pool, and real images.
            d_b = d_a = [None]
            if adversarial:
                d_b = run(self.models["D_B"], fake_b, *self._pooled("B", fake_b), real_b,
                          view=self._view)
                d_a = run(self.models["D_A"], fake_a, *self._pooled("A", fake_a), real_a,
                          view=self._view)
            # 4. Eq. 16: cycle (1 - SSIM), identity (MSE) and edge (Sobel/Kirsch MSE)
            #    terms, and the least-squares adversarial terms on the fresh fakes; the
            #    identity outputs F(a), G(b) also serve the literal edge loss (eq. 13).
            gen_total, terms = losses.total_generator_loss(
                real_a, real_b, cycled_a, cycled_b, same_a, same_b, d_b[0], d_a[0],
                lambda_adv=cfg.lambda_adv, lambda_cycle=cfg.lambda_cycle,
                lambda_identity=cfg.lambda_identity, gamma_edge=cfg.gamma_edge,
                edge_operator=cfg.edge_operator, edge_reference=cfg.edge_reference)
            # 5. The recipe's extra terms, each with its weight.
            batch = plugin.Translations(real_a, real_b, fake_a, fake_b, cycled_a, cycled_b,
                                        same_a, same_b)
            for term in self.extra_terms:
                terms[term.name] = term.loss(batch)
                gen_total += term.weight * terms[term.name]
            terms.pop("total")
            terms["gen_total"] = gen_total
            # 6. Each discriminator's loss: real as 1, (pooled) fakes as 0; with R1, its
            #    gradient on real images, gamma / 2 |grad|^2.
            if adversarial:
                for key, d_out, disc, real in (("disc_b", d_b, "D_B", real_b),
                                               ("disc_a", d_a, "D_A", real_a)):
                    terms[key] = losses.lsgan_discriminator_loss(d_out[-1], d_out[-2])
                    if cfg.r1_gamma > 0:
                        terms[key] += 0.5 * cfg.r1_gamma * gan.r1_penalty(
                            self.models[disc], self._view(real))
            # 7. Scale each loss for its gradient (replicas, mixed-precision loss scale).
            targets = {"generators": self._for_gradient(gen_total, "generators")}
            if adversarial:
                targets["D_A"] = self._for_gradient(terms["disc_a"], "D_A")
                targets["D_B"] = self._for_gradient(terms["disc_b"], "D_B")
        # 8. One gradient per optimizer: G and F on the joint loss, each D on its own.
        for name, target in targets.items():
            self._apply(tape, target, name)
        return {name: terms[name] for name in self.loss_names if name in terms}

    def _pooled(self, domain: str, fakes: tf.Tensor) -> list[tf.Tensor]:
        """``[fakes from the history pool]``, or ``[]`` without a pool."""
        return [self.pools[domain].query(fakes)] if self.pools else []

    def _paired_step(self, blurred, clean, warmup=False):
        """One supervised step: G(blurred) against the clean original,
        ``paired_l1`` L1 + ``paired_ssim`` (1 - SSIM) + ``paired_psnr`` log10(MSE + floor)."""
        cfg = self.cfg
        with tf.GradientTape() as tape:
            # 1. Restore the blurred batch.
            restored = gan.as_float32(self.models["G"](blurred, training=True))
            # 2. L1 on [0, 1] images (the scale of the other pixel losses) + 1 - SSIM.
            #    SSIM's contrast term rewards detail of the right strength even where it
            #    is not the true detail; paired_ssim = 0 leaves the L1 (median) estimate.
            to_01 = images.from_model_range
            error = to_01(restored) - to_01(clean)
            l1 = tf.reduce_mean(tf.abs(error))
            ssim_loss = 1.0 - losses.ssim_tf(restored, clean)
            # 3. Each crop's log10 MSE, averaged over the batch: -PSNR / 10. L1 weighs a
            #    crop by the size of its error, so a crop that needs little restoring
            #    counts little; in decibels every crop counts alike, and a sharp crop
            #    that comes back at 38 dB instead of 45 costs as much as a blurred one
            #    restored to 25 dB instead of 32. The floor bounds the weight of a crop
            #    already restored beyond it.
            mse = tf.reduce_mean(tf.square(error), axis=[1, 2, 3])
            log_mse = tf.reduce_mean(tf.math.log(mse + cfg.paired_mse_floor)) / math.log(10.0)
            total = (cfg.paired_l1 * l1 + cfg.paired_ssim * ssim_loss
                     + cfg.paired_psnr * log_mse)
            target = self._for_gradient(total, "generators")
        # 4. Update G.
        self._apply(tape, target, "generators")
        return {"total": total, "l1": l1, "ssim_loss": ssim_loss, "log_mse": log_mse}

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
        """Run one step on a (distributed) batch; return the replica-mean loss terms that
        ran (:attr:`loss_names`, less the adversarial ones while ``warmup``)."""
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
        lr = self.cfg.learning_rate * optim.lr_factor(self.cfg, step, total)
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
        make = pipeline.paired_dataset if self.mode == "paired" else pipeline.unpaired_dataset

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
