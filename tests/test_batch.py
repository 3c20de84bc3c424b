"""Tests of semgan_core.batch: the plan of a deblur run, checked before any write."""

import os

import numpy as np
import pytest

from semgan_core import batch, images


def _image(path):
    return images.write_image(path, np.zeros((16, 16), np.float32))


def test_output_names():
    assert batch.output_path("x/a.TIF", "out") == batch.Path("out/a.TIF")
    assert batch.output_path("x/a.jpg", "out") == batch.Path("out/a.png")
    assert batch.output_path("x/a.bmp", "out") == batch.Path("out/a.png")


def test_plan_lists_jobs_skipped_and_errors(tmp_path):
    _image(tmp_path / "in" / "a.png")
    _image(tmp_path / "in" / "b.tif")
    (tmp_path / "in" / ".a.png.123.tmp").write_bytes(b"")  # a writer's temporary file
    (tmp_path / "empty").mkdir()
    _image(tmp_path / "out" / "b.tif")
    plan = batch.plan([tmp_path / "in", tmp_path / "missing.png", tmp_path / "empty"],
                      tmp_path / "out")
    assert plan.jobs == [(tmp_path / "in" / "a.png", tmp_path / "out" / "a.png")]
    assert plan.skipped == [tmp_path / "out" / "b.tif"]
    assert plan.errors == [f"{tmp_path / 'missing.png'}: no such file or folder",
                           f"{tmp_path / 'empty'}: folder holds no image files"]
    again = batch.plan([tmp_path / "in"], tmp_path / "out", overwrite=True)
    assert [job[1].name for job in again.jobs] == ["a.png", "b.tif"]


def test_plan_refuses_a_hard_link_to_an_input(tmp_path):
    src = _image(tmp_path / "in" / "a.png")
    (tmp_path / "out").mkdir()
    os.link(src, tmp_path / "out" / "a.png")
    with pytest.raises(ValueError, match=r"the output .*out/a\.png of .*in/a\.png would "
                                         r"replace the input .*in/a\.png"):
        batch.plan([tmp_path / "in"], tmp_path / "out", overwrite=True)


def test_plan_refuses_a_file_as_out(tmp_path):
    _image(tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"--out .*a\.png exists and is not a folder"):
        batch.plan([tmp_path / "a.png"], tmp_path / "a.png")
