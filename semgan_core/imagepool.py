"""The image history pool shown to a discriminator (``pool_size``)."""

from __future__ import annotations

import tensorflow as tf

from semgan_core import config


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
