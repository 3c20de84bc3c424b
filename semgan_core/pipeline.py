"""Input pipelines: endless tf.data streams of training batches from a dataset folder.

:func:`unpaired_dataset` gives the unpaired batches (a blurred crop of domain A, a clear
crop of domain B) that the CycleGAN and the CPU recipe train on; :func:`paired_dataset`
gives (blurred, clean) pairs for the paired oracle. The order is a seeded permutation per
epoch (:func:`epoch_permutation`), so a run resumed at step ``k`` sees exactly the
batches an uninterrupted run sees from step ``k`` on, without decoding the skipped ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semgan_core import checks, datasets, images

_STREAM_BATCH = 10          # seed streams 10 (domain A, or the pairs) and 11 (domain B)


def epoch_permutation(n, *, seed, epoch, stream=0):
    """The order in which a pipeline visits ``n`` images in one epoch.

    Parameters
    ----------
    n : int
        Number of images.
    seed, epoch : int
    stream : int
        0 for domain A (or the pairs), 1 for domain B.

    Returns
    -------
    order : ndarray of int64, shape (n,)
    """
    return np.random.default_rng([seed, _STREAM_BATCH + stream, epoch]).permutation(n)


def _index_stream(n, *, seed, stream, start):
    """Endless indices: epoch 0's permutation, then epoch 1's, ..., from position ``start``."""
    epoch, position = divmod(start, n)
    while True:
        yield from epoch_permutation(n, seed=seed, epoch=epoch, stream=stream)[position:]
        epoch, position = epoch + 1, 0


def unpaired_dataset(data_dir, *, batch_size=1, seed=0, start_step=0, split="train"):
    """Endless unpaired batches (a, b) from domain A (blurred) and domain B (clear).

    Parameters
    ----------
    data_dir : path-like
        A dataset folder made by :func:`semgan_core.datasets.make_dataset`.
    batch_size : int
    seed : int
        Seed of the order; each domain follows its own permutation per epoch, derived
        from (seed, domain, epoch) by :func:`epoch_permutation`.
    start_step : int
        Start at batch ``start_step`` of the stream, without decoding the skipped images:
        the result equals ``unpaired_dataset(...).skip(start_step)``.
    split : {'train', 'test'}
        Read trainA/trainB or testA/testB.

    Returns
    -------
    dataset : tf.data.Dataset
        Yields ``(a, b)``, each float32 of shape (batch_size, H, W, 1) in [-1, 1]
        (``images.to_model_range``). Never ends (use ``.take``).

    Raises
    ------
    ValueError
        For an unknown split, a bad integer option, an empty folder or a non-PNG image.
    FileNotFoundError
        If a folder of the split is missing.
    """
    if split not in ("train", "test"):
        raise ValueError(f"unpaired_dataset: split must be 'train' or 'test', got {split!r}")
    paths_a = datasets.folder_images(Path(data_dir) / f"{split}A", func="unpaired_dataset")
    paths_b = datasets.folder_images(Path(data_dir) / f"{split}B", func="unpaired_dataset")
    return _pipeline(paths_a, paths_b, batch_size, seed, start_step, paired=False)


def paired_dataset(data_dir, *, batch_size=1, seed=0, start_step=0):
    """Endless paired batches (blurred, clean) from trainA/ and trainA_gt/.

    For the paired oracle only. Same parameters and properties as
    :func:`unpaired_dataset`, except that one permutation per epoch orders the pairs.
    """
    paths_a, paths_gt = datasets.paired_paths(data_dir, "trainA", func="paired_dataset")
    return _pipeline(paths_a, paths_gt, batch_size, seed, start_step, paired=True)


def _pipeline(paths_a, paths_b, batch_size, seed, start_step, *, paired):
    """tf.data: index stream -> read + decode PNG -> [-1, 1] -> batch -> prefetch."""
    import tensorflow as tf

    func = "paired_dataset" if paired else "unpaired_dataset"
    for name, value, low in (("batch_size", batch_size, 1), ("seed", seed, 0),
                             ("start_step", start_step, 0)):
        checks.check_int(func, name, value, low)
    for path in paths_a + paths_b:
        if path.suffix.lower() != ".png":
            raise ValueError(f"{func}: expected PNG images, got {str(path)!r}")
    shape = images.read_image(paths_a[0], min_side=1).shape
    start = int(start_step) * int(batch_size)

    def indices():
        stream_a = _index_stream(len(paths_a), seed=seed, stream=0, start=start)
        stream_b = stream_a if paired else _index_stream(len(paths_b), seed=seed, stream=1,
                                                         start=start)
        for i in stream_a:
            yield (i, i) if paired else (i, next(stream_b))

    table_a = tf.constant([str(p) for p in paths_a])
    table_b = tf.constant([str(p) for p in paths_b])

    def load(table, index):
        image = tf.io.decode_png(tf.io.read_file(tf.gather(table, index)), channels=1)
        image = images.to_model_range(tf.image.convert_image_dtype(image, tf.float32))
        return tf.ensure_shape(image, (*shape, 1))

    spec = tf.TensorSpec((), tf.int64)
    dataset = tf.data.Dataset.from_generator(indices, output_signature=(spec, spec))
    dataset = dataset.map(lambda i, j: (load(table_a, i), load(table_b, j)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
