"""The paper's degradations A, B and C: blur, fog and (optionally) SEM noise.

Methods, "Synthesis dataset" (eqs. 17-20): degradation A is a 7x7 Gaussian blur
(sigma 1); B is the same blur and then fog; C is a "hybrid blur" (Gaussian, motion,
out-of-focus) and then fog. The kernels are in :mod:`semgan_core.kernels`.
:func:`degrade` returns, with the degraded image, a JSON-serialisable ``info`` dict
from which :func:`kernel_from_info` rebuilds the true point-spread function,
:func:`depth_from_info` the fog's depth map and
:meth:`semgan_core.noise.NoiseModel.from_dict` the noise model.

Fog (eq. 18), adopted reading: taken literally (d = 1, A = 3) the formula saturates
every pixel (I >= 2.3 for f in [0, 1]). This module uses a smooth random depth map
scaled to [0, ``FOG_DEPTH``] and an airlight ``AIRLIGHT`` in intensity units, so
I = f t + A (1 - t) with t = exp(-beta d) in [0.29, 1] (beta ~ U[1.5, 2.5]) is a
convex mixture of the image and a bright haze: visible, never clipped, and at its
densest still 29 % or more of the original contrast (recoverable after 8-bit storage).
``fog(..., mode="literal")`` keeps the paper's reading for comparison.

Noise: the paper's degradations have none, and ``degrade(..., noise=None)`` (the
default) reproduces them exactly. A :class:`semgan_core.noise.NoiseModel` adds SEM
noise as the last stage, drawn from a child generator spawned from ``rng``, so the
blur and fog draws (and the caller's generator) are the same with and without noise.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import interpolate, ndimage

from semgan_core import images, kernels
from semgan_core.checks import check_choice, check_number, is_int
from semgan_core.noise import NoiseModel, add_noise

#: The paper's degradations (datasets) and the hybrid-blur readings of degradation C.
DEGRADATIONS = ("A", "B", "C")
HYBRIDS = ("random", "compose")
#: Fog: beta range of the paper; adopted airlight and depth range (see module notes).
BETA_RANGE = (1.5, 2.5)
AIRLIGHT = 0.8
FOG_DEPTH = 0.5
DEPTH_SCALE = 0.25
#: The paper's literal fog values (d = 1, A = 3), kept for ``fog(mode="literal")``.
LITERAL_DEPTH = 1.0
LITERAL_AIRLIGHT = 3.0


def depth_map(shape, *, rng=None, scale=DEPTH_SCALE):
    """Smooth random field in [0, 1]: the fog's depth ("random at different positions").

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)``, both positive.
    rng : numpy.random.Generator, int or None
        Seed or generator; the same seed and shape give the same map.
    scale : float
        Correlation length (Gaussian sigma of the smoothing) as a fraction of the
        longer side, > 0. Default 0.25: one or two hazy patches per image.

    Returns
    -------
    depth : ndarray, shape (H, W), float32, min 0 and max 1 (all 0 if constant)

    Raises
    ------
    ValueError
        For a bad ``shape`` or ``scale``.

    Notes
    -----
    White noise on a coarse grid (four samples per correlation length, with a margin
    so the borders are not special) is Gaussian-filtered, interpolated to ``shape``
    by a bicubic spline and min-max normalised: about 0.1 s for 1280x960.
    """
    if (not isinstance(shape, (tuple, list)) or len(shape) != 2
            or not all(is_int(s) and s > 0 for s in shape)):
        raise ValueError(f"depth_map: shape must be (H, W) with positive ints, got {shape!r}")
    scale = check_number("depth_map", "scale", scale, low=0, strict=True)
    rng = np.random.default_rng(rng)
    h, w = int(shape[0]), int(shape[1])
    sigma = scale * max(h, w)
    step = max(1.0, sigma / 4)
    margin = int(math.ceil(3 * sigma / step))
    ch, cw = (max(4, int(math.ceil(n / step)) + 1) for n in (h, w))
    noise = rng.standard_normal((ch + 2 * margin, cw + 2 * margin))
    coarse = ndimage.gaussian_filter(noise, sigma / step)[margin:margin + ch, margin:margin + cw]
    spline = interpolate.RectBivariateSpline(np.arange(ch), np.arange(cw), coarse)
    field = spline(np.arange(h) / step, np.arange(w) / step)
    span = float(field.max() - field.min())
    field = (field - field.min()) / span if span > 0 else np.zeros_like(field)
    return field.astype(np.float32)


def fog(image, *, beta, depth=None, airlight=None, mode="adopted"):
    """Add fog, eq. 18: I = f exp(-beta d) + A (1 - exp(-beta d)).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        The (blurred) image f.
    beta : float
        Scattering coefficient, >= 0 (paper: U[1.5, 2.5]).
    depth : float or ndarray, shape (H, W), >= 0
        Depth d. Required for ``mode="adopted"`` (use ``FOG_DEPTH * depth_map(...)``);
        default 1 (the paper's d) for ``mode="literal"``.
    airlight : float
        Airlight A. Adopted: in [0, 1], default ``AIRLIGHT`` (0.8). Literal: default 3
        (the paper's A), any finite value.
    mode : {'adopted', 'literal'}
        ``'adopted'`` clips the result to [0, 1] (with A in [0, 1] it never needs to).
        ``'literal'`` returns eq. 18's values unclipped, to show that the paper's
        d = 1, A = 3 give I >= 2.3 everywhere: a saturated, blank image.

    Returns
    -------
    foggy : ndarray, shape (H, W), float32
        In [0, 1] for ``'adopted'``; unclipped for ``'literal'``.

    Raises
    ------
    ValueError
        For an unknown mode, a missing or negative depth, a depth of the wrong shape,
        or an adopted airlight outside [0, 1].

    Examples
    --------
    >>> round(float(fog(np.full((2, 2), 0.5, np.float32), beta=2.0, mode="literal")[0, 0]), 5)
    2.66166
    """
    if mode not in ("adopted", "literal"):
        raise ValueError(f"fog: mode must be 'adopted' or 'literal', got {mode!r}")
    image = images.as_image(image, name="fog: image")
    beta = check_number("fog", "beta", beta, low=0)
    literal = mode == "literal"
    if depth is None and not literal:
        raise ValueError("fog: mode='adopted' needs a depth (scalar or (H, W) map), got None")
    depth = np.asarray(LITERAL_DEPTH if depth is None else depth, dtype=np.float64)
    if depth.shape not in ((), image.shape) or not np.all(np.isfinite(depth)) \
            or depth.min() < 0:
        raise ValueError(f"fog: depth must be a finite scalar or {image.shape} map >= 0, "
                         f"got shape {depth.shape}")
    airlight = (LITERAL_AIRLIGHT if literal else AIRLIGHT) if airlight is None else airlight
    airlight = check_number("fog", "airlight", airlight)
    if not literal and not 0.0 <= airlight <= 1.0:
        raise ValueError(f"fog: airlight must be in [0, 1] for mode='adopted' (intensity "
                         f"units), got {airlight!r}; the paper's A = 3 is mode='literal'")
    t = np.exp(-beta * depth)
    out = image * t + airlight * (1.0 - t)
    return (out if literal else np.clip(out, 0.0, 1.0)).astype(np.float32)


def kernel_from_info(info):
    """The true total point-spread function of a :func:`degrade` result.

    Parameters
    ----------
    info : dict
        ``info`` from :func:`degrade` (or any dict with a non-empty ``"kernels"`` list of
        ``{"type": "gaussian"|"motion"|"disk", ...parameters}``).

    Returns
    -------
    psf : ndarray, float32, odd sides, sums to 1
        The single kernel, or the full convolution of several (degradation C
        "compose"; 27 x 27 for the paper's three kernels).

    Raises
    ------
    ValueError
        If ``info`` has no kernel list, or a kernel spec has an unknown type or misses
        a parameter.
    """
    specs = info.get("kernels") if isinstance(info, dict) else None
    if not isinstance(specs, list) or not specs:
        raise ValueError(f"kernel_from_info: expected a dict with a non-empty 'kernels' "
                         f"list, got {type(info).__name__}")
    return kernels.kernel_from_specs(specs, func="kernel_from_info")


def depth_from_info(info, shape):
    """The depth map a :func:`degrade` result used, or None when it has no fog.

    Parameters
    ----------
    info : dict
        ``info`` from :func:`degrade`.
    shape : tuple of int
        The image's ``(H, W)``.

    Returns
    -------
    depth : ndarray, shape (H, W), float32 in [0, ``info["fog"]["depth_max"]``], or None
    """
    spec = info.get("fog") if isinstance(info, dict) else None
    if spec is None:
        return None
    base = depth_map(shape, rng=spec["depth_seed"], scale=spec["depth_scale"])
    return (spec["depth_max"] * base).astype(np.float32)


def degrade(image, degradation="A", *, rng=None, hybrid="random", noise=None):
    """Degrade a clean micrograph as the paper's datasets A, B or C (plus optional noise).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    degradation : {'A', 'B', 'C'}
        A: Gaussian blur 7x7, sigma 1. B: that blur, then fog. C: hybrid blur, then fog.
    rng : numpy.random.Generator, int or None
        Draws the hybrid kernel, beta and the depth map's seed; the noise comes from a
        child generator (``rng.spawn``), which leaves those draws, and the state of a
        generator passed in, as they are without noise.
    hybrid : {'random', 'compose'}
        Degradation C only: one of Gaussian / motion (d 10, theta 0) / disk (r 5) drawn
        per image, or all three composed. Ignored (recorded as None) for A and B.
    noise : semgan_core.noise.NoiseModel or None
        SEM noise added last (after blur and fog). None (default): the paper's
        noise-free degradations.

    Returns
    -------
    degraded : ndarray, shape (H, W), float32 in [0, 1]
    info : dict
        JSON-serialisable: ``degradation``, ``hybrid``, ``kernels`` (type and
        parameters; :func:`kernel_from_info` rebuilds the PSF), ``fog`` (None, or
        ``mode``, ``beta``, ``airlight``, ``depth_seed``, ``depth_scale``,
        ``depth_max``; :func:`depth_from_info` rebuilds the depth) and ``noise`` (None,
        or :meth:`NoiseModel.to_dict`).

    Raises
    ------
    ValueError
        For an invalid image, an unknown degradation or hybrid mode.
    TypeError
        If ``noise`` is neither None nor a NoiseModel.

    Notes
    -----
    Blur first, then fog (eq. 18, adopted reading; see the module notes), then noise.
    The total PSF is applied in one convolution with reflected borders.

    Examples
    --------
    >>> from semgan_core.noise import NoiseModel
    >>> clean = np.full((32, 32), 0.5, np.float32)
    >>> noisy, info = degrade(clean, "A", rng=0, noise=NoiseModel(sigma=0.02))
    >>> info["degradation"], info["noise"]["dose"]
    ('A', 1250.0)
    """
    image = images.as_image(image, name="degrade: image")
    check_choice("degrade", "degradation", degradation, DEGRADATIONS)
    check_choice("degrade", "hybrid", hybrid, HYBRIDS)
    if noise is not None and not isinstance(noise, NoiseModel):
        raise TypeError(f"degrade: noise must be None or a NoiseModel, got "
                        f"{type(noise).__name__}")
    rng = np.random.default_rng(rng)
    if degradation != "C":
        specs = [kernels.GAUSSIAN]
    elif hybrid == "compose":
        specs = [kernels.GAUSSIAN, kernels.MOTION, kernels.DISK]
    else:
        specs = [(kernels.GAUSSIAN, kernels.MOTION, kernels.DISK)[int(rng.integers(3))]]
    info = {"degradation": degradation, "hybrid": hybrid if degradation == "C" else None,
            "kernels": [dict(s) for s in specs], "fog": None, "noise": None}
    out = kernels.convolve(image, kernel_from_info(info))
    if degradation != "A":
        info["fog"] = {"mode": "adopted", "beta": float(rng.uniform(*BETA_RANGE)),
                       "airlight": AIRLIGHT, "depth_seed": int(rng.integers(2**31 - 1)),
                       "depth_scale": DEPTH_SCALE, "depth_max": FOG_DEPTH}
        out = fog(out, beta=info["fog"]["beta"], depth=depth_from_info(info, out.shape),
                  airlight=AIRLIGHT)
    if noise is not None:
        info["noise"] = noise.to_dict()
        out = add_noise(out, noise, rng=rng.spawn(1)[0])
    return out, info
