"""The run folder: damaged checkpoints are skipped, the dataset is identified."""

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from semgan_core import checkpoint  # noqa: E402


def _three_checkpoints(tmp_path):
    variable = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=variable)
    for step in (1, 2, 3):
        variable.assign(float(step))
        checkpoint.save(ckpt, tmp_path, step, {"config": {}}, keep=3)
    variable.assign(-1.0)
    return ckpt, variable


def test_a_missing_data_file_falls_back_to_the_previous_checkpoint(tmp_path, capsys):
    ckpt, variable = _three_checkpoints(tmp_path)
    for path in checkpoint.step_dir(tmp_path, 3).glob("ckpt.data-*"):
        path.unlink()
    # a worker that does not write the run folder reports it and leaves it in place
    assert checkpoint.restore_newest(ckpt, tmp_path, move_aside=False)[1]["step"] == 2
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path)] == [1, 2, 3]
    capsys.readouterr()
    variable.assign(-1.0)
    folder, state = checkpoint.restore_newest(ckpt, tmp_path)
    assert folder == checkpoint.step_dir(tmp_path, 2) and state["step"] == 2
    assert float(variable) == 2.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "step_000003 cannot be read" in err[0]
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path)] == [1, 2]
    assert (tmp_path / "checkpoints" / "corrupt-step_000003").is_dir()


def test_a_corrupt_state_file_is_skipped_too(tmp_path, capsys):
    ckpt, variable = _three_checkpoints(tmp_path)
    (checkpoint.step_dir(tmp_path, 3) / checkpoint.STATE_FILE).write_text("{trunc")
    assert checkpoint.newest_state(tmp_path)[1]["step"] == 2
    assert "JSONDecodeError" in capsys.readouterr().err
    checkpoint.restore_newest(ckpt, tmp_path)
    assert float(variable) == 2.0


def test_no_intact_checkpoint_gives_none(tmp_path, capsys):
    ckpt, _ = _three_checkpoints(tmp_path)
    for step in (1, 2, 3):
        for path in checkpoint.step_dir(tmp_path, step).glob("ckpt.index"):
            path.write_bytes(b"")
    assert checkpoint.restore_newest(ckpt, tmp_path) is None
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_dataset_identity_and_check(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "manifest.json").write_text(json.dumps({"seed": 0}))
    ident = checkpoint.dataset_identity(tmp_path / "a")
    assert ident["path"] == str((tmp_path / "a").resolve())
    assert len(ident["manifest_sha256"]) == 64
    checkpoint.check_same_dataset(ident, dict(ident, path="/elsewhere"))   # moved: same
    checkpoint.check_same_dataset(None, ident)                            # older runs
    with pytest.raises(ValueError, match="trained on another dataset"):
        checkpoint.check_same_dataset(ident, dict(ident, manifest_sha256="0" * 64))
    bare = checkpoint.dataset_identity(tmp_path)                   # no manifest: the path
    assert bare["manifest_sha256"] is None
    with pytest.raises(ValueError, match="--allow-other-data"):
        checkpoint.check_same_dataset(bare, checkpoint.dataset_identity(tmp_path / "a"))
    np.testing.assert_equal(checkpoint.dataset_identity(tmp_path / "a"), ident)
