"""Figures of the degradations: blur kernels side by side, one degradation with free
parameters (the book's widget callback).

* :func:`kernel_panels`: PSFs at one pixel scale, each with its :func:`rms_radius`;
* :func:`fog_panels`: the paper's fog read literally against the adopted reading;
* :func:`degradation_preview`: clean image, total PSF, blurred, blurred + fog.
"""

from __future__ import annotations

import math

import numpy as np

from semgan_core.images import as_image


def rms_radius(kernel):
    """RMS distance of a PSF's mass from its centroid, in pixels (sqrt(2) sigma for a
    Gaussian of standard deviation sigma)."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or not np.isfinite(k).all() or (k < 0).any() or k.sum() <= 0:
        raise ValueError(f"rms_radius: kernel must be a 2-D non-negative array with a "
                         f"positive sum, got shape {k.shape}")
    k = k / k.sum()
    y, x = np.mgrid[:k.shape[0], :k.shape[1]]
    cy, cx = (k * y).sum(), (k * x).sum()
    return float(np.sqrt((k * ((y - cy) ** 2 + (x - cx) ** 2)).sum()))


def kernel_panels(kernels, *, panel_size=2.4):
    """PSFs side by side at one pixel scale, each titled with its size and RMS radius.

    Parameters
    ----------
    kernels : dict of str to ndarray, shape (p, q)
        Title to kernel (non-negative, positive sum; shown normalised to its maximum).

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not kernels:
        raise ValueError("kernel_panels: kernels is empty; pass {title: kernel}")
    radii = {name: rms_radius(k) for name, k in kernels.items()}
    extent = max(max(np.shape(k)) for k in kernels.values()) / 2
    fig, axes = plt.subplots(1, len(kernels), figsize=(panel_size * len(kernels), panel_size
                                                       + 0.5), squeeze=False, layout="constrained")
    for ax, (name, k) in zip(axes.flat, kernels.items()):
        k = np.asarray(k, dtype=np.float64)
        p, q = k.shape
        ax.imshow(k / k.max(), cmap="magma", vmin=0, vmax=1, interpolation="nearest",
                  extent=(-q / 2, q / 2, p / 2, -p / 2))
        ax.set_facecolor("black")  # outside the kernel's support: zero
        ax.set_xlim(-extent, extent)
        ax.set_ylim(extent, -extent)
        ax.set_title(f"{name}\n{p}x{q}, RMS radius {radii[name]:.2f} px", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def degradation_preview(image, *, sigma=1.0, length=10.0, angle=0.0, radius=5.0, beta=2.0,
                        airlight=None, depth_seed=0):
    """Figure of one degradation with free parameters (the book's widget callback).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    sigma, length, angle, radius : float
        Gaussian sigma (kernel side 2 ceil(3 sigma) + 1: 7 for sigma 1), motion length
        and angle (degrees), disk radius. A value of 0 (sigma, length, radius) leaves
        that kernel out; the kernels left are composed.
    beta, airlight : float
        Fog (adopted reading): depth ``degrade.FOG_DEPTH * degrade.depth_map(shape,
        rng=depth_seed)``; beta 0 means no fog. Airlight None means
        ``degrade.AIRLIGHT`` (0.8).
    depth_seed : int
        Seed of the depth map.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Four panels: clean image, total PSF, blurred, blurred + fog. Not registered with
        pyplot, so a widget that redraws it does not accumulate figures.
    """
    from matplotlib.figure import Figure

    from semgan_core import degrade, kernels

    image = as_image(image, name="degradation_preview: image")
    airlight = degrade.AIRLIGHT if airlight is None else airlight
    specs = []
    if sigma > 0:
        specs.append({"type": "gaussian", "size": 2 * math.ceil(3 * sigma) + 1, "sigma": sigma})
    if length > 0:
        specs.append({"type": "motion", "length": length, "angle": angle})
    if radius > 0:
        specs.append({"type": "disk", "radius": radius})
    psf = kernels.kernel_from_specs(specs) if specs else np.ones((1, 1), np.float32)
    blurred = kernels.convolve(image, psf)
    depth = degrade.FOG_DEPTH * degrade.depth_map(image.shape, rng=depth_seed)
    foggy = degrade.fog(blurred, beta=beta, depth=depth, airlight=airlight)
    fig = Figure(figsize=(9.0, 2.9), layout="constrained")  # the book's column width
    axes = fig.subplots(1, 4)
    panels = [(image, "clean"), (psf, f"PSF {psf.shape[0]}x{psf.shape[1]}"),
              (blurred, "blurred"), (foggy, f"+ fog (beta {beta:g}, A {airlight:g})")]
    for ax, (data, title) in zip(axes, panels):
        vmax = None if data is psf else 1.0
        ax.imshow(data, cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    return fig


def fog_panels(blurred, depth, *, beta=2.0, betas=(1.5, 2.5), depths=(0.25, 0.5),
               width=9.0):
    """The paper's fog (eq. 18) read literally against the adopted reading.

    Parameters
    ----------
    blurred : ndarray, shape (H, W), float32 in [0, 1]
        The blurred image the fog is added to.
    depth : ndarray, shape (H, W), >= 0
        The adopted reading's depth map (``degrade.FOG_DEPTH * degrade.depth_map(...)``).
    beta : float, optional
        Scattering coefficient of the image panels.
    betas, depths : sequence of float, optional
        The response curves: the literal fog at each of ``betas`` (d = 1, A = 3), the
        adopted one at ``beta`` and each of ``depths`` (A = ``degrade.AIRLIGHT``).
    width : float, optional
        Figure width in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The fogged intensity I against the clean one f (the band [0, 1] shaded), then
        the blurred image, the literal fog (saturated), the depth map and the adopted
        fog.
    """
    import matplotlib.pyplot as plt

    from semgan_core import degrade

    blurred = as_image(blurred, name="fog_panels(blurred)")
    f = np.linspace(0, 1, 101, dtype=np.float32)[None, :]
    fig, axes = plt.subplots(1, 5, figsize=(width, 2.4), layout="constrained",
                             gridspec_kw={"width_ratios": [1.4, 1, 1, 1, 1]})
    axes[0].axhspan(0, 1, color="0.9")
    for b in betas:
        axes[0].plot(f[0], degrade.fog(f, beta=b, mode="literal")[0],
                     label=f"literal, beta {b:g}")
    for d in depths:
        axes[0].plot(f[0], degrade.fog(f, beta=beta, depth=d)[0], "--",
                     label=f"adopted, beta {beta:g}, d {d:g}")
    axes[0].plot(f[0], f[0], ":", color="k", label="no fog")
    axes[0].set(xlabel="f (clean, blurred)", ylabel="I (fogged)", ylim=(-0.05, 3.05))
    axes[0].legend(fontsize=7)
    literal = degrade.fog(blurred, beta=beta, mode="literal")
    adopted = degrade.fog(blurred, beta=beta, depth=depth, airlight=degrade.AIRLIGHT)
    panels = [(blurred, "blurred", "gray", 1.0),
              (literal, f"literal fog, beta {beta:g}", "gray", 1.0),
              (depth, "depth map d", "viridis", degrade.FOG_DEPTH),
              (adopted, f"adopted fog, beta {beta:g}", "gray", 1.0)]
    for ax, (image, title, cmap, vmax) in zip(axes[1:], panels):
        ax.imshow(image, cmap=cmap, vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
