"""The noise-aware restorer: a residual U-Net trained on pairs made from clear images alone.

No blurred image of the same field as a clear one is ever needed. From an unpaired
dataset (:func:`semgan_core.datasets.make_dataset`: blurred, noisy domain ``trainA``,
clear domain ``trainB``) this module

1. estimates each blurred image's noise level from the image itself
   (:func:`semgan_core.blurfit.noise_levels`: Immerkaer's estimator, turned into the
   shot noise's standard deviation at mid-grey);
2. estimates the degradation that maps the clear domain to the blurred one: the blur's
   point-spread function from the two domains' mean power spectra
   (:func:`semgan_core.blurfit.estimate_psf`; zero phase, the white noise's power taken
   off first), or the
   filter recipe's learned F (clear -> blurred, ``RUN_DIR/generator_F.keras``);
3. writes a *paired* folder (:func:`make_pair_dataset`): each clear crop ``c``, and as
   its input ``c`` degraded at a strength ``s`` plus shot noise at a level drawn from
   the estimated ones. With a fitted PSF the strength scales the blur itself (transfer
   function ``|H| ** s``, :func:`semgan_core.kernels.psf_power`: for a Gaussian, the
   standard deviation times ``sqrt(s)``) and the fog's optical depth; with a generator
   as degrader, the input is the mix ``c + s (D(c) - c)``. The strength is 0 (no blur)
   for a share of the pairs and otherwise drawn from a range up to a little over 1,
   and the noise is 0 for a share, so the restorer learns to leave a sharp, clean image
   alone and to restore a lighter blur without over-sharpening it. With the fog, a
   share of the blurred pairs can be left without it (``p_fogless``): the fog's depth
   grows with the strength, so otherwise every light blur comes with a little fog and
   the restorer lifts a haze from light blurs that have none. The depth can also grow
   as a power of the strength (``fog_power``), so that a light blur comes with almost
   no fog while the full blur keeps the full fog (an option; the shipped models do not
   use it).

The restorer is then trained by the one trainer in paired mode, on that folder, with
the settings :data:`SETTINGS`: the paper's multi-scale U-Net at reduced width, residual
(``G(x) = x + U-Net(x)``, output layer zero-initialised, so it starts as the identity),
and a loss in decibels: each crop's ``log10(MSE + 1e-4)`` (-PSNR / 10, floored at 40 dB)
plus 1 - SSIM, no L1. L1 weighs a crop by the size of its error, so the crops that need
little restoring (sharp, lightly blurred) count little and the network sharpens them as
it sharpens the rest; in decibels every crop counts alike. The exact ``make-dataset``,
``make-pairs`` and ``train`` commands of each shipped model are in its model card
(:func:`train_overrides` gives the ``--set`` list; the B and C models' fine-tunes add
``contrast_residual=0.25``, :class:`semgan_core.models.ContrastGain`: the U-Net's instance
norms hide the input's contrast from it, so its correction was as large on a flat crop
as on a crop of typical contrast, and flat crops were sharpened and stretched too much;
times the input's standard deviation the correction follows the contrast; C's fine-tune
also runs on pairs of which half the blurred ones have an isotropic Gaussian blur,
``p_gaussian``). For degradations with fog
(B, C) the ``'psf+fog'`` degrader also fits eq. 18's fog; a clear -> blurred generator
(the filter recipe's ``generator_F.keras``) can stand in for any degradation.

Why pairs rather than the cycle: at CPU scale the paper's U-Net trained with eq. 16
stays at or below its input, and the filter recipe is linear: it cannot tell noise from
detail and amplifies the noise of low-dose micrographs. A supervised restorer learns
the nonlinear denoising deconvolution; here its pairs come from the clear domain, the
degradation estimated from unpaired statistics, and the noise level from the blurred
images themselves.

Measured on validation pairs (held-out source images, shot noise sigma 0 to 0.04) in
Table R.6 of the book's reproduction notes: every variant tried, the filter recipe and
Wiener with the true PSF beside them. The decibel loss gives sharp crops back at 40 dB or
more where L1 + (1 - SSIM) over-sharpened them; width 0.25 (0.124 s per training step on
2 idle cores against 0.073 at width 0.125, ``benchmarks/bench_train.py``) gains up to
2.4 dB over 0.125; averaging over 8 orientations at inference (:mod:`semgan_core.ensemble`,
what :func:`semgan_core.generators.load_generator` does for the restorers) adds up to
1.4 dB.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from semgan_core import blurfit, checks, datasets, fogfit, images, kernels, noise, results

#: Training settings of the restorer (``get_config("book", **SETTINGS)``, paired mode).
SETTINGS = dict(recipe="paper", residual=True, width=0.25, image_size=128, batch_size=8,
                learning_rate=5e-4, beta_1=0.9, steps=6000, lr_decay=True,
                intra_op_threads=2, paired_l1=0.0, paired_ssim=1.0, paired_psnr=1.0,
                paired_mse_floor=1e-4)
#: Defaults of the pair synthesis.
P_SHARP = 0.3              # share of pairs without blur (input = clear crop + noise)
P_CLEAN = 0.3              # share of pairs without noise
P_FOGLESS = 0.0            # share of the blurred pairs left without fog ('psf+fog')
FOG_POWER = 1.0            # the fog's optical depth grows as strength ** FOG_POWER
P_LOW_CONTRAST = 0.0       # share of pairs whose clear crop has its contrast scaled down
CONTRAST = (0.25, 1.0)     # range of that contrast factor, uniform
LOW_CONTRAST_FOG = True    # the low-contrast share is fogged like the other pairs
ROW_CORRELATION = (0.0, 0.0)   # range of the noise's correlation along rows (px), uniform
STRENGTH = (0.1, 1.3)      # blur strength s of the other pairs, uniform
P_GAUSSIAN = 0.0           # share of the blurred pairs given a Gaussian blur instead
GAUSSIAN_SIGMA = (0.3, 1.2)    # range of that Gaussian's standard deviation (px), uniform
#: How the strength acts: 'otf' scales the fitted blur (``|H| ** s``) and fog depth,
#: 'mix' mixes the clear and the fully degraded crop (the only way for a generator).
SCALINGS = ("otf", "mix")
N_SAMPLES = 4              # pairs written to testA/testA_gt (the trainer's sample grids)
#: Degraders fitted from the unpaired dataset itself (:func:`make_pair_dataset`).
DEGRADERS = ("psf", "psf+fog")
FOG_FIT = 100              # images of each domain for the fog fit


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


def synthesize_pair(clear, degraded, *, strength, sigma, row_correlation=0.0, rng=None):
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
    row_correlation : float, optional
        The noise's correlation along rows in pixels (``NoiseModel.row_correlation``);
        0 (default): white.
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
    model = noise.NoiseModel(sigma=sigma, row_correlation=row_correlation)
    return noise.add_noise(mixed, model, rng=rng)


def _degrader(data_dir, degrader, rng, n_fit, fog_power=FOG_POWER):
    """``(degrade(image, strength, fog=True) -> image, description, blurred sample)``
    for ``degrader``: 'psf', 'psf+fog' (the strength scales the blur's transfer function,
    and its power ``fog_power`` the fog's depth; ``fog=False`` leaves the fog out) or a clear -> blurred
    generator file (the strength and ``fog`` are ignored: the full degradation)."""
    if str(degrader) not in DEGRADERS:
        from semgan_core import generators          # TensorFlow only when needed

        model = generators.load_generator(degrader)

        def apply(image, strength=1.0, fog=True):
            x = images.to_model_range(image)[None, ..., None]
            return images.from_model_range(np.asarray(model(x, training=False))[0, ..., 0])
        return apply, {"degrader": "generator", "path": str(degrader)}, None
    blurred, clear = (_sample(data_dir / folder, n_fit, rng) for folder in ("trainA", "trainB"))
    psf = blurfit.estimate_psf(blurred, clear, blurred_noise=[noise.estimate_noise(x) for x in blurred],
                       clear_noise=[noise.estimate_noise(x) for x in clear])
    description = {"degrader": str(degrader), "psf": psf.tolist()}
    if str(degrader) == "psf":
        return ((lambda image, strength=1.0, fog=True: _blur(image, psf, strength)),
                description, blurred)
    fit = fogfit.estimate_fog(blurred[:FOG_FIT], np.stack([kernels.convolve(x, psf)
                                                           for x in clear[:FOG_FIT]]),
                              seed=int(rng.integers(2**31 - 1)))
    description["fog"] = fit
    low, high = fit["tau"]

    def apply(image, strength=1.0, fog=True):
        blurred_image = _blur(image, psf, strength)
        if high == 0 or strength == 0 or not fog:
            return blurred_image
        return fogfit.apply_fog(blurred_image, airlight=fit["airlight"],
                                tau=strength ** fog_power * float(rng.uniform(low, high)),
                                rng=rng)
    return apply, description, blurred


def _blur(image, psf, strength):
    # at strength 1 the fitted PSF itself (psf_power(psf, 1) is its zero-phase modulus,
    # which differs by a few 1e-3 where the cut kernel's transfer function dips below 0)
    if strength == 0:
        return image
    return kernels.convolve(image, psf if strength == 1 else kernels.psf_power(psf, strength))


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
                      extra_clear=(), p_sharp=P_SHARP, p_clean=P_CLEAN,
                      p_fogless=P_FOGLESS, fog_power=FOG_POWER,
                      p_low_contrast=P_LOW_CONTRAST, contrast=CONTRAST,
                      low_contrast_fog=LOW_CONTRAST_FOG, row_correlation=ROW_CORRELATION,
                      strength=STRENGTH, scaling=None, p_gaussian=P_GAUSSIAN,
                      gaussian_sigma=GAUSSIAN_SIGMA, n_fit=300, seed=0):
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
    degrader : 'psf', 'psf+fog' or path-like
        ``'psf'``: :func:`semgan_core.blurfit.estimate_psf` from ``n_fit`` images of
        each domain. ``'psf+fog'``: that blur, then eq. 18's fog with the airlight and
        optical-depth range fitted by :func:`semgan_core.fogfit.estimate_fog` (each
        clear image gets a fresh depth field and depth). A path: a clear -> blurred
        generator (the filter recipe's ``generator_F.keras``).
    n_pairs : int
        Pairs to write (>= ``N_SAMPLES + 1``).
    size : int
        Crop side, a multiple of 128, not above the dataset's.
    extra_clear : sequence of path-like
        More unpaired datasets whose ``trainB`` crops join the clear pool (each folder,
        this one included, is drawn with equal probability), e.g. real micrographs.
    p_sharp, p_clean : float
        Shares of pairs without blur and without noise, in [0, 1].
    p_fogless : float
        Share of the blurred pairs (strength above 0) made with the blur alone, in
        [0, 1]; only with ``degrader='psf+fog'`` and ``scaling='otf'``. In the fitted
        degradation the fog's depth grows with the blur's strength, so without such
        pairs a lightly blurred image always comes with a little fog, and the restorer
        lifts a haze from lightly blurred images that have none.
    fog_power : float
        The fog's optical depth is the fitted one times ``s ** fog_power`` (> 0; only
        with ``degrader='psf+fog'`` and ``scaling='otf'`` when not 1). At 1 it grows as
        the blur's strength; at 3 a blur of strength 0.36 (Gaussian sigma 0.6 where the
        fitted blur's is 1) comes with a twentieth of the full fog's depth instead of a
        third, while the full blur keeps its full fog. (On the book's validation crops
        this did not stop the B and C restorers from stretching clean low-contrast
        crops: the reproduction notes give the numbers.)
    p_low_contrast : float
        Share of all pairs, in [0, 1], whose clear crop has its contrast scaled down
        about the crop's mean, ``m + k (c - m)`` with ``k`` drawn uniformly from
        ``contrast``, before it is degraded; that low-contrast crop is then the target.
        A fog also compresses the contrast towards the airlight, so a restorer that
        has seen only clear crops of ordinary contrast lifts "fog" from a clean crop
        whose contrast is low; these pairs show it that such crops exist.
    contrast : (float, float)
        Range of ``k``, within (0, 1].
    low_contrast_fog : bool
        Whether the low-contrast share is fogged like the other blurred pairs (True) or
        never (False; only with ``degrader='psf+fog'``, ``scaling='otf'`` and
        ``p_low_contrast`` above 0). The fog brightens a crop towards the airlight as it
        flattens it, so a crop that is flat but not brightened is, in these pairs, one
        that is flat on its own, and the restorer is to leave its grey levels alone. (On
        the book's validation crops the B and C restorers fine-tuned so stretched flat
        crops more than those fine-tuned with the share fogged: the reproduction notes
        give the numbers.)
    row_correlation : (float, float)
        Range, in pixels, of the noise's correlation along rows
        (:class:`semgan_core.noise.NoiseModel`), drawn uniformly for each pair. Real
        micrographs' noise is smoothed along the scan line by the detector's bandwidth;
        a restorer trained on white noise alone leaves that noise as a coarse mottle.
        Half of the pairs, drawn at random, have it along the columns instead, since
        the restorer also runs on the image turned by 90 degrees
        (:mod:`semgan_core.ensemble`). ``(0, 0)`` (default): white noise, and nothing is
        drawn.
    strength : (float, float)
        Range of the blur strength ``s`` of the other pairs, uniform.
    scaling : {'otf', 'mix'} or None
        How ``s`` acts (:data:`SCALINGS`). ``'otf'``: the clear image blurred by
        :func:`semgan_core.kernels.psf_power` of the fitted PSF (the fog's optical
        depth times ``s``); ``'mix'``: ``c + s (D(c) - c)`` (:func:`synthesize_pair`).
        None: ``'otf'`` for a fitted degrader, ``'mix'`` for a generator file (which
        allows only ``'mix'``).
    p_gaussian : float
        Share of the blurred pairs, in [0, 1], blurred instead by an isotropic Gaussian
        (:func:`semgan_core.kernels.gaussian_kernel`) of standard deviation drawn from
        ``gaussian_sigma``, without fog; only with ``scaling='otf'``. The fitted PSF is
        the blurred domain's *mean* blur: where that domain mixes blurs of different
        shapes (degradation C: a Gaussian, a horizontal motion or a disk, image by
        image) it is none of them, and a restorer trained on it alone sharpens a light
        isotropic defocus as if it were that mean blur (on the book's validation crops
        it lost most on fine texture: the reproduction notes give the numbers), while a
        light defocus can blur a micrograph of any sample.
    gaussian_sigma : (float, float)
        Range of that standard deviation in pixels, > 0, uniform. (Such a pair's
        recorded ``strength`` is the one drawn before the choice, and unused.)
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
        If ``data_dir`` is not a folder, a domain folder holds no images, or a degrader
        file does not exist.
    ValueError
        For invalid numbers, a ``size`` above the dataset's crops, a degrader that is
        neither of :data:`DEGRADERS` nor a ``.keras`` file, or ``scaling='otf'`` with a
        generator file.
    """
    func = "make_pair_dataset"
    n_pairs = checks.check_int(func, "n_pairs", n_pairs, low=N_SAMPLES + 1)
    size = checks.check_size_multiple(func, "size", size)
    n_fit = checks.check_int(func, "n_fit", n_fit, low=2)
    for name, value in (("p_sharp", p_sharp), ("p_clean", p_clean), ("p_fogless", p_fogless),
                        ("p_low_contrast", p_low_contrast)):
        checks.check_number(func, name, value, low=0, high=1)
    fog_power = checks.check_number(func, "fog_power", fog_power, low=0, strict=True)
    k_low, k_high = (checks.check_number(func, "contrast", v, low=0, high=1) for v in contrast)
    c_low, c_high = (checks.check_number(func, "row_correlation", v, low=0)
                     for v in row_correlation)
    if c_low > c_high:
        raise ValueError(f"{func}: row_correlation must be a range (low, high), "
                         f"got {row_correlation!r}")
    if not 0 < k_low <= k_high:
        raise ValueError(f"{func}: contrast must be a range (low, high) in (0, 1], "
                         f"got {contrast!r}")
    checks.check_number(func, "p_gaussian", p_gaussian, low=0, high=1)
    g_low, g_high = (checks.check_number(func, "gaussian_sigma", v, low=0, strict=True)
                     for v in gaussian_sigma)
    if g_low > g_high:
        raise ValueError(f"{func}: gaussian_sigma must be a range (low, high), "
                         f"got {gaussian_sigma!r}")
    low, high = (checks.check_number(func, "strength", v, low=0) for v in strength)
    if low > high:
        raise ValueError(f"{func}: strength must be a range (low, high), got {strength!r}")
    fitted = str(degrader) in DEGRADERS
    if scaling is None:
        scaling = "otf" if fitted else "mix"
    checks.check_choice(func, "scaling", scaling, SCALINGS)
    if scaling == "otf" and not fitted:
        raise ValueError(f"{func}: scaling 'otf' needs a fitted degrader "
                         f"({', '.join(DEGRADERS)}); a generator file allows only 'mix'")
    if p_fogless and (str(degrader) != "psf+fog" or scaling != "otf"):
        raise ValueError(f"{func}: p_fogless needs degrader 'psf+fog' with scaling 'otf', "
                         f"got degrader {str(degrader)!r}, scaling {scaling!r}")
    if not low_contrast_fog and (str(degrader) != "psf+fog" or scaling != "otf"
                                 or not p_low_contrast):
        raise ValueError(f"{func}: low_contrast_fog=False needs degrader 'psf+fog' with "
                         f"scaling 'otf' and p_low_contrast above 0, got degrader "
                         f"{str(degrader)!r}, scaling {scaling!r}, p_low_contrast "
                         f"{p_low_contrast!r}")
    if p_gaussian and scaling != "otf":
        raise ValueError(f"{func}: p_gaussian needs scaling 'otf' (a fitted degrader), "
                         f"got scaling {scaling!r}")
    if fog_power != 1 and (str(degrader) != "psf+fog" or scaling != "otf"):
        raise ValueError(f"{func}: fog_power needs degrader 'psf+fog' with scaling 'otf', "
                         f"got degrader {str(degrader)!r}, scaling {scaling!r}")
    data_dir, out = Path(data_dir), Path(out)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{func}: dataset {str(data_dir)!r} is not a folder")
    if str(degrader) not in DEGRADERS:
        if Path(degrader).suffix != ".keras":
            raise ValueError(f"{func}: degrader must be {', '.join(DEGRADERS)} or a generator "
                             f".keras file, got {str(degrader)!r}")
        if not Path(degrader).is_file():
            raise FileNotFoundError(f"{func}: degrader {str(degrader)!r} is not a file")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{func}: output {str(out)!r} exists and is not empty")
    rng = np.random.default_rng(seed)
    pools = []
    for folder in (Path(d) / "trainB" for d in (data_dir, *extra_clear)):
        pools.append(datasets.list_images(folder) if folder.is_dir() else [])
        if not pools[-1]:
            raise FileNotFoundError(f"{func}: {str(folder)!r} holds no images")
    degrade, description, blurred = _degrader(data_dir, degrader, rng, n_fit, fog_power)
    if blurred is None:
        blurred = _sample(data_dir / "trainA", n_fit, rng)
    levels = blurfit.noise_levels(blurred)
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
        if scaling == "mix":          # degrade first: the draws of the earlier folders
            degraded = degrade(full)
        s = 0.0 if rng.random() < p_sharp else float(rng.uniform(low, high))
        sigma = 0.0 if rng.random() < p_clean else float(rng.choice(levels))
        fog = not (p_fogless and s > 0 and rng.random() < p_fogless)
        k_contrast = 1.0
        if p_low_contrast and rng.random() < p_low_contrast:     # no draw when 0
            k_contrast = float(rng.uniform(k_low, k_high))
            fog = fog and low_contrast_fog
            y, x = box[:2]
            mean = float(full[y:y + size, x:x + size].mean())
            full = (mean + k_contrast * (full - mean)).astype(np.float32)
            if scaling == "mix":
                degraded = degrade(full)
        correlation, columns = 0.0, False
        if c_high > 0:                                       # no draw when (0, 0)
            correlation, columns = float(rng.uniform(c_low, c_high)), bool(rng.integers(2))
        g_sigma = 0.0
        if p_gaussian and s > 0 and rng.random() < p_gaussian:   # no draw when 0
            g_sigma = float(rng.uniform(g_low, g_high))
            fog = False
            degraded = kernels.convolve(full, kernels.gaussian_kernel(
                2 * int(np.ceil(3 * g_sigma)) + 1, g_sigma))
        elif scaling == "otf":
            degraded = degrade(full, s, fog=fog)
        clear, degraded = _crop(full, box, flip, rot), _crop(degraded, box, flip, rot)
        turn = np.transpose if columns else np.asarray      # noise down the columns
        noisy = turn(synthesize_pair(turn(clear), turn(degraded), sigma=sigma,
                                     strength=1.0 if scaling == "otf" else s,
                                     row_correlation=correlation, rng=rng))
        folder = "testA" if k < N_SAMPLES else "trainA"
        name = f"{k:06d}.png"
        images.write_image(tmp / folder / name, noisy)
        images.write_image(tmp / f"{folder}_gt" / name, clear)
        records[name] = {"source": str(path), "strength": s, "sigma": sigma}
        if p_fogless or not low_contrast_fog or p_gaussian:
            records[name]["fog"] = fog
        if p_low_contrast:
            records[name]["contrast"] = k_contrast
        if p_gaussian:
            records[name]["gaussian_sigma"] = g_sigma    # 0: the fitted blur
        if c_high > 0:
            records[name]["row_correlation"] = correlation
            records[name]["correlated_along"] = "columns" if columns else "rows"
    degradation = (datasets.read_manifest(data_dir) or {}).get("degradation")
    manifest = {"kind": "restorer-pairs", "degradation": degradation,
                "data_dir": str(data_dir), "size": size,
                "n_pairs": n_pairs, "extra_clear": [str(d) for d in extra_clear],
                "p_sharp": p_sharp, "p_clean": p_clean, "p_fogless": p_fogless,
                "fog_power": fog_power,
                "p_low_contrast": p_low_contrast, "contrast": [k_low, k_high],
                "low_contrast_fog": bool(low_contrast_fog),
                "row_correlation": [c_low, c_high],
                "strength": [low, high],
                "scaling": scaling,
                "p_gaussian": p_gaussian, "gaussian_sigma": [g_low, g_high],
                "seed": seed, **description,
                "noise_levels": {q: float(np.quantile(levels, q)) for q in (0, .25, .5, .75, 1)},
                "images": records, "versions": results.library_versions()}
    results.write_json(tmp / "manifest.json", manifest)
    out.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        child.rename(out / child.name)
    tmp.rmdir()
    return manifest
