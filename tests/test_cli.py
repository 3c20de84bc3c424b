"""The command line as a user meets it: help, ``synth`` output, one-line errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

from semgan_core import cli, images


def _error_line(capsys):
    """The captured stderr, checked to be exactly one 'semgan: error:' line."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("semgan: error: "), err
    return lines[0]


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("make-dataset", "synth", "train"):
        assert command in out


@pytest.mark.parametrize("fmt, bit_depth, dtype", [("png", 8, np.uint8),
                                                   ("tif", 16, np.uint16)])
def test_synth_writes_images(tmp_path, capsys, fmt, bit_depth, dtype):
    out = tmp_path / "clean"
    status = cli.main(["synth", "--kind", "particles", "--n", "2", "--size", "128",
                       "--format", fmt, "--bit-depth", str(bit_depth), "--masks",
                       "--out", str(out)])
    assert status == 0
    assert "wrote 2 particles micrographs (128x128)" in capsys.readouterr().out
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"particles_000{i}{x}" for i in range(2)
                     for x in (f".{fmt}", "_mask.npy")]
    image = images.read_image(out / f"particles_0000.{fmt}")
    assert image.shape == (128, 128) and image.dtype == np.float32
    assert 0.0 <= image.min() < image.max() <= 1.0
    assert np.load(out / "particles_0000_mask.npy").shape == (128, 128)
    if fmt == "tif":
        import tifffile

        assert tifffile.imread(out / "particles_0000.tif").dtype == dtype


def test_synth_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "clean"
    args = ["synth", "--kind", "rods", "--n", "1", "--size", "128", "--out", str(out)]
    assert cli.main(args) == 0
    before = (out / "rods_0000.png").read_bytes()
    assert cli.main(args + ["--seed", "1"]) == 2
    line = _error_line(capsys)
    assert "rods_0000.png already exists" in line
    assert (out / "rods_0000.png").read_bytes() == before


@pytest.mark.parametrize("extra, message", [
    (["--kind", "blobs"], "--kind must be one of particles, rods, plates, porous, mixed, "
                          "got 'blobs'"),
    (["--n", "0"], "--n must be at least 1, got 0"),
    (["--size", "64"], "--size must be at least 128"),
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
])
def test_synth_bad_options(tmp_path, capsys, extra, message):
    out = tmp_path / "clean"
    assert cli.main(["synth", "--out", str(out), "--size", "128", *extra]) == 2
    assert message in _error_line(capsys)
    assert not out.exists()  # nothing created before the options were checked


def test_synth_out_is_a_file(tmp_path, capsys):
    (tmp_path / "taken.png").write_bytes(b"keep")
    assert cli.main(["synth", "--out", str(tmp_path / "taken.png")]) == 2
    assert "taken.png exists and is not a folder" in _error_line(capsys)
    assert (tmp_path / "taken.png").read_bytes() == b"keep"


def test_make_dataset_missing_source(tmp_path, capsys):
    missing = tmp_path / "no_such_folder"
    status = cli.main(["make-dataset", "--recipe", "A", "--source", str(missing),
                       "--n-crops", "4", "--out", str(tmp_path / "data"), "--quiet"])
    assert status == 2
    line = _error_line(capsys)
    assert str(missing) in line and "make_dataset" in line
    assert not (tmp_path / "data").exists()


def test_make_dataset_bad_image_names_the_file(tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.tif").write_bytes(b"this is not a TIFF file" * 10)
    (source / "b.png").write_bytes(b"")
    status = cli.main(["make-dataset", "--recipe", "A", "--source", str(source),
                       "--n-crops", "4", "--size", "128", "--out", str(tmp_path / "data"),
                       "--quiet"])
    assert status == 2
    line = _error_line(capsys)
    assert "read_image" in line and str(source) in line


def test_subprocess_unknown_kind_is_one_line(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "semgan_core", "synth", "--kind", "blobs",
                           "--out", str(tmp_path / "x")], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "semgan: error: synth: --kind must be one of particles, rods, plates, porous, "
        "mixed, got 'blobs'"]
    assert not (tmp_path / "x").exists()


def test_argparse_errors_are_one_line(capsys):
    from semgan_core import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["make-dataset", "--recipe", "D", "--out", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'D'" in err[0] and err[0].startswith("semgan: error:")
