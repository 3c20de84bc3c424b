"""Blur kernels of the paper (eqs. 17, 19, 20) and the convolution that applies them.

Every kernel is float32, non-negative, has odd sides with its centre at
``(p // 2, q // 2)`` and sums to 1. A kernel is also described by a JSON-able spec,
``{"type": "gaussian" | "motion" | "disk", ...parameters}``, so that a degraded image
records its blur and :func:`kernel_from_specs` rebuilds the total point-spread function.
The paper's three kernels are :data:`GAUSSIAN` (7x7, sigma 1), :data:`MOTION` (d 10 px
at theta 0 deg) and :data:`DISK` (r 5 px); :data:`ASSUMED_PSF` is the kernel the
non-blind baselines are given when the true one is unknown.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, signal

from semgan_core import images
from semgan_core.checks import check_int, check_number, is_int

#: The paper's blur parameters (Methods): Gaussian 7x7 sigma 1, motion d 10 px at
#: theta 0 deg, defocus disk r 5 px.
GAUSSIAN = {"type": "gaussian", "size": 7, "sigma": 1.0}
MOTION = {"type": "motion", "length": 10.0, "angle": 0.0}
DISK = {"type": "disk", "radius": 5.0, "antialias": False}
_FFT_TAPS = 25  # kernels with more non-zero taps than 5 x 5 are applied by FFT (faster)


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
    if not is_int(size) or size < 1 or size % 2 == 0:
        raise ValueError(f"gaussian_kernel: size must be an odd positive integer, got {size!r}")
    sigma = check_number("gaussian_kernel", "sigma", sigma, low=0, strict=True)
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
    length = check_number("motion_kernel", "length", length, low=0, strict=True)
    angle = check_number("motion_kernel", "angle", angle)
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
    radius = check_number("disk_kernel", "radius", radius, low=0, strict=True)
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


#: The PSF the non-blind baselines assume when the true one is unknown: the paper's
#: 7x7 sigma-1 Gaussian for every dataset (the "assumed PSF" setting; the "oracle PSF"
#: setting gives them each image's true kernel instead).
ASSUMED_PSF = gaussian_kernel(7, 1.0)
ASSUMED_PSF.setflags(write=False)

_BUILDERS = {
    "gaussian": (("size", "sigma"), lambda s: gaussian_kernel(int(s["size"]), s["sigma"])),
    "motion": (("length", "angle"), lambda s: motion_kernel(s["length"], s["angle"])),
    "disk": (("radius",), lambda s: disk_kernel(s["radius"],
                                                antialias=bool(s.get("antialias", False)))),
}


def kernel_from_specs(specs, *, func="kernel_from_specs"):
    """The total point-spread function of a list of kernel specs.

    Parameters
    ----------
    specs : list of dict
        Non-empty; each ``{"type": "gaussian"|"motion"|"disk", ...parameters}``
        (e.g. :data:`GAUSSIAN`, :data:`MOTION`, :data:`DISK`).
    func : str, optional
        The public function named in error messages.

    Returns
    -------
    psf : ndarray, float32, odd sides, sums to 1
        The single kernel, or the full convolution of several (27 x 27 for the paper's
        three kernels).

    Raises
    ------
    ValueError
        If ``specs`` is not a non-empty list, or a spec has an unknown type or misses a
        parameter.

    Examples
    --------
    >>> kernel_from_specs([GAUSSIAN, MOTION, DISK]).shape
    (27, 27)
    """
    if not isinstance(specs, list) or not specs:
        raise ValueError(f"{func}: expected a non-empty list of kernel specs, "
                         f"got {type(specs).__name__}")
    kernels = []
    for spec in specs:
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in _BUILDERS or not all(k in spec for k in _BUILDERS[kind][0]):
            raise ValueError(f"{func}: expected a kernel spec with type in "
                             f"{sorted(_BUILDERS)} and its parameters, got {spec!r}")
        kernels.append(_BUILDERS[kind][1](spec))
    psf = kernels[0]
    for k in kernels[1:]:
        psf = signal.convolve(psf.astype(np.float64), k.astype(np.float64), mode="full",
                              method="direct")
    return _normalised(psf) if len(kernels) > 1 else psf


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


def _transfer_function(psf, n):
    """The DFT on an n x n grid of ``psf`` with its centre moved to the origin."""
    grid = np.zeros((n, n))
    grid[:psf.shape[0], :psf.shape[1]] = psf
    grid = np.roll(grid, (-(psf.shape[0] // 2), -(psf.shape[1] // 2)), axis=(0, 1))
    return np.fft.fft2(grid)


def wiener_kernel(psf, balance, *, size=15):
    """The spatial kernel of the Wiener filter ``conj(H) / (|H|**2 + balance)``.

    Parameters
    ----------
    psf : ndarray, shape (p, q)
        The blur kernel: odd sides, non-negative, sums to 1 (as for :func:`convolve`).
    balance : float
        The constant noise-to-signal power ratio K, > 0.
    size : int, optional
        Odd side of the returned kernel (the filter is cut to it and its sum reset to 1,
        so the mean grey level is kept).

    Returns
    -------
    kernel : ndarray, shape (size, size), float32, sums to 1 (it has negative taps)

    Raises
    ------
    ValueError
        For an invalid PSF, a non-positive ``balance`` or an even or too small ``size``.

    Examples
    --------
    >>> k = wiener_kernel(gaussian_kernel(7, 1.0), 0.01)
    >>> k.shape, round(float(k.sum()), 5), bool(k[7, 7] > 1)
    ((15, 15), 1.0, True)
    """
    psf = _check_kernel("wiener_kernel", psf)
    balance = check_number("wiener_kernel", "balance", balance, low=0, strict=True)
    size = check_int("wiener_kernel", "size", size, low=1)
    if size % 2 == 0:
        raise ValueError(f"wiener_kernel: size must be odd, got {size}")
    n = 2 * max(size, *psf.shape)                     # grid without wrap-around
    h = _transfer_function(psf / psf.sum(), n)
    w = np.real(np.fft.fftshift(np.fft.ifft2(np.conj(h) / (np.abs(h) ** 2 + balance))))
    c, r = n // 2, size // 2
    kernel = w[c - r:c + r + 1, c - r:c + r + 1]
    return (kernel / kernel.sum()).astype(np.float32)


def psf_power(psf, strength):
    """The zero-phase blur whose transfer function is ``|H| ** strength``.

    A weaker (``strength`` < 1) or stronger (> 1) version of the same blur: for the
    Gaussian of standard deviation sigma it is the Gaussian of ``sigma * sqrt(strength)``;
    0 gives the identity and 1 the kernel's own modulus (the kernel itself when it is
    symmetric with a non-negative transfer function, as a fitted zero-phase PSF is).

    Parameters
    ----------
    psf : ndarray, shape (p, q)
        The blur kernel: odd sides, non-negative, sums to 1 (as for :func:`convolve`).
    strength : float
        The exponent, >= 0.

    Returns
    -------
    kernel : ndarray, float32, odd sides, non-negative, sums to 1
        Centred on a grid of side ``2 max(p, q) ceil(sqrt(max(strength, 1))) + 1`` (room
        for the wider kernel of a stronger blur), with all-zero border rows and columns
        dropped.

    Raises
    ------
    ValueError
        For an invalid PSF or a negative ``strength``.

    Examples
    --------
    Two blurs of half the strength make the whole blur:

    >>> psf = gaussian_kernel(7, 1.0)
    >>> half = psf_power(psf, 0.5)
    >>> twice = signal.convolve(half, half)
    >>> r = (twice.shape[0] - 7) // 2
    >>> bool(np.abs(twice[r:r + 7, r:r + 7] - psf).max() < 0.005)
    True
    """
    psf = _check_kernel("psf_power", psf)
    strength = check_number("psf_power", "strength", strength, low=0)
    n = 2 * max(psf.shape) * math.ceil(math.sqrt(max(strength, 1.0))) + 1
    h = np.abs(_transfer_function(psf, n)) ** strength
    kernel = np.fft.fftshift(np.real(np.fft.ifft2(h)))
    kernel[kernel < 1e-6 * kernel.max()] = 0.0        # ringing of the cut spectrum
    return _trim(_normalised(kernel)).astype(np.float32)
