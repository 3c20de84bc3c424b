"""Figure of learned deconvolution filters' frequency responses for the reproduction notes.

Usage (from the repository root)::

    python scripts/filter_figure.py --generator LABEL=PATH [LABEL=PATH ...] \\
        --out book/filter_response.png

Each PATH is a filter generator (the ``filter`` recipe's, e.g.
``weights/filter_unpaired_A.keras``); its response is averaged over rings of equal spatial
frequency and drawn against the inverse of degradation A's blur (the 7x7, sigma-1
Gaussian of ``kernels.GAUSSIAN``), whose value is the gain an exact deconvolution would
need. Prints the plotted values at a few
frequencies as a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from semgan_core import filtergen, generators, kernels, results  # noqa: E402

N = 256
RINGS = 32


def radial(response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of an ``rfft2``-grid array over :data:`RINGS` rings of radius 0 to 0.5."""
    fy = np.fft.fftfreq(response.shape[0])[:, None]
    fx = np.fft.rfftfreq(2 * (response.shape[1] - 1))[None, :]
    radius = np.hypot(fy, fx)
    edges = np.linspace(0, 0.5, RINGS + 1)
    ring = np.digitize(radius, edges) - 1
    centres = 0.5 * (edges[1:] + edges[:-1])
    means = np.array([response[ring == i].mean() for i in range(RINGS)])
    return centres, means


def blur_inverse() -> np.ndarray:
    """1 / |H| of degradation A's kernel on the ``rfft2`` grid of side :data:`N`."""
    return 1.0 / np.abs(filtergen.kernel_response(kernels.gaussian_kernel(7, 1.0), N))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--generator", nargs="+", required=True, metavar="LABEL=PATH")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    curves = {}
    for item in args.generator:
        label, _, path = item.partition("=")
        if not path:
            p.error(f"--generator wants LABEL=PATH, got {item!r}")
        _, response = filtergen.frequency_response(generators.load_generator(path), N)
        curves[label] = radial(response)
    curves["inverse of degradation A's blur"] = radial(blur_inverse())
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, (f, r) in curves.items():
        style = dict(color="black", linestyle="--") if label.startswith("inverse") else {}
        ax.plot(f, r, label=label, **style)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set(xlabel="spatial frequency (cycles per pixel)", ylabel="gain", yscale="log",
           ylim=(0.3, 30))
    ax.legend(fontsize=8)
    fig.tight_layout()
    results.atomic_write(args.out, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    picks = [2, 6, 10, 16, 22, 28]
    f = next(iter(curves.values()))[0]
    print("| filter | " + " | ".join(f"{f[i]:.3f}" for i in picks) + " |")
    print("|---|" + "---|" * len(picks))
    for label, (_, r) in curves.items():
        print(f"| {label} | " + " | ".join(f"{r[i]:.2f}" for i in picks) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
