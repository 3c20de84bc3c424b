"""Seconds per image for each classical baseline (and the generator's inference).

Run from anywhere::

    python benchmarks/bench_baselines.py [--json bench_baselines.json] [--repeats 3]
                                         [--no-generator]

Every method gets a synthetic micrograph blurred with degradation A and the 7x7
sigma-1 Gaussian PSF (``kernels.ASSUMED_PSF``) at 256x256 and at 1280x960 (a full SEM
frame); one more row times the noise-aware Wiener (``balance="auto"``, whose noise
estimate is part of the time).
Each timing is the fastest of ``--repeats`` calls after one warm-up call, so that a
busy machine inflates it as little as possible; the load average before and after is
recorded. The generator rows (``models.build_generator`` at width 0.25 and 1.0,
randomly initialised, batch 1, ``training=False``) run the 1280x960 frame padded to
1280x1024, since its input sides must be multiples of 128. Prints one table and writes
the JSON (``--json``, default ``bench_baselines.json`` in the working directory).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from semgan_core import baselines, checks, degrade, kernels, synth, timing

SIZES = {"256x256": (256, 256), "1280x960": (960, 1280)}
GENERATOR_WIDTHS = (0.25, 1.0)


def _blurred(shape, seed=0):
    clean, _ = synth.micrograph(shape, rng=seed)
    return degrade.degrade(clean, "A", rng=seed)[0]


def _baseline_rows(images, repeats):
    rows = []
    for name, method in baselines.METHODS.items():
        row = {"method": name, "note": ""}
        for label, image in images.items():
            row[label] = timing.best_time(lambda: method(image, kernels.ASSUMED_PSF),
                                          repeats)
        rows.append(row)
    row = {"method": "wiener", "note": 'balance="auto"'}
    for label, image in images.items():
        row[label] = timing.best_time(lambda: baselines.wiener(image, kernels.ASSUMED_PSF,
                                                               balance="auto"), repeats)
    rows.append(row)
    return rows


def _generator_rows(images, repeats):
    """Generator inference; the 1280x960 frame is padded to 1280x1024 (reflect)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from semgan_core import images as image_io, models

    rows = []
    for width in GENERATOR_WIDTHS:
        generator = models.build_generator(width)
        row = {"method": f"generator (width {width})",
               "note": "1280x960 run as 1280x1024 (padded to multiples of 128)"}
        for label, image in images.items():
            pad = [(-side) % checks.SIZE_MULTIPLE for side in image.shape]
            x = np.pad(image, ((0, pad[0]), (0, pad[1])), mode="reflect")
            x = image_io.to_model_range(x)[None, :, :, None]
            row[label] = timing.best_time(lambda: generator(x, training=False).numpy(),
                                          repeats)
        rows.append(row)
    return rows


def _print_table(rows):
    labels = list(SIZES)
    print(f"{'method':<28}" + "".join(f"{'s / ' + label:>16}" for label in labels))
    for row in rows:
        cells = "".join(f"{row[label]:>16.3f}" for label in labels)
        print(f"{row['method']:<28}{cells}  {row['note']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="bench_baselines.json", help="output JSON path")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per entry")
    parser.add_argument("--no-generator", action="store_true", help="skip the generator")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")

    load_before = os.getloadavg()
    images = {label: _blurred(shape) for label, shape in SIZES.items()}
    rows = _baseline_rows(images, args.repeats)
    if not args.no_generator:
        rows += _generator_rows(images, args.repeats)
    _print_table(rows)
    payload = {"unit": "seconds per image (fastest of repeats after a warm-up)",
               "psf": "7x7 Gaussian, sigma 1 (kernels.ASSUMED_PSF)",
               "repeats": args.repeats, "rows": rows}
    path = timing.write_timings(args.json, payload, load_before)
    print(f"wrote {path} ({timing.load_note(load_before)})")


if __name__ == "__main__":
    main()
