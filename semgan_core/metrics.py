"""Image quality metrics of the paper (Methods, eqs. 1-8): SSIM, PSNR, AG, CON, SF.

Full-reference metrics compare a restored image with its clean reference; the
no-reference metrics (average gradient, contrast, spatial frequency) score one image
alone. All functions take float32 images in [0, 1] (anything :func:`images.as_image`
accepts) and return Python floats.

* SSIM uses the paper's constants: an 11x11 Gaussian window (sigma 1.5), C1 = 1e-4,
  C2 = 4e-4 (K1 = 0.01, K2 = 0.02) and data range 1. It equals
  ``skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=1, K1=0.01, K2=0.02)``.
* PSNR uses max(I) = 1 (eq. 7).
* AG, CON and SF are computed on 8-bit gray levels (``x * 255``), the usual convention
  of these metrics; this module is the only place that conversion is written. They
  reward noise as much as detail.

With ``f`` the image in gray levels, rows indexed by ``x`` (1..m) and columns by ``y``
(1..n), the normalisers are (this reading is fixed here and in the book):

* AG (eq. 1): the mean, over the (m-1)(n-1) pixels that have both a lower and a right
  neighbour, of ``sqrt(((f(x+1,y)-f(x,y))**2 + (f(x,y+1)-f(x,y))**2) / 2)``.
* CON (eq. 2): ``sum_delta delta**2 P(delta)`` with ``P`` the distribution of the gray
  difference ``delta`` over every pair of 4-adjacent pixels, each unordered pair counted
  once: m(n-1) horizontal plus (m-1)n vertical pairs. So CON is the mean squared
  difference over those ``2mn - m - n`` pairs.
* SF (eqs. 3-5): ``sqrt(RF**2 + CF**2)``; RF sums the squared differences along rows
  (horizontal neighbours, m(n-1) terms), CF along columns ((m-1)n terms), and both
  divide by ``m*n`` as eqs. 4-5 (and Eskicioglu & Fisher, 1995) write. Hence
  ``SF**2 = CON * (2mn - m - n) / (mn)``.
"""

from __future__ import annotations

import math

import numpy as np

from semgan_core.images import as_image

#: Gray levels the no-reference metrics are reported on (8-bit).
GRAY_MAX = 255.0
#: SSIM constants of the paper (Methods, eq. 6), for data range 1.
SSIM_SIGMA = 1.5
SSIM_C1 = 1e-4
SSIM_C2 = 4e-4
#: Window radius: int(3.5 * sigma + 0.5) = 5, an 11x11 window as in scikit-image.
SSIM_RADIUS = int(3.5 * SSIM_SIGMA + 0.5)

_offsets = np.arange(-SSIM_RADIUS, SSIM_RADIUS + 1, dtype=np.float64)
_WINDOW = np.exp(-0.5 * (_offsets / SSIM_SIGMA) ** 2)
_WINDOW = _WINDOW / _WINDOW.sum()
_STRIP_ROWS = 8

__all__ = ["ssim", "psnr", "average_gradient", "contrast", "spatial_frequency", "evaluate"]


def _image(func, name, array):
    """Validate one image through :func:`images.as_image`, naming the caller."""
    return as_image(array, name=f"{func}({name})")


def _pair(func, x, y, *, names=("x", "y")):
    """Validate two images of the same shape."""
    x = _image(func, names[0], x)
    y = _image(func, names[1], y)
    if x.shape != y.shape:
        raise ValueError(
            f"{func}: {names[0]} and {names[1]} must have the same shape, "
            f"got {x.shape} and {y.shape}"
        )
    return x, y


def _window_means(maps):
    """Gaussian-weighted 11x11 local means of a stack of maps, shape (c, h, w).

    Returns shape (c, h - 10, w): column ``j < w - 10`` of each row holds
    ``scipy.ndimage.gaussian_filter(map, 1.5, truncate=3.5)[5:-5, 5:-5]``; the last 10
    columns are junk (the column pass runs on the flattened array, wrapping into the
    next row, so every NumPy call is one long contiguous loop). Only whole windows are
    used, so no padding is needed.
    """
    r, (c, h, w) = SSIM_RADIUS, maps.shape
    n = h - 2 * r
    rows = maps[:, r:r + n] * _WINDOW[r]
    buf = np.empty_like(rows)
    for k in range(1, r + 1):
        np.add(maps[:, r - k:r - k + n], maps[:, r + k:r + k + n], out=buf)
        buf *= _WINDOW[r + k]
        rows += buf
    flat, size = rows.reshape(-1), rows.size - 2 * r
    out = np.zeros_like(flat)
    valid, tmp = out[:size], buf.reshape(-1)[:size]
    np.multiply(flat[r:r + size], _WINDOW[r], out=valid)
    for k in range(1, r + 1):
        np.add(flat[r - k:r - k + size], flat[r + k:r + k + size], out=tmp)
        tmp *= _WINDOW[r + k]
        valid += tmp
    return out.reshape(c, n, w)


def _ssim_sum(x, y):
    """Sum of the SSIM map over the whole windows of one strip of rows (float64).

    With ``s = x + y`` and ``d = x - y``: 4 mu_x mu_y = mu_s^2 - mu_d^2,
    2 (mu_x^2 + mu_y^2) = mu_s^2 + mu_d^2, and likewise for the second moments, so
    four filtered maps replace five (numerator and denominator both scaled by 4).
    """
    maps = np.empty((4,) + x.shape)
    np.add(x, y, out=maps[0], dtype=np.float64)
    np.subtract(x, y, out=maps[1], dtype=np.float64)
    np.square(maps[:2], out=maps[2:])
    mu_s, mu_d, e_ss, e_dd = _window_means(maps)
    mu_s *= mu_s
    mu_d *= mu_d
    lum_num, lum_den = mu_s - mu_d, mu_s + mu_d
    struct_num = e_ss - e_dd                     # 4 (cov_xy + mu_x mu_y)
    struct_num -= lum_num
    struct_num += 2 * SSIM_C2
    struct_den = e_ss + e_dd                     # 2 (var_x + var_y + mu_x^2 + mu_y^2)
    struct_den -= lum_den
    struct_den += 2 * SSIM_C2
    lum_num += 2 * SSIM_C1
    lum_den += 2 * SSIM_C1
    lum_num *= struct_num
    lum_den *= struct_den
    lum_num /= lum_den
    return float(lum_num[:, : x.shape[1] - 2 * SSIM_RADIUS].sum(dtype=np.float64))


def ssim(x, y):
    """Mean structural similarity with the paper's constants.

    Parameters
    ----------
    x, y : ndarray, shape (H, W), float32 in [0, 1]
        The two images (the order does not matter). H and W must be at least 11.

    Returns
    -------
    float
        Mean SSIM over the pixels whose whole 11x11 window lies inside the image
        (scikit-image's cropping), in [-1, 1]; 1 for identical images.

    Raises
    ------
    ValueError
        If an input is not a valid image, the shapes differ or a side is below 11.

    Notes
    -----
    Eq. 6 with the product of the two denominator factors (Wang et al., 2004; the
    paper prints a "+"), an 11x11 Gaussian window with sigma 1.5, population
    (co)variances, C1 = 1e-4 and C2 = 4e-4. Computed in float64 (float32 loses about
    1e-5 to cancellation in flat regions, where the variances are far below C2) from
    the sums and differences ``s = x + y``, ``d = x - y`` (four filtered maps instead
    of five), 8 rows at a time so that the work stays in cache. Agrees with
    scikit-image in float64 to rounding (about 1e-15).

    Examples
    --------
    >>> x = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)
    >>> ssim(x, x)
    1.0
    """
    return _ssim("ssim", *_pair("ssim", x, y))


def _ssim(func, x, y):
    """SSIM of two validated images of the same shape."""
    side = 2 * SSIM_RADIUS + 1
    if min(x.shape) < side:
        raise ValueError(
            f"{func}: images must be at least {side}x{side} (the Gaussian window), "
            f"got shape {x.shape}"
        )
    r, (h, w) = SSIM_RADIUS, x.shape
    total = 0.0
    for top in range(0, h - 2 * r, _STRIP_ROWS):  # strips keep the passes in cache
        rows = slice(top, min(top + _STRIP_ROWS, h - 2 * r) + 2 * r)
        total += _ssim_sum(x[rows], y[rows])
    return total / ((h - 2 * r) * (w - 2 * r))


def psnr(x, y):
    """Peak signal-to-noise ratio in dB with peak 1 (eqs. 7-8).

    Parameters
    ----------
    x, y : ndarray, shape (H, W), float32 in [0, 1]
        Reference and test image (the order does not matter).

    Returns
    -------
    float
        ``10 log10(1 / MSE)``; ``inf`` when the images are identical (MSE = 0).

    Raises
    ------
    ValueError
        If an input is not a valid image or the shapes differ.

    Examples
    --------
    >>> zeros = np.zeros((4, 4), np.float32)
    >>> round(psnr(zeros, np.full((4, 4), 0.1, np.float32)), 6)
    20.0
    """
    return _psnr(*_pair("psnr", x, y))


def _psnr(x, y):
    """PSNR of two validated images of the same shape."""
    diff = x - y
    mse = float(np.square(diff, out=diff).mean(dtype=np.float64))
    return math.inf if mse == 0.0 else float(10.0 * math.log10(1.0 / mse))


def _differences(func, image):
    """Validate ``image``, then :func:`_gray_differences`."""
    return _gray_differences(func, _image(func, "image", image))


def _gray_differences(func, x):
    """First differences of a validated image in gray levels: (vertical, horizontal)."""
    if min(x.shape) < 2:
        raise ValueError(f"{func}: image must be at least 2x2, got shape {x.shape}")
    gray = x * np.float32(GRAY_MAX)
    return np.diff(gray, axis=0), np.diff(gray, axis=1)


def _ag(dv, dh):
    g2 = np.square(dv[:, :-1]) + np.square(dh[:-1, :])
    return float(np.sqrt(0.5 * g2).mean(dtype=np.float64))


def _con_sf(dv, dh):
    """CON (mean over all adjacent pairs) and SF (sums over m*n) from the differences."""
    total = float(np.square(dv).sum(dtype=np.float64) + np.square(dh).sum(dtype=np.float64))
    m, n = dh.shape[0], dv.shape[1]
    return total / (dv.size + dh.size), math.sqrt(total / (m * n))


def average_gradient(image):
    """Average gradient AG (eq. 1) on 0-255 gray levels.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        At least 2x2.

    Returns
    -------
    float
        Mean over the (H-1)(W-1) pixels with a lower and a right neighbour of
        ``sqrt((dx**2 + dy**2) / 2)``, ``dx``, ``dy`` the forward differences. >= 0.

    Raises
    ------
    ValueError
        If ``image`` is not a valid image or smaller than 2x2.

    Examples
    --------
    >>> average_gradient(np.array([[0, 1], [0, 1]], np.float32))  # doctest: +ELLIPSIS
    180.31...
    """
    return _ag(*_differences("average_gradient", image))


def contrast(image):
    """Contrast CON (eq. 2) on 0-255 gray levels.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        At least 2x2.

    Returns
    -------
    float
        ``sum_delta delta**2 P(delta)`` over all H(W-1) horizontal and (H-1)W vertical
        pairs of 4-adjacent pixels, each pair once: the mean squared adjacent difference.

    Raises
    ------
    ValueError
        If ``image`` is not a valid image or smaller than 2x2.
    """
    return _con_sf(*_differences("contrast", image))[0]


def spatial_frequency(image):
    """Spatial frequency SF = sqrt(RF**2 + CF**2) (eqs. 3-5) on 0-255 gray levels.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        At least 2x2.

    Returns
    -------
    float
        RF from the H(W-1) horizontal and CF from the (H-1)W vertical squared first
        differences, each sum divided by H*W as in eqs. 4-5.

    Raises
    ------
    ValueError
        If ``image`` is not a valid image or smaller than 2x2.
    """
    return _con_sf(*_differences("spatial_frequency", image))[1]


def evaluate(reference, image):
    """All metrics of one image as a dict (keys ssim, psnr, ag, con, sf, in that order).

    Parameters
    ----------
    reference : ndarray, shape (H, W), float32 in [0, 1], or None
        The clean image. None (a real micrograph without ground truth) leaves the keys
        ``ssim`` and ``psnr`` out (absent, not NaN), so results stay valid JSON;
        a table built from mixed dicts (e.g. by pandas) shows them as missing.
    image : ndarray, shape (H, W), float32 in [0, 1]
        The image to score (restored, blurred, ...).

    Returns
    -------
    dict of str to float
        ``{"ssim", "psnr", "ag", "con", "sf"}``, or only ``{"ag", "con", "sf"}``.

    Raises
    ------
    ValueError
        As :func:`ssim`, :func:`psnr` and :func:`average_gradient`.
    """
    values = {}
    if reference is None:
        image = _image("evaluate", "image", image)
    else:
        reference, image = _pair("evaluate", reference, image, names=("reference", "image"))
        values["ssim"] = _ssim("evaluate", reference, image)
        values["psnr"] = _psnr(reference, image)
    dv, dh = _gray_differences("evaluate", image)
    values["ag"] = _ag(dv, dh)
    values["con"], values["sf"] = _con_sf(dv, dh)
    return values
