"""The noise-aware restorer: a residual U-Net trained on pairs made from clear images alone.

No blurred image of the same field as a clear one is ever needed. From an unpaired
dataset (:func:`semgan_core.datasets.make_dataset`: blurred, noisy domain ``trainA``,
clear domain ``trainB``) this module

1. estimates each blurred image's noise level from the image itself
   (:func:`noise_levels`: Immerkaer's estimator, :func:`semgan_core.noise.estimate_noise`,
   turned into the shot noise's standard deviation at mid-grey);
2. estimates the degradation that maps the clear domain to the blurred one: the blur's
   point-spread function from the two domains' mean power spectra
   (:func:`estimate_psf`; zero phase, the white noise's power taken off first), or the
   filter recipe's learned F (clear -> blurred, ``RUN_DIR/generator_F.keras``);
3. writes a *paired* folder (:func:`make_pair_dataset`): each clear crop ``c``, and as
   its input ``c + s (D(c) - c)`` plus shot noise at a level drawn from the estimated
   ones. The blur strength ``s`` is 0 (no blur) for a share of the pairs and otherwise
   drawn from a range around 1, and the noise is 0 for a share, so the restorer learns
   to leave a sharp, clean image alone and to restore a lighter blur without
   over-sharpening it.

The restorer is then trained by the one trainer in paired mode (L1 + 1 - SSIM), on that
folder, with the settings :data:`SETTINGS`: the paper's multi-scale U-Net at reduced
width, residual (``G(x) = x + U-Net(x)``, output layer zero-initialised, so it starts
as the identity)::

    make_pair_dataset("data/A", "data/A-pairs")
    python -m semgan_core train --paired --profile book --data data/A-pairs \\
        --out runs/restorer_A --set recipe=paper --set residual=true ...

(:func:`train_overrides` gives the ``--set`` list.)
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

from semgan_core import checks, datasets, images, kernels, noise, results

#: Training settings of the restorer (``get_config("book", **SETTINGS)``, paired mode).
SETTINGS = dict(recipe="paper", residual=True, width=0.125, image_size=128, batch_size=8,
                learning_rate=5e-4, beta_1=0.9, steps=1500, intra_op_threads=2)
#: Defaults of the pair synthesis.
P_SHARP = 0.25             # share of pairs without blur (input = clear crop + noise)
P_CLEAN = 0.15             # share of pairs without noise
STRENGTH = (0.3, 1.2)      # blur strength s of the other pairs, uniform
PSF_SIZE = 15              # side of the estimated point-spread function
BAND = 0.4                 # noise_power: spectrum beyond this many cycles per pixel
BAND_CAP = 1.25            # noise_power: at most this times the estimated noise power
N_SAMPLES = 4              # pairs written to testA/testA_gt (the trainer's sample grids)


def train_overrides(**changes) -> list[str]:
    """``--set key=value`` items for ``python -m semgan_core train --paired``.

    Parameters
    ----------
    **changes
        Settings that replace those of :data:`SETTINGS` (e.g. ``steps=3000``).

    Returns
    -------
    list of str
    """
    return [f"{k}={v}" for k, v in {**SETTINGS, **changes}.items()]


def noise_levels(blurred) -> np.ndarray:
    """Each image's shot noise as its standard deviation at mid-grey (Gaussian equivalent).

    Parameters
    ----------
    blurred : ndarray, shape (N, H, W), float32 in [0, 1]
        Images of the blurred domain.

    Returns
    -------
    sigma : ndarray, shape (N,), float64
        ``estimate_noise(x) * sqrt(0.5 / mean(x))``: for shot noise the variance at grey
        level ``s`` is ``s / dose``, so the mean variance over an image is
        ``mean(x) / dose`` and the level at mid-grey ``sqrt(0.5 / dose)``.

    Raises
    ------
    ValueError
        For images that are not a (N, H, W) stack in [0, 1].
    """
    stack = _stack("noise_levels", blurred)
    out = [noise.estimate_noise(x) * math.sqrt(noise.MID_GREY / max(float(x.mean()), 1e-3))
           for x in stack]
    return np.asarray(out, np.float64)


def mean_power_spectrum(stack) -> np.ndarray:
    """Mean power spectrum of mean-removed, Hann-windowed images.

    Parameters
    ----------
    stack : ndarray, shape (N, H, W), float32 in [0, 1]

    Returns
    -------
    power : ndarray, shape (H, W), float64, unshifted (frequency 0 at [0, 0])

    Notes
    -----
    White noise of standard deviation ``s`` adds ``s**2 * sum(window**2)`` at every
    frequency (:func:`noise_power`).
    """
    stack = _stack("mean_power_spectrum", stack)
    h, w = stack.shape[1:]
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.zeros((h, w))
    for x in stack.astype(np.float64):
        power += np.abs(np.fft.fft2((x - x.mean()) * window)) ** 2
    return power / len(stack)


def noise_power(power, sigma) -> float:
    """The white noise's share of a mean power spectrum (:func:`mean_power_spectrum`).

    Parameters
    ----------
    power : ndarray, shape (H, W)
        A domain's mean power spectrum.
    sigma : array_like
        Each image's noise standard deviation (:func:`semgan_core.noise.estimate_noise`).

    Returns
    -------
    float
        The median power beyond :data:`BAND` cycles per pixel (where a blur leaves only
        noise), kept between the estimated noise's power and :data:`BAND_CAP` times it.

    Notes
    -----
    Immerkaer's estimate with the strongest edges left out reads a few percent low on
    blurred micrographs (measured: 0.0231 for a true 0.0240); left in, the remaining
    noise power makes the estimated PSF too narrow. The spectrum's outer band measures
    the noise power itself when the blur has removed the signal there; the cap keeps a
    weak blur's remaining signal from being taken for noise.
    """
    h, w = power.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    estimate = float(np.mean(np.square(sigma))) * float(np.sum(window ** 2))
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    band = float(np.median(power[np.hypot(fy, fx) > BAND]))
    return float(np.clip(band, estimate, BAND_CAP * estimate))


def estimate_psf(blurred, clear, *, size=PSF_SIZE, blurred_noise=None, clear_noise=None):
    """The blur's point-spread function from the two domains' mean power spectra.

    Parameters
    ----------
    blurred, clear : ndarray, shape (N, H, W) and (M, H, W), float32 in [0, 1]
        Unrelated images of the blurred and the clear domain (same crop size).
    size : int, optional
        Odd side of the returned kernel.
    blurred_noise, clear_noise : array_like, optional
        Each image's white-noise standard deviation (:func:`semgan_core.noise.
        estimate_noise`); the noise power (:func:`noise_power`) is taken off its
        domain's spectrum first.

    Returns
    -------
    psf : ndarray, shape (size, size), float32, non-negative, sums to 1

    Raises
    ------
    ValueError
        For stacks of different crop sizes, or a ``size`` that is not odd, below 3 or
        larger than the crops.

    Notes
    -----
    For ``b = k * c + n`` the mean spectra obey ``P_b = |K|^2 P_c + P_n``, so
    ``|K| = sqrt((P_b - P_n) / P_c)`` (clipped to [0, 1]; frequency 0 set to 1). The
    phase is not identifiable from unrelated images: the kernel is the zero-phase
    (symmetric) one with that modulus, cut to ``size`` and renormalised.
    """
    size = checks.check_int("estimate_psf", "size", size, low=3)
    pb, pc = mean_power_spectrum(blurred), mean_power_spectrum(clear)
    if pb.shape != pc.shape:
        raise ValueError(f"estimate_psf: blurred crops are {pb.shape}, clear ones {pc.shape}; "
                         "expected the same size")
    if size % 2 == 0 or size > min(pb.shape):
        raise ValueError(f"estimate_psf: size must be odd and at most {min(pb.shape)}, "
                         f"got {size}")
    if blurred_noise is not None:
        pb = pb - noise_power(pb, blurred_noise)
    if clear_noise is not None:
        pc = pc - noise_power(pc, clear_noise)
    ratio = np.clip(pb, 0, None) / np.maximum(pc, 1e-3 * pc.max())
    ratio = 0.5 * (ratio + np.roll(ratio[::-1, ::-1], 1, axis=(0, 1)))   # even: real kernel
    modulus = np.sqrt(np.clip(ratio, 0.0, 1.0))
    modulus[0, 0] = 1.0
    kernel = np.real(np.fft.fftshift(np.fft.ifft2(modulus)))
    cy, cx, r = kernel.shape[0] // 2, kernel.shape[1] // 2, size // 2
    kernel = np.clip(kernel[cy - r:cy + r + 1, cx - r:cx + r + 1], 0, None)
    return (kernel / kernel.sum()).astype(np.float32)


def synthesize_pair(clear, degraded, *, strength, sigma, rng=None):
    """The input of one training pair: ``clear + strength (degraded - clear)`` plus noise.

    Parameters
    ----------
    clear, degraded : ndarray, shape (H, W), float32 in [0, 1]
        A clear crop and the same crop degraded (blurred, fogged) by the estimated
        degradation.
    strength : float
        Blur strength, >= 0: 0 gives the clear crop, 1 the degraded one.
    sigma : float
        Shot noise at mid-grey (:class:`semgan_core.noise.NoiseModel`), >= 0.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    noisy : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    ValueError
        For invalid images, different shapes, or a negative ``strength`` or ``sigma``.
    """
    rng = np.random.default_rng(rng)
    clear = images.as_image(clear, name="synthesize_pair: clear")
    degraded = images.as_image(degraded, name="synthesize_pair: degraded")
    if clear.shape != degraded.shape:
        raise ValueError(f"synthesize_pair: clear is {clear.shape}, degraded "
                         f"{degraded.shape}; expected the same shape")
    strength = checks.check_number("synthesize_pair", "strength", strength, low=0)
    sigma = checks.check_number("synthesize_pair", "sigma", sigma, low=0)
    mixed = np.clip(clear + strength * (degraded - clear), 0.0, 1.0).astype(np.float32)
    return noise.add_noise(mixed, noise.NoiseModel(sigma=sigma), rng=rng)


def _degrader(data_dir, degrader, rng, n_fit):
    """``(degrade(image) -> image, description)`` for ``degrader`` ('psf' or an F file)."""
    if str(degrader) != "psf":
        from semgan_core import generators          # TensorFlow only when needed

        model = generators.load_generator(degrader)

        def apply(image):
            x = images.to_model_range(image)[None, ..., None]
            return images.from_model_range(np.asarray(model(x, training=False))[0, ..., 0])
        return apply, {"degrader": "generator", "path": str(degrader)}, None
    blurred, clear = (_sample(data_dir / folder, n_fit, rng) for folder in ("trainA", "trainB"))
    psf = estimate_psf(blurred, clear, blurred_noise=[noise.estimate_noise(x) for x in blurred],
                       clear_noise=[noise.estimate_noise(x) for x in clear])
    return (lambda image: kernels.convolve(image, psf)), {"degrader": "psf",
                                                          "psf": psf.tolist()}, blurred


def _sample(folder, n, rng):
    paths = datasets.list_images(folder)
    if not paths:
        raise FileNotFoundError(f"make_pair_dataset: {str(folder)!r} holds no images")
    pick = rng.choice(len(paths), min(n, len(paths)), replace=False)
    return np.stack([images.read_image(paths[i]) for i in sorted(pick)])


def _crop(image, box, flip, rot):
    y, x, size = box
    crop = image[y:y + size, x:x + size]
    return np.ascontiguousarray(np.rot90(crop[:, ::-1] if flip else crop, rot))


def make_pair_dataset(data_dir, out, *, degrader="psf", n_pairs=6000, size=128,
                      extra_clear=(), p_sharp=P_SHARP, p_clean=P_CLEAN, strength=STRENGTH,
                      n_fit=300, seed=0):
    """Write a paired training folder synthesised from an unpaired dataset's clear domain.

    Parameters
    ----------
    data_dir : path-like
        An unpaired dataset (:func:`semgan_core.datasets.make_dataset`): ``trainA``
        (blurred, noisy) gives the noise levels and, with ``degrader='psf'``, the blur;
        ``trainB`` (clear) the crops.
    out : path-like
        New folder: ``trainA``/``trainA_gt`` (input, clear), ``testA``/``testA_gt``
        (the first :data:`N_SAMPLES` pairs, for the trainer's sample grids) and
        ``manifest.json``.
    degrader : 'psf' or path-like
        ``'psf'``: :func:`estimate_psf` from ``n_fit`` images of each domain. A path:
        a clear -> blurred generator (the filter recipe's ``generator_F.keras``).
    n_pairs : int
        Pairs to write (>= ``N_SAMPLES + 1``).
    size : int
        Crop side, a multiple of 128, not above the dataset's.
    extra_clear : sequence of path-like
        More unpaired datasets whose ``trainB`` crops join the clear pool (each folder,
        this one included, is drawn with equal probability), e.g. real micrographs.
    p_sharp, p_clean : float
        Shares of pairs without blur and without noise, in [0, 1].
    strength : (float, float)
        Range of the blur strength of the other pairs (:func:`synthesize_pair`).
    n_fit : int
        Images of each domain for the noise levels and the PSF.
    seed : int
        Seed of every draw; the same seed gives the same folder.

    Returns
    -------
    manifest : dict
        Also in ``out/manifest.json``: the source dataset's ``degradation``, the
        settings, the degrader (with the PSF), the estimated noise levels' quantiles
        and, under ``images``, each pair's clear source, strength and sigma.

    Raises
    ------
    FileExistsError
        If ``out`` exists and is not empty.
    FileNotFoundError
        If a domain folder holds no images.
    ValueError
        For invalid numbers, or a ``size`` above the dataset's crops.
    """
    func = "make_pair_dataset"
    n_pairs = checks.check_int(func, "n_pairs", n_pairs, low=N_SAMPLES + 1)
    size = checks.check_size_multiple(func, "size", size)
    n_fit = checks.check_int(func, "n_fit", n_fit, low=2)
    for name, value in (("p_sharp", p_sharp), ("p_clean", p_clean)):
        checks.check_number(func, name, value, low=0, high=1)
    low, high = (checks.check_number(func, "strength", v, low=0) for v in strength)
    if low > high:
        raise ValueError(f"{func}: strength must be a range (low, high), got {strength!r}")
    data_dir, out = Path(data_dir), Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{func}: output {str(out)!r} exists and is not empty")
    rng = np.random.default_rng(seed)
    degrade, description, blurred = _degrader(data_dir, degrader, rng, n_fit)
    if blurred is None:
        blurred = _sample(data_dir / "trainA", n_fit, rng)
    levels = noise_levels(blurred)
    pools = [datasets.list_images(Path(d) / "trainB") for d in (data_dir, *extra_clear)]
    tmp = out.parent / f".{out.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    records = {}
    for k in range(n_pairs):
        source = rng.integers(len(pools))
        path = pools[source][rng.integers(len(pools[source]))]
        full = images.read_image(path)
        if size > min(full.shape):
            raise ValueError(f"{func}: size {size} is larger than {str(path)!r} "
                             f"({full.shape[0]}x{full.shape[1]})")
        box = (*(int(v) for v in rng.integers(0, min(full.shape) - size + 1, 2)), size)
        flip, rot = bool(rng.integers(2)), int(rng.integers(4))
        clear, degraded = (_crop(x, box, flip, rot) for x in (full, degrade(full)))
        s = 0.0 if rng.random() < p_sharp else float(rng.uniform(low, high))
        sigma = 0.0 if rng.random() < p_clean else float(rng.choice(levels))
        noisy = synthesize_pair(clear, degraded, strength=s, sigma=sigma, rng=rng)
        folder = "testA" if k < N_SAMPLES else "trainA"
        name = f"{k:06d}.png"
        images.write_image(tmp / folder / name, noisy)
        images.write_image(tmp / f"{folder}_gt" / name, clear)
        records[name] = {"source": str(path), "strength": s, "sigma": sigma}
    degradation = (datasets.read_manifest(data_dir) or {}).get("degradation")
    manifest = {"kind": "restorer-pairs", "degradation": degradation,
                "data_dir": str(data_dir), "size": size,
                "n_pairs": n_pairs, "extra_clear": [str(d) for d in extra_clear],
                "p_sharp": p_sharp, "p_clean": p_clean, "strength": [low, high],
                "seed": seed, **description,
                "noise_levels": {q: float(np.quantile(levels, q)) for q in (0, .25, .5, .75, 1)},
                "images": records, "versions": results.library_versions()}
    results.write_json(tmp / "manifest.json", manifest)
    out.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        child.rename(out / child.name)
    tmp.rmdir()
    return manifest


def _stack(func, array):
    stack = np.asarray(array)
    if stack.ndim != 3:
        raise ValueError(f"{func}: expected a stack of shape (N, H, W), got shape "
                         f"{stack.shape}")
    return np.stack([images.as_image(x, name=f"{func}: image") for x in stack])
