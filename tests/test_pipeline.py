"""Tests for semgan_core.pipeline: the tf.data input streams and their epoch order."""

import itertools

import numpy as np
import pytest

from semgan_core import datasets, images, pipeline


@pytest.fixture(scope="module")
def dataset_a(tmp_path_factory):
    """Degradation A, 18 train and 2 test crops of 128 px."""
    out = tmp_path_factory.mktemp("ds") / "A"
    datasets.make_dataset(out, degradation="A", seed=3, n_crops=20, size=128, n_source=5,
                          progress=False, processes=1)
    return out


def test_index_stream_epochs_and_skip():
    stream = list(itertools.islice(pipeline._index_stream(5, seed=0, stream=0, start=0), 15))
    epochs = [stream[:5], stream[5:10], stream[10:]]
    assert all(sorted(e) == list(range(5)) for e in epochs) and epochs[0] != epochs[1]
    late = list(itertools.islice(pipeline._index_stream(5, seed=0, stream=0, start=7), 8))
    assert late == stream[7:]
    assert not np.array_equal(pipeline.epoch_permutation(50, seed=0, epoch=0, stream=0),
                              pipeline.epoch_permutation(50, seed=0, epoch=0, stream=1))


def _batches(dataset, n):
    return [(a.numpy(), b.numpy()) for a, b in dataset.take(n)]


def test_unpaired_dataset(dataset_a):
    out = dataset_a
    first = _batches(pipeline.unpaired_dataset(out, batch_size=3, seed=5), 7)  # > 1 epoch
    for a, b in first:
        assert a.shape == b.shape == (3, 128, 128, 1) and a.dtype == b.dtype == np.float32
        assert -1 <= a.min() and a.max() <= 1 and -1 <= b.min() and b.max() <= 1
    again = _batches(pipeline.unpaired_dataset(out, batch_size=3, seed=5), 7)
    assert all(np.array_equal(x, y) for p, q in zip(first, again) for x, y in zip(p, q))
    resumed = _batches(pipeline.unpaired_dataset(out, batch_size=3, seed=5, start_step=3), 4)
    assert all(np.array_equal(x, y) for p, q in zip(first[3:], resumed) for x, y in zip(p, q))
    other = _batches(pipeline.unpaired_dataset(out, batch_size=3, seed=6), 1)
    assert not np.array_equal(other[0][0], first[0][0])
    test = _batches(pipeline.unpaired_dataset(out, split="test", batch_size=2), 1)
    assert test[0][0].shape == (2, 128, 128, 1)
    with pytest.raises(ValueError, match="split must be"):
        pipeline.unpaired_dataset(out, split="val")
    with pytest.raises(ValueError, match="batch_size must be"):
        pipeline.unpaired_dataset(out, batch_size=0)


def test_paired_dataset_pairs_each_blurred_with_its_clean(dataset_a):
    out = dataset_a
    blurred, clean, _, _ = datasets.load_test_pairs(out, split="train")
    batches = _batches(pipeline.paired_dataset(out, batch_size=2, seed=1), 5)
    resumed = _batches(pipeline.paired_dataset(out, batch_size=2, seed=1, start_step=2), 3)
    assert all(np.array_equal(x, y) for p, q in zip(batches[2:], resumed) for x, y in zip(p, q))
    for a, c in batches:
        for one_a, one_c in zip(images.from_model_range(a[..., 0]),
                                images.from_model_range(c[..., 0])):
            index = np.argmin(np.abs(blurred - one_a).max(axis=(1, 2)))
            assert np.abs(blurred[index] - one_a).max() < 1e-6
            assert np.abs(clean[index] - one_c).max() < 1e-6


def test_paired_dataset_needs_ground_truth(dataset_a, tmp_path):
    out = dataset_a
    (tmp_path / "trainA").mkdir()
    with pytest.raises(FileNotFoundError, match="trainA_gt"):
        pipeline.paired_dataset(tmp_path)
