"""Tests of semgan_core.ownimages: inputs, the example file, file reports, wipes, the form."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from semgan_core import images, ownimages, realdata


@pytest.fixture
def no_real_data(monkeypatch):
    monkeypatch.setattr(realdata, "real_data_dir", lambda: None)


def test_find_inputs_file_and_folder(tmp_path):
    for name in ("b.png", "a.tif", "notes.txt", ".~a.tif"):   # hidden: a temporary file
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"x")
    assert [p.name for p in ownimages.find_inputs(tmp_path)] == ["a.tif", "b.png"]
    assert ownimages.find_inputs(tmp_path / "b.png") == [tmp_path / "b.png"]


def test_find_inputs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="find_inputs: no such file or folder"):
        ownimages.find_inputs(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="find_inputs: .*notes.txt is not an image file"):
        ownimages.find_inputs(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="find_inputs: folder .* holds no image files"):
        ownimages.find_inputs(tmp_path)


def test_synthetic_example_is_16_bit_with_a_bar_and_tags(tmp_path, no_real_data):
    path = ownimages.example_input(tmp_path, rng=0)
    assert path == tmp_path / "synthetic_example.tif"
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.dtype == np.uint16 and page.shape == ownimages.EXAMPLE_SHAPE
        assert "ImageDescription" in {t.name for t in page.tags.values()}
    from semgan_core import databar

    image = images.read_image(path)
    assert databar.bar_top(image) == ownimages.EXAMPLE_SHAPE[0] - ownimages.EXAMPLE_BAR


def test_example_is_the_shared_file_when_present(tmp_path):
    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    path = ownimages.example_input(tmp_path)
    assert path.name == ownimages.EXAMPLE_SHARED[1] and not any(tmp_path.iterdir())


def test_file_report_lists_kept_and_lost_tags(tmp_path):
    pixels = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    tifffile.imwrite(tmp_path / "in.tif", pixels, description="instrument",
                     resolution=(10.0, 10.0), software="microscope", metadata=None)
    tifffile.imwrite(tmp_path / "out.tif", pixels.astype(np.uint8), resolution=(10.0, 10.0),
                     software="restorer", metadata=None)
    report = ownimages.file_report(tmp_path / "in.tif", tmp_path / "out.tif")
    assert (report["bits_in"], report["bits_out"]) == (16, 8)
    assert report["shape_in"] == report["shape_out"] == [64, 64]
    assert report["tags_lost"] == ["ImageDescription", "Software"]   # absent, changed
    assert report["tags_kept"] == ["ResolutionUnit", "XResolution", "YResolution"]
    assert "ImageWidth" not in report["tags_in"]          # pixel layout, not metadata


def test_wipe_splits_at_the_fraction():
    before, after = np.zeros((8, 10), np.float32), np.full((8, 10), 0.5, np.float32)
    out = ownimages.wipe(before, after, 0.5)
    assert (out[:, :5] == 0.5).all() and (out[:, 5] == 1.0).all() and (out[:, 6:] == 0).all()
    np.testing.assert_array_equal(ownimages.wipe(before, after, 0.0), before)
    np.testing.assert_array_equal(ownimages.wipe(before, after, 1.0), after)
    assert ownimages.wipe_frames(before, after, (0, 0.5, 1)).shape == (3, 8, 10)


def test_wipe_errors():
    x = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="wipe: before and after must have one shape"):
        ownimages.wipe(x, x[:4], 0.5)
    with pytest.raises(ValueError, match=r"wipe: fraction must be in \[0, 1\], got 2"):
        ownimages.wipe(x, x, 2)


def test_output_path_is_a_tiff_named_for_the_model(tmp_path):
    assert ownimages.output_path("x/a.jpg", "filter-unpaired-A", tmp_path) == \
        tmp_path / "a_filter-unpaired-A.tif"


def test_deblur_path_keeps_bit_depth_and_bar(tmp_path, no_real_data):
    source = ownimages.example_input(tmp_path / "in", rng=1)
    pairs = ownimages.deblur_path(source, "filter-unpaired-A", tmp_path / "out")
    assert pairs == [(source, tmp_path / "out" / "synthetic_example_filter-unpaired-A.tif")]
    report = ownimages.file_report(*pairs[0])
    assert report["bits_out"] == 16 and report["shape_out"] == report["shape_in"]
    before, after = (images.read_image(p) for p in pairs[0])
    bar = ownimages.EXAMPLE_SHAPE[0] - ownimages.EXAMPLE_BAR
    np.testing.assert_allclose(after[bar:], before[bar:], atol=1 / 65535)
    assert np.abs(after[:bar] - before[:bar]).max() > 0.01      # the specimen changed


def test_chooser_refuses_an_unknown_model_and_builds_a_form():
    with pytest.raises(ValueError, match="chooser: model must be one of"):
        ownimages.chooser("x.tif", "nope", ["a"], out_dir="out")
    form = ownimages.chooser("x.tif", "a", ["a", "b"], out_dir="out")
    box, menu, button = form.children[0].children
    assert box.value == "x.tif" and menu.value == "a" and button.description == "Deblur"


def test_chooser_reports_a_missing_file(tmp_path, capsys):
    form = ownimages.chooser(str(tmp_path / "missing.tif"), "filter-unpaired-A",
                             ["filter-unpaired-A"], out_dir=tmp_path)
    button, shown = form.children[0].children[2], form.children[1]
    button.click()
    # outside a kernel the Output widget captures nothing, and the print reaches stdout
    text = "".join(o.get("text", "") for o in shown.outputs) + capsys.readouterr().out
    assert "cannot deblur" in text and "no such file or folder" in text


def test_compare_figure_zooms_into_the_specimen_not_the_bar(no_real_data, tmp_path):
    image = images.read_image(ownimages.example_input(tmp_path, rng=2))
    fig = ownimages.compare_figure(image, image, zoom=64)
    # the inset's outline (a Rectangle patch) lies above the info bar
    rect = [p for p in fig.axes[0].patches][0]
    assert rect.get_y() + rect.get_height() <= ownimages.EXAMPLE_SHAPE[0] - ownimages.EXAMPLE_BAR
