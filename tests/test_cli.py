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
    for command in ("make-dataset", "synth", "train", "make-pairs"):
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
    status = cli.main(["make-dataset", "--degradation", "A", "--source", str(missing),
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
    status = cli.main(["make-dataset", "--degradation", "A", "--source", str(source),
                       "--n-crops", "4", "--size", "128", "--out", str(tmp_path / "data"),
                       "--quiet"])
    assert status == 2
    line = _error_line(capsys)
    assert "a.tif" in line and "b.png" in line and str(source) in line


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
        cli.main(["make-dataset", "--degradation", "D", "--out", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'D'" in err[0] and err[0].startswith("semgan: error:")


# --- deblur: inputs are never replaced, outputs kept, options checked first -------------

def _image(path, seed=0, shape=(128, 140)):
    return images.write_image(path, np.random.default_rng(seed).random(shape))


def _jpeg(path, seed=1):
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, (128, 140), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=95)
    return path


def _tree(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_deblur_refuses_an_output_that_replaces_an_input(tmp_path, capsys):
    folder = tmp_path / "S"
    folder.mkdir()
    _image(folder / "a.png")
    _jpeg(folder / "a.jpg")  # written as S/a.png: the other input
    before = _tree(folder)
    status = cli.main(["deblur", str(folder), "--model", "A", "--out", str(folder)])
    assert status == 2
    line = _error_line(capsys)
    assert f"the output {folder / 'a.png'} of {folder / 'a.jpg'} would replace the input" in line
    assert "nothing was written" in line
    assert _tree(folder) == before


def test_deblur_refuses_two_inputs_with_one_output(tmp_path, capsys):
    for name in ("x", "y"):
        _image(tmp_path / name / "a.png")
    status = cli.main(["deblur", str(tmp_path / "x"), str(tmp_path / "y"), "--model", "A",
                       "--out", str(tmp_path / "out")])
    assert status == 2
    assert "would both be written to" in _error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("extra, message", [
    (["--tile", "200"], "deblur: --tile must be a positive multiple of 128"),
    (["--overlap", "200"], "deblur: --overlap must be between 0 and --tile / 2 = 128"),
    (["--bits", "20"], r"deblur: --bits must be an integer in [1, 16], got 20"),
])
def test_deblur_option_errors_come_once_before_any_file(tmp_path, capsys, extra, message):
    for i in range(3):
        _image(tmp_path / "in" / f"{i}.png", seed=i)
    status = cli.main(["deblur", str(tmp_path / "in"), "--model", "A", "--out",
                       str(tmp_path / "out"), *extra])
    assert status == 2
    line = _error_line(capsys)  # exactly one line, not one per file
    assert message in line and "0.png" not in line
    assert not (tmp_path / "out").exists()


def test_deblur_keeps_existing_outputs_unless_overwrite(tmp_path, capsys):
    src = _image(tmp_path / "in" / "a.png")
    _image(tmp_path / "in" / "b.png", seed=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"earlier result")
    args = ["deblur", str(tmp_path / "in"), "--model", "filter-unpaired-A", "--out", str(out),
            "--tile", "128", "--quiet"]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert "kept 1 existing output(s) (pass --overwrite to replace them): a.png" in captured.out
    assert (out / "a.png").read_bytes() == b"earlier result"
    assert images.read_image(out / "b.png").shape == (128, 140)
    assert cli.main(args + ["--overwrite"]) == 0
    assert images.read_image(out / "a.png").shape == images.read_image(src).shape
    assert "deblurred 2 image(s)" in capsys.readouterr().out


def test_deblur_progress_bar_on_stderr_and_quiet(tmp_path, capsys):
    _image(tmp_path / "in" / "a.png")
    args = ["deblur", str(tmp_path / "in"), "--model", "A", "--tile", "128", "--out"]
    assert cli.main(args + [str(tmp_path / "o1")]) == 0
    captured = capsys.readouterr()
    assert "deblur: 100%" in captured.err and "1/1" in captured.err
    assert "a.png ->" in captured.out
    assert cli.main(args + [str(tmp_path / "o2"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_deblur_unknown_model_name(tmp_path, capsys):
    _image(tmp_path / "a.png")
    assert cli.main(["deblur", str(tmp_path / "a.png"), "--model", "cyclegan-B",
                     "--out", str(tmp_path / "out")]) == 2
    assert "unknown model 'cyclegan-B'; expected one of A, B, C" in _error_line(capsys)


def test_deblur_foreign_weights_are_one_line(tmp_path, capsys):
    import keras

    inputs = keras.Input((None, None, 1))
    keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs)).save(
        tmp_path / "random.keras")
    _image(tmp_path / "a.png")
    assert cli.main(["deblur", str(tmp_path / "a.png"), "--weights",
                     str(tmp_path / "random.keras"), "--out", str(tmp_path / "out")]) == 2
    line = _error_line(capsys)
    assert "random.keras is a Keras model but not a semgan generator" in line
    assert "\x1b" not in line and not (tmp_path / "out").exists()


def test_tensorflow_start_up_logs_are_hidden(tmp_path):
    _image(tmp_path / "a.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    command = [sys.executable, "-m", "semgan_core", "deblur", str(tmp_path / "a.png"),
               "--model", "A", "--tile", "128", "--quiet"]
    proc = subprocess.run(command + ["--out", str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for noise in ("cuInit", "I0000", "E0000", "absl::InitializeLog"):
        assert noise not in proc.stderr
    verbose = subprocess.run([sys.executable, "-m", "semgan_core", "--verbose", *command[3:],
                              "--out", str(tmp_path / "out2")], capture_output=True,
                             text=True, env=env, timeout=300)
    assert verbose.returncode == 0 and "I0000" in verbose.stderr  # what this test guards


def test_evaluate_names_the_test_image_of_another_size(tmp_path, capsys):
    data = tmp_path / "data"
    for folder in ("testA", "testA_gt"):
        _image(data / folder / "a.png", shape=(128, 128))
    _image(data / "testA" / "b.png", shape=(128, 128))
    _image(data / "testA_gt" / "b.png", shape=(128, 160))
    status = cli.main(["evaluate", "--degradation", "A", "--data", str(data), "--out",
                       str(tmp_path / "eval"), "--quiet"])
    assert status == 2
    line = _error_line(capsys)
    assert f"{data / 'testA_gt' / 'b.png'} is 128x160 pixels" in line
    assert "is 128x128" in line


def test_evaluate_refuses_a_foreign_generator(tmp_path, capsys):
    import keras

    inputs = keras.Input((None, None, 1))
    keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs)).save(
        tmp_path / "random.keras")
    status = cli.main(["evaluate", "--degradation", "A", "--weights",
                       str(tmp_path / "random.keras"), "--n", "1", "--out",
                       str(tmp_path / "eval"), "--quiet"])
    assert status == 2
    assert "random.keras is a Keras model but not a semgan generator" in _error_line(capsys)
    assert not (tmp_path / "eval").exists()


# --- make-pairs: the restorer's training pairs from a dataset's clear images -----------

@pytest.fixture(scope="module")
def tiny_unpaired(tmp_path_factory):
    """An unpaired folder of 128-pixel images: trainA blurred with shot noise, trainB
    clear, from different synthetic fields."""
    from semgan_core import kernels, noise, synth

    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    for i in range(4):
        clear = synth.micrograph(128, rng=rng)[0]
        blurred = kernels.convolve(synth.micrograph(128, rng=rng)[0], kernels.ASSUMED_PSF)
        images.write_image(root / "trainA" / f"{i}.png",
                           noise.add_noise(blurred, noise.NoiseModel(sigma=0.02), rng=rng))
        images.write_image(root / "trainB" / f"{i}.png", clear)
    return root


def _manifest(folder):
    import json

    return json.loads((folder / "manifest.json").read_text())


def test_make_pairs_writes_a_paired_folder(tiny_unpaired, tmp_path, capsys):
    out = tmp_path / "pairs"
    assert cli.main(["make-pairs", str(tiny_unpaired), "--out", str(out), "--n-pairs", "6",
                     "--size", "128"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"wrote 6 pairs (128x128) to {out}; degrader psf; noise level "
                           "median 0.0")
    assert len(line.splitlines()) == 1 and "fog" not in line
    for folder, count in (("trainA", 2), ("trainA_gt", 2), ("testA", 4), ("testA_gt", 4)):
        assert len(list((out / folder).glob("*.png"))) == count
    manifest = _manifest(out)
    assert manifest["degrader"] == "psf" and manifest["n_pairs"] == 6
    assert float(line.rsplit(" ", 1)[1]) == pytest.approx(manifest["noise_levels"]["0.5"],
                                                          abs=1e-4)


def test_make_pairs_passes_its_options_on(tiny_unpaired, tmp_path, capsys):
    out = tmp_path / "pairs"
    assert cli.main(["make-pairs", str(tiny_unpaired), "--out", str(out), "--n-pairs", "5",
                     "--size", "128", "--p-sharp", "0", "--p-clean", "1", "--strength",
                     "0.5", "0.7", "--seed", "3", "--extra-clear", str(tiny_unpaired),
                     "--scaling", "mix"]) == 0
    manifest = _manifest(out)
    assert (manifest["p_sharp"], manifest["p_clean"], manifest["strength"],
            manifest["seed"], manifest["scaling"]) == (0.0, 1.0, [0.5, 0.7], 3, "mix")
    assert manifest["extra_clear"] == [str(tiny_unpaired)]
    assert all(0.5 <= r["strength"] <= 0.7 and r["sigma"] == 0
               for r in manifest["images"].values())


def test_make_pairs_defaults_are_the_librarys(capsys):
    import inspect

    from semgan_core import restorer

    args = cli.build_parser().parse_args(["make-pairs", "DATA", "--out", "OUT"])
    defaults = {k: p.default for k, p in
                inspect.signature(restorer.make_pair_dataset).parameters.items()}
    assert (args.degrader, args.seed, args.extra_clear) == ("psf", defaults["seed"], [])
    # unset options are left to the library; the help states its defaults
    assert (args.n_pairs, args.size, args.p_sharp, args.p_clean, args.p_fogless,
            args.fog_power, args.p_low_contrast, args.contrast, args.row_correlation,
            args.strength, args.scaling) == (None,) * 11
    assert args.low_contrast_fogless is False and defaults["low_contrast_fog"] is True
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["make-pairs", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for text in (f"at least {restorer.N_SAMPLES + 1} (default {defaults['n_pairs']})",
                 f"(default {defaults['size']})", f"(default {restorer.P_SHARP})",
                 f"(default {restorer.P_CLEAN})",
                 f"made without fog, so a light blur without haze is not dehazed (default "
                 f"{restorer.P_FOGLESS:g})",
                 f"(default {restorer.STRENGTH[0]} {restorer.STRENGTH[1]})",
                 f"and the full blur with the full fog (default {restorer.FOG_POWER:g})",
                 f"not taken for a fogged one (default {restorer.P_LOW_CONTRAST:g})",
                 f"(default {restorer.CONTRAST[0]:g} {restorer.CONTRAST[1]:g})",
                 "grey levels (default: fogged like the other pairs)",
                 f"along the scan line (default {restorer.ROW_CORRELATION[0]:g} "
                 f"{restorer.ROW_CORRELATION[1]:g}: white noise)",
                 f"mean blur (default {restorer.P_GAUSSIAN:g})",
                 f"(default {restorer.GAUSSIAN_SIGMA[0]:g} {restorer.GAUSSIAN_SIGMA[1]:g})",
                 "train --paired", "clear images", "unpaired blurred images"):
        assert text in help_text, text


def test_make_pairs_with_fog_reports_the_fit_without_tensorflow(tiny_unpaired, tmp_path):
    out = tmp_path / "pairs"
    code = ("import sys; from semgan_core import cli; "
            f"status = cli.main(['make-pairs', {str(tiny_unpaired)!r}, '--out', "
            f"{str(out)!r}, '--degrader', 'psf+fog', '--n-pairs', '5', '--size', '128', "
            "'--p-fogless', '0.5', '--fog-power', '3', '--p-low-contrast', '0.4', '--contrast', '0.5', "
            "'0.7', '--low-contrast-fogless', '--row-correlation', '0', '1', '--p-gaussian', '0.2', "
            "'--gaussian-sigma', '0.4', '0.9']); "
            "print('tensorflow imported:', 'tensorflow' in sys.modules); sys.exit(status)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary, imported = proc.stdout.strip().splitlines()
    assert imported == "tensorflow imported: False"
    fog = _manifest(out)["fog"]
    assert (_manifest(out)["p_fogless"], _manifest(out)["fog_power"]) == (0.5, 3)
    assert (_manifest(out)["p_low_contrast"], _manifest(out)["contrast"]) == (0.4, [0.5, 0.7])
    assert _manifest(out)["low_contrast_fog"] is False
    assert _manifest(out)["row_correlation"] == [0.0, 1.0]
    assert (_manifest(out)["p_gaussian"], _manifest(out)["gaussian_sigma"]) == (0.2, [0.4, 0.9])
    assert (f"degrader psf+fog; fitted fog: airlight {fog['airlight']:.2f}, "
            f"tau {fog['tau'][0]:g}-{fog['tau'][1]:g}; noise level median") in summary


def test_make_pairs_with_a_generator_file(tiny_unpaired, generator_file, tmp_path, capsys):
    out = tmp_path / "pairs"
    assert cli.main(["make-pairs", str(tiny_unpaired), "--out", str(out), "--degrader",
                     str(generator_file), "--n-pairs", "5", "--size", "128"]) == 0
    assert f"degrader {generator_file};" in capsys.readouterr().out
    manifest = _manifest(out)
    assert manifest["degrader"] == "generator" and manifest["path"] == str(generator_file)
    assert manifest["scaling"] == "mix"                  # a generator cannot be weakened


def test_make_pairs_scaling_choices_are_the_librarys(capsys):
    from semgan_core import restorer

    with pytest.raises(SystemExit):
        cli.main(["make-pairs", "DATA", "--out", "OUT", "--scaling", "power"])
    assert "invalid choice: 'power'" in capsys.readouterr().err
    action = next(a for a in cli.build_parser()._subparsers._group_actions[0]
                  .choices["make-pairs"]._actions if a.dest == "scaling")
    assert tuple(action.choices) == restorer.SCALINGS


@pytest.mark.parametrize("case", ["missing data", "bad degrader", "missing generator",
                                  "bad size", "taken out"])
def test_make_pairs_bad_input_is_one_line(tiny_unpaired, tmp_path, capsys, case):
    data, out, extra = tiny_unpaired, tmp_path / "pairs", []
    if case == "missing data":
        data = tmp_path / "no_such_data"
        message = f"make_pair_dataset: dataset {str(data)!r} is not a folder"
    elif case == "bad degrader":
        extra = ["--degrader", "wiener"]
        message = ("make_pair_dataset: degrader must be psf, psf+fog or a generator .keras "
                   "file, got 'wiener'")
    elif case == "missing generator":
        extra = ["--degrader", str(tmp_path / "F.keras")]
        message = f"make_pair_dataset: degrader {str(tmp_path / 'F.keras')!r} is not a file"
    elif case == "bad size":
        extra = ["--size", "100"]
        message = "make_pair_dataset: size"
    else:
        out.mkdir()
        (out / "keep.txt").write_text("keep")
        message = "exists and is not empty"
    status = cli.main(["make-pairs", str(data), "--out", str(out), "--n-pairs", "5", *extra])
    assert status == 2
    assert message in _error_line(capsys)
    assert not out.exists() or [p.name for p in out.iterdir()] == ["keep.txt"]
