"""Tests of semgan_core.bootstrap: confidence intervals of means and paired gains."""

import numpy as np
import pandas as pd
import pytest

from semgan_core import bootstrap


def test_bootstrap_ci_brackets_the_mean():
    values = np.random.default_rng(0).normal(10, 2, 30)
    lo, hi = bootstrap.bootstrap_ci(values, n_boot=500, rng=1)
    assert lo < values.mean() < hi
    assert bootstrap.bootstrap_ci([2.0, 2.0, 2.0], n_boot=10) == (2.0, 2.0)


def test_summary_table_shares_the_resamples():
    rows = [{"image": i, "method": m, "psf": "-", "psnr": p + d, "seconds": 0.1}
            for m, d in (("a", 0.0), ("b", 1.0)) for i, p in enumerate([1.0, 5.0, 9.0])]
    table = bootstrap.summary_table(pd.DataFrame(rows), ["psnr"], n_boot=50, rng=2)
    assert list(table.columns) == ["method", "psf", "psnr", "psnr_lo", "psnr_hi",
                                   "seconds_per_image"]
    a, b = table.to_dict("records")
    assert (a["psnr"], b["psnr"]) == (5.0, 6.0)
    # one set of resamples for both methods: b's interval is a's shifted by 1
    assert (b["psnr_lo"] - a["psnr_lo"], b["psnr_hi"] - a["psnr_hi"]) == pytest.approx((1, 1))
    assert bootstrap.bootstrap_ci([1.0, 5.0, 9.0], n_boot=50, rng=2) == pytest.approx(
        (a["psnr_lo"], a["psnr_hi"]))


def test_gain_table_is_paired():
    # Image difficulty varies a lot, the method adds exactly 0.5 dB to every image: the
    # separate intervals overlap, the paired gain is 0.5 with a zero-width interval.
    psnr = np.linspace(10.0, 40.0, 20)
    rows = [{"image": f"{i:02d}", "method": m, "psf": "-", "psnr": p + d, "ssim": 0.5}
            for m, d in (("blurred", 0.0), ("better", 0.5), ("worse", -1.0))
            for i, p in enumerate(psnr)]
    gains = bootstrap.gain_table(pd.DataFrame(rows).sample(frac=1.0, random_state=0))
    better = gains.set_index("method").loc["better"]
    assert better["psnr_gain"] == pytest.approx(0.5)
    assert better["psnr_gain_lo"] == pytest.approx(0.5)
    assert better["psnr_gain_hi"] == pytest.approx(0.5)
    assert gains.set_index("method").loc["worse", "psnr_gain_hi"] == pytest.approx(-1.0)
    assert better["ssim_gain"] == pytest.approx(0.0)
    lo, hi = bootstrap.bootstrap_ci(psnr + 0.5)
    assert lo < psnr.mean() < hi   # the unpaired intervals overlap the blurred mean
    with pytest.raises(ValueError, match="no rows of the reference"):
        bootstrap.gain_table(pd.DataFrame(rows), reference="nothing")
