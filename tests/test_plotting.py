"""Tests of semgan_core.plotting: image panels with insets, grids, kernels, curves."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from semgan_core import plotting, runlog  # noqa: E402
from semgan_core import kernels  # noqa: E402


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


def test_detail_region_finds_the_textured_square():
    image = np.zeros((60, 80), np.float32)
    image[40:50, 60:70] = np.random.default_rng(1).random((10, 10))
    y0, x0, size = plotting.detail_region(image, size=16)
    assert size == 16 and y0 <= 40 and y0 + 16 >= 50 and x0 <= 60 and x0 + 16 >= 70
    assert plotting.detail_region(image, size=60)[0] == 0  # the square fills the height
    with pytest.raises(ValueError, match=r"detail_region: size must be an integer in \[2, 60\], "
                                         "got 61"):
        plotting.detail_region(image, size=61)


def test_metric_caption():
    full = {"ssim": 0.93712, "psnr": 29.681, "ag": 19.38, "con": 659.6, "sf": 36.25}
    assert plotting.metric_caption(full) == "SSIM 0.937, PSNR 29.68 dB\nAG 19.4, CON 660, SF 36.2"
    assert plotting.metric_caption({"ag": 1.0, "con": 2.0, "sf": 3.0}) == "AG 1.0, CON 2, SF 3.0"


def test_rms_radius_and_kernel_panels():
    wide = kernels.gaussian_kernel(31, 3.0)
    assert plotting.rms_radius(wide) == pytest.approx(3.0 * np.sqrt(2), rel=1e-3)
    assert plotting.rms_radius(np.pad([[1.0]], 3)) == 0.0
    line = kernels.motion_kernel(10.0)
    assert plotting.rms_radius(line) > plotting.rms_radius(kernels.ASSUMED_PSF)
    with pytest.raises(ValueError, match="rms_radius: kernel must be"):
        plotting.rms_radius(-np.ones((3, 3)))
    fig = plotting.kernel_panels({"assumed": kernels.ASSUMED_PSF, "motion": line})
    assert [ax.get_xlim() for ax in fig.axes][0] == fig.axes[1].get_xlim()
    assert "7x7, RMS radius 1.41 px" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="kernels is empty"):
        plotting.kernel_panels({})


def test_centre_crop():
    image = np.arange(7 * 9, dtype=np.float32).reshape(7, 9) / 63
    crop = plotting.centre_crop(image, 3)
    np.testing.assert_array_equal(crop, image[2:5, 3:6])
    assert plotting.centre_crop(image, 7).shape == (7, 7)
    with pytest.raises(ValueError, match=r"centre_crop: size must be an integer in \[1, 7\], "
                                         "got 8"):
        plotting.centre_crop(image, 8)


def test_image_grid_rows_of_titled_panels():
    rng = np.random.default_rng(0)
    a, b = rng.random((16, 16), dtype=np.float32), rng.random((16, 16), dtype=np.float32)
    fig = plotting.image_grid([{"clean": a, "blurred": b, "edges": (2 * a, {"cmap": "magma"})},
                               {"other": b}])
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["clean", "blurred", "edges", "other"]
    assert len(fig.axes) == 6 and not fig.axes[4].images  # the short row's blanks
    edges = titled[2].images[0]
    assert edges.get_cmap().name == "magma"
    assert edges.get_clim() == pytest.approx((2 * a.min(), 2 * a.max()))  # its own range
    assert titled[0].images[0].get_clim() == (0, 1)
    with pytest.raises(ValueError, match="image_grid: rows hold no panel"):
        plotting.image_grid([{}])
    with pytest.raises(ValueError, match=r"image_grid: panel 'x' must be a 2-D image, got "
                                         r"shape \(2, 2, 2\)"):
        plotting.image_grid([{"x": np.zeros((2, 2, 2))}])


def _write_run(run_dir, steps=(10, 20, 30, 40, 50)):
    """A run folder with sample grids and a loss log whose discriminators are off (NaN)."""
    from semgan_core import images

    for step in steps:
        images.write_image(runlog.sample_path(run_dir, step),
                           np.full((128, 320), step / 100, np.float32))
    rows = ["step,time_s,gen_total,cycle,spectral,disc_a,disc_b"]
    rows += [f"{s},{s / 10},{1 / s},{2 / s},{3 / s},nan,nan" for s in steps]
    (run_dir / runlog.LOSSES_FILE).write_text("\n".join(rows) + "\n")


def test_sample_grids_spread_over_the_run(tmp_path):
    _write_run(tmp_path)
    fig = plotting.sample_grids(tmp_path, n=3)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["step 10", "step 30",
                                                                 "step 50"]
    assert fig.axes[2].images[0].get_array().mean() == pytest.approx(0.5, abs=0.01)
    assert len(plotting.sample_grids(tmp_path, n=9).axes) == 5
    with pytest.raises(FileNotFoundError, match="sample_grids: no sample grids in"):
        plotting.sample_grids(tmp_path / "empty")
    with pytest.raises(ValueError, match="sample_grids: n must be an integer >= 1, got 0"):
        plotting.sample_grids(tmp_path, n=0)


def test_loss_curves_leave_out_what_was_not_trained(tmp_path):
    _write_run(tmp_path)
    fig = plotting.loss_curves(tmp_path)
    assert [ax.get_title() for ax in fig.axes] == ["generators, eq. 16 total",
                                                   "generator terms (unweighted)"]
    terms = fig.axes[1]
    assert [line.get_label() for line in terms.get_lines()] == ["cycle", "spectral"]
    assert terms.get_yscale() == "log"
    np.testing.assert_allclose(terms.get_lines()[0].get_ydata(), 2 / np.arange(10, 60, 10))
    losses = runlog.read_losses(tmp_path)
    one = plotting.loss_curves(losses, groups={"D": ["disc_a"], "total": ["gen_total"]})
    assert [ax.get_title() for ax in one.axes] == ["total"]
    with pytest.raises(ValueError, match="loss_curves: no column of the groups has a finite"):
        plotting.loss_curves(losses, groups={"D": ["disc_a", "disc_b"]})
    with pytest.raises(ValueError, match="loss_curves: losses must have a 'step' column"):
        plotting.loss_curves({"gen_total": np.ones(3)})


def _study():
    runs = {"0": {"steps": [0, 2, 4], "psnr": [20.0, 21.0, 22.0], "ssim": [0.5, 0.6, 0.7],
                  "seconds": [0.0, 1.0, 2.0]},
            "1": {"steps": [0, 2], "psnr": [22.0, 23.0], "ssim": [0.7, 0.8],
                  "seconds": [0.0, 3.0]}}
    return {"variants": {"paper": {"runs": runs}, "empty": {"runs": {}}},
            "reference": {"blurred": {"psnr": 20.5, "ssim": 0.55},
                          "wiener-true-psf": {"psnr": float("nan"), "ssim": 0.9}}}


def test_convergence_curves_mean_band_and_references(tmp_path):
    fig = plotting.convergence_curves(_study(), path=tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0 and len(fig.axes) == 2
    psnr, ssim = fig.axes
    mean = psnr.get_lines()[0]
    assert mean.get_label() == "paper" and mean.get_xdata().tolist() == [0, 2]
    assert mean.get_ydata().tolist() == [21.0, 22.0]   # over the steps both seeds share
    assert len(psnr.collections) == 1                  # the min-max band of two seeds
    assert [line.get_label() for line in psnr.get_lines()[1:]] == ["blurred"]  # NaN left out
    assert len(ssim.get_lines()) == 3
    seconds = plotting.convergence_curves(_study(), x="seconds", variants=["paper"])
    assert seconds.axes[0].get_lines()[0].get_xdata().tolist() == [0.0, 2.0]
    with pytest.raises(ValueError, match="convergence_curves: x='epochs' is not allowed; "
                                         "expected one of 'steps', 'seconds'"):
        plotting.convergence_curves(_study(), x="epochs")


def test_degradation_preview_draws_four_panels_and_switches_kernels_off():
    from matplotlib.figure import Figure

    from semgan_core import synth

    clean = synth.micrograph(64, kind="particles", rng=0)[0]
    fig = plotting.degradation_preview(clean)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[1].get_title() == "PSF 27x27"
    assert fig.axes[3].get_title() == "+ fog (beta 2, A 0.8)"
    bare = plotting.degradation_preview(clean, sigma=0, length=0, radius=0, beta=0)
    np.testing.assert_array_equal(bare.axes[3].images[0].get_array(), clean)
    gauss = plotting.degradation_preview(clean, length=0, radius=0, beta=0)
    assert gauss.axes[1].get_title() == "PSF 7x7"
    np.testing.assert_allclose(gauss.axes[2].images[0].get_array(),
                               kernels.convolve(clean, kernels.ASSUMED_PSF), atol=1e-6)


def test_fog_panels_literal_saturates_adopted_does_not():
    from semgan_core import degrade

    image = np.random.default_rng(0).random((32, 32), dtype=np.float32)
    depth = degrade.FOG_DEPTH * degrade.depth_map(image.shape, rng=0)
    fig = plotting.fog_panels(image, depth, beta=2.0)
    curves, _, literal, shown_depth, adopted = fig.axes
    assert [line.get_label() for line in curves.get_lines()] == [
        "literal, beta 1.5", "literal, beta 2.5", "adopted, beta 2, d 0.25",
        "adopted, beta 2, d 0.5", "no fog"]
    assert literal.images[0].get_array().min() > 2.2       # I >= 2.3: a blank image
    np.testing.assert_array_equal(shown_depth.images[0].get_array(), depth)
    out = adopted.images[0].get_array()
    assert 0 <= out.min() and out.max() <= 1
    np.testing.assert_allclose(out, degrade.fog(image, beta=2.0, depth=depth), atol=1e-6)
    with pytest.raises(ValueError, match="fog_panels"):
        plotting.fog_panels(np.full((8, 8), 2.0), depth)


def _levels_frame():
    import pandas as pd

    rows = []
    for level, drop in ((0.0, 0.0), (0.01, 2.0), (0.04, 5.0)):
        for method, psf, psnr in (("blurred", "-", 22.0), ("filter-unpaired", "-", 26.0),
                                  ("wiener", "assumed", 30.0), ("wiener", "oracle", 31.0)):
            value = psnr - drop
            rows.append({"level": level, "method": method, "psf": psf, "psnr": value,
                         "psnr_lo": value - 0.5, "psnr_hi": value + 0.5, "ssim": value / 40,
                         "ssim_lo": value / 40 - 0.01, "ssim_hi": value / 40 + 0.01})
    return pd.DataFrame(rows)


def test_noise_curves_one_line_per_method_with_its_interval():
    frame = _levels_frame()
    fig = plotting.noise_curves(frame, title="A")
    psnr_axes, ssim_axes = fig.axes
    labels = [line.get_label() for line in psnr_axes.lines]
    assert labels == ["Blurred input", "filter, unpaired (CPU recipe)", "Wiener (assumed PSF)"]
    wiener = psnr_axes.lines[2]
    np.testing.assert_allclose(wiener.get_xdata(), [0.0, 0.01, 0.04])
    np.testing.assert_allclose(wiener.get_ydata(), [30.0, 28.0, 25.0])
    np.testing.assert_allclose(ssim_axes.lines[2].get_ydata(), [0.75, 0.7, 0.625])
    band = psnr_axes.collections[2].get_paths()[0].vertices[:, 1]  # the 95 % interval
    assert band.min() == pytest.approx(24.5) and band.max() == pytest.approx(30.5)
    assert psnr_axes.lines[0].get_linestyle() == "--"      # the input: dashed
    assert [t.get_text() for t in psnr_axes.get_xticklabels()] == ["0", "0.01", "0.04"]
    both = plotting.noise_curves(frame, psf=("assumed", "oracle"), methods=["wiener"])
    assert [line.get_label() for line in both.axes[0].lines] == [
        "Wiener (assumed PSF)", "Wiener (oracle PSF)"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(levels="table"), r"noise_curves: levels must be a DataFrame of "
                           r"noiselevels.levels_frame; missing columns \['level'"),
    (dict(methods=["cls"]), r"noise_curves: methods \['cls'\] are not in levels"),
])
def test_noise_curves_errors(kwargs, match):
    kwargs = {"levels": _levels_frame(), **kwargs}
    with pytest.raises(ValueError, match=match):
        plotting.noise_curves(**kwargs)
