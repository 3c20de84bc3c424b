"""Names of the evaluated methods and metrics: keys in tables, labels in figures and text.

A method has one key (a row of :func:`semgan_core.evaluate.evaluate_methods`' table, a
file name stem) and one display label, used the same way in every table, figure and
sentence of the book:

============================  ======================================================
key                           label
============================  ======================================================
``filter-unpaired``           filter, unpaired (CPU recipe): the filter generator
                              trained without pairs by the CPU recipe (shipped as
                              ``weights/filter_unpaired_<degradation>.keras``)
``filter-paired``             filter, paired (oracle): the same generator trained on
                              the pairs, an upper bound (``weights/filter_paired_...``)
``unet-cyclegan``             U-Net CycleGAN (paper): the paper's method
``unet-paired``               U-Net, paired (oracle)
``unet-restorer``             U-Net restorer (synthesised pairs): the paper's U-Net
                              trained on pairs synthesised from clear images, the
                              default model (``weights/unet_restorer_...``)
``filter-restorer``           the filter generator trained the same way
============================  ======================================================

plus the blurred input, the classical baselines and the ground truth.
"""

from __future__ import annotations

from semgan_core.generators import MODEL_NAMES

#: Display names of the table rows (others are shown as given); the generators' come
#: from the metadata their files carry (:data:`semgan_core.generators.MODEL_NAMES`).
METHOD_LABELS = {"blurred": "Blurred input", **dict(MODEL_NAMES.values()),
                 "wiener": "Wiener", "richardson-lucy": "Richardson-Lucy",
                 "blind-deconvolution": "Blind deconvolution",
                 "constrained-least-squares": "Constrained least squares",
                 "ground-truth": "Ground truth"}
#: Column headers of the metrics (PSNR with its unit).
METRIC_LABELS = {"ssim": "SSIM", "psnr": "PSNR (dB)", "ag": "AG", "con": "CON", "sf": "SF"}
#: Short metric names for sentences and gain columns.
METRIC_NAMES = {**METRIC_LABELS, "psnr": "PSNR"}
#: Decimals shown per metric.
DIGITS = {"ssim": 3, "psnr": 2, "ag": 2, "con": 1, "sf": 2}


def method_label(method, psf="-"):
    """Display name of a table row, e.g. ``'Wiener (assumed PSF)'``.

    Parameters
    ----------
    method : str
        A row key (:data:`METHOD_LABELS`; any other name is shown as given).
    psf : str, optional
        The row's PSF setting; ``'-'`` (or empty) for methods without one.

    Returns
    -------
    label : str
    """
    name = METHOD_LABELS.get(method, method)
    return name if psf in ("-", "", None) else f"{name} ({psf} PSF)"


def method_prose(method, psf="-"):
    """A row's name inside a sentence: ``'Wiener with the assumed PSF'`` (no nested
    parentheses)."""
    name = METHOD_LABELS.get(method, method)
    return name if psf in ("-", "", None) else f"{name} with the {psf} PSF"
