"""Figures of the book: one function per figure type, each returning a matplotlib Figure.

The functions live in four modules and are all available here:

* :mod:`~semgan_core.plotting.panels`: :func:`method_panels` (the paper's Fig. 2, with
  :func:`detail_region` and :func:`metric_caption`), :func:`image_grid`,
  :func:`centre_crop`, :func:`sample_grids`;
* :mod:`~semgan_core.plotting.degradation`: :func:`kernel_panels` (with
  :func:`rms_radius`), :func:`fog_panels`, :func:`degradation_preview`;
* :mod:`~semgan_core.plotting.curves`: :func:`loss_curves`, :func:`convergence_curves`;
* :mod:`~semgan_core.plotting.noise`: :func:`noise_curves` (PSNR and SSIM against the
  noise level).

Tables in Markdown are in :mod:`semgan_core.tables`, the verdict on the paper's claims in
:mod:`semgan_core.verdicts`, the names of methods and metrics in
:mod:`semgan_core.labels`. matplotlib is imported when a figure is drawn, not before.
"""

from semgan_core.plotting.curves import LOSS_GROUPS, convergence_curves, loss_curves
from semgan_core.plotting.degradation import (degradation_preview, fog_panels, kernel_panels,
                                              rms_radius)
from semgan_core.plotting.noise import noise_curves
from semgan_core.plotting.panels import (COLUMN_WIDTH, centre_crop, detail_region,
                                         image_grid, method_panels, metric_caption,
                                         sample_grids)

__all__ = ["COLUMN_WIDTH", "LOSS_GROUPS", "centre_crop", "convergence_curves",
           "degradation_preview", "detail_region", "fog_panels", "image_grid", "kernel_panels",
           "loss_curves", "method_panels", "metric_caption", "noise_curves", "rms_radius",
           "sample_grids"]
