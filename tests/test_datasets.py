"""Tests for semgan_core.datasets: building datasets on disk, the manifest, test pairs."""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from semgan_core import cli, crops, datasets, degrade, images, kernels, synth

SMALL = dict(n_crops=20, size=128, n_source=5, progress=False, processes=1)


@pytest.fixture(scope="module")
def dataset_c(tmp_path_factory):
    """Degradation C (fog and three kernels), default pairing: 18 train and 2 test crops."""
    out = tmp_path_factory.mktemp("ds") / "C"
    return out, datasets.make_dataset(out, degradation="C", seed=3, **SMALL)


@pytest.fixture(scope="module")
def dataset_strict(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "strict"
    return out, datasets.make_dataset(out, degradation="A", seed=1, strict_unpaired=True,
                                      **dict(SMALL, n_crops=12, n_source=6))


def _names(folder):
    return [p.name for p in datasets.list_images(folder)]


def _sources_of(manifest, folder):
    return {r["source"] for r in manifest["images"].values() if folder in r["folders"]}


def _redegrade(clean, info):
    """Apply the degradation an info dict describes (blur, then fog) to ``clean``."""
    out = kernels.convolve(clean, degrade.kernel_from_info(info))
    if info["fog"] is not None:
        out = degrade.fog(out, beta=info["fog"]["beta"], airlight=info["fog"]["airlight"],
                          depth=degrade.depth_from_info(info, out.shape))
    return out


# ---------------------------------------------------------------- make_dataset: layout
def test_layout_and_counts(dataset_c):
    out, manifest = dataset_c
    assert sorted(p.name for p in out.iterdir()) == sorted([*datasets.FOLDERS, "manifest.json"])
    assert manifest["counts"] == {"trainA": 18, "trainB": 18, "trainA_gt": 18, "testA": 2,
                                  "testB": 2, "testA_gt": 2, "sources_train": 4,
                                  "sources_test": 1}
    for folder in datasets.FOLDERS:
        assert len(_names(out / folder)) == manifest["counts"][folder]
    assert _names(out / "testA") == _names(out / "testA_gt") == _names(out / "testB")
    # default pairing (the paper's): domain B holds the clean originals of domain A
    assert _names(out / "trainA") == _names(out / "trainB") == _names(out / "trainA_gt")
    name = _names(out / "trainB")[0]
    assert (out / "trainB" / name).read_bytes() == (out / "trainA_gt" / name).read_bytes()
    image = images.read_image(out / "trainA" / name)
    assert image.shape == (128, 128) and image.dtype == np.float32
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_manifest_contents(dataset_c):
    out, manifest = dataset_c
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert on_disk == datasets.read_manifest(out)
    assert (manifest["degradation"], manifest["seed"], manifest["size"]) == ("C", 3, 128)
    assert manifest["format"] == "semgan-dataset/2" and "recipe" not in manifest
    assert (manifest["noise"], manifest["clear_noise"]) == (None, None)
    assert manifest["source"] == "synthetic" and len(manifest["sources"]) == 5
    assert {"numpy", "python"} <= set(manifest["versions"])
    assert sorted(manifest["images"]) == sorted(_names(out / "trainA") + _names(out / "testA"))
    for record in manifest["images"].values():
        y0, x0, y1, x1 = record["box"]
        h, w = manifest["sources"][record["source"]]["shape"]
        assert 0 <= y0 and y1 == y0 + 128 <= h and 0 <= x0 and x1 == x0 + 128 <= w
        assert record["rot90"] in range(4) and isinstance(record["flip"], bool)
        assert record["degradation"]["degradation"] == "C" and record["degradation"]["fog"]
    kernels = {r["degradation"]["kernels"][0]["type"] for r in manifest["images"].values()}
    assert len(kernels) > 1  # hybrid: one kernel drawn per image


def test_split_by_source(dataset_c):
    _, manifest = dataset_c
    test, train = _sources_of(manifest, "testA"), _sources_of(manifest, "trainA")
    assert test and train and not test & train
    assert _sources_of(manifest, "trainB") == train
    splits = {s["index"]: s["split"] for s in manifest["sources"]}
    assert all(splits[s] == "test" for s in test) and all(splits[s] == "train" for s in train)


def test_strict_unpaired_domains_are_disjoint(dataset_strict):
    out, manifest = dataset_strict
    a, b = _sources_of(manifest, "trainA"), _sources_of(manifest, "trainB")
    assert a and b and not a & b and not (a | b) & _sources_of(manifest, "testA")
    assert not set(_names(out / "trainA")) & set(_names(out / "trainB"))
    assert _names(out / "trainA") == _names(out / "trainA_gt")
    counts = manifest["counts"]
    assert counts["trainA"] == counts["trainB"] == 12 - counts["testA"]
    assert manifest["strict_unpaired"] is True


def test_same_seed_same_files_any_process_count(dataset_c, tmp_path):
    out, _ = dataset_c
    again = tmp_path / "again"
    datasets.make_dataset(again, degradation="C", seed=3, **dict(SMALL, processes=2))
    for folder in datasets.FOLDERS:
        assert _names(again / folder) == _names(out / folder)
        for name in _names(out / folder):
            assert (again / folder / name).read_bytes() == (out / folder / name).read_bytes()
    other = tmp_path / "other"
    datasets.make_dataset(other, degradation="C", seed=4, **SMALL)
    name = _names(other / "testA")[0]
    assert not (out / "testA" / name).exists() or (
        (out / "testA" / name).read_bytes() != (other / "testA" / name).read_bytes())


def test_blurred_is_the_degraded_clean(dataset_c):
    out, _ = dataset_c
    blurred, clean, names, infos = datasets.load_test_pairs(out)
    assert blurred.shape == clean.shape == (2, 128, 128) and blurred.dtype == np.float32
    assert names == _names(out / "testA")
    for b, c, info in zip(blurred, clean, infos):
        assert np.abs(b - _redegrade(c, info)).max() <= 1 / 255 + 1e-6
    b1, _, names1, _ = datasets.load_test_pairs(out, n=1)
    assert b1.shape[0] == 1 and names1 == names[:1]


# ---------------------------------------------------------------- test split only
def test_test_only_writes_the_full_datasets_test_split(dataset_c, tmp_path, monkeypatch):
    out, full = dataset_c
    made = []
    original = synth.micrograph
    monkeypatch.setattr(synth, "micrograph", lambda *a, **k: made.append(1) or original(*a, **k))
    crops._SOURCE_CACHE.clear()  # sources are made once per process
    manifest = datasets.make_dataset(tmp_path / "t", degradation="C", seed=3, test_only=True,
                                     **SMALL)
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted(
        [*datasets.TEST_FOLDERS, "manifest.json"])
    assert manifest["test_only"] is True and manifest["max_test"] is None
    assert manifest["counts"] == {"testA": 2, "testB": 2, "testA_gt": 2, "sources_train": 4,
                                  "sources_test": 1}
    assert len(made) == 1  # only the test source is synthesised
    for folder in datasets.TEST_FOLDERS:
        assert _names(tmp_path / "t" / folder) == _names(out / folder)
        for name in _names(out / folder):
            assert (tmp_path / "t" / folder / name).read_bytes() == (
                out / folder / name).read_bytes()
    assert manifest["sources"] == full["sources"]  # the same split of the sources
    assert all(manifest["images"][k] == full["images"][k] for k in manifest["images"])
    # capped: the first max_test test crops by name, what load_test_pairs(n=...) reads
    capped = datasets.make_dataset(tmp_path / "one", degradation="C", seed=3, test_only=True,
                                   max_test=1, **SMALL)
    assert capped["counts"]["testA"] == 1
    assert _names(tmp_path / "one" / "testA") == datasets.load_test_pairs(out, n=1)[2]


def test_test_only_of_the_default_dataset_is_cheap(tmp_path):
    """The paper-size dataset's test split, 2 crops: sources chosen as for 2550 crops."""
    manifest = datasets.make_dataset(tmp_path / "t", degradation="B", seed=0, test_only=True,
                                     max_test=2, progress=False)
    assert manifest["n_crops"] == 2550 and manifest["counts"]["testA"] == 2
    assert (manifest["counts"]["sources_test"], manifest["counts"]["sources_train"]) == (32, 287)
    used = {r["source"] for r in manifest["images"].values()}
    assert all(manifest["sources"][s]["split"] == "test" for s in used)
    blurred, clean, names, infos = datasets.load_test_pairs(tmp_path / "t")
    assert blurred.shape == clean.shape == (2, 256, 256) and len(set(names)) == 2
    assert all(info["degradation"] == "B" for info in infos)


def test_failed_run_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(image, degradation, **kwargs):
        calls.append(degradation)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return image, {}

    monkeypatch.setattr(degrade, "degrade", failing)
    with pytest.raises(KeyboardInterrupt):
        datasets.make_dataset(tmp_path / "ds", **SMALL)
    assert len(calls) == 3 and list(tmp_path.iterdir()) == []


def test_option_errors(dataset_c, tmp_path):
    out, _ = dataset_c
    with pytest.raises(FileExistsError, match="not an empty folder"):
        datasets.make_dataset(out, **SMALL)
    bad = [(dict(degradation="D"), "degradation='D' is not allowed; expected one of 'A'"),
           (dict(hybrid="x"), "hybrid='x' is not allowed"),
           (dict(n_crops=1), "n_crops must be an integer >= 2"),
           (dict(test_fraction=1.0), "test_fraction must be in"),
           (dict(n_source=1), "n_source must be an integer >= 2"),
           (dict(n_source=0), "n_source must be an integer >= 2.*leave it out"),
           (dict(n_source=2, strict_unpaired=True), "n_source must be an integer >= 3"),
           (dict(n_source=2.0), "n_source must be an integer"),
           (dict(seed=-1), "seed must be"),
           (dict(test_only=1), "test_only must be True or False"),
           (dict(skip_bad="yes"), "skip_bad must be True or False"),
           (dict(max_test=2), "max_test needs test_only=True"),
           (dict(test_only=True, max_test=0), "max_test must be an integer >= 1")]
    bad += [(dict(size=size), rf"size must be a positive multiple of 128 .*got {size!r}")
            for size in (64, 100, 200)]
    bad += [(dict(size=size), rf"size must be an integer >= 1, got {size!r}")
            for size in (0, -128, 128.0, "256")]
    for options, message in bad:
        with pytest.raises(ValueError, match=message):
            datasets.make_dataset(tmp_path / "x", **{**SMALL, **options})
    (tmp_path / "empty_out").mkdir()  # an empty folder is accepted
    manifest = datasets.make_dataset(tmp_path / "empty_out",
                                     **dict(SMALL, n_crops=9, n_source=None, progress=True))
    assert len(manifest["sources"]) == 2  # default: one synthetic source per 8 crops
    assert datasets.read_manifest(tmp_path / "empty_out")["counts"]["testA"] == 1


def test_cli(tmp_path, capsys):
    args = ["make-dataset", "--degradation", "A", "--out", str(tmp_path / "cli"), "--n-crops",
            "6", "--size", "128", "--n-source", "3", "--seed", "2", "--quiet",
            "--val-fraction", "0.2"]
    assert cli.main(args) == 0
    shown = capsys.readouterr().out
    assert "trainA 4" in shown and "valA 1" in shown and "testA 1" in shown
    assert datasets.read_manifest(tmp_path / "cli")["val_fraction"] == 0.2
    assert cli.main(args) == 2  # the folder now exists
    assert "semgan: error: make_dataset: output" in capsys.readouterr().err
    args[args.index("--out") + 1] = str(tmp_path / "cli2")
    assert cli.main([*args, "--source", str(tmp_path / "nowhere")]) == 2
    capsys.readouterr()
    for option, value, message in (("--size", "200", "size must be a positive multiple of "
                                    "128 (128, 256, 384, ...: the generator's input sizes), "
                                    "got 200"),
                                   ("--n-source", "0", "n_source must be an integer >= 3")):
        i = args.index(option)
        assert cli.main([*args[:i + 1], value, *args[i + 2:]]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "cli2").exists()


def test_test_pairs_of_two_sizes_name_the_file(dataset_c, tmp_path):
    out, _ = dataset_c
    copy = tmp_path / "copy"
    for folder in ("testA", "testA_gt"):
        (copy / folder).mkdir(parents=True)
        for name in _names(out / folder):
            (copy / folder / name).write_bytes((out / folder / name).read_bytes())
    odd = copy / "testA_gt" / _names(out / "testA_gt")[-1]
    images.write_image(odd, synth.micrograph(64, rng=0)[0])
    with pytest.raises(ValueError, match=rf"load_test_pairs: {odd} is 64x64 pixels \(H x W\), "
                       "but .* is 128x128"):
        datasets.load_test_pairs(copy)


def test_list_images_and_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.list_images(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="testA_gt"):
        datasets.load_test_pairs(tmp_path)
    with pytest.raises(ValueError, match="n must be"):
        datasets.load_test_pairs(tmp_path, n=0)


# ---------------------------------------------------------------- validation split
@pytest.fixture(scope="module")
def dataset_val(tmp_path_factory):
    """Degradation A with a validation split: 20 crops of 6 sources, 2 test, 4 val."""
    out = tmp_path_factory.mktemp("ds") / "val"
    return out, datasets.make_dataset(out, degradation="A", seed=2, val_fraction=0.2,
                                      **dict(SMALL, n_source=6))


def test_validation_split_is_disjoint_by_source(dataset_val):
    out, manifest = dataset_val
    counts = manifest["counts"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*datasets.FOLDERS, *datasets.VAL_FOLDERS, "manifest.json"])
    assert (counts["valA"], counts["valA_gt"], counts["testA"]) == (4, 4, 2)
    assert counts["trainA"] == 20 - 4 - 2 and counts["sources_val"] == 1
    val, test = _sources_of(manifest, "valA"), _sources_of(manifest, "testA")
    train = _sources_of(manifest, "trainA") | _sources_of(manifest, "trainB")
    assert val and not val & test and not val & train and not test & train
    assert manifest["val_fraction"] == 0.2
    assert {r["split"] for r in manifest["images"].values()} == {"train", "val", "test"}
    blurred, clean, names, infos = datasets.load_test_pairs(out, split="val")
    assert blurred.shape == clean.shape == (4, 128, 128) and names == _names(out / "valA")
    assert all(info["degradation"] == "A" for info in infos)
    assert not np.array_equal(blurred, clean)


def test_validation_split_default_changes_nothing(dataset_c, tmp_path):
    out, manifest = dataset_c
    assert manifest["val_fraction"] == 0.0 and "valA" not in manifest["counts"]
    zero = tmp_path / "zero"
    datasets.make_dataset(zero, degradation="C", seed=3, val_fraction=0.0, **SMALL)
    for folder in ("trainA", "testA"):
        for name in _names(out / folder):
            assert (zero / folder / name).read_bytes() == (out / folder / name).read_bytes()
    with pytest.raises(FileNotFoundError, match="val_fraction"):
        datasets.load_test_pairs(out, split="val")
    with pytest.raises(ValueError, match="split must be one of"):
        datasets.load_test_pairs(out, split="validation")


def test_validation_split_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="val_fraction must be in"):
        datasets.make_dataset(tmp_path / "a", val_fraction=0.95, **SMALL)
    with pytest.raises(ValueError, match="val_fraction must be in"):
        datasets.make_dataset(tmp_path / "b", val_fraction=-0.1, **SMALL)
    with pytest.raises(ValueError, match="n_crops >= 3"):
        datasets.make_dataset(tmp_path / "c", val_fraction=0.3, **dict(SMALL, n_crops=2))


# ---------------------------------------------------------------- manifests and profiles
def test_old_manifest_reads_with_the_degradation_key(dataset_c, tmp_path):
    out, manifest = dataset_c
    old = {("recipe" if k == "degradation" else k): v for k, v in manifest.items()}
    (tmp_path / "manifest.json").write_text(json.dumps(dict(old, format="semgan-dataset/1")))
    read = datasets.read_manifest(tmp_path)
    assert read["degradation"] == "C" and "recipe" not in read
    assert datasets.read_manifest(tmp_path / "nowhere") is None


def test_profile_options():
    smoke, book = datasets.profile_options("smoke"), datasets.profile_options("book")
    assert (smoke["n_crops"], smoke["n_source"]) == (24, 8)
    assert book == datasets.profile_options("paper") == {
        "n_crops": 2550, "n_source": None, "test_fraction": 0.1, "hybrid": "random",
        "strict_unpaired": False}
    assert datasets.profile_options("book", n_crops=400)["n_crops"] == 400
    with pytest.raises(ValueError, match="profile='tiny' is not allowed"):
        datasets.profile_options("tiny")
    with pytest.raises(ValueError, match="unknown option.*epochs; expected some of n_crops"):
        datasets.profile_options("book", epochs=3)


# ---------------------------------------------------------------- SEM noise
def _pixels(path):
    return images.read_image(path, min_side=1).astype(np.float64)


def test_noise_is_added_after_the_same_blur(dataset_c, tmp_path):
    out, plain = dataset_c
    noisy = datasets.make_dataset(tmp_path / "noisy", degradation="C", seed=3,
                                  noise=(0.01, 0.04), clear_noise=0.02, **SMALL)
    assert (noisy["noise"], noisy["clear_noise"]) == ([0.01, 0.04], 0.02)
    assert (noisy["read_noise"], noisy["row_noise"]) == (0.0, 0.0)
    sigmas = []
    for name, record in noisy["images"].items():
        info, before = dict(record["degradation"]), plain["images"][name]["degradation"]
        model = info.pop("noise")
        assert info == {k: v for k, v in before.items() if k != "noise"}  # same blur, fog
        assert 0.01 <= model["sigma"] <= 0.04 and model["read_sigma"] == 0
        assert record["clear_noise"]["sigma"] == 0.02
        sigmas.append(model["sigma"])
        blurred = "testA" if record["split"] == "test" else "trainA"
        residual = _pixels(tmp_path / "noisy" / blurred / name) - _pixels(out / blurred / name)
        assert 0.5 * model["sigma"] < residual.std() < 1.5 * model["sigma"] + 0.01
    assert len(set(sigmas)) == len(sigmas)  # drawn per image
    for folder, same in (("trainA_gt", True), ("testA_gt", True), ("trainB", False),
                         ("testB", False)):
        for name in _names(out / folder):
            equal = (tmp_path / "noisy" / folder / name).read_bytes() == (
                out / folder / name).read_bytes()
            assert equal is same, (folder, name)
    name = _names(out / "trainB")[0]
    clear = _pixels(tmp_path / "noisy" / "trainB" / name) - _pixels(out / "trainB" / name)
    assert 0.01 < clear.std() < 0.03


def test_fixed_noise_and_detector_noise(tmp_path):
    options = dict(SMALL, n_crops=6, n_source=3)
    fixed = datasets.make_dataset(tmp_path / "fixed", noise=0.02, **options)
    again = datasets.make_dataset(tmp_path / "again", noise=0.02, **options)
    for name in _names(tmp_path / "fixed" / "trainA"):
        assert (tmp_path / "fixed" / "trainA" / name).read_bytes() == (
            tmp_path / "again" / "trainA" / name).read_bytes()
    models = [r["degradation"]["noise"] for r in fixed["images"].values()]
    assert all(m["sigma"] == 0.02 and m["dose"] == 1250.0 for m in models)
    assert all("clear_noise" not in r for r in fixed["images"].values())
    read = datasets.make_dataset(tmp_path / "read", read_noise=0.01, row_noise=0.005,
                                 **options)
    models = [r["degradation"]["noise"] for r in read["images"].values()]
    assert all((m["sigma"], m["read_sigma"], m["row_sigma"]) == (0, 0.01, 0.005)
               for m in models)


def test_noise_option_errors(tmp_path):
    bad = [(dict(noise=-0.01), ValueError, r"noise must be finite in \[0, 0.5\], got -0.01"),
           (dict(noise=(0.05, 0.01)), ValueError, "noise range must have low <= high"),
           (dict(noise=(0.0, 0.01, 0.02)), ValueError, r"a \(low, high\) pair"),
           (dict(noise=(0.0, 0.9)), ValueError, "noise high must be finite in"),
           (dict(noise="0.02"), TypeError, "noise must be a number, got '0.02'"),
           (dict(clear_noise=float("nan")), ValueError, "clear_noise must be finite"),
           (dict(read_noise=1.0), ValueError, "read_noise must be finite in"),
           (dict(row_noise=None), TypeError, "row_noise must be a number")]
    for options, error, message in bad:
        with pytest.raises(error, match=message):
            datasets.make_dataset(tmp_path / "x", **{**SMALL, **options})
    assert not (tmp_path / "x").exists()


def test_cli_noise_options(tmp_path, capsys):
    args = ["make-dataset", "--degradation", "B", "--n-crops", "4", "--n-source", "2",
            "--size", "128", "--quiet", "--noise", "0:0.05", "--clear-noise", "0.005",
            "--read-noise", "0.01", "--row-noise", "0.002", "--out", str(tmp_path / "n")]
    assert cli.main(args) == 0
    manifest = datasets.read_manifest(tmp_path / "n")
    assert (manifest["noise"], manifest["clear_noise"]) == ([0.0, 0.05], 0.005)
    assert (manifest["read_noise"], manifest["row_noise"]) == (0.01, 0.002)
    capsys.readouterr()
    args[args.index("0:0.05")] = "lots"
    args[-1] = str(tmp_path / "m")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err == "semgan: error: make-dataset: --noise must be a number or LOW:HIGH, " \
        "got 'lots'\n"


def test_real_source_is_the_linked_shared_micrographs(tmp_path):
    from semgan_core import realdata

    if realdata.real_data_dir() is None:
        pytest.skip(f"needs the shared real micrographs: {realdata.missing_reason()}")
    options = dict(degradation="A", n_crops=40, size=128, seed=3, test_only=True,
                   max_test=2, progress=False, processes=1)
    datasets.make_dataset(tmp_path / "named", source="real", **options)
    folder = realdata.clean_source_folder(tmp_path / "links")
    datasets.make_dataset(tmp_path / "linked", source=folder, **options)
    names = sorted(p.name for p in (tmp_path / "named" / "testA").iterdir())
    assert names and names == sorted(p.name for p in (tmp_path / "linked" / "testA").iterdir())
    for name in names:
        assert ((tmp_path / "named" / "testA" / name).read_bytes()
                == (tmp_path / "linked" / "testA" / name).read_bytes())
    assert not any(p.is_symlink() for p in (tmp_path / "named").rglob("*"))


def test_real_source_without_the_micrographs_says_why(tmp_path, monkeypatch):
    from semgan_core import realdata

    monkeypatch.setenv(realdata.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises((FileNotFoundError, ValueError), match="nowhere|real micrographs"):
        datasets.make_dataset(tmp_path / "data", source="real", n_crops=8, size=128,
                              progress=False)
    assert not (tmp_path / "data").exists()
