"""The real-data locator and the result-file writer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from semgan_core import realdata, results


def test_env_var_pointing_nowhere_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(realdata.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="SEMGAN_REAL_DATA points to .*nope"):
        realdata.real_data_dir()


def test_env_var_selects_folder(monkeypatch, tmp_path):
    (tmp_path / "nanoballs-sio2").mkdir()
    (tmp_path / "nanoballs-sio2" / "a.tif").write_bytes(b"")
    (tmp_path / "nanoballs-sio2" / "a_label.tif").write_bytes(b"")
    monkeypatch.setenv(realdata.ENV_VAR, str(tmp_path))
    assert realdata.real_data_dir() == tmp_path
    assert [p.name for p in realdata.list_real_images("sio2")] == ["a.tif"]
    assert realdata.list_real_images("ncm") == []  # folder absent


def test_unknown_subset():
    with pytest.raises(ValueError, match="unknown subset 'gold'"):
        realdata.list_real_images("gold")


def test_shared_collection_when_present():
    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    ncm = realdata.list_real_images("ncm")
    assert len(ncm) == 110 and all(p.suffix == ".jpg" for p in ncm)
    assert len(realdata.list_real_images("sio2")) == 7


def test_record_writes_config_seed_versions(tmp_path):
    path = results.record(tmp_path, "demo", {"psnr": np.float32(31.5), "arr": np.arange(3)},
                          config={"width": 0.25}, seed=3)
    payload = json.loads(path.read_text())
    assert payload["values"] == {"psnr": 31.5, "arr": [0, 1, 2]}
    assert payload["seed"] == 3 and payload["config"]["width"] == 0.25
    assert "numpy" in payload["versions"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_write_json_keeps_old_file_on_failure(tmp_path):
    path = results.write_json(tmp_path / "r.json", {"a": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        results.write_json(path, {"a": Unserialisable()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
