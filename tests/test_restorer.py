"""Tests of the restorer's pair synthesis (semgan_core.restorer), on tiny images."""

import json

import numpy as np
import pytest

from semgan_core import degrade, images, kernels, noise, restorer, synth

TRUE_PSF = kernels.gaussian_kernel(7, 1.0)


def _clear(n, size=128, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([synth.micrograph(size, rng=rng)[0] for _ in range(n)])


@pytest.fixture(scope="module")
def unpaired(tmp_path_factory):
    """An unpaired folder: trainA blurred (7x7, sigma 1) with shot noise, trainB clear,
    from different images."""
    root = tmp_path_factory.mktemp("unpaired")
    clear = _clear(12, seed=1)
    rng = np.random.default_rng(2)
    for i, image in enumerate(clear[:6]):
        blurred = noise.add_noise(kernels.convolve(image, TRUE_PSF),
                                  noise.NoiseModel(sigma=0.02), rng=rng)
        images.write_image(root / "trainA" / f"{i:03d}.png", blurred)
    for i, image in enumerate(clear[6:]):
        images.write_image(root / "trainB" / f"{i:03d}.png", image)
    return root


@pytest.fixture(scope="module")
def foggy(tmp_path_factory):
    """As ``unpaired``, with degradation B's fog (airlight 0.8, optical depth
    U(0.75, 1.25) at the depth field's maximum) after the blur, 16 images a domain."""
    root = tmp_path_factory.mktemp("foggy")
    clear = _clear(32, seed=11)
    rng = np.random.default_rng(3)
    for i, image in enumerate(clear[:16]):
        blurred = kernels.convolve(image, TRUE_PSF)
        depth = degrade.FOG_DEPTH * degrade.depth_map(blurred.shape, rng=rng)
        fogged = degrade.fog(blurred, beta=rng.uniform(*degrade.BETA_RANGE), depth=depth,
                             airlight=degrade.AIRLIGHT)
        images.write_image(root / "trainA" / f"{i:03d}.png",
                           noise.add_noise(fogged, noise.NoiseModel(sigma=0.01), rng=rng))
    for i, image in enumerate(clear[16:]):
        images.write_image(root / "trainB" / f"{i:03d}.png", image)
    return root


def _floor_lifts(folder):
    """Per pair: the input's dark floor (1st percentile) minus its clear crop's."""
    return np.array([np.percentile(images.read_image(path), 1)
                     - np.percentile(images.read_image(folder / "trainA_gt" / path.name), 1)
                     for path in sorted((folder / "trainA").glob("*.png"))])


def test_train_overrides_are_the_settings_with_changes():
    items = restorer.train_overrides(steps=7)
    assert "steps=7" in items and "residual=True" in items and "recipe=paper" in items
    assert "lr_decay=True" in items
    assert len(items) == len(restorer.SETTINGS)


def test_synthesize_pair_mixes_and_adds_noise():
    clear = np.full((64, 64), 0.5, np.float32)
    degraded = np.full((64, 64), 0.7, np.float32)
    assert np.array_equal(restorer.synthesize_pair(clear, degraded, strength=0, sigma=0), clear)
    half = restorer.synthesize_pair(clear, degraded, strength=0.5, sigma=0)
    np.testing.assert_allclose(half, 0.6, atol=1e-6)
    noisy = restorer.synthesize_pair(clear, clear, strength=1, sigma=0.04, rng=0)
    assert noisy.std() == pytest.approx(0.04, rel=0.1)
    again = restorer.synthesize_pair(clear, clear, strength=1, sigma=0.04, rng=0)
    assert np.array_equal(noisy, again)


@pytest.mark.parametrize("kwargs, match", [
    (dict(strength=-1, sigma=0), "synthesize_pair: strength must be"),
    (dict(strength=1, sigma=-0.1), "synthesize_pair: sigma must be"),
])
def test_synthesize_pair_refuses_negative_settings(kwargs, match):
    image = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match=match):
        restorer.synthesize_pair(image, image, **kwargs)


def test_synthesize_pair_refuses_different_shapes():
    with pytest.raises(ValueError, match="synthesize_pair: clear is"):
        restorer.synthesize_pair(np.zeros((8, 8), np.float32), np.zeros((8, 9), np.float32),
                                 strength=1, sigma=0)


def test_make_pair_dataset_writes_seeded_pairs(unpaired, tmp_path):
    manifest = restorer.make_pair_dataset(unpaired, tmp_path / "p", n_pairs=10, n_fit=6)
    for folder, count in (("trainA", 6), ("trainA_gt", 6), ("testA", 4), ("testA_gt", 4)):
        assert len(list((tmp_path / "p" / folder).glob("*.png"))) == count
    assert json.loads((tmp_path / "p" / "manifest.json").read_text())["n_pairs"] == 10
    assert manifest["degrader"] == "psf" and np.array(manifest["psf"]).shape == (15, 15)
    assert "fog" not in manifest
    # the estimated noise of the blurred domain (shot noise 0.02 at mid-grey)
    assert manifest["noise_levels"][0.5] == pytest.approx(0.02, rel=0.25)
    again = restorer.make_pair_dataset(unpaired, tmp_path / "q", n_pairs=10, n_fit=6)
    assert again["images"] == manifest["images"]
    a, b = (images.read_image(tmp_path / d / "trainA" / "000009.png") for d in ("p", "q"))
    assert np.array_equal(a, b)


def test_make_pair_dataset_without_blur_or_noise_pairs_a_crop_with_itself(unpaired, tmp_path):
    restorer.make_pair_dataset(unpaired, tmp_path / "p", n_pairs=6, n_fit=6, p_sharp=1,
                               p_clean=1)
    for path in (tmp_path / "p" / "trainA").glob("*.png"):
        assert np.array_equal(images.read_image(path),
                              images.read_image(tmp_path / "p" / "trainA_gt" / path.name))


def test_make_pair_dataset_with_full_blur_differs_from_the_clear_crop(unpaired, tmp_path):
    restorer.make_pair_dataset(unpaired, tmp_path / "p", n_pairs=6, n_fit=6, p_sharp=0,
                               p_clean=1, strength=(1, 1))
    path = next((tmp_path / "p" / "trainA").glob("*.png"))
    clear = images.read_image(tmp_path / "p" / "trainA_gt" / path.name)
    assert np.abs(images.read_image(path) - clear).mean() > 0.005


def test_make_pair_dataset_scales_the_fitted_blur_by_the_strength(unpaired, tmp_path):
    manifest = restorer.make_pair_dataset(unpaired, tmp_path / "p", n_pairs=6, n_fit=6,
                                          p_sharp=0, p_clean=1, strength=(0.2, 0.6))
    assert manifest["scaling"] == "otf"
    psf = np.array(manifest["psf"], np.float32)
    for name, record in manifest["images"].items():
        assert 0.2 <= record["strength"] <= 0.6
        folder = "testA" if name < f"{restorer.N_SAMPLES:06d}" else "trainA"
        clear = images.read_image(tmp_path / "p" / f"{folder}_gt" / name)
        noisy = images.read_image(tmp_path / "p" / folder / name)
        interior = np.s_[16:-16, 16:-16]          # the crop's edges saw the whole image

        def error(kernel):                        # the crop may be flipped and rotated
            return min(np.abs(noisy - kernels.convolve(clear, np.rot90(k, r)))[interior].max()
                       for k in (kernel, kernel[:, ::-1]) for r in range(4))
        weak = error(kernels.psf_power(psf, record["strength"]))
        assert weak < 2 / 255 and error(psf) > 2 * weak
    mixed = restorer.make_pair_dataset(unpaired, tmp_path / "q", n_pairs=6, n_fit=6,
                                       p_sharp=0, p_clean=1, strength=(0.2, 0.6),
                                       scaling="mix")
    assert mixed["scaling"] == "mix" and mixed["images"] == manifest["images"]


def test_make_pair_dataset_with_psf_and_fog_writes_the_fit(unpaired, tmp_path):
    manifest = restorer.make_pair_dataset(unpaired, tmp_path / "p", degrader="psf+fog",
                                          n_pairs=6, n_fit=6)
    assert manifest["degrader"] == "psf+fog" and np.array(manifest["psf"]).shape == (15, 15)
    fog = manifest["fog"]
    assert {"airlight", "tau", "distance", "distance_no_fog"} <= set(fog)
    assert 0 <= fog["airlight"] <= 1 and len(fog["tau"]) == 2
    assert fog["tau"] == [0.0, 0.0]                      # the fixture has no fog
    written = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert written["fog"] == fog and written["psf"] == manifest["psf"]
    # the PSF is the same fit as with degrader="psf" (same seed, same images)
    plain = restorer.make_pair_dataset(unpaired, tmp_path / "q", n_pairs=6, n_fit=6)
    assert plain["psf"] == manifest["psf"]
    again = restorer.make_pair_dataset(unpaired, tmp_path / "r", degrader="psf+fog",
                                       n_pairs=6, n_fit=6)
    assert again["images"] == manifest["images"] and again["fog"] == fog


def test_make_pair_dataset_fogs_the_inputs_with_the_fitted_fog(foggy, tmp_path):
    options = dict(n_pairs=8, n_fit=16, p_sharp=0, p_clean=1, strength=(1, 1))
    manifest = restorer.make_pair_dataset(foggy, tmp_path / "fog", degrader="psf+fog",
                                          **options)
    low, high = manifest["fog"]["tau"]
    assert 0 < low <= high and manifest["fog"]["airlight"] >= 0.6
    restorer.make_pair_dataset(foggy, tmp_path / "psf", degrader="psf", **options)
    fog_lift, blur_lift = _floor_lifts(tmp_path / "fog"), _floor_lifts(tmp_path / "psf")
    # measured: 0.17-0.26 with the fog, 0.05-0.10 with the (fog-widened) PSF alone; on a
    # second machine (AVX2, no AVX-512) this small fixture's fit lands on a thinner,
    # brighter fog (airlight 1.0, tau 0.25-0.75) and lifts 0.13-0.18
    assert np.all(fog_lift > 0.1)                        # lifted towards the airlight
    assert fog_lift.mean() > blur_lift.mean() + 0.05


def test_make_pair_dataset_scales_the_fitted_fog_with_the_strength(foggy, tmp_path):
    lifts = {}
    for degrader in ("psf", "psf+fog"):
        for s in (1, 0.2):
            folder = tmp_path / f"{degrader}-{s}"
            restorer.make_pair_dataset(foggy, folder, degrader=degrader, strength=(s, s),
                                       n_pairs=8, n_fit=16, p_sharp=0, p_clean=1)
            lifts[degrader, s] = _floor_lifts(folder).mean()
    fog = {s: lifts["psf+fog", s] - lifts["psf", s] for s in (1, 0.2)}
    # the fog's own lift of the dark floor (beyond the blur's): 1 - exp(-tau) at full
    # strength, 1 - exp(-tau / 5) at a fifth of it, about 0.3 times as much
    assert fog[1] > 0.05 and 0 <= fog[0.2] < 0.5 * fog[1]


def test_make_pair_dataset_fog_power_thins_the_fog_of_light_blurs_only(foggy, tmp_path):
    # the fog's lift of the dark floor beyond the blur's, at the full strength and at
    # 0.36 (a Gaussian sigma 0.6 where the fitted one is 1): the power 3 leaves the
    # full-strength fog as it is and takes most of the light blur's fog away
    lifts = {}
    for degrader, power in (("psf", 1), ("psf+fog", 1), ("psf+fog", 3)):
        for s in (1, 0.36):
            folder = tmp_path / f"{degrader}-{power}-{s}"
            manifest = restorer.make_pair_dataset(
                foggy, folder, degrader=degrader, strength=(s, s), n_pairs=8, n_fit=16,
                p_sharp=0, p_clean=1, **({"fog_power": power} if power != 1 else {}))
            assert manifest["fog_power"] == power
            lifts[degrader, power, s] = _floor_lifts(folder).mean()
    fog = {(p, s): lifts["psf+fog", p, s] - lifts["psf", 1, s] for p in (1, 3) for s in (1, .36)}
    assert fog[1, 1] > 0.05 and abs(fog[3, 1] - fog[1, 1]) < 1e-6
    assert fog[1, .36] > 0.15 * fog[1, 1]                # 1 - exp(-0.36 tau) of it
    assert 0 <= fog[3, .36] < 0.4 * fog[1, .36]          # 1 - exp(-0.047 tau)


def test_make_pair_dataset_leaves_the_fogless_share_without_fog(foggy, tmp_path):
    folder = tmp_path / "mixed"
    manifest = restorer.make_pair_dataset(foggy, folder, degrader="psf+fog", p_fogless=0.5,
                                          n_pairs=24, n_fit=16, p_sharp=0, p_clean=1,
                                          strength=(1, 1))
    psf = np.array(manifest["psf"], dtype=np.float32)
    assert manifest["p_fogless"] == 0.5
    fogged, gaps = [], []
    for path in sorted((folder / "trainA").glob("*.png")):
        fogged.append(manifest["images"][path.name]["fog"])
        blurred = kernels.convolve(images.read_image(folder / "trainA_gt" / path.name), psf)
        # away from the crop's border, where the crop of the blurred image and the
        # blurred crop differ
        gaps.append(np.abs(images.read_image(path) - blurred)[8:-8, 8:-8].mean())
    fogged, gaps = np.array(fogged), np.array(gaps)
    assert 0 < fogged.sum() < len(fogged)
    # measured: at most 0.008 (the crop's flips and turns after an asymmetric blur), and
    # 0.12-0.25 with the fog
    assert np.all(gaps[~fogged] < 0.02)                  # the blur alone
    assert np.all(gaps[fogged] > 0.08)                   # lifted towards the airlight


def test_make_pair_dataset_can_leave_the_low_contrast_share_without_fog(foggy, tmp_path):
    # every pair blurred at full strength and fogged, except the low-contrast share when
    # low_contrast_fog is False: that share is then the blur alone
    options = dict(degrader="psf+fog", n_pairs=24, n_fit=16, p_sharp=0, p_clean=1,
                   strength=(1, 1), p_low_contrast=0.5, contrast=(0.5, 0.9))

    def fog_lift(folder, manifest):      # each pair: low contrast?, mean gap to the blur
        psf = np.array(manifest["psf"], dtype=np.float32)
        low, gaps = [], []
        for path in sorted((folder / "trainA").glob("*.png")):
            low.append(manifest["images"][path.name]["contrast"] < 1)
            blurred = kernels.convolve(images.read_image(folder / "trainA_gt" / path.name), psf)
            gaps.append(np.abs(images.read_image(path) - blurred)[8:-8, 8:-8].mean())
        return np.array(low), np.array(gaps)

    assert restorer.LOW_CONTRAST_FOG is True
    fogged = restorer.make_pair_dataset(foggy, tmp_path / "fogged", **options)
    assert fogged["low_contrast_fog"] is True
    assert all("fog" not in record for record in fogged["images"].values())
    low, gaps = fog_lift(tmp_path / "fogged", fogged)
    assert 0 < low.sum() < len(low) and np.all(gaps > 0.05)
    manifest = restorer.make_pair_dataset(foggy, tmp_path / "fogless", low_contrast_fog=False,
                                          **options)
    assert manifest["low_contrast_fog"] is False
    low, gaps = fog_lift(tmp_path / "fogless", manifest)
    assert 0 < low.sum() < len(low)
    assert [r["fog"] for r in manifest["images"].values()] == [
        r["contrast"] == 1 for r in manifest["images"].values()]
    # measured: at most 0.005 without the fog, 0.07-0.20 with it
    assert np.all(gaps[low] < 0.02) and np.all(gaps[~low] > 0.05)


def test_make_pair_dataset_draws_the_fogless_share_for_blurred_pairs_only(foggy, tmp_path):
    # the fogless draw is made only for a blurred pair, so a folder without blurred pairs
    # (and, with the default share 0, every folder) is drawn as without the option
    assert restorer.P_FOGLESS == 0
    options = dict(n_pairs=8, n_fit=16, degrader="psf+fog", p_sharp=1)
    none = restorer.make_pair_dataset(foggy, tmp_path / "none", **options)
    half = restorer.make_pair_dataset(foggy, tmp_path / "half", p_fogless=0.5, **options)
    assert all("fog" not in record for record in none["images"].values())
    assert ([{k: r[k] for k in ("source", "strength", "sigma")} for r in half["images"].values()]
            == list(none["images"].values()))
    for path in sorted((tmp_path / "none" / "trainA").glob("*.png")):
        assert np.array_equal(images.read_image(path),
                              images.read_image(tmp_path / "half" / "trainA" / path.name))


def test_make_pair_dataset_scales_the_contrast_of_the_low_contrast_share(unpaired, tmp_path):
    options = dict(n_pairs=16, n_fit=6, p_sharp=1, p_clean=1)
    plain = restorer.make_pair_dataset(unpaired, tmp_path / "plain", **options)
    half = restorer.make_pair_dataset(unpaired, tmp_path / "half", p_low_contrast=0.5,
                                      contrast=(0.3, 0.6), **options)
    assert restorer.P_LOW_CONTRAST == 0 and "contrast" not in plain["images"]["000000.png"]
    assert half["p_low_contrast"] == 0.5 and half["contrast"] == [0.3, 0.6]
    factors = np.array([record["contrast"] for record in half["images"].values()])
    scaled = factors < 1
    assert 0 < scaled.sum() < len(factors)
    assert np.all((factors[scaled] >= 0.3) & (factors[scaled] <= 0.6))
    # every crop at half its contrast: the first pair is the same crop as without the
    # option (its factor is drawn after it), its target that crop scaled about its mean;
    # without blur or noise every input equals its target
    low = restorer.make_pair_dataset(unpaired, tmp_path / "low", p_low_contrast=1,
                                     contrast=(0.5, 0.5), **options)
    assert {record["contrast"] for record in low["images"].values()} == {0.5}
    assert low["images"]["000000.png"]["source"] == plain["images"]["000000.png"]["source"]
    original, target = (images.read_image(tmp_path / d / "testA_gt" / "000000.png")
                        for d in ("plain", "low"))
    expected = original.mean() + 0.5 * (original - original.mean())
    assert np.abs(target - expected).max() < 2 / 255
    for path in (tmp_path / "low" / "trainA").glob("*.png"):
        assert np.array_equal(images.read_image(path),
                              images.read_image(tmp_path / "low" / "trainA_gt" / path.name))


def test_make_pair_dataset_correlates_the_noise_along_rows_or_columns(unpaired, tmp_path):
    options = dict(n_pairs=16, n_fit=6, p_sharp=1, p_clean=0)
    white = restorer.make_pair_dataset(unpaired, tmp_path / "white", **options)
    assert restorer.ROW_CORRELATION == (0, 0)
    assert "row_correlation" not in white["images"]["000000.png"]
    folder = tmp_path / "rows"
    manifest = restorer.make_pair_dataset(unpaired, folder, row_correlation=(1.5, 1.5),
                                          **options)
    assert manifest["row_correlation"] == [1.5, 1.5]
    along = []
    for name, record in sorted(manifest["images"].items()):
        sub = "testA" if name < f"{restorer.N_SAMPLES:06d}" else "trainA"
        noise_field = (images.read_image(folder / sub / name).astype(np.float64)
                       - images.read_image(folder / f"{sub}_gt" / name))
        if record["correlated_along"] == "columns":
            noise_field = noise_field.T
        along.append(record["correlated_along"])
        var = noise_field.var()
        # measured for a Gaussian of 1.5 px: 0.89 along, 0 across (PNG rounding adds a
        # little white noise)
        assert (noise_field[:, 1:] * noise_field[:, :-1]).mean() / var > 0.7
        assert abs((noise_field[1:] * noise_field[:-1]).mean() / var) < 0.15
    assert set(along) == {"rows", "columns"}


def test_make_pair_dataset_blurs_the_gaussian_share_with_a_gaussian(foggy, tmp_path):
    # every pair blurred and fogged at full strength, except the Gaussian share: an
    # isotropic Gaussian of the drawn sigma alone, no fog
    options = dict(degrader="psf+fog", n_pairs=24, n_fit=16, p_sharp=0, p_clean=1,
                   strength=(1, 1))
    plain = restorer.make_pair_dataset(foggy, tmp_path / "plain", **options)
    assert restorer.P_GAUSSIAN == 0 and "gaussian_sigma" not in plain["images"]["000000.png"]
    folder = tmp_path / "g"
    manifest = restorer.make_pair_dataset(foggy, folder, p_gaussian=0.5,
                                          gaussian_sigma=(0.4, 0.8), **options)
    assert manifest["p_gaussian"] == 0.5 and manifest["gaussian_sigma"] == [0.4, 0.8]
    sigmas = []
    for name, record in sorted(manifest["images"].items()):
        sub = "testA" if name < f"{restorer.N_SAMPLES:06d}" else "trainA"
        clear = images.read_image(folder / f"{sub}_gt" / name)
        noisy = images.read_image(folder / sub / name)
        g = record["gaussian_sigma"]
        sigmas.append(g)
        if g == 0:                                     # the fitted blur and the fog
            continue
        assert 0.4 <= g <= 0.8 and record["fog"] is False
        interior = np.s_[8:-8, 8:-8]
        gap = np.abs(noisy - kernels.convolve(clear, kernels.gaussian_kernel(7, g)))[interior]
        other = np.abs(noisy - kernels.convolve(clear, kernels.gaussian_kernel(7, g + 0.3)))
        # a Gaussian is symmetric: the crop's flips and turns do not matter
        assert gap.max() < 2 / 255 and other[interior].max() > 2 * gap.max()
    sigmas = np.array(sigmas)
    assert 0 < (sigmas > 0).sum() < len(sigmas)
    # the sharp pairs draw nothing: without blurred pairs the folder is the plain one
    sharp = dict(options, p_sharp=1)
    a = restorer.make_pair_dataset(foggy, tmp_path / "a", **sharp)
    b = restorer.make_pair_dataset(foggy, tmp_path / "b", p_gaussian=0.5, **sharp)
    assert [r["source"] for r in a["images"].values()] == [
        r["source"] for r in b["images"].values()]
    assert all(r["gaussian_sigma"] == 0 for r in b["images"].values())


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_pairs=3), "n_pairs must be an integer >= 5"),
    (dict(p_low_contrast=1.5), "p_low_contrast must be"),
    (dict(contrast=(0.0, 0.5)), r"contrast must be a range \(low, high\) in \(0, 1\]"),
    (dict(contrast=(0.8, 0.5)), r"contrast must be a range"),
    (dict(contrast=(0.5, 1.5)), "contrast must be"),
    (dict(row_correlation=(1.0, 0.5)), r"row_correlation must be a range \(low, high\)"),
    (dict(row_correlation=(-1.0, 0.5)), "row_correlation must be"),
    (dict(p_fogless=-0.1), "p_fogless must be"),
    (dict(p_fogless=0.3), r"p_fogless needs degrader 'psf\+fog' with scaling 'otf'"),
    (dict(p_fogless=0.3, degrader="psf+fog", scaling="mix"), "p_fogless needs degrader"),
    (dict(fog_power=0), "fog_power must be"),
    (dict(low_contrast_fog=False, p_low_contrast=0.5),
     r"low_contrast_fog=False needs degrader 'psf\+fog' with scaling 'otf' and p_low_contrast"),
    (dict(low_contrast_fog=False, degrader="psf+fog"),
     r"low_contrast_fog=False needs .* p_low_contrast 0\.0"),
    (dict(fog_power=3), r"fog_power needs degrader 'psf\+fog' with scaling 'otf'"),
    (dict(p_gaussian=1.5), "p_gaussian must be"),
    (dict(gaussian_sigma=(0.0, 1.0)), "gaussian_sigma must be"),
    (dict(gaussian_sigma=(1.0, 0.5)), r"gaussian_sigma must be a range \(low, high\)"),
    (dict(p_gaussian=0.3, scaling="mix"), "p_gaussian needs scaling 'otf'"),
    (dict(size=100), "size"),
    (dict(p_sharp=1.5), "p_sharp must be"),
    (dict(strength=(1.2, 0.3)), r"strength must be a range \(low, high\)"),
    (dict(scaling="power"), "scaling='power' is not allowed"),
    (dict(degrader="F.keras", scaling="otf"), "scaling 'otf' needs a fitted degrader"),
])
def test_make_pair_dataset_refuses_bad_options(unpaired, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=f"make_pair_dataset: {match}"):
        restorer.make_pair_dataset(unpaired, tmp_path / "p", **kwargs)


def test_make_pair_dataset_refuses_a_full_folder_and_an_empty_domain(unpaired, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(FileExistsError, match="make_pair_dataset: output"):
        restorer.make_pair_dataset(unpaired, tmp_path / "full")
    (tmp_path / "empty" / "trainA").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="make_pair_dataset: .* holds no images"):
        restorer.make_pair_dataset(tmp_path / "empty", tmp_path / "p")


def test_restorer_trains_in_the_trainers_paired_mode_from_the_identity(unpaired, tmp_path):
    from semgan_core import config, generators, train

    restorer.make_pair_dataset(unpaired, tmp_path / "p", n_pairs=8, n_fit=6)
    cfg = config.get_config("smoke", **{**restorer.SETTINGS, "steps": 1, "batch_size": 2,
                                        "intra_op_threads": 0})
    report = train.train(cfg, data_dir=tmp_path / "p", run_dir=tmp_path / "run", paired=True,
                         progress=False)
    assert report["status"] == "finished" and report["steps"] == 1
    g = generators.load_generator(report["generator_path"])
    x = images.to_model_range(_clear(1)[..., None])
    assert np.abs(np.asarray(g(x)) - x).mean() < 0.05     # one small step from x
