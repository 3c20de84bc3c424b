"""Tests of semgan_core.verdicts: the verdict on the paper's claims from the tables."""

import pandas as pd
import pytest

from semgan_core import verdicts
from test_tables import example_table


def test_verdict_claims_without_the_network_says_so_with_the_numbers():
    text = verdicts.verdict_claims({"A": example_table(), "B": example_table()})
    assert "cannot be judged yet on datasets A, B" in text
    assert "no trained weights are shipped yet" in text
    # the best classical method with the assumed PSF is Wiener (20), not the oracle (30)
    assert "SSIM above 20.000 (Wiener with the assumed PSF)" in text
    assert "+10.00 dB from the blurred input's 10.00 dB" in text
    assert "the ground truth has AG 25.00, CON 25.0, SF 25.00" in text


def test_verdict_claims_confirmed_and_not_confirmed():
    text = verdicts.verdict_claims({"A": example_table(20.2), "B": example_table(22.0),
                                    "C": example_table(19.0)})
    assert "Claim 1 (higher SSIM and PSNR than every classical method, assumed PSF): " \
           "confirmed on A, B; not on C (on A by the means only: a 95 % interval " \
           "overlaps)." in text
    assert ("(A, B, C): SSIM +0.200, +2.000, -1.000; PSNR +0.20, +2.00, -1.00 dB, so the "
            "margins are not largest on B and C") in text
    assert "95 % intervals overlap" in text and "95 % intervals apart" in text
    assert "Claim 2 (highest AG, CON and SF of the methods): confirmed on A, B; not on C." in text
    assert "ground truth 25.00" in text
    assert "cannot be judged" not in text
    oracle = verdicts.verdict_claims({"A": example_table(22.0)}, psf="oracle")
    assert "not confirmed on A" in oracle and "Wiener with the oracle PSF" in oracle


def test_verdict_runtime():
    tables = {"A": example_table(1.0), "B": example_table(1.0)}
    text = verdicts.verdict_runtime(tables, networks=("filter-unpaired", "absent"))
    assert text.startswith("filter, unpaired (CPU recipe): 200.0 ms per image")
    assert ("against Richardson-Lucy 60.0 ms and Blind deconvolution 30.0 ms, that is 3.33 "
            "and 6.67 times their time: slower than all of them") in text
    fast = verdicts.verdict_runtime(tables, networks=("wiener",))
    assert "faster than all of them" in fast
    assert "cannot be checked" in verdicts.verdict_runtime(tables, networks=("absent",))
    assert "cannot be checked" in verdicts.verdict_runtime(tables, networks=("filter-unpaired",),
                                                           iterative=())
    ok = {r: example_table(c) for r, c in (("A", 20.1), ("B", 21.0), ("C", 21.0))}
    assert "so the margins are largest on B and C" in verdicts.verdict_claims(ok)


def test_verdict_claims_names_the_missing_weights_and_another_method():
    text = verdicts.verdict_claims({"A": example_table()})
    assert "`weights/filter_unpaired_<degradation>.keras`" in text
    assert "filter, unpaired (CPU recipe) rows are missing" in text
    paper = verdicts.verdict_claims({"A": example_table(22.0, method="unet-cyclegan")},
                                    method="unet-cyclegan")
    assert "Claim 1 (higher SSIM and PSNR than every classical method, assumed PSF): " \
           "confirmed on A." in paper


def test_best_classical_and_its_error():
    table = example_table(40.0)
    assert verdicts.best_classical(table)["method"] == "wiener"
    oracle = verdicts.best_classical(table, psf="oracle", metric="ssim")
    assert (oracle["method"], oracle["psf"]) == ("wiener", "oracle")
    assert verdicts.best_classical(table, psf="exact")["method"] == "blind-deconvolution"
    with pytest.raises(ValueError, match="best_classical: the table has no classical "
                                         "method with the 'assumed' PSF"):
        verdicts.best_classical(table[table["method"] == "blurred"])


def test_oracle_share():
    table = example_table(14.0)
    both = pd.concat([table, example_table(15.0, method="filter-paired").iloc[[1]]])
    gain, oracle_gain, share = verdicts.oracle_share(both)
    assert (gain, oracle_gain) == pytest.approx((4.0, 5.0)) and share == pytest.approx(0.8)
    with pytest.raises(ValueError,
                       match=r"oracle_share: the table has no rows \['filter-paired'\]"):
        verdicts.oracle_share(table)
