"""Image figures: panels of one image per method with a zoomed inset, grids of images,
the sample grids of a training run.

* :func:`method_panels`: the paper's Fig. 2, one panel per method with a zoomed inset of
  the same region (:func:`detail_region` picks it, :func:`metric_caption` writes the
  panel titles);
* :func:`image_grid`: rows of titled gray-scale panels (degradations of one image,
  edge maps, real and synthetic micrographs side by side);
* :func:`centre_crop`: the centred square of an image, to show a large micrograph at
  the scale of a training crop;
* :func:`sample_grids`: a training run's sample grids at a few steps.
"""

from __future__ import annotations

import math

import numpy as np

from semgan_core.checks import check_int
from semgan_core.images import as_image
from semgan_core.labels import DIGITS, METRIC_NAMES

_INSET_COLOR = "gold"
#: Width in inches of a figure that spans the book's text column.
COLUMN_WIDTH = 9.0


def _check_inset(inset, shape):
    """Validate (y0, x0, side) against the image shape."""
    try:
        y0, x0, side = (int(v) for v in inset)
    except (TypeError, ValueError):
        raise ValueError(f"method_panels: inset must be (y0, x0, size) integers, got "
                         f"{inset!r}") from None
    if side < 2 or y0 < 0 or x0 < 0 or y0 + side > shape[0] or x0 + side > shape[1]:
        raise ValueError(f"method_panels: inset {inset!r} must be a square of at least 2 "
                         f"pixels inside the {shape[0]}x{shape[1]} images")
    return y0, x0, side


def _add_inset(ax, image, y0, x0, side):
    """Outline the region and show it enlarged in the corner farthest from it."""
    from matplotlib.patches import Rectangle

    h, w = image.shape
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), side, side, fill=False,
                           edgecolor=_INSET_COLOR, linewidth=1.2))
    left = 0.01 if x0 + side / 2 > w / 2 else 0.53
    bottom = 0.53 if y0 + side / 2 > h / 2 else 0.01
    zoom = ax.inset_axes([left, bottom, 0.46, 0.46])
    zoom.imshow(image[y0:y0 + side, x0:x0 + side], cmap="gray", vmin=0, vmax=1,
                interpolation="nearest")
    zoom.set_xticks([])
    zoom.set_yticks([])
    for spine in zoom.spines.values():
        spine.set_edgecolor(_INSET_COLOR)
        spine.set_linewidth(1.5)
    return zoom


def method_panels(images, *, inset=None, titles=None, ncols=4, panel_size=3.0):
    """One gray-scale panel per method, each with a zoomed inset of the same region.

    Parameters
    ----------
    images : dict of str to ndarray, shape (H, W), float32 in [0, 1]
        Panel title to image, in display order (e.g. blurred, each method, ground truth).
        All images must have the same shape.
    inset : tuple of int (y0, x0, size), optional
        A square region, outlined in every panel and shown enlarged in the panel's
        corner farthest from it. Default: no inset.
    titles : dict of str to str, optional
        An extra title line per panel (e.g. its metrics), keyed like ``images``.
    ncols : int, optional
        Panels per row.
    panel_size : float, optional
        Side of one panel in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``images`` is empty, the images differ in shape or are not valid images, or
        ``inset`` is not a square inside them.
    """
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("method_panels: images is empty; pass {title: image}")
    arrays = {k: as_image(v, name=f"method_panels(images[{k!r}])") for k, v in images.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) > 1:
        raise ValueError(f"method_panels: all images must have the same shape, got "
                         f"{sorted(shapes)}")
    region = None if inset is None else _check_inset(inset, shapes.pop())
    ncols = max(1, min(int(ncols), len(arrays)))
    nrows = math.ceil(len(arrays) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows
                                                    + 0.4), squeeze=False, layout="constrained")
    for ax, (name, image) in zip(axes.flat, arrays.items()):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        extra = (titles or {}).get(name)
        ax.set_title(name if extra is None else f"{name}\n{extra}", fontsize=9)
        if region is not None:
            _add_inset(ax, image, *region)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig


def detail_region(image, *, size=64):
    """The square with the most detail (largest mean gradient magnitude), for an inset.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        Usually the ground truth.
    size : int, optional
        Side of the square, at most the image's smaller side.

    Returns
    -------
    inset : tuple of int
        ``(y0, x0, size)``, as :func:`method_panels` takes it.
    """
    from scipy.ndimage import uniform_filter

    image = as_image(image, name="detail_region(image)")
    check_int("detail_region", "size", size, low=2, high=min(image.shape))
    gy, gx = np.gradient(image.astype(np.float64))
    energy = uniform_filter(np.hypot(gy, gx), size, mode="constant")
    half = size // 2  # window centres whose square lies inside the image
    inner = energy[half:image.shape[0] - size + half + 1, half:image.shape[1] - size + half + 1]
    y0, x0 = np.unravel_index(np.argmax(inner), inner.shape)
    return int(y0), int(x0), int(size)


def metric_caption(values):
    """Two short lines of metrics for a panel title, e.g. 'SSIM 0.937, PSNR 29.68 dB'.

    ``values`` is a dict like :func:`metrics.evaluate`'s (missing keys are left out).
    """
    first = [f"SSIM {values['ssim']:.3f}" if "ssim" in values else "",
             f"PSNR {values['psnr']:.2f} dB" if "psnr" in values else ""]
    second = [f"{METRIC_NAMES[m]} {values[m]:.{DIGITS[m] - 1}f}" for m in ("ag", "con", "sf")
              if m in values]
    return "\n".join(line for line in (", ".join(p for p in first if p), ", ".join(second))
                     if line)



def centre_crop(image, size=256):
    """The centred ``size`` x ``size`` square of an image.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    size : int, optional
        Side of the square, at most the image's smaller side.

    Returns
    -------
    crop : ndarray, shape (size, size), float32
        ``image[(H - size) // 2:, (W - size) // 2:]`` cut to ``size``.

    Raises
    ------
    ValueError
        If ``size`` is not an integer from 1 to the image's smaller side.
    """
    image = as_image(image, name="centre_crop(image)")
    check_int("centre_crop", "size", size, low=1, high=min(image.shape))
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


def image_grid(rows, *, panel_size=None, fontsize=9):
    """Rows of titled gray-scale panels, e.g. one image and its degradations per row.

    Parameters
    ----------
    rows : sequence of dict of str to ndarray
        One dict per row, panel title to image, in display order. An image is drawn in
        gray on [0, 1]; a pair ``(image, options)`` passes ``options`` to ``imshow``
        instead (e.g. ``{"cmap": "magma"}`` for an edge map, whose range is then its
        own). Rows may differ in length; missing panels are left blank.
    panel_size : float, optional
        Side of one panel in inches (default: the book's column width divided by the
        number of columns).
    fontsize : float, optional
        Size of the titles in points.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``rows`` holds no panel, or an image is not a 2-D array.
    """
    import matplotlib.pyplot as plt

    rows = [dict(row) for row in rows]
    ncols = max((len(row) for row in rows), default=0)
    if not ncols:
        raise ValueError("image_grid: rows hold no panel; pass [{title: image}, ...]")
    size = COLUMN_WIDTH / ncols if panel_size is None else float(panel_size)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(size * ncols, (size + 0.3) * len(rows)),
                             squeeze=False, layout="constrained")
    for ax_row, row in zip(axes, rows):
        for ax, (title, value) in zip(ax_row, row.items()):
            image, options = value if isinstance(value, tuple) else (value, None)
            image = np.asarray(image)
            if image.ndim != 2:
                raise ValueError(f"image_grid: panel {title!r} must be a 2-D image, got "
                                 f"shape {image.shape}")
            style = {"cmap": "gray", "vmin": 0, "vmax": 1} if options is None else options
            ax.imshow(image, **style)
            ax.set_title(title, fontsize=fontsize)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig


def sample_grids(run_dir, *, n=4, columns="a  |  G(a)  |  F(G(a))  |  b  |  F(b)"):
    """A training run's sample grids at up to ``n`` steps spread over the run.

    Parameters
    ----------
    run_dir : path-like
        A run folder (its ``samples/step_*.png``, :func:`runlog.list_samples`).
    n : int, optional
        Grids shown: the first, the last and evenly spaced ones between.
    columns : str, optional
        What the grid's columns show, for the titles (the default is the CycleGAN's
        layout; the paired oracle's is ``"a  |  G(a)  |  b"``).

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per grid, the full column wide, titled with its step.

    Raises
    ------
    FileNotFoundError
        If the run has no sample grid.
    """
    import matplotlib.pyplot as plt

    from semgan_core import images, runlog

    check_int("sample_grids", "n", n, low=1)
    samples = runlog.list_samples(run_dir)
    if not samples:
        raise FileNotFoundError(f"sample_grids: no sample grids in {run_dir}/samples; is it "
                                "a run folder?")
    picks = sorted(set(np.linspace(0, len(samples) - 1, min(n, len(samples)))
                       .round().astype(int)))
    grids = [(samples[i][0], images.read_image(samples[i][1])) for i in picks]
    height = sum(COLUMN_WIDTH * g.shape[0] / g.shape[1] + 0.35 for _, g in grids)
    fig, axes = plt.subplots(len(grids), 1, figsize=(COLUMN_WIDTH, height), squeeze=False,
                             layout="constrained")
    for ax, (step, grid) in zip(axes[:, 0], grids):
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"step {step}:  {columns}", fontsize=10)
        ax.set_axis_off()
    return fig
