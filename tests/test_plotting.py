"""Tests for semgan_core.plotting: panels with insets, Markdown tables, verdict sentences."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from semgan_core import plotting  # noqa: E402
from semgan_core.evaluate import METRICS  # noqa: E402


def _row(method, psf, value, *, seconds=0.01, half=0.5):
    row = {"method": method, "psf": psf, "seconds_per_image": seconds}
    for m in METRICS:
        row[m], row[f"{m}_lo"], row[f"{m}_hi"] = value, value - half, value + half
    return row


def _table(cyclegan=None):
    """A small table shaped like evaluate.evaluate_methods' (values chosen by hand)."""
    rows = [_row("blurred", "-", 10.0, seconds=0.0),
            _row("wiener", "assumed", 20.0, seconds=0.002),
            _row("wiener", "oracle", 30.0, seconds=0.002),
            _row("richardson-lucy", "assumed", 15.0, seconds=0.06),
            _row("blind-deconvolution", "assumed", 14.0, seconds=0.03),
            _row("constrained-least-squares", "assumed", 19.0, seconds=0.003),
            {**_row("ground-truth", "-", 25.0, seconds=0.0), "ssim": np.nan, "psnr": np.nan,
             "ssim_lo": np.nan, "ssim_hi": np.nan, "psnr_lo": np.nan, "psnr_hi": np.nan}]
    if cyclegan is not None:
        rows.insert(1, _row("cyclegan", "-", cyclegan, seconds=0.2))
    return pd.DataFrame(rows)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_method_panels_draws_one_panel_and_one_inset_per_image():
    rng = np.random.default_rng(0)
    images = {name: rng.random((32, 48), dtype=np.float32) for name in ("a", "b", "c")}
    fig = plotting.method_panels(images, inset=(20, 30, 8), titles={"b": "PSNR 1"}, ncols=2)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["a", "b\nPSNR 1", "c"]
    assert all(len(ax.child_axes) == 1 for ax in panels)
    zoomed = panels[0].child_axes[0].images[0].get_array()
    np.testing.assert_array_equal(zoomed, images["a"][20:28, 30:38])
    # the region is in the lower right, so the inset goes to the upper left
    fig.canvas.draw()
    outer, inner = panels[0].get_position(), panels[0].child_axes[0].get_position()
    assert inner.x0 - outer.x0 < 0.1 * outer.width and outer.y1 - inner.y1 < 0.1 * outer.height


def test_method_panels_without_inset():
    fig = plotting.method_panels({"x": np.zeros((16, 16), np.uint8)})
    assert len(fig.axes) == 1 and not fig.axes[0].child_axes


@pytest.mark.parametrize("images, inset, match", [
    ({}, None, "images is empty"),
    ({"a": np.zeros((8, 8)), "b": np.zeros((8, 9))}, None, "same shape"),
    ({"a": np.zeros((8, 8))}, (4, 4, 8), "inside the 8x8"),
    ({"a": np.zeros((8, 8))}, (1, 2), r"\(y0, x0, size\)"),
    ({"a": np.full((8, 8), 2.0)}, None, "method_panels"),
])
def test_method_panels_errors(images, inset, match):
    with pytest.raises(ValueError, match=match):
        plotting.method_panels(images, inset=inset)


def test_table_markdown_bolds_the_best_and_shows_intervals():
    text = plotting.table_markdown(_table(), metrics=("ssim", "ag"))
    lines = text.splitlines()
    assert lines[0] == "| Method | SSIM | AG |"
    oracle = next(line for line in lines if "Wiener (oracle PSF)" in line)
    assert "**30.000 [29.500, 30.500]**" in oracle and "**30.00 [29.50, 30.50]**" in oracle
    truth = next(line for line in lines if "Ground truth" in line)
    assert "| – |" in truth and "**" not in truth  # NaN shown as a dash; never bolded
    assert text.count("**") == 4


def test_table_markdown_by_dataset_and_without_ci():
    text = plotting.table_markdown({"A": _table(), "B": _table(cyclegan=40.0)},
                                   metrics=("psnr",), ci=False, bold_best=False)
    assert text.splitlines()[0] == "| Dataset | Method | PSNR (dB) |"
    assert "| B | CycleGAN | 40.00 |" in text and "**" not in text and "[" not in text


def test_table_markdown_errors():
    with pytest.raises(ValueError, match="missing \\['lpips'\\]"):
        plotting.table_markdown(_table(), metrics=("lpips",))
    with pytest.raises(ValueError, match="columns 'method' and 'psf'"):
        plotting.table_markdown(pd.DataFrame({"x": [1]}), metrics=("x",))
    with pytest.raises(ValueError, match="no tables"):
        plotting.table_markdown({}, metrics=("ssim",))


def test_runtime_markdown_in_milliseconds():
    text = plotting.runtime_markdown({"A": _table(cyclegan=1.0), "B": _table()})
    assert text.splitlines()[0] == "| Method | A (ms / image) | B (ms / image) |"
    assert "| CycleGAN | 200.0 | – |" in text
    assert "| Richardson-Lucy (assumed PSF) | 60.0 | 60.0 |" in text
    assert "Blurred" not in text and "Ground truth" not in text


def test_verdict_claims_without_the_network_says_so_with_the_numbers():
    text = plotting.verdict_claims({"A": _table(), "B": _table()})
    assert "cannot be judged yet on datasets A, B" in text
    assert "no trained weights are shipped yet" in text
    # the best classical method with the assumed PSF is Wiener (20), not the oracle (30)
    assert "SSIM above 20.000 (Wiener with the assumed PSF)" in text
    assert "+10.00 dB from the blurred input's 10.00 dB" in text
    assert "the ground truth has AG 25.00, CON 25.0, SF 25.00" in text


def test_verdict_claims_confirmed_and_not_confirmed():
    text = plotting.verdict_claims({"A": _table(cyclegan=20.2), "B": _table(cyclegan=22.0),
                                    "C": _table(cyclegan=19.0)})
    assert "Claim 1 (higher SSIM and PSNR than every classical method, assumed PSF): " \
           "confirmed on A, B; not on C (on A by the means only: a 95 % interval " \
           "overlaps)." in text
    assert ("(A, B, C): SSIM +0.200, +2.000, -1.000; PSNR +0.20, +2.00, -1.00 dB, so the "
            "margins are not largest on B and C") in text
    assert "95 % intervals overlap" in text and "95 % intervals apart" in text
    assert "Claim 2 (highest AG, CON and SF of the methods): confirmed on A, B; not on C." in text
    assert "ground truth 25.00" in text
    assert "cannot be judged" not in text
    oracle = plotting.verdict_claims({"A": _table(cyclegan=22.0)}, psf="oracle")
    assert "not confirmed on A" in oracle and "Wiener with the oracle PSF" in oracle


def test_verdict_runtime():
    tables = {"A": _table(cyclegan=1.0), "B": _table(cyclegan=1.0)}
    text = plotting.verdict_runtime(tables, networks=("cyclegan", "absent"))
    assert text.startswith("CycleGAN: 200.0 ms per image")
    assert ("against Richardson-Lucy 60.0 ms and Blind deconvolution 30.0 ms, that is 3.33 "
            "and 6.67 times their time: slower than all of them") in text
    fast = plotting.verdict_runtime(tables, networks=("wiener",))
    assert "faster than all of them" in fast
    assert "cannot be checked" in plotting.verdict_runtime(tables, networks=("absent",))
    assert "cannot be checked" in plotting.verdict_runtime(tables, networks=("cyclegan",),
                                                           iterative=())
    ok = {r: _table(cyclegan=c) for r, c in (("A", 20.1), ("B", 21.0), ("C", 21.0))}
    assert "so the margins are largest on B and C" in plotting.verdict_claims(ok)


def test_detail_region_finds_the_textured_square():
    image = np.zeros((60, 80), np.float32)
    image[40:50, 60:70] = np.random.default_rng(1).random((10, 10))
    y0, x0, size = plotting.detail_region(image, size=16)
    assert size == 16 and y0 <= 40 and y0 + 16 >= 50 and x0 <= 60 and x0 + 16 >= 70
    assert plotting.detail_region(image, size=60)[0] == 0  # the square fills the height
    with pytest.raises(ValueError, match="size must be an integer from 2 to 60"):
        plotting.detail_region(image, size=61)


def test_metric_caption():
    full = {"ssim": 0.93712, "psnr": 29.681, "ag": 19.38, "con": 659.6, "sf": 36.25}
    assert plotting.metric_caption(full) == "SSIM 0.937, PSNR 29.68 dB\nAG 19.4, CON 660, SF 36.2"
    assert plotting.metric_caption({"ag": 1.0, "con": 2.0, "sf": 3.0}) == "AG 1.0, CON 2, SF 3.0"


def test_rms_radius_and_kernel_panels():
    from semgan_core import degrade

    wide = degrade.gaussian_kernel(31, 3.0)
    assert plotting.rms_radius(wide) == pytest.approx(3.0 * np.sqrt(2), rel=1e-3)
    assert plotting.rms_radius(np.pad([[1.0]], 3)) == 0.0
    line = degrade.motion_kernel(10.0)
    assert plotting.rms_radius(line) > plotting.rms_radius(degrade.ASSUMED_PSF)
    with pytest.raises(ValueError, match="rms_radius: kernel must be"):
        plotting.rms_radius(-np.ones((3, 3)))
    fig = plotting.kernel_panels({"assumed": degrade.ASSUMED_PSF, "motion": line})
    assert [ax.get_xlim() for ax in fig.axes][0] == fig.axes[1].get_xlim()
    assert "7x7, RMS radius 1.41 px" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="kernels is empty"):
        plotting.kernel_panels({})


def test_gains_markdown_bolds_intervals_that_exclude_zero():
    gains = pd.DataFrame([
        {"method": "cyclegan", "psf": "-", "psnr_gain": 2.5, "psnr_gain_lo": 2.0,
         "psnr_gain_hi": 3.0, "ssim_gain": 0.01, "ssim_gain_lo": -0.01, "ssim_gain_hi": 0.03},
        {"method": "wiener", "psf": "assumed", "psnr_gain": -1.0, "psnr_gain_lo": -1.5,
         "psnr_gain_hi": -0.5, "ssim_gain": 0.0, "ssim_gain_lo": 0.0, "ssim_gain_hi": 0.0}])
    text = plotting.gains_markdown({"A": gains, "B": gains})
    lines = text.splitlines()
    assert lines[0] == "| Dataset | Method | PSNR gain | SSIM gain |" and len(lines) == 6
    assert "| A | CycleGAN | +2.50 **[+2.00, +3.00]** | +0.010 [-0.010, +0.030] |" in lines
    assert "Wiener (assumed PSF) | -1.00 **[-1.50, -0.50]** | +0.000 [+0.000, +0.000]" in text
    assert "Dataset" not in plotting.gains_markdown(gains)
