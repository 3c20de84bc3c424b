"""The optimizers of a training run and their learning-rate schedule.

* :class:`FusedAdam`: Keras' Adam on TensorFlow's fused kernel.
* :func:`build_optimizers`: one Adam for G and F jointly and one per discriminator
  (``lr_d_multiplier``), wrapped in a ``LossScaleOptimizer`` in mixed precision. Sharing
  one Adam between G and F is exactly one Adam each (Adam is per variable); it lets one
  loss scale serve their joint loss, which is then differentiated once.
* :func:`lr_factor`: the optional linear decay (``lr_decay``).
"""

from __future__ import annotations

import tensorflow as tf

import keras

from semgan_core import config


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


def lr_factor(cfg: config.Config, step: int, total: int) -> float:
    """Learning-rate multiplier at ``step``: 1, or with ``lr_decay`` linear to 0 over the
    second half of ``total`` steps (CycleGAN's schedule)."""
    if not cfg.lr_decay:
        return 1.0
    half = total / 2
    return 1.0 if step < half else max(0.0, (total - step) / (total - half))


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
