"""Blur kernels, fog and the paper's degradation recipes A, B and C.

Methods, "Synthesis dataset" (eqs. 17-20): dataset A adds a 7x7 Gaussian blur
(sigma 1); B adds the same blur and then fog; C adds a "hybrid blur" (Gaussian,
motion, out-of-focus) and then fog. Every kernel is float32 and sums to 1, and
:func:`degrade` returns, with the degraded image, a JSON-serialisable ``info`` dict
from which :func:`kernel_from_info` rebuilds the true point-spread function and
:func:`depth_from_info` the fog's depth map.

Fog (eq. 18), adopted reading: taken literally (d = 1, A = 3) the formula saturates
every pixel (I >= 2.3 for f in [0, 1]). This module uses a smooth random depth map
scaled to [0, ``FOG_DEPTH``] and an airlight ``AIRLIGHT`` in intensity units, so
I = f t + A (1 - t) with t = exp(-beta d) in [0.29, 1] (beta ~ U[1.5, 2.5]) is a
convex mixture of the image and a bright haze: visible, never clipped, and at its
densest still 29 % or more of the original contrast (recoverable after 8-bit storage).
``fog(..., mode="literal")`` keeps the paper's reading for comparison.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import interpolate, ndimage, signal

from semgan_core import images

#: Recipes (datasets) of the paper and the hybrid-blur readings of recipe C.
RECIPES = ("A", "B", "C")
HYBRIDS = ("random", "compose")
#: The paper's blur parameters (Methods): Gaussian 7x7 sigma 1, motion d 10 px at
#: theta 0 deg, defocus disk r 5 px.
GAUSSIAN = {"type": "gaussian", "size": 7, "sigma": 1.0}
MOTION = {"type": "motion", "length": 10.0, "angle": 0.0}
DISK = {"type": "disk", "radius": 5.0, "antialias": False}
#: Fog: beta range of the paper; adopted airlight and depth range (see module notes).
BETA_RANGE = (1.5, 2.5)
AIRLIGHT = 0.8
FOG_DEPTH = 0.5
DEPTH_SCALE = 0.25
#: The paper's literal fog values (d = 1, A = 3), kept for ``fog(mode="literal")``.
LITERAL_DEPTH = 1.0
LITERAL_AIRLIGHT = 3.0
_FFT_TAPS = 25  # kernels with more non-zero taps than 5 x 5 are applied by FFT (faster)


def _number(func, name, value, *, low=None, strict=True):
    """Return ``value`` as a finite float, checking ``value > low`` (or ``>=``)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}") from None
    bad = low is not None and (out <= low if strict else out < low)
    if not math.isfinite(out) or bad:
        rel = ">" if strict else ">="
        raise ValueError(f"{func}: {name} must be finite and {rel} {low}, got {value!r}")
    return out


def _normalised(kernel):
    return (kernel / kernel.sum()).astype(np.float32)


def gaussian_kernel(size=7, sigma=1.0):
    """Gaussian blur kernel, eq. 17, sampled at integer offsets and normalised.

    Parameters
    ----------
    size : int
        Side of the square kernel, odd and positive (paper: 7).
    sigma : float
        Standard deviation in pixels, > 0 (paper: 1).

    Returns
    -------
    kernel : ndarray, shape (size, size), float32, sums to 1

    Raises
    ------
    ValueError
        If ``size`` is not an odd positive integer or ``sigma`` is not positive.

    Notes
    -----
    Eq. 17, G(x, y) = exp(-(x^2 + y^2) / 2 sigma^2) / (2 pi sigma^2); on a finite grid
    the constant is replaced by normalisation to sum 1.

    Examples
    --------
    >>> k = gaussian_kernel(7, 1.0)
    >>> k.shape, round(float(k.sum()), 6)
    ((7, 7), 1.0)
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 \
            or size % 2 == 0:
        raise ValueError(f"gaussian_kernel: size must be an odd positive integer, got {size!r}")
    sigma = _number("gaussian_kernel", "sigma", sigma, low=0.0)
    x = np.arange(size) - size // 2
    g = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2.0 * sigma**2))
    return _normalised(g)


def motion_kernel(length=10.0, angle=0.0):
    """Linear motion blur kernel, eq. 19: a line of ``length`` pixels along ``angle``.

    Parameters
    ----------
    length : float
        Blur length d in pixels, > 0 (paper: 10).
    angle : float
        Direction theta in degrees, counter-clockwise from the image's horizontal
        axis as displayed (row index growing downwards) (paper: 0).

    Returns
    -------
    kernel : ndarray, shape (n, n), float32, sums to 1
        ``n = 2 * ceil(length / 2) + 1`` (11 for the paper's d = 10).

    Raises
    ------
    ValueError
        If ``length`` is not positive or ``angle`` is not finite.

    Notes
    -----
    Eq. 19 gives the weight 1/d to the pixels on the line y/x = tan(theta) within
    d/2 of the centre. Here each pixel's weight is the length of the centred segment
    of length d that lies inside the pixel's unit square, divided by d: an exact,
    anti-aliased rasterisation for any angle. At theta = 0 and d = 10 it is a
    horizontal line of nine weights 1/10 and two end weights 1/20 (MATLAB's
    ``fspecial('motion', 10, 0)``).

    Examples
    --------
    >>> k = motion_kernel(10, 0)
    >>> [round(float(v), 3) for v in k[5, :3]]
    [0.05, 0.1, 0.1]
    """
    length = _number("motion_kernel", "length", length, low=0.0)
    angle = _number("motion_kernel", "angle", angle)
    half = math.ceil(length / 2)
    theta = math.radians(angle)
    ux, uy = math.cos(theta), math.sin(theta)
    ux, uy = (0.0 if abs(v) < 1e-12 else v for v in (ux, uy))
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    lo = np.full((offsets.size, offsets.size), -length / 2)
    hi = np.full_like(lo, length / 2)
    for u, centre in ((ux, offsets[None, :]), (uy, -offsets[:, None])):  # x right, y up
        if u == 0.0:
            inside = np.abs(centre) < 0.5
            lo, hi = np.where(inside, lo, np.inf), np.where(inside, hi, -np.inf)
        else:
            a, b = (centre - 0.5) / u, (centre + 0.5) / u
            lo, hi = np.maximum(lo, np.minimum(a, b)), np.minimum(hi, np.maximum(a, b))
    inside = hi - lo
    return _normalised(np.where(inside > 1e-9 * length, inside, 0.0))  # drop corner touches


def disk_kernel(radius=5.0, *, antialias=False):
    """Out-of-focus (defocus) kernel, eq. 20: a uniform disk of ``radius`` pixels.

    Parameters
    ----------
    radius : float
        Disk radius r in pixels, > 0 (paper: 5).
    antialias : bool
        False (default, eq. 20 literally): weight 1 for pixels whose centre lies within
        r of the kernel centre. True: weight = the fraction of the pixel's square inside
        the disk (16 x 16 sub-samples per pixel).

    Returns
    -------
    kernel : ndarray, shape (n, n), float32, sums to 1
        ``n = 2 * ceil(radius) + 1`` (11 for r = 5).

    Raises
    ------
    ValueError
        If ``radius`` is not positive.

    Notes
    -----
    Eq. 20 gives 1 / (pi r^2) inside the disk; on a pixel grid the number of pixels
    inside is not pi r^2 (81 for r = 5), so the kernel is normalised to sum 1 instead.

    Examples
    --------
    >>> int((disk_kernel(5) > 0).sum())
    81
    """
    radius = _number("disk_kernel", "radius", radius, low=0.0)
    half = math.ceil(radius)
    x = np.arange(-half, half + 1, dtype=np.float64)
    if antialias:
        sub = (np.arange(16) + 0.5) / 16 - 0.5
        x = (x[:, None] + sub[None, :]).ravel()
    inside = (x[:, None] ** 2 + x[None, :] ** 2 <= radius**2).astype(np.float64)
    if antialias:
        n = 2 * half + 1
        inside = inside.reshape(n, 16, n, 16).mean(axis=(1, 3))
    return _normalised(inside)


#: The PSF the non-blind baselines assume when the true one is unknown (NOTES 6).
ASSUMED_PSF = gaussian_kernel(7, 1.0)
ASSUMED_PSF.setflags(write=False)


def _check_kernel(func, kernel):
    k = np.asarray(kernel)
    if k.ndim != 2 or k.size == 0 or k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0 \
            or not np.issubdtype(k.dtype, np.number) or not np.all(np.isfinite(k)):
        raise ValueError(f"{func}: kernel must be a finite 2-D array with odd sides, "
                         f"got shape {k.shape} dtype {k.dtype}")
    if k.min() < 0 or abs(float(k.sum()) - 1.0) > 1e-4:
        raise ValueError(f"{func}: kernel must be non-negative and sum to 1, got min "
                         f"{float(k.min()):.3g} and sum {float(k.sum()):.6g}")
    return k.astype(np.float32)


def _trim(kernel):
    """Drop all-zero border rows/columns in symmetric pairs (the centre stays put)."""
    while kernel.shape[0] > 1 and not kernel[[0, -1], :].any():
        kernel = kernel[1:-1, :]
    while kernel.shape[1] > 1 and not kernel[:, [0, -1]].any():
        kernel = kernel[:, 1:-1]
    return kernel


def convolve(image, kernel):
    """Blur ``image`` with ``kernel``, reflecting the image at its borders.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1] (or uint8/uint16, see
        :func:`semgan_core.images.as_image`)
    kernel : ndarray, shape (h, w), odd sides, non-negative, sums to 1

    Returns
    -------
    blurred : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    ValueError
        For an invalid image or kernel (message names what was received).

    Notes
    -----
    Borders follow ``scipy.ndimage.convolve(mode="reflect")`` (d c b a | a b c d).
    Kernels with more than 25 taps (after trimming zero borders) are applied by FFT
    on the reflect-padded image; the two paths agree to float32 rounding.
    """
    image = images.as_image(image, name="convolve: image")
    k = _trim(_check_kernel("convolve", kernel))
    if k.size <= _FFT_TAPS:
        out = ndimage.convolve(image, k, mode="reflect")
    else:
        ph, pw = k.shape[0] // 2, k.shape[1] // 2
        padded = np.pad(image, ((ph, ph), (pw, pw)), mode="symmetric")
        out = signal.fftconvolve(padded, k, mode="valid")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


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
            or not all(isinstance(s, (int, np.integer)) and s > 0 for s in shape)):
        raise ValueError(f"depth_map: shape must be (H, W) with positive ints, got {shape!r}")
    scale = _number("depth_map", "scale", scale, low=0.0)
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
    beta = _number("fog", "beta", beta, low=0.0, strict=False)
    literal = mode == "literal"
    if depth is None and not literal:
        raise ValueError("fog: mode='adopted' needs a depth (scalar or (H, W) map), got None")
    depth = np.asarray(LITERAL_DEPTH if depth is None else depth, dtype=np.float64)
    if depth.shape not in ((), image.shape) or not np.all(np.isfinite(depth)) \
            or depth.min() < 0:
        raise ValueError(f"fog: depth must be a finite scalar or {image.shape} map >= 0, "
                         f"got shape {depth.shape}")
    airlight = (LITERAL_AIRLIGHT if literal else AIRLIGHT) if airlight is None else airlight
    airlight = _number("fog", "airlight", airlight)
    if not literal and not 0.0 <= airlight <= 1.0:
        raise ValueError(f"fog: airlight must be in [0, 1] for mode='adopted' (intensity "
                         f"units), got {airlight!r}; the paper's A = 3 is mode='literal'")
    t = np.exp(-beta * depth)
    out = image * t + airlight * (1.0 - t)
    return (out if literal else np.clip(out, 0.0, 1.0)).astype(np.float32)


_BUILDERS = {
    "gaussian": (("size", "sigma"), lambda s: gaussian_kernel(int(s["size"]), s["sigma"])),
    "motion": (("length", "angle"), lambda s: motion_kernel(s["length"], s["angle"])),
    "disk": (("radius",), lambda s: disk_kernel(s["radius"],
                                                antialias=bool(s.get("antialias", False)))),
}


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
        The single kernel, or the full convolution of several (recipe C "compose";
        27 x 27 for the paper's three kernels).

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
    kernels = []
    for spec in specs:
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in _BUILDERS or not all(k in spec for k in _BUILDERS[kind][0]):
            raise ValueError(f"kernel_from_info: expected a kernel spec with type in "
                             f"{sorted(_BUILDERS)} and its parameters, got {spec!r}")
        kernels.append(_BUILDERS[kind][1](spec))
    psf = kernels[0]
    for k in kernels[1:]:
        psf = signal.convolve(psf.astype(np.float64), k.astype(np.float64), mode="full",
                             method="direct")
    return _normalised(psf) if len(kernels) > 1 else psf


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


def degrade(image, recipe="A", *, rng=None, hybrid="random"):
    """Degrade a clean micrograph with one of the paper's recipes (datasets A, B, C).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    recipe : {'A', 'B', 'C'}
        A: Gaussian blur 7x7, sigma 1. B: that blur, then fog. C: hybrid blur, then fog.
    rng : numpy.random.Generator, int or None
        Draws the hybrid kernel, beta and the depth map's seed.
    hybrid : {'random', 'compose'}
        Recipe C only: one of Gaussian / motion (d 10, theta 0) / disk (r 5) drawn per
        image, or all three composed. Ignored (recorded as None) for A and B.

    Returns
    -------
    degraded : ndarray, shape (H, W), float32 in [0, 1]
    info : dict
        JSON-serialisable: ``recipe``, ``hybrid``, ``kernels`` (type and parameters;
        :func:`kernel_from_info` rebuilds the PSF) and ``fog`` (None, or ``mode``,
        ``beta``, ``airlight``, ``depth_seed``, ``depth_scale``, ``depth_max``;
        :func:`depth_from_info` rebuilds the depth).

    Raises
    ------
    ValueError
        For an invalid image, an unknown recipe or hybrid mode.

    Notes
    -----
    Blur first, then fog (eq. 18, adopted reading; see the module notes). The total
    PSF is applied in one convolution with reflected borders.
    """
    image = images.as_image(image, name="degrade: image")
    if recipe not in RECIPES:
        raise ValueError(f"degrade: recipe must be one of {RECIPES}, got {recipe!r}")
    if hybrid not in HYBRIDS:
        raise ValueError(f"degrade: hybrid must be one of {HYBRIDS}, got {hybrid!r}")
    rng = np.random.default_rng(rng)
    if recipe != "C":
        specs = [GAUSSIAN]
    elif hybrid == "compose":
        specs = [GAUSSIAN, MOTION, DISK]
    else:
        specs = [(GAUSSIAN, MOTION, DISK)[int(rng.integers(3))]]
    info = {"recipe": recipe, "hybrid": hybrid if recipe == "C" else None,
            "kernels": [dict(s) for s in specs], "fog": None}
    out = convolve(image, kernel_from_info(info))
    if recipe != "A":
        info["fog"] = {"mode": "adopted", "beta": float(rng.uniform(*BETA_RANGE)),
                       "airlight": AIRLIGHT, "depth_seed": int(rng.integers(2**31 - 1)),
                       "depth_scale": DEPTH_SCALE, "depth_max": FOG_DEPTH}
        out = fog(out, beta=info["fog"]["beta"], depth=depth_from_info(info, out.shape),
                  airlight=AIRLIGHT)
    return out, info


def preview(image, *, sigma=1.0, length=10.0, angle=0.0, radius=5.0, beta=2.0,
            airlight=AIRLIGHT, depth_seed=0):
    """Figure of one degradation with free parameters (the book's widget callback).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    sigma, length, angle, radius : float
        Gaussian sigma (kernel side 2 ceil(3 sigma) + 1: 7 for sigma 1), motion length
        and angle (degrees), disk radius. A value of 0 (sigma, length, radius) leaves
        that kernel out; the kernels left are composed.
    beta, airlight : float
        Fog (adopted reading): depth ``FOG_DEPTH * depth_map(shape, rng=depth_seed)``;
        beta 0 means no fog.
    depth_seed : int
        Seed of the depth map.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Four panels: clean image, total PSF, blurred, blurred + fog. Not registered with
        pyplot, so a widget that redraws it does not accumulate figures.
    """
    from matplotlib.figure import Figure

    image = images.as_image(image, name="preview: image")
    specs = []
    if sigma > 0:
        specs.append({"type": "gaussian", "size": 2 * math.ceil(3 * sigma) + 1, "sigma": sigma})
    if length > 0:
        specs.append({"type": "motion", "length": length, "angle": angle})
    if radius > 0:
        specs.append({"type": "disk", "radius": radius})
    psf = kernel_from_info({"kernels": specs}) if specs else np.ones((1, 1), np.float32)
    blurred = convolve(image, psf)
    depth = FOG_DEPTH * depth_map(image.shape, rng=depth_seed)
    foggy = fog(blurred, beta=beta, depth=depth, airlight=airlight)
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    axes = fig.subplots(1, 4)
    panels = [(image, "clean"), (psf, f"PSF {psf.shape[0]}x{psf.shape[1]}"),
              (blurred, "blurred"), (foggy, f"+ fog (beta {beta:g}, A {airlight:g})")]
    for ax, (data, title) in zip(axes, panels):
        vmax = None if data is psf else 1.0
        ax.imshow(data, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    return fig
