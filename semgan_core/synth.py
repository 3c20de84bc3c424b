"""Procedural SEM-like clean micrographs: the embedded default data.

Each call builds a height map of a specimen on a substrate (spherical particles, rods,
polygonal plates or a porous granular film, echoing the paper's SiO2, WO3 and CuS
samples), then renders it with a secondary-electron (SE) contrast model. The images are
sharp (1-3 px bright rims, features down to a few pixels), so that blurring them with
the paper's kernels removes real detail. Pixel sizes do not depend on the image size:
a larger image shows a larger field of view at the same magnification.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import ndimage

from semgan_core.checks import is_int

#: Specimen kinds; "mixed" draws one of the other four, sometimes with a sparse overlay.
KINDS = ("particles", "rods", "plates", "porous", "mixed")

_MIN_SIDE = 16
_SECANT_CAP = 4.0  # brightest tilt factor, 1/cos(75.5 deg)
_MAX_OBJECTS = 900  # per 256 x 256 px: keeps a call under ~40 ms
_PROBE_SIGMA = 0.5  # beam spot (px): keeps edges sharp but not aliased


def micrograph(size=256, *, kind="mixed", rng=None, noise=None):
    """Render one clean, SEM-like micrograph and the label mask of its objects.

    Parameters
    ----------
    size : int or tuple of (int, int), optional
        Side of a square image, or its ``(H, W)``; every side at least 16 pixels.
    kind : {"particles", "rods", "plates", "porous", "mixed"}, optional
        Specimen: packed and clustered spheres with a lognormal size distribution;
        randomly oriented overlapping rods; thin polygonal plates, some tilted, with
        straight sharp edges; a sintered film of grains with pores. ``"mixed"`` (the
        default) draws one of the four per call and, half of the time, scatters a
        sparse layer of particles, rods or plates over it.
    rng : numpy.random.Generator or int or None, optional
        Source of randomness; the same seed gives the same image and mask.
    noise : float or None, optional
        Shot noise: ``None`` (default) for a clean image, or the mean number of
        electrons per pixel at full brightness (Poisson noise).

    Returns
    -------
    image : ndarray, shape (H, W), float32 in [0, 1]
        The micrograph, contrast-stretched (dark substrate, bright edges).
    mask : ndarray, shape (H, W), int32
        0 on the substrate (and in pores), ``1..K`` on the visible objects.

    Raises
    ------
    ValueError
        If ``size`` is not an int or (H, W) pair of ints >= 16, ``kind`` is not one of
        `KINDS`, or ``noise`` is not None or a positive number.

    Notes
    -----
    SE contrast model: the SE yield of a surface element rises with its tilt
    ``theta`` from the beam as ``1 / cos(theta)`` (secant law, raised to a random
    power in [0.5, 0.9] and capped at 4 for near-vertical walls), so slopes and edges
    are bright. Electrons escape more easily from convex edges and thin features
    (edge effect: 1-3 px rims, the height minus a blurred height) and less easily
    from crevices and pores, which are dark. A side (Everhart-Thornley) detector
    collects more from facets that face it (surface normal dot a random detector
    direction) and less from behind tall objects (soft shadows). Objects differ a
    little in yield from the substrate and from each other; the surface is seen
    through a 0.5 px beam spot. The signal is stretched between its 0.5th and
    99.8th percentiles, so under 1 % of the pixels clip.

    Examples
    --------
    >>> from semgan_core import synth
    >>> image, mask = synth.micrograph(64, kind="particles", rng=0)
    >>> image.shape, image.dtype.name, mask.dtype.name
    ((64, 64), 'float32', 'int32')
    >>> bool(0.0 <= image.min() and image.max() <= 1.0 and mask.max() > 0)
    True
    """
    shape = _check_shape(size)
    if kind not in KINDS:
        raise ValueError(f"micrograph: kind must be one of {KINDS}, got {kind!r}")
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, Real)
                              or not 0 < noise < np.inf):
        raise ValueError(f"micrograph: noise must be None or a positive number of "
                         f"electrons, got {noise!r}")
    rng = np.random.default_rng(rng)
    height = _substrate(shape, rng)
    labels = np.zeros(shape, np.int32)
    base, overlay = _choose_kinds(kind, rng)
    _BUILDERS[base](height, labels, rng, 1.0)
    if overlay is not None:
        _BUILDERS[overlay](height, labels, rng, rng.uniform(0.1, 0.25))
    image = _render(height, labels, rng)
    if noise is not None:
        image = np.clip(rng.poisson(image * noise) / noise, 0, 1).astype(np.float32)
    return image, _relabel(labels)


def _check_shape(size):
    """(H, W) from an int or a pair of ints, each >= 16; ValueError otherwise."""
    sides = (size, size) if is_int(size) else size
    ok = (isinstance(sides, (tuple, list)) and len(sides) == 2
          and all(is_int(s) for s in sides))
    if not ok or min(sides) < _MIN_SIDE:
        raise ValueError(f"micrograph: size must be an int or an (H, W) pair of ints, "
                         f"each >= {_MIN_SIDE}, got {size!r}")
    return int(sides[0]), int(sides[1])


def _choose_kinds(kind, rng):
    """The base kind to build and an optional sparse overlay kind (for "mixed")."""
    if kind != "mixed":
        return kind, None
    base = KINDS[rng.integers(4)]
    others = [k for k in ("particles", "rods", "plates") if k != base]
    overlay = others[rng.integers(len(others))] if rng.random() < 0.5 else None
    return base, overlay


def _smooth_noise(shape, rng, sigma):
    """Periodic Gaussian random field, unit variance, correlation length ~``sigma`` px."""
    ky = np.fft.fftfreq(shape[0])[:, None] ** 2
    kx = np.fft.rfftfreq(shape[1])[None, :] ** 2
    envelope = np.exp(-2 * (np.pi * sigma) ** 2 * (ky + kx))  # a Gaussian filter
    white = rng.standard_normal((2,) + envelope.shape)
    field = np.fft.irfft2((white[0] + 1j * white[1]) * envelope, s=shape)
    return (field / (field.std() + 1e-12)).astype(np.float32)


def _blur(image, sigma):
    """Cheap Gaussian-like blur: two box filters of width ~2.4 ``sigma``."""
    size = 2 * int(1.2 * sigma) + 1
    return ndimage.uniform_filter(ndimage.uniform_filter(image, size), size)


def _substrate(shape, rng):
    """Height map of the substrate: gentle long-range relief plus fine grain."""
    coarse = _smooth_noise(shape, rng, rng.uniform(12, 30)) * rng.uniform(1.0, 4.0)
    fine = _smooth_noise(shape, rng, rng.uniform(0.8, 2.0)) * rng.uniform(0.1, 0.4)
    return coarse + fine


def _window(shape, cy, cx, reach):
    """Image box within ``reach`` of (cy, cx) (inside the image) and its coordinates."""
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 2, shape[0])
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 2, shape[1])
    yy = np.arange(y1 - y0, dtype=np.float32)[:, None] + (y0 - cy)
    xx = np.arange(x1 - x0, dtype=np.float32)[None, :] + (x0 - cx)
    return (slice(y0, y1), slice(x0, x1)), yy, xx


def _paint(height, labels, box, inside, z, label, rest):
    """Z-buffer one object resting at fraction ``rest`` up the pile below it."""
    below = height[box]
    low = below.min()
    z += low + rest * (below.max() - low)
    top = inside & (z > below)
    np.copyto(below, z, where=top)
    np.copyto(labels[box], label, where=top)


def _particles(height, labels, rng, amount):
    """Spheres, lognormal radii, grown into chains and clusters (SiO2 nanoballs)."""
    h, w = height.shape
    r_med, spread = rng.uniform(3.5, 11.0), rng.uniform(0.12, 0.35)
    cover = amount * rng.uniform(0.6, 2.5)
    n = int(cover * h * w / (np.pi * r_med ** 2 * np.exp(2 * spread ** 2))) + 1
    n = min(n, int(_MAX_OBJECTS * h * w / 256 ** 2))
    radii = np.clip(r_med * rng.lognormal(0.0, spread, n), 1.5, 40.0)
    centres = _aggregate(radii, (h, w), rng, stick=rng.uniform(0.3, 0.9))
    debris = int(amount * h * w * rng.uniform(0, 3e-4))  # tiny specks, 1-3 px
    radii = np.concatenate([radii, rng.uniform(1.0, 3.0, debris)])
    centres = np.concatenate([centres, rng.uniform(0, 1, (debris, 2)) * (h, w)])
    rest = rng.uniform(0.0, 0.7, len(radii))
    first = int(labels.max()) + 1
    table = zip(*centres.T.tolist(), radii.tolist(), rest.tolist())
    for i, (cy, cx, r, f) in enumerate(table):
        box, yy, xx = _window((h, w), cy, cx, r + 1)
        d2 = (yy * yy + xx * xx) * (1.0 / (r * r))
        z = np.sqrt(np.maximum(1.0 - d2, 0.0))
        z = (z + 1.0) * r
        _paint(height, labels, box, d2 < 1.0, z, first + i, f)
    rough = rng.uniform(0.0, 1.0) ** 2  # mostly smooth (SiO2), some rough (NCM)
    _roughen(height, labels, first, rng, 2.0 * rough, 0.7 + rough)


def _aggregate(radii, shape, rng, *, stick):
    """Centres of touching spheres: each sticks to a recent one with prob ``stick``."""
    n = len(radii)
    centres = (rng.uniform(0, 1, (n, 2)) * shape).tolist()
    angle = rng.uniform(0, 2 * np.pi, n)
    sin, cos = np.sin(angle).tolist(), np.cos(angle).tolist()
    parent = (np.arange(n) - rng.integers(1, 5, n)).clip(0).tolist()
    sticks = (rng.random(n) < stick).tolist()
    r = radii.tolist()
    for i in range(1, n):
        if sticks[i]:
            j = parent[i]
            step = 0.92 * (r[i] + r[j])
            centres[i] = [centres[j][0] + step * sin[i], centres[j][1] + step * cos[i]]
    return np.array(centres) % shape


def _rods(height, labels, rng, amount):
    """Capsules (cylinders with round caps), random orientation, piled (WO3 rods)."""
    h, w = height.shape
    r_med = rng.uniform(1.5, 5.0)
    len_med = r_med * rng.uniform(8.0, 20.0)
    n = int(amount * rng.uniform(0.4, 1.0) * h * w / (2 * r_med * len_med)) + 1
    n = min(n, int(_MAX_OBJECTS / 3 * h * w / 256 ** 2))
    radii = np.clip(r_med * rng.lognormal(0.0, 0.25, n), 1.2, 12.0)
    half = np.clip(len_med * rng.lognormal(0.0, 0.4, n), 4 * radii, 0.8 * max(h, w)) / 2
    angles = rng.uniform(0, np.pi) + rng.choice([0.3, 3.0]) * rng.standard_normal(n)
    table = [a.tolist() for a in (*(rng.uniform(0, 1, (2, n)) * [[h], [w]]), radii,
                                  half, np.sin(angles), np.cos(angles),
                                  rng.uniform(-0.15, 0.15, n), rng.uniform(0, 0.9, n))]
    first = int(labels.max()) + 1
    for i, (cy, cx, r, l, uy, ux, slope, f) in enumerate(zip(*table)):
        box, yy, xx = _window((h, w), cy, cx, l + r + 1)
        along = xx * ux + yy * uy
        t = np.clip(along, -l, l)
        d2 = ((yy * ux - xx * uy) ** 2 + (along - t) ** 2) * (1.0 / (r * r))
        z = np.sqrt(np.maximum(1.0 - d2, 0.0))
        z = (z + 1.0) * r + slope * t
        _paint(height, labels, box, d2 < 1.0, z, first + i, f)
    _roughen(height, labels, first, rng, rng.uniform(0.0, 0.2))


def _plates(height, labels, rng, amount):
    """Thin convex polygons (often hexagonal), some tilted, sharp edges (CuS flakes)."""
    h, w = height.shape
    r_med = rng.uniform(10.0, 35.0)
    n = int(amount * rng.uniform(0.6, 1.6) * h * w / (2.6 * r_med ** 2)) + 1
    first = int(labels.max()) + 1
    for i in range(n):
        r = float(np.clip(r_med * rng.lognormal(0.0, 0.35), 4.0, 90.0))
        tilt = np.arccos(rng.uniform(0.15, 1.0)) if rng.random() < 0.6 else 0.0
        vertices, direction = _polygon(r, tilt, rng)
        cy, cx = (rng.uniform(0, 1, 2) * (h, w)).tolist()
        box, yy, xx = _window((h, w), cy, cx, r + 2)
        dist = _inner_distance(vertices, yy, xx)
        rise = float(np.tan(tilt)) * (yy * direction[0] + xx * direction[1])
        z = rng.uniform(1.0, 3.5) * (1 + np.minimum(dist, 1.5)) + rise
        _paint(height, labels, box, dist > 0, z, first + i, rng.uniform(0.2, 1.0))
    _roughen(height, labels, first, rng, rng.uniform(0.0, 0.1))


def _polygon(radius, tilt, rng):
    """Counter-clockwise vertices (y, x) of a tilted, slightly irregular polygon."""
    k = 6 if rng.random() < 0.6 else int(rng.integers(3, 8))
    angles = rng.uniform(0, 2 * np.pi) + (np.arange(k) + rng.uniform(-0.15, 0.15, k)) * (
        2 * np.pi / k)
    rad = radius * rng.uniform(0.75, 1.05, k)
    azimuth = rng.uniform(0, 2 * np.pi)
    direction = [float(np.sin(azimuth)), float(np.cos(azimuth))]
    points = rad[:, None] * np.stack([np.sin(angles), np.cos(angles)], axis=1)
    along = points @ direction
    points -= (1 - np.cos(tilt)) * along[:, None] * direction  # foreshortening
    return points.astype(np.float32), direction


def _inner_distance(vertices, yy, xx):
    """Distance inside a convex polygon to its nearest edge (negative outside)."""
    a, b = vertices, np.roll(vertices, -1, axis=0)
    edge = b - a
    length = np.hypot(edge[:, 0], edge[:, 1]) + 1e-6
    # cross product of the edge with (point - a), divided by the edge length
    cross = (edge[:, 1, None, None] * (yy - a[:, 0, None, None])
             - edge[:, 0, None, None] * (xx - a[:, 1, None, None]))
    return (cross / length[:, None, None]).min(axis=0)


def _porous(height, labels, rng, amount):
    """Sintered film: packed rounded grains on a jittered grid, rounded pores."""
    shape = height.shape
    grain = rng.uniform(6.0, 18.0)
    gy, gx = np.mgrid[0:shape[0] / grain, 0:shape[1] / grain]
    jitter = rng.uniform(0.05, 0.95, (2,) + gy.shape)
    cy = np.minimum((gy + jitter[0]) * grain, shape[0] - 1).astype(int).ravel()
    cx = np.minimum((gx + jitter[1]) * grain, shape[1] - 1).astype(int).ravel()
    seeds = np.zeros(shape, np.int32)
    seeds[cy, cx] = np.arange(1, cy.size + 1)
    dist, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    grains = seeds[iy, ix]
    radius = grain * rng.uniform(0.6, 1.0, cy.size + 1).astype(np.float32)
    lift = rng.uniform(0, 0.3 * grain, cy.size + 1).astype(np.float32)
    cap = np.maximum(radius[grains] ** 2 - dist.astype(np.float32) ** 2, 0)
    z = lift[grains] + np.sqrt(cap)
    holes = _smooth_noise(shape, rng, grain * rng.uniform(0.3, 0.6))
    is_pore = holes > rng.uniform(1.0, 2.2) / max(amount, 1e-3)
    z[is_pore] = -grain * rng.uniform(0.5, 1.5)
    height += z
    first = labels.max()
    labels[:] = np.where(is_pore, 0, grains + first)
    _roughen(height, labels, first + 1, rng, rng.uniform(0.0, 0.4))


def _roughen(height, labels, first, rng, amplitude, grain=0.7):
    """Add surface roughness (``grain`` px correlation) to objects labelled >= ``first``."""
    if amplitude > 0:
        texture = _smooth_noise(height.shape, rng, grain)
        height += amplitude * texture * (labels >= first)


_BUILDERS = {"particles": _particles, "rods": _rods, "plates": _plates,
             "porous": _porous}


def _render(height, labels, rng):
    """SE image of a height map (see the Notes of `micrograph`), stretched to [0, 1]."""
    surface = ndimage.gaussian_filter(height, _PROBE_SIGMA)
    gy, gx = np.gradient(surface)
    norm = np.sqrt(1.0 + gx * gx + gy * gy)
    secant = np.minimum(norm, _SECANT_CAP)
    azimuth, elevation = rng.uniform(0, 2 * np.pi), rng.uniform(0.4, 1.0)
    dy, dx = (float(np.cos(elevation) * f(azimuth)) for f in (np.sin, np.cos))
    facing = 0.5 * (1 + (float(np.sin(elevation)) - gx * dx - gy * dy) / norm)
    convex = np.tanh((surface - ndimage.gaussian_filter(surface, 1.5)) / 1.5)
    crevice = np.clip((_blur(surface, 6.0) - surface) / 6.0, 0, 1)
    shade = _shadow(surface, dy, dx, float(np.tan(elevation)))
    yields = rng.uniform(0.85, 1.15, labels.max() + 1).astype(np.float32)
    yields[0] = rng.uniform(0.5, 1.0)
    weight = rng.uniform(0.4, 0.8)  # share of the directional (detector) term
    signal = yields[labels] * secant ** rng.uniform(0.5, 0.9) * (
        (1 - weight) + weight * facing)
    signal *= (1 - 0.5 * crevice) * (1 - 0.35 * shade)
    signal += 0.3 * convex + 0.15 * (_blur(secant, 3.0) - 1)
    lo, hi = np.percentile(signal, (0.5, 99.8))
    return np.clip((signal - lo) / (hi - lo + 1e-6), 0, 1).astype(np.float32)


def _shadow(height, dy, dx, tan_elevation):
    """Soft shadow (0..1) from objects between a pixel and the side detector."""
    pad = 11
    padded = np.pad(height, pad, mode="edge")
    h, w = height.shape
    blocked = np.zeros_like(height)
    for step in (2, 4, 7, 11):
        oy, ox = pad + round(step * dy), pad + round(step * dx)
        ahead = padded[oy:oy + h, ox:ox + w]
        blocked = np.maximum(blocked, ahead - height - step * tan_elevation)
    return np.clip(blocked / 4.0, 0, 1)


def _relabel(labels):
    """Renumber the visible labels to 1..K (0 stays 0)."""
    present = np.bincount(labels.ravel()) > 0
    present[0] = False
    mapping = (np.cumsum(present) * present).astype(np.int32)
    return mapping[labels]
