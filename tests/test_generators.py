"""Tests of semgan_core.generators: the one saver and loader, and the shipped models."""

import json
import zipfile

import numpy as np
import pytest

import keras

from semgan_core import filtergen, generators, images, models

#: The metadata of the ``generator_file`` fixture (``tests/conftest.py``).
META = {"generator": "unet", "mode": "unpaired", "degradation": "B", "recipe": "paper"}


def _batch():
    rng = np.random.default_rng(0)
    return images.to_model_range(rng.random((1, 128, 128), dtype=np.float32))[..., None]


def test_save_and_load_round_trip(generator, generator_file):
    loaded = generators.load_generator(generator_file)
    np.testing.assert_allclose(np.asarray(loaded(_batch(), training=False)),
                               np.asarray(generator(_batch(), training=False)), atol=1e-6)
    meta = generators.read_metadata(generator_file)
    assert meta["format"] == generators.FORMAT and meta["degradation"] == "B"
    assert meta["name"] == "unet-cyclegan" and meta["label"] == "U-Net CycleGAN (paper)"
    assert meta["semgan_version"]
    assert [p.name for p in generator_file.parent.iterdir()] == ["G.keras"]  # no temp file


def test_save_refuses_bad_metadata_and_names(generator, tmp_path):
    with pytest.raises(ValueError, match=r"metadata\['mode'\] must be one of 'unpaired', "
                                         r"'paired', 'synthesized-pairs', got 'cyclegan'"):
        generators.save_generator(generator, tmp_path / "g.keras",
                                  metadata={**META, "mode": "cyclegan"})
    with pytest.raises(ValueError, match=r"g\.h5: the file name must end in \.keras"):
        generators.save_generator(generator, tmp_path / "g.h5", metadata=META)
    with pytest.raises(TypeError, match="metadata must be a dict"):
        generators.save_generator(generator, tmp_path / "g.keras", metadata=None)
    assert list(tmp_path.iterdir()) == []


def test_missing_file_folder_and_other_extension(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_generator: no such file: .*none\.keras"):
        generators.load_generator(tmp_path / "none.keras")
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(FileNotFoundError, match=r"load_generator: a folder: .*dir\.keras"):
        generators.load_generator(tmp_path / "dir.keras")
    (tmp_path / "g.h5").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"g\.h5: expected a \.keras generator file"):
        generators.load_generator(tmp_path / "g.h5")


@pytest.mark.parametrize("content", [b"not a zip", "half"])
def test_truncated_or_corrupt_archive(generator_file, tmp_path, content):
    bad = tmp_path / "bad.keras"
    data = generator_file.read_bytes()
    bad.write_bytes(data[: len(data) // 2] if content == "half" else content)
    with pytest.raises(ValueError) as info:
        generators.load_generator(bad)
    message = str(info.value)
    assert "bad.keras is not a valid .keras archive (truncated or corrupt)" in message
    assert "\n" not in message and "\x1b" not in message


def test_foreign_keras_model_is_refused_before_use(tmp_path):
    inputs = keras.Input((None, None, 1))
    conv = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs))
    conv.save(tmp_path / "conv.keras")
    with pytest.raises(ValueError, match=r"conv\.keras is a Keras model but not a semgan "
                                         r"generator: it has layers InputLayer, Conv2D and "
                                         r"no semgan metadata"):
        generators.load_generator(tmp_path / "conv.keras")
    dense = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    path = generators.save_generator(dense, tmp_path / "dense.keras", metadata=META)
    with pytest.raises(ValueError, match=r"dense\.keras is a Keras model but not a semgan "
                                         r"generator: .* layers Dense that semgan's "
                                         r"generators do not use"):
        generators.load_generator(path)


def test_unknown_metadata_format(generator_file, tmp_path):
    path = _copy(generator_file, tmp_path / "g.keras")
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[generators.MEMBER] = json.dumps({**META, "format": "other/9"}).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"format 'other/9' is not understood"):
        generators.load_generator(path)


def _copy(source, target):
    target.write_bytes(source.read_bytes())
    return target


def test_keras_errors_are_one_line_without_ansi(generator_file, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("\x1b[1mRequested the deserialization of a Lambda\x1b[0m\nline two")

    monkeypatch.setattr(keras.saving, "load_model", fail)
    with pytest.raises(ValueError) as info:
        generators.load_generator(generator_file)
    assert str(info.value).endswith("ValueError: Requested the deserialization of a Lambda "
                                    "line two")
    assert "\x1b" not in str(info.value)


def test_write_metadata_keeps_the_weights(generator_file, tmp_path):
    path = _copy(generator_file, tmp_path / "copy.keras")
    generators.write_metadata(path, {**META, "degradation": "C", "note": "x"})
    with zipfile.ZipFile(generator_file) as a, zipfile.ZipFile(path) as b:
        assert a.read("model.weights.h5") == b.read("model.weights.h5")
    assert generators.read_metadata(path)["degradation"] == "C"


def test_layer_classes_cover_every_generator():
    built = [models.build_generator(0.0625), filtergen.build_filter_generator(5),
             filtergen.build_filter_generator(5, tone="none")]
    for model in built:
        assert {type(layer).__name__ for layer in model.layers} <= generators.LAYER_CLASSES


@pytest.mark.parametrize("name", sorted(generators.SHIPPED))
def test_shipped_models_load_with_their_metadata(name):
    path = generators.shipped_path(name)
    meta = generators.read_metadata(path)
    assert f"{meta['name']}-{meta['degradation']}" == name
    kind = "unet" if name.startswith("unet-") else "filter"
    assert meta["generator"] == kind and path.name == generators.SHIPPED[name]
    model = generators.load_shipped(name)
    assert model(_batch()).shape == (1, 128, 128, 1)


def test_shipped_names_and_defaults():
    assert generators.shipped_path("A") == generators.shipped_path("unet-restorer-A")
    assert generators.shipped_path("filter-unpaired-A").name == "filter_unpaired_A.keras"
    assert generators.shipped_path("filter-paired-C").name == "filter_paired_C.keras"
    with pytest.raises(ValueError, match=r"unknown model 'cyclegan-A'; expected one of A, "
                                         r"B, C, unet-restorer-A"):
        generators.shipped_path("cyclegan-A")


def _ship_weights():
    """The ``scripts/ship_weights.py`` script as a module."""
    import importlib.util

    script = generators.WEIGHTS_DIR.parent / "scripts" / "ship_weights.py"
    spec = importlib.util.spec_from_file_location("ship_weights", script)
    ship_weights = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship_weights)
    return ship_weights


def test_ship_weights_refuses_a_run_of_another_generator(generator_file):
    import argparse

    args = argparse.Namespace(kind="filter-unpaired", run="RUN")
    report = {"config": {"recipe": "paper"}, "generator_path": str(generator_file)}
    with pytest.raises(ValueError, match=r"ship_weights: RUN trained a unet generator in "
                                         r"mode unpaired, not filter-unpaired"):
        _ship_weights()._metadata(report, {}, args)


def test_ship_weights_records_and_shows_the_warm_start(generator, tmp_path):
    import argparse

    pairs = {"kind": "restorer-pairs", "n_pairs": 6000, "size": 128, "data_dir": "data/A",
             "degradation": "A", "degrader": "psf+fog", "fog": None, "p_sharp": 0.3,
             "p_clean": 0.3, "strength": [0.1, 1.3], "scaling": "otf", "seed": 0}
    meta = {"generator": "unet", "mode": "synthesized-pairs", "degradation": "A"}
    start = generators.save_generator(generator, tmp_path / "start.keras", metadata={
        **meta, "training": {"steps": 6000, "wall_time_s": 1656.0, "data": pairs}})
    trained = generators.save_generator(generator, tmp_path / "G.keras", metadata=meta)
    report = {"config": {"init_generator": str(start)}, "generator_path": str(trained),
              "steps": 1200, "seed": 0, "total_wall_time_s": 600.0,
              "seconds_per_step": 0.5, "versions": {}, "final_losses": {"total": 1.0}}
    args = argparse.Namespace(kind="unet-restorer", run="RUN", degradation="A", note="",
                              data_command="D", train_command="T")
    ship_weights = _ship_weights()
    shipped = ship_weights._metadata(report, {**pairs, "row_correlation": [0, 1]}, args)
    assert shipped["training"]["warm_start"] == {"file": str(start), "steps": 6000,
                                                 "wall_time_s": 1656.0, "data": pairs}
    text = ship_weights.card({**shipped, "name": "unet-restorer", "label": "L"}, "G.keras",
                             1024, 10)
    row = next(line for line in text.splitlines() if line.startswith("| warm start |"))
    assert "continue a generator trained for 6000 steps, 27.6 min on `make_pair_dataset`" in row
    assert "correlated" not in row                      # the start's data, not the fine-tune's
    assert "| steps | 1200 |" in text
    report["config"] = {"init_generator": str(tmp_path / "moved.keras")}
    moved = ship_weights._metadata(report, pairs, args)["training"]["warm_start"]
    assert ship_weights._warm_start_row(moved) == (
        f"the steps above continue the generator {tmp_path / 'moved.keras'} (its training "
        "was not recorded)")
    report["config"] = {}
    assert "warm_start" not in ship_weights._metadata(report, pairs, args)["training"]


def test_model_cards_are_rendered_from_the_metadata():
    ship_weights = _ship_weights()
    for name in generators.SHIPPED:
        path = generators.shipped_path(name)
        card = path.with_name(f"MODEL_CARD_{path.stem}.md").read_text()
        model = generators.load_generator(path)
        assert card == ship_weights.card(generators.read_metadata(path), path.name,
                                         path.stat().st_size, model.count_params())
        assert "cyclegan" not in card.lower().replace("u-net cyclegan", "")


def test_model_card_data_row_names_the_pair_synthesis():
    data = {"kind": "restorer-pairs", "n_pairs": 6000, "size": 128, "data_dir": "data/B",
            "extra_clear": ["data/B-real"], "degradation": "B", "degrader": "psf+fog",
            "fog": {"airlight": 0.8, "tau": [1.0, 1.0]}, "p_sharp": 0.3, "p_clean": 0.3,
            "strength": [0.1, 1.3], "scaling": "otf", "seed": 0}
    row = _ship_weights()._data_row(data)
    assert ("fog airlight 0.80, tau 1.00-1.00), 0.3 of them unblurred, 0.3 noise-free, "
            "blur strength [0.1, 1.3] (scaling otf), seed 0") in row
    assert "without fog" not in row
    row = _ship_weights()._data_row({**data, "p_fogless": 0.6})
    assert "0.3 noise-free, 0.6 of the blurred ones without fog, blur strength" in row
    assert "contrast" not in row
    # a manifest from before the option (None) or with its default (1) names no power
    assert "power" not in row and all("power" not in _ship_weights()._data_row(
        {**data, "fog_power": power}) for power in (None, 1.0))
    row = _ship_weights()._data_row({**data, "p_fogless": 0.5, "fog_power": 3.0})
    assert ("0.5 of the blurred ones without fog, fog depth growing as the blur strength "
            "to the power 3, blur strength") in row
    row = _ship_weights()._data_row({**data, "p_fogless": 0.5, "p_low_contrast": 0.3,
                                     "contrast": [0.25, 1.0]})
    assert ("0.5 of the blurred ones without fog, 0.3 with the clear crop's contrast "
            "scaled by 0.25-1, blur strength") in row
    assert "never fogged" not in row and "never fogged" not in _ship_weights()._data_row(
        {**data, "p_low_contrast": 0.3, "contrast": [0.25, 1.0], "low_contrast_fog": True})
    row = _ship_weights()._data_row({**data, "p_low_contrast": 0.5, "contrast": [0.15, 1.0],
                                     "low_contrast_fog": False})
    assert ("0.5 with the clear crop's contrast scaled by 0.15-1 (never fogged), blur "
            "strength") in row
    assert "correlated" not in row
    row = _ship_weights()._data_row({**data, "row_correlation": [0.0, 1.5]})
    assert ("0.3 noise-free, noise correlated along rows or columns over 0-1.5 px, blur "
            "strength") in row
