"""Tests of the blur and noise estimates from unpaired images (semgan_core.blurfit)."""

import numpy as np
import pytest

from semgan_core import blurfit, kernels, noise, synth

TRUE_PSF = kernels.gaussian_kernel(7, 1.0)


def _clear(n, size=128, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([synth.micrograph(size, rng=rng)[0] for _ in range(n)])


def test_noise_levels_find_the_shot_noise_at_mid_grey():
    clean = np.tile(np.linspace(0.2, 0.8, 128, dtype=np.float32), (128, 1))
    stack = np.stack([noise.add_noise(clean, noise.NoiseModel(sigma=s), rng=i)
                      for i, s in enumerate((0.01, 0.02, 0.04))])
    np.testing.assert_allclose(blurfit.noise_levels(stack), [0.01, 0.02, 0.04], rtol=0.1)


def test_noise_levels_refuse_a_single_image():
    with pytest.raises(ValueError, match=r"noise_levels: expected a stack of shape \(N, H, W\)"):
        blurfit.noise_levels(np.zeros((8, 8), np.float32))


def test_estimate_psf_recovers_a_gaussian_blur_from_unrelated_images():
    clear = _clear(24, seed=3)
    blurred = np.stack([kernels.convolve(x, TRUE_PSF) for x in _clear(24, seed=4)])
    psf = blurfit.estimate_psf(blurred, clear, size=15)
    assert psf.shape == (15, 15) and psf.dtype == np.float32
    assert psf.sum() == pytest.approx(1.0, abs=1e-5) and psf.min() >= 0
    np.testing.assert_allclose(psf, psf[::-1, ::-1], atol=1e-6)
    truth = np.zeros((15, 15), np.float32)
    truth[4:11, 4:11] = TRUE_PSF
    assert np.abs(psf - truth).sum() < 0.25          # the identity kernel: 1.68
    # a PSF from two clear sets is (nearly) the identity
    same = blurfit.estimate_psf(_clear(24, seed=4), clear, size=15)
    assert same[7, 7] > 0.8


def test_estimate_psf_takes_the_noise_power_off():
    clear = _clear(24, seed=3)
    rng = np.random.default_rng(5)
    blurred = np.stack([noise.add_noise(kernels.convolve(x, TRUE_PSF),
                                        noise.NoiseModel(sigma=0.04), rng=rng)
                        for x in _clear(24, seed=4)])
    truth = np.zeros((15, 15), np.float32)
    truth[4:11, 4:11] = TRUE_PSF
    plain = blurfit.estimate_psf(blurred, clear)
    sigmas = [noise.estimate_noise(x) for x in blurred]
    corrected = blurfit.estimate_psf(blurred, clear, blurred_noise=sigmas)
    assert np.abs(corrected - truth).sum() < np.abs(plain - truth).sum()


@pytest.mark.parametrize("size, match", [(4, "size must be odd"), (301, "size must be odd"),
                                         (1, "size must be an integer >= 3")])
def test_estimate_psf_refuses_bad_sizes(size, match):
    stack = _clear(2, size=32)
    with pytest.raises(ValueError, match=f"estimate_psf: {match}"):
        blurfit.estimate_psf(stack, stack, size=size)


def test_estimate_psf_refuses_stacks_of_other_sizes():
    with pytest.raises(ValueError, match="estimate_psf: blurred crops are"):
        blurfit.estimate_psf(_clear(2, size=32), _clear(2, size=64))


# --- read_psf ------------------------------------------------------------------------

def test_read_psf_reads_a_json_list_a_manifest_and_npy(tmp_path):
    import json

    raw = 3 * TRUE_PSF.astype(np.float64)               # normalised on reading
    (tmp_path / "psf.json").write_text(json.dumps(raw.tolist()))
    (tmp_path / "manifest.json").write_text(json.dumps({"degrader": "psf",
                                                        "psf": TRUE_PSF.tolist(),
                                                        "n_pairs": 10}))
    np.save(tmp_path / "psf.npy", raw)
    for name in ("psf.json", "manifest.json", "psf.npy"):
        psf = blurfit.read_psf(tmp_path / name)
        assert psf.dtype == np.float32 and psf.shape == (7, 7)
        np.testing.assert_allclose(psf, TRUE_PSF, atol=1e-7)
    assert blurfit.read_psf(str(tmp_path / "psf.npy")).sum() == pytest.approx(1, abs=1e-6)


def test_read_psf_of_a_written_pair_folder(tmp_path):
    from semgan_core import results

    results.write_json(tmp_path / "manifest.json", {"psf": np.pad(TRUE_PSF, 4).tolist()})
    assert blurfit.read_psf(tmp_path / "manifest.json").shape == (15, 15)


def test_read_psf_refuses_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"read_psf: '.*none\.json' is not a file"):
        blurfit.read_psf(tmp_path / "none.json")
    with pytest.raises(FileNotFoundError, match="read_psf: .* is not a file"):
        blurfit.read_psf(tmp_path)


@pytest.mark.parametrize("name, content, match", [
    ("bad.json", "{not json", "holds no PSF"),
    ("manifest.json", '{"degrader": "generator"}', r"holds no PSF \(KeyError"),
    ("ragged.json", "[[1, 2], [3]]", "holds no PSF"),
    ("text.json", '[["a", "b", "c"]]', "holds no PSF"),
    ("even.json", "[[0.25, 0.25], [0.25, 0.25]]", r"expected a 2-D kernel with odd sides, "
                                                  r"finite and non-negative, got shape \(2, 2\)"),
    ("flat.json", "[0.25, 0.5, 0.25]", r"got shape \(3,\)"),
    ("negative.json", "[[0, -1, 0], [0, 3, 0], [0, -1, 0]]", "non-negative"),
    ("zero.json", "[[0, 0, 0], [0, 0, 0], [0, 0, 0]]", "non-negative"),
    ("nan.json", "[[NaN]]", "finite"),
    ("bad.npy", b"not an npy file", "holds no PSF"),
])
def test_read_psf_refuses_invalid_content_in_one_line_naming_the_file(tmp_path, name,
                                                                      content, match):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    with pytest.raises(ValueError, match=match) as info:
        blurfit.read_psf(path)
    message = str(info.value)
    assert message.startswith(f"read_psf: {str(path)!r}") and "\n" not in message
