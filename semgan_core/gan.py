"""The pieces the trainer assembles: networks as trained, optimizers, pools, D's input.

:mod:`semgan_core.train` holds the training step and the loop; this module builds what
they use from a :class:`~semgan_core.config.Config`:

* :func:`build_models`: G and F (:func:`semgan_core.models.build_generator`; with
  ``residual``, x + U-Net(x) with the U-Net's output layer zero-initialised, so G starts
  as the identity) and D_A, D_B; in mixed precision under Keras' ``mixed_float16``.
* :func:`build_optimizers`: :class:`FusedAdam` (Keras' Adam on TensorFlow's fused
  kernel) for G and F jointly and one per discriminator (``lr_d_multiplier``), wrapped
  in a ``LossScaleOptimizer`` in mixed precision. Sharing one Adam between G and F is
  exactly one Adam each (Adam is per variable); it lets one loss scale serve their
  joint loss, which is then differentiated once.
* :func:`build_pools`: the image history pools (:class:`ImagePool`, ``pool_size``).
* :func:`highpass`: what D sees with ``disc_input='highpass'``: x - g * x, g the paper's
  7x7 sigma-1 Gaussian (``degrade.ASSUMED_PSF``), i.e. the detail that blur removes;
  :func:`disc_view`: the image, that, or both as two channels (``'both'``).
* :func:`r1_penalty`: the optional R1 gradient penalty of the discriminators
  (``r1_gamma``).
* :func:`lr_factor`: the optional linear decay (``lr_decay``).
"""

from __future__ import annotations

import contextlib

import tensorflow as tf

import keras

from semgan_core import config, degrade, filtergen, models

HIGHPASS_KERNEL = degrade.ASSUMED_PSF     # disc_input="highpass": x - g * x


def as_float32(x: tf.Tensor) -> tf.Tensor:
    """Model output as float32 (mixed precision computes in float16)."""
    return tf.cast(x, tf.float32)


def run_batches(model: keras.Model, *batches: tf.Tensor, view=None) -> list[tf.Tensor]:
    """``model`` on several equal-sized batches in one pass; one float32 output each.

    One pass on the concatenation is cheaper than one per batch (larger matrix products)
    and gives the same values: instance norm is per image.
    """
    x = tf.concat(batches, 0) if len(batches) > 1 else batches[0]
    out = as_float32(model(x if view is None else view(x), training=True))
    return tf.split(out, len(batches)) if len(batches) > 1 else [out]


def highpass(batch: tf.Tensor) -> tf.Tensor:
    """``x - g * x`` per image, g = :data:`HIGHPASS_KERNEL`, reflected borders.

    Parameters
    ----------
    batch : tensor, (N, H, W, 1)

    Returns
    -------
    detail : float32 tensor, same shape; 0 on a flat image
    """
    batch = as_float32(batch)
    radius = HIGHPASS_KERNEL.shape[0] // 2
    padded = tf.pad(batch, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT")
    kernel = tf.constant(HIGHPASS_KERNEL[:, :, None, None])
    return batch - tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")


def disc_view(batch: tf.Tensor, mode: str) -> tf.Tensor:
    """What a discriminator sees: ``mode`` 'image' (the batch), 'highpass'
    (:func:`highpass`) or 'both' (the two as channels: contrast and detail)."""
    if mode == "image":
        return batch
    if mode == "highpass":
        return highpass(batch)
    return tf.concat([as_float32(batch), highpass(batch)], -1)


def r1_penalty(disc: keras.Model, view: tf.Tensor) -> tf.Tensor:
    """R1 gradient penalty (Mescheder et al. 2018): mean over the batch of the squared
    norm of the gradient of D's summed patch map with respect to its (real) input view.

    Keeps the discriminator smooth around the real data, so that a discriminator that
    separates the domains still gives the generator an informative gradient.
    """
    view = as_float32(view)
    with tf.GradientTape() as tape:
        tape.watch(view)
        score = tf.reduce_sum(as_float32(disc(view, training=True)))
    grad = tape.gradient(score, view)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))


class FusedAdam(keras.optimizers.Adam):
    """Keras' Adam (same state, same formula) updated by TensorFlow's fused Adam kernel.

    ``ResourceApplyAdam`` updates a variable and its two moments in one pass over
    memory, where Keras' ``update_step`` makes about ten element-wise passes and twenty
    graph ops per variable. Measured on two CPU cores: a width-1.0 step 3.8 -> 3.4 s,
    and half the time to trace and optimise the step's graph (~20 -> ~10 s per
    training session). The values agree with ``keras.optimizers.Adam`` to float
    rounding. (No amsgrad, no weight decay.)
    """

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        m, v = self._momentums[index].value, self._velocities[index].value
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.handle, v=v.handle, beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype),
            beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype))


class ImagePool(tf.Module):
    """History of generated images shown to a discriminator (Shrivastava et al. 2017).

    The first ``capacity`` images are stored and returned as they are; afterwards each
    new image, with probability 1/2, is swapped with a random stored one (which is
    returned instead). Randomness is stateless, seeded by (seed, images seen), so the
    pool's variables alone (saved in checkpoints) determine what it does next.
    """

    def __init__(self, capacity: int, shape: tuple[int, int, int], *, seed: int,
                 name: str | None = None) -> None:
        super().__init__(name=name)
        self.capacity, self.seed = int(capacity), int(seed)
        self.images = tf.Variable(tf.zeros((self.capacity, *shape)), trainable=False)
        self.seen = tf.Variable(0, dtype=tf.int64, trainable=False)

    def query(self, batch: tf.Tensor) -> tf.Tensor:
        """Pass each image of ``batch`` (static batch size) through the pool."""
        batch = tf.stop_gradient(batch)
        return tf.stack([self._swap(image) for image in tf.unstack(batch)])

    def _swap(self, image: tf.Tensor) -> tf.Tensor:
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.seen])
        coin, pick = tf.unstack(tf.random.stateless_uniform((2,), seed=seed))
        filling = self.seen < self.capacity
        index = tf.where(filling, tf.cast(self.seen, tf.int32),
                         tf.cast(pick * self.capacity, tf.int32) % self.capacity)
        stored = self.images[index]
        swap = tf.logical_and(tf.logical_not(filling), coin < 0.5)
        self.images[index].assign(tf.where(filling | swap, image, stored))
        self.seen.assign_add(1)
        return tf.where(swap, stored, image)


def lr_factor(cfg: config.Config, step: int, total: int) -> float:
    """Learning-rate multiplier at ``step``: 1, or with ``lr_decay`` linear to 0 over the
    second half of ``total`` steps (CycleGAN's schedule)."""
    if not cfg.lr_decay:
        return 1.0
    half = total / 2
    return 1.0 if step < half else max(0.0, (total - step) / (total - half))


@contextlib.contextmanager
def dtype_policy(name: str):
    """Context manager: Keras' global dtype policy set to ``name`` inside, then restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_generator(cfg: config.Config, name: str) -> keras.Model:
    """The U-Net of :mod:`models`; with ``cfg.residual``, x + U-Net(x), starting at x;
    with ``cfg.generator == "filter"``, :func:`filtergen.build_filter_generator`.

    The residual output is not clipped to [-1, 1] (``images.from_model_range`` clips).
    """
    if cfg.generator == "filter":
        return filtergen.build_filter_generator(cfg.filter_size, gain=cfg.filter_gain,
                                                tone=cfg.tone, name=name)
    unet = models.build_generator(cfg.width, bottleneck_norm=cfg.bottleneck_norm,
                                  name=f"{name}_unet" if cfg.residual else name)
    if not cfg.residual:
        return unet
    for weight in unet.layers[-1].weights:          # the 1-channel tanh output layer
        weight.assign(tf.zeros_like(weight))
    image = keras.Input(shape=(None, None, 1), name="image")
    return keras.Model(image, keras.layers.Add(name="residual")([image, unet(image)]),
                       name=name)


def build_models(cfg: config.Config, mode: str) -> dict[str, keras.Model]:
    """``{"G", "F", "D_A", "D_B"}`` (mode 'cyclegan') or ``{"G"}`` (mode 'paired')."""
    if mode == "paired":
        return {"G": build_generator(cfg, "G")}
    channels = 2 if cfg.disc_input == "both" else 1
    return {"G": build_generator(cfg, "G"), "F": build_generator(cfg, "F"),
            **{k: models.build_discriminator(cfg.width, norm=cfg.disc_norm, name=k,
                                             channels=channels) for k in ("D_A", "D_B")}}


def build_optimizers(cfg: config.Config, nets: dict[str, keras.Model]):
    """Adam (beta1 from cfg; :class:`FusedAdam`) for the generators jointly and one per
    discriminator (learning rate times ``lr_d_multiplier``), built on their variables.

    Returns
    -------
    optimizers, variables : dict, dict
        Keyed ``"generators"``, ``"D_A"``, ``"D_B"`` (those present in ``nets``).
    """
    groups = {"generators": [k for k in ("G", "F") if k in nets]}
    groups.update({k: [k] for k in ("D_A", "D_B") if k in nets})
    optimizers, variables = {}, {}
    for name, members in groups.items():
        lr = cfg.learning_rate * (1.0 if name == "generators" else cfg.lr_d_multiplier)
        opt = FusedAdam(lr, beta_1=cfg.beta_1, name=f"adam_{name}")
        if cfg.mixed_precision:
            opt = keras.optimizers.LossScaleOptimizer(opt, name=f"loss_scale_{name}")
        variables[name] = [v for k in members for v in nets[k].trainable_variables]
        opt.build(variables[name])     # build now, so a checkpoint restores into them
        optimizers[name] = opt
    return optimizers, variables


def build_pools(cfg: config.Config, mode: str, strategy) -> dict[str, ImagePool]:
    """``{"A": pool, "B": pool}`` with ``pool_size`` > 0 in mode 'cyclegan', else ``{}``.

    Raises
    ------
    ValueError
        With several replicas in one process (each would need its own pool).
    """
    if mode == "paired" or cfg.pool_size == 0:
        return {}
    replicas = strategy.num_replicas_in_sync
    if isinstance(strategy, tf.distribute.MirroredStrategy) and replicas > 1:
        raise ValueError(f"Trainer: pool_size={cfg.pool_size} needs one replica per process, "
                         f"got {replicas} GPUs; set pool_size=0")
    shape = (cfg.image_size, cfg.image_size, 1)
    return {k: ImagePool(cfg.pool_size, shape, seed=cfg.seed * 2 + i, name=f"pool_{k}")
            for i, k in enumerate(("A", "B"))}
