"""Tests of semgan_core.realscore: re-blur consistency, frame scoring, noise amplification."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from semgan_core import baselines, kernels, realscore, synth


@pytest.fixture(scope="module")
def sharp():
    return synth.micrograph(96, rng=3)[0]


@pytest.fixture(scope="module")
def blurred(sharp):
    return kernels.convolve(sharp, kernels.ASSUMED_PSF)


def _with_bar(image, rows=16):
    """The image with a black info bar holding white 'text' in its last ``rows`` rows."""
    out = image.copy()
    out[-rows:] = 0.0
    out[-rows + 4:-4:3, 8:60] = 1.0
    return out


def test_reblur_error_is_zero_for_the_true_sharp_image(sharp, blurred):
    assert realscore.reblur_error(blurred, sharp) < 1e-6
    assert realscore.reblur_error(blurred, blurred) > 1e-3


def test_reblur_error_grows_with_invented_structure(sharp, blurred):
    rng = np.random.default_rng(0)
    invented = np.clip(sharp + rng.normal(0, 0.1, sharp.shape), 0, 1).astype(np.float32)
    assert (realscore.reblur_error(blurred, invented)
            > realscore.reblur_error(blurred, sharp) + 0.01)


def test_reblur_error_ignores_the_border(blurred):
    broken = blurred.copy()
    broken[:realscore.MARGIN - 3] = 1.0    # the 7x7 PSF reaches 3 rows further in
    assert realscore.reblur_error(blurred, broken) == pytest.approx(
        realscore.reblur_error(blurred, blurred), abs=1e-6)


def test_reblur_error_refuses_two_shapes_and_tiny_images(blurred):
    with pytest.raises(ValueError, match="reblur_error: observed and restored must have one"):
        realscore.reblur_error(blurred, blurred[:-1])
    with pytest.raises(ValueError, match="reblur_error: images must be at least 32 pixels"):
        realscore.reblur_error(blurred[:20, :20], blurred[:20, :20])


def test_noise_level_follows_added_noise(sharp):
    rng = np.random.default_rng(1)
    flat = np.full((128, 128), 0.5, np.float32)
    noisy = np.clip(flat + rng.normal(0, 0.02, flat.shape), 0, 1).astype(np.float32)
    assert realscore.noise_level(noisy) == pytest.approx(0.02, rel=0.1)
    assert realscore.noise_level(flat) < 1e-3


def test_score_has_every_key(blurred):
    values = realscore.score(blurred, blurred)
    assert list(values) == ["ag", "con", "sf", "edge", "edge_matched", "noise", "reblur"]
    assert list(values) == list(realscore.SCORES)
    assert all(np.isfinite(v) and v >= 0 for v in values.values())
    assert values["edge_matched"] == values["edge"]          # the input at its own noise


def test_matched_edge_sharpness_tells_denoising_from_sharpening():
    # one faint, wide-edged square in noise, as on a charging slice: the noise makes up a
    # good share of the edge score
    sharp = np.full((256, 256), 0.4, np.float32)
    sharp[64:192, 64:192] = 0.5
    blurred = ndimage.gaussian_filter(sharp, 3.0)
    noisy = np.clip(blurred + np.random.default_rng(5).normal(0, 0.015, blurred.shape),
                    0, 1).astype(np.float32)
    before = realscore.edge_sharpness(noisy)
    # a perfect denoiser leaves the edges as they were: the plain score falls by the
    # noise's share, the matched one stays level
    assert realscore.edge_sharpness(blurred) < 0.96 * before
    assert realscore.matched_edge_sharpness(noisy, blurred) == pytest.approx(before, rel=0.03)
    # deblurring raises it, smoothing lowers it
    sharper = ndimage.gaussian_filter(sharp, 1.5)
    assert realscore.matched_edge_sharpness(noisy, sharper) > 1.2 * before
    smoothed = ndimage.gaussian_filter(noisy, 1.5)
    assert realscore.matched_edge_sharpness(noisy, smoothed) < 0.95 * before
    # a restoration noisier than its input is scored as it is, deterministically
    louder = np.clip(noisy + np.random.default_rng(1).normal(0, 0.03, noisy.shape),
                     0, 1).astype(np.float32)
    assert realscore.matched_edge_sharpness(noisy, louder) == realscore.edge_sharpness(louder)
    assert (realscore.matched_edge_sharpness(noisy, blurred)
            == realscore.matched_edge_sharpness(noisy, blurred))
    with pytest.raises(ValueError, match="matched_edge_sharpness: observed and restored"):
        realscore.matched_edge_sharpness(noisy, noisy[:-1])


def test_content_rows_finds_the_bar(blurred):
    assert realscore.content_rows(blurred) == blurred.shape[0]
    assert realscore.content_rows(_with_bar(blurred)) == blurred.shape[0] - 16


def test_restore_frame_passes_the_bar_through(blurred):
    frame = _with_bar(blurred)
    out = realscore.restore_frame(frame, lambda x: 1.0 - x)
    np.testing.assert_array_equal(out[-16:], frame[-16:])
    np.testing.assert_allclose(out[:-16], 1.0 - frame[:-16])


def test_restore_frame_refuses_a_restorer_that_changes_the_shape(blurred):
    with pytest.raises(ValueError, match="restore_frame: restore returned shape"):
        realscore.restore_frame(blurred, lambda x: x[1:])


def test_score_frames_scores_the_input_and_each_method(sharp, blurred):
    frames = {"one": ("synthetic", _with_bar(blurred)), "two": ("synthetic", blurred)}
    methods = {"wiener": lambda x: baselines.wiener(x, kernels.ASSUMED_PSF),
               "identity": lambda x: x}
    table, kept = realscore.score_frames(frames, methods, keep={"one"})
    assert len(table) == 2 * 3
    assert list(table["method"][:3]) == [realscore.INPUT, "wiener", "identity"]
    assert list(table.loc[table["frame"] == "one", "rows"].unique()) == [blurred.shape[0] - 16]
    assert set(kept) == {"one"} and set(kept["one"]) == {realscore.INPUT, "wiener", "identity"}
    # deconvolution sharpens: AG rises over the input on every frame
    ag = table.pivot(index="frame", columns="method", values="ag")
    assert (ag["wiener"] > ag[realscore.INPUT]).all()
    assert (ag["identity"] == ag[realscore.INPUT]).all()


def test_score_frames_refuses_empty_frames_and_an_input_method(blurred):
    with pytest.raises(ValueError, match="score_frames: frames is empty"):
        realscore.score_frames({}, {})
    with pytest.raises(ValueError, match="score_frames: 'input' is scored anyway"):
        realscore.score_frames({"x": ("s", blurred)}, {"input": lambda x: x})


def test_amplification_table_correlates_ag_and_noise_rises(blurred):
    frames = {f"f{i}": ("s", blurred) for i in range(4)}
    rng = np.random.default_rng(2)
    sigmas = iter([0.0, 0.01, 0.02, 0.04])
    noisy = {"noisy": lambda x: np.clip(x + rng.normal(0, next(sigmas), x.shape), 0, 1)
             .astype(np.float32)}
    table, _ = realscore.score_frames(frames, noisy)
    amp = realscore.amplification_table(table).set_index("method")
    assert amp.loc["noisy", "frames"] == 4
    assert amp.loc["noisy", "corr_ag_noise"] > 0.9
    assert amp.loc["noisy", "ag_ratio"] > 1 and amp.loc["noisy", "noise_ratio"] > 1


def test_frame_factors_pass_a_denoising_sharpening_and_fail_a_noise_amplification():
    sharp = np.full((96, 96), 0.3, np.float32)                  # flat squares, no texture
    sharp[20:50, 20:50], sharp[60:90, 40:80] = 0.7, 0.5
    blurred = kernels.convolve(sharp, kernels.ASSUMED_PSF)
    rng = np.random.default_rng(5)
    noisy = np.clip(blurred + rng.normal(0, 0.01, blurred.shape), 0, 1).astype(np.float32)
    frames = {"a": ("s", noisy), "b": ("s", blurred)}
    methods = {"truth": lambda x: sharp,                       # sharper, noise-free
               "amplify": lambda x: np.clip(x + rng.normal(0, 0.03, x.shape), 0, 1)
               .astype(np.float32),
               "blur": lambda x: kernels.convolve(x, kernels.ASSUMED_PSF)}
    table, _ = realscore.score_frames(frames, methods)
    factors = realscore.frame_factors(table)
    assert len(factors) == 3 * 2 and set(factors["frame"]) == {"a", "b"}
    by = factors.set_index(["method", "frame"])
    ref = table[table["method"] == realscore.INPUT].set_index("frame")
    out = table[table["method"] == "truth"].set_index("frame")
    assert by.loc[("truth", "a"), "noise_factor"] == pytest.approx(
        out.loc["a", "noise"] / ref.loc["a", "noise"])
    assert by.loc[("truth", "a"), "passes"] and by.loc[("truth", "a"), "edge_factor"] > 1
    assert not by.loc["amplify", "passes"].any()
    assert (by.loc["amplify", "noise_factor"] > 1).all()
    assert (by.loc["blur", "edge_factor"] < 1).all()
    summary = realscore.factor_summary(factors).set_index("method")
    assert summary.loc["amplify", "noise_rises"] == 2 and summary.loc["amplify", "passing"] == 0
    assert summary.loc["amplify", "failing"] == "a, b"
    assert summary.loc["truth", "passing"] == int(by.loc["truth", "passes"].sum())
    assert summary.loc["truth", "passing"] == 2 and summary.loc["truth", "failing"] == ""
    assert summary.loc["blur", "edge_max"] < 1 < summary.loc["truth", "edge_min"]


def test_added_noise_raises_ag_and_sf(blurred):
    table = realscore.added_noise_metrics(blurred, [0.0, 0.01, 0.03], rng=0)
    assert list(table["sigma"]) == [0.0, 0.01, 0.03]
    assert table["ag"].is_monotonic_increasing and table["sf"].is_monotonic_increasing
    assert table["noise"].iloc[-1] == pytest.approx(0.03, rel=0.25)



def test_edge_sharpness_follows_the_blur_not_the_noise():
    rng = np.random.default_rng(0)
    step = np.full((64, 64), 0.25, np.float32)
    step[:, 32:] = 0.75
    sharp = realscore.edge_sharpness(step)
    blurred = realscore.edge_sharpness(kernels.convolve(step, kernels.gaussian_kernel(7, 1.5)))
    noisy = realscore.edge_sharpness(np.clip(step + rng.normal(0, 0.02, step.shape), 0, 1)
                                     .astype(np.float32))
    flat = realscore.edge_sharpness(np.clip(0.5 + rng.normal(0, 0.02, step.shape), 0, 1)
                                    .astype(np.float32))
    assert blurred < 0.8 * sharp
    assert abs(noisy - sharp) < 0.1 * sharp
    assert flat < 0.1 * sharp
