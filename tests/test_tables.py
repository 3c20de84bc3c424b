"""Tests of semgan_core.tables (Markdown tables of results) and semgan_core.labels."""

import numpy as np
import pandas as pd
import pytest

from semgan_core import labels, tables
from semgan_core.evaluate import METRICS


def _row(method, psf, value, *, seconds=0.01, half=0.5):
    row = {"method": method, "psf": psf, "seconds_per_image": seconds}
    for m in METRICS:
        row[m], row[f"{m}_lo"], row[f"{m}_hi"] = value, value - half, value + half
    return row


def example_table(network=None, *, method="filter-unpaired"):
    """A small table shaped like evaluate.evaluate_methods' (values chosen by hand), with
    a ``method`` row of value ``network`` when given."""
    rows = [_row("blurred", "-", 10.0, seconds=0.0),
            _row("wiener", "assumed", 20.0, seconds=0.002),
            _row("wiener", "oracle", 30.0, seconds=0.002),
            _row("richardson-lucy", "assumed", 15.0, seconds=0.06),
            _row("blind-deconvolution", "assumed", 14.0, seconds=0.03),
            _row("constrained-least-squares", "assumed", 19.0, seconds=0.003),
            {**_row("ground-truth", "-", 25.0, seconds=0.0), "ssim": np.nan, "psnr": np.nan,
             "ssim_lo": np.nan, "ssim_hi": np.nan, "psnr_lo": np.nan, "psnr_hi": np.nan}]
    if network is not None:
        rows.insert(1, _row(method, "-", network, seconds=0.2))
    return pd.DataFrame(rows)


def test_table_markdown_bolds_the_best_and_shows_intervals():
    text = tables.table_markdown(example_table(), metrics=("ssim", "ag"))
    lines = text.splitlines()
    assert lines[0] == "| Method | SSIM | AG |"
    oracle = next(line for line in lines if "Wiener (oracle PSF)" in line)
    assert "**30.000 [29.500, 30.500]**" in oracle and "**30.00 [29.50, 30.50]**" in oracle
    truth = next(line for line in lines if "Ground truth" in line)
    assert "| – |" in truth and "**" not in truth  # NaN shown as a dash; never bolded
    assert text.count("**") == 4


def test_table_markdown_by_dataset_and_without_ci():
    text = tables.table_markdown({"A": example_table(), "B": example_table(40.0)},
                                   metrics=("psnr",), ci=False, bold_best=False)
    assert text.splitlines()[0] == "| Dataset | Method | PSNR (dB) |"
    assert "| B | filter, unpaired (CPU recipe) | 40.00 |" in text
    assert "**" not in text and "[" not in text


def test_table_markdown_errors():
    with pytest.raises(ValueError, match="missing \\['lpips'\\]"):
        tables.table_markdown(example_table(), metrics=("lpips",))
    with pytest.raises(ValueError, match="columns 'method' and 'psf'"):
        tables.table_markdown(pd.DataFrame({"x": [1]}), metrics=("x",))
    with pytest.raises(ValueError, match="no tables"):
        tables.table_markdown({}, metrics=("ssim",))


def test_runtime_markdown_in_milliseconds():
    text = tables.runtime_markdown({"A": example_table(1.0), "B": example_table()})
    assert text.splitlines()[0] == "| Method | A (ms / image) | B (ms / image) |"
    assert "| filter, unpaired (CPU recipe) | 200.0 | – |" in text
    assert "| Richardson-Lucy (assumed PSF) | 60.0 | 60.0 |" in text
    assert "Blurred" not in text and "Ground truth" not in text


def test_gains_markdown_bolds_intervals_that_exclude_zero():
    gains = pd.DataFrame([
        {"method": "filter-unpaired", "psf": "-", "psnr_gain": 2.5, "psnr_gain_lo": 2.0,
         "psnr_gain_hi": 3.0, "ssim_gain": 0.01, "ssim_gain_lo": -0.01, "ssim_gain_hi": 0.03},
        {"method": "wiener", "psf": "assumed", "psnr_gain": -1.0, "psnr_gain_lo": -1.5,
         "psnr_gain_hi": -0.5, "ssim_gain": 0.0, "ssim_gain_lo": 0.0, "ssim_gain_hi": 0.0}])
    text = tables.gains_markdown({"A": gains, "B": gains})
    lines = text.splitlines()
    assert lines[0] == "| Dataset | Method | PSNR gain | SSIM gain |" and len(lines) == 6
    assert ("| A | filter, unpaired (CPU recipe) | +2.50 **[+2.00, +3.00]** | "
            "+0.010 [-0.010, +0.030] |") in lines
    assert "Wiener (assumed PSF) | -1.00 **[-1.50, -0.50]** | +0.000 [+0.000, +0.000]" in text
    assert "Dataset" not in tables.gains_markdown(gains)


def test_method_labels_name_each_model_for_what_it_is():
    assert labels.method_label("filter-unpaired") == "filter, unpaired (CPU recipe)"
    assert labels.method_label("filter-paired") == "filter, paired (oracle)"
    assert labels.method_label("unet-cyclegan") == "U-Net CycleGAN (paper)"
    assert labels.method_label("wiener", "oracle") == "Wiener (oracle PSF)"
    assert labels.method_label("my-model", "") == "my-model"
    assert labels.method_prose("wiener", "assumed") == "Wiener with the assumed PSF"


def _levels():
    rows = []
    for level, drop in ((0.04, 6.0), (0.0, 0.0), (0.01, 2.0)):
        for method, psf, value, gain in (("blurred", "-", 22.0, 0.0),
                                         ("wiener", "assumed", 30.0, 8.0),
                                         ("wiener", "oracle", 31.0, 9.0)):
            lo = -0.5 if level == 0.04 and psf == "assumed" else gain - 0.5
            rows.append({"level": level, "method": method, "psf": psf,
                         "psnr": value - drop, "psnr_lo": value - drop - 1,
                         "psnr_hi": value - drop + 1, "psnr_gain": gain - drop,
                         "psnr_gain_lo": lo - drop, "psnr_gain_hi": gain - drop + 0.5})
    return pd.DataFrame(rows)


def test_levels_markdown_levels_across_in_increasing_order():
    text = tables.levels_markdown(_levels())
    lines = text.splitlines()
    assert lines[0] == "| Method | PSNR, σ = 0 | PSNR, σ = 0.01 | PSNR, σ = 0.04 |"
    assert lines[2] == "| Blurred input | 22.00 [21.00, 23.00] | 20.00 [19.00, 21.00] | " \
                       "16.00 [15.00, 17.00] |"
    assert len(lines) == 4 and "oracle" not in text
    gains = tables.levels_markdown(_levels(), gains=True, psf=("oracle",)).splitlines()
    assert gains[0].startswith("| Method | PSNR gain, σ = 0 |") and len(gains) == 3
    assert gains[2] == ("| Wiener (oracle PSF) | +9.00 **[+8.50, +9.50]** | +7.00 "
                        "**[+6.50, +7.50]** | +3.00 **[+2.50, +3.50]** |")
    wiener = tables.levels_markdown(_levels(), gains=True).splitlines()[2]
    assert wiener.endswith("| +2.00 [-6.50, +2.50] |")   # interval holds zero: not bold


@pytest.mark.parametrize("kwargs,match", [
    (dict(metric="ag"), "levels_markdown: metric must be 'psnr' or 'ssim', got 'ag'"),
    (dict(levels=example_table()), r"levels_markdown: levels must be a DataFrame of "
                                   r"noiselevels.levels_frame; missing columns \['level'\]"),
])
def test_levels_markdown_errors(kwargs, match):
    kwargs = {"levels": _levels(), **kwargs}
    with pytest.raises(ValueError, match=match):
        tables.levels_markdown(**kwargs)
