"""Tests for semgan_core.crops: source images (folders, bad files) and the crop plan."""

import logging

import numpy as np
import pytest

from semgan_core import cli, crops, datasets, images, synth

SMALL = dict(n_crops=12, size=128, n_source=None, progress=False, processes=1)
LOGGER = "semgan_core.datasets"


@pytest.fixture
def source_dir(tmp_path):
    """Four readable 150x170 micrographs (two in a sub-folder) and a text file."""
    folder = tmp_path / "clean"
    (folder / "sub").mkdir(parents=True)
    for i in range(4):
        image, _ = synth.micrograph((150, 170), rng=i)
        images.write_image(folder / ("sub" if i % 2 else ".") / f"m{i}.png", image)
    (folder / "notes.txt").write_text("not an image")
    return folder


def _add_bad_files(folder):
    """An unreadable PNG, an empty TIFF and an image smaller than 128 px."""
    (folder / "bad.png").write_bytes(b"this is not a PNG file")
    (folder / "sub" / "empty.tif").write_bytes(b"")
    images.write_image(folder / "tiny.png", synth.micrograph(64, rng=9)[0])


def test_real_source_folder(source_dir, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        manifest = datasets.make_dataset(tmp_path / "ds", degradation="B", source=source_dir,
                                         **SMALL)
    # notes.txt is skipped, and said so in one line
    notes = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(notes) == 1 and "\n" not in notes[0]
    assert "skipped 1 other file, e.g. notes.txt (not .png/" in notes[0]
    assert str(source_dir) in notes[0]
    assert manifest["skipped_files"] == ["notes.txt"] and "bad_files" not in manifest
    assert sorted(s["name"] for s in manifest["sources"]) == ["m0.png", "m2.png",
                                                             "sub/m1.png", "sub/m3.png"]
    assert manifest["source"] == str(source_dir)
    assert all(s["shape"] == [150, 170] for s in manifest["sources"])
    assert manifest["counts"]["testA"] + manifest["counts"]["trainA"] == 12


def test_source_errors(source_dir, tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.make_dataset(out, source=tmp_path / "missing", **SMALL)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds 0 image files"):
        datasets.make_dataset(out, source=tmp_path / "empty", **SMALL)
    one = tmp_path / "one"
    one.mkdir()
    images.write_image(one / "ok.png", synth.micrograph(160, rng=0)[0])
    (one / "ok.gif").write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match=r"holds 1 image file \(.png/.*\); skipped 1 other "
                       r"file, e.g. ok.gif; need at least 2"):
        datasets.make_dataset(out, source=one, **SMALL)
    with pytest.raises(ValueError, match="4 bad files of 4: m0.png .*smaller than the crop "
                       "size 256"):
        datasets.make_dataset(out, source=source_dir, **dict(SMALL, size=256))
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_every_bad_file_is_named_in_one_message(source_dir, tmp_path):
    _add_bad_files(source_dir)
    with pytest.raises(ValueError) as error:
        datasets.make_dataset(tmp_path / "ds", source=source_dir, **SMALL)
    message = str(error.value)
    assert "\n" not in message and message.startswith("make_dataset: source folder")
    assert "3 bad files of 7: bad.png (" in message
    assert "sub/empty.tif (" in message and "corrupt" in message
    assert "tiny.png (64x64 pixels without its info bar, smaller than the crop size 128)" \
        in message
    assert "pass skip_bad=True (--skip-bad) to use the other images" in message
    assert not (tmp_path / "ds").exists()


def test_skip_bad_continues_with_the_good_files(source_dir, tmp_path, caplog):
    clean = datasets.make_dataset(tmp_path / "reference", source=source_dir, **SMALL)
    _add_bad_files(source_dir)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        manifest = datasets.make_dataset(tmp_path / "ds", source=source_dir, skip_bad=True,
                                         **SMALL)
    warned = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert warned == [f"make_dataset: source folder {str(source_dir)!r}: left out 3 bad "
                      "files: bad.png, sub/empty.tif, tiny.png"]
    assert manifest["bad_files"] == ["bad.png", "sub/empty.tif", "tiny.png"]
    assert manifest["sources"] == clean["sources"]  # the good ones, as without bad files
    for folder in ("trainA", "testA"):
        for name in crops.list_images(tmp_path / "reference" / folder):
            assert (tmp_path / "ds" / folder / name.name).read_bytes() == name.read_bytes()
    for path in ("m0.png", "sub/m1.png", "m2.png"):
        (source_dir / path).unlink()
    with pytest.raises(ValueError, match="holds 1 good image file after leaving out 3 bad "
                       "files; need at least 2"):
        datasets.make_dataset(tmp_path / "few", source=source_dir, skip_bad=True, **SMALL)


def test_cli_lists_bad_files_and_skips_them(source_dir, tmp_path, capsys):
    _add_bad_files(source_dir)
    args = ["make-dataset", "--degradation", "A", "--source", str(source_dir), "--n-crops",
            "8", "--size", "128", "--quiet", "--out", str(tmp_path / "ds")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(n in err for n in ("bad.png", "empty.tif", "tiny.png"))
    assert cli.main([*args, "--skip-bad"]) == 0
    assert "trainA" in capsys.readouterr().out
    assert datasets.read_manifest(tmp_path / "ds")["bad_files"] == [
        "bad.png", "sub/empty.tif", "tiny.png"]


# ---------------------------------------------------------------- the plan
def test_plan_splits_sources_and_names_crops():
    sources = [{"index": i} for i in range(10)]
    plan = crops.plan_crops(sources, 40, (0.1, 0.1), seed=0, strict=False)
    assert [c["id"] for c in plan] == list(range(40))
    assert [c["name"] for c in plan[:2]] == ["00000.png", "00001.png"]
    roles = {c["role"] for c in plan}
    assert roles == {"test", "val", "train"}
    by_role = {r: {c["source"] for c in plan if c["role"] == r} for r in roles}
    assert not by_role["test"] & by_role["train"] and not by_role["val"] & by_role["train"]
    assert sum(c["role"] == "test" for c in plan) == 4
    assert {s["split"] for s in sources} == roles
    again = crops.plan_crops([{"index": i} for i in range(10)], 40, (0.1, 0.1), seed=0,
                             strict=False)
    assert again == plan
    assert crops.plan_crops([{"index": i} for i in range(10)], 40, (0.1, 0.1), seed=1,
                            strict=False) != plan


def test_synthetic_sources_are_seeded_descriptions():
    described, info = crops.describe_sources("synthetic", None, 20, 128, 7, strict=False)
    assert info == {"source": "synthetic"} and len(described) == 3   # ceil(20 / 8)
    assert described[1] == {"index": 1, "name": "synthetic_00001", "kind": "mixed",
                            "entropy": [7, 0, 1], "shape": [256, 256]}


def test_procedural_sources_are_made_once_and_the_cache_is_bounded(monkeypatch):
    made = []
    original = crops.synth.micrograph
    monkeypatch.setattr(crops.synth, "micrograph",
                        lambda *a, **k: made.append(a) or original(*a, **k))
    monkeypatch.setattr(crops, "_SOURCE_CACHE_BYTES", 3 * 32 * 32 * 4)  # three 32x32 images
    crops._SOURCE_CACHE.clear()
    first = crops._synthesised((32, 32), "particles", (0, 1, 2))
    again = crops._synthesised((32, 32), "particles", (0, 1, 2))
    assert again is first and len(made) == 1 and not first.flags.writeable
    fresh, _ = original((32, 32), kind="particles", rng=np.random.default_rng((0, 1, 2)))
    np.testing.assert_array_equal(first, fresh)          # the same image as uncached
    for k in range(3, 7):
        crops._synthesised((32, 32), "particles", (0, 1, k))
    assert len(crops._SOURCE_CACHE) == 3                  # the oldest went first
    assert ((32, 32), "particles", (0, 1, 2)) not in crops._SOURCE_CACHE
    crops._SOURCE_CACHE.clear()
