"""Throughput of the data side: synthetic micrographs, degradations, datasets, TIFF I/O.

Measures images per second for

* ``synth.micrograph`` of each kind at 256x256;
* ``degrade.degrade`` with degradations A, B, C ("random" and "compose") at 256x256
  and 1280x960 (H x W, a typical SEM frame), and A with SEM noise (sigma 0.02 at
  mid-grey, read noise 0.005);
* ``datasets.make_dataset``: the smoke profile's dataset (24 crops of 256x256, one
  process), per crop;
* ``images.write_image`` / ``images.read_image`` of a 2048x2048 16-bit TIFF.

Each case runs for at least ``--min-time`` seconds and ``--min-runs`` calls (after one
untimed warm-up call); the table and a JSON file (config, library versions and, per case,
runs, seconds, images/s and ms per image) are written. Timings on a shared machine are
noisy: compare numbers from the same run.

Usage::

    python benchmarks/bench_data.py [--min-time 1.0] [--min-runs 3]
                                    [--json results/bench_data.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from semgan_core import datasets, degrade, images, results, synth
from semgan_core.noise import NoiseModel

DEGRADATIONS = (("A", "random"), ("B", "random"), ("C", "random"), ("C", "compose"))
NOISE = NoiseModel(sigma=0.02, read_sigma=0.005)
SIZES = ((256, 256), (960, 1280))
TIFF_SIDE = 2048


def measure(call, *, min_time, min_runs):
    """Time ``call(i)`` for run ``i = 0, 1, ...``: one warm-up, then at least ``min_runs``
    calls and ``min_time`` seconds. Returns ``(runs, seconds)``."""
    call(-1)
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_time:
        call(runs)
        runs += 1
    return runs, time.perf_counter() - start


def cases(workdir):
    """The benchmark cases as ``(name, size label, call[, images per call])``; inputs are
    built once here."""
    out = [(f"synth.micrograph kind={kind}", "256x256",
            lambda i, kind=kind: synth.micrograph(256, kind=kind, rng=i + 1))
           for kind in synth.KINDS]
    for shape in SIZES:
        clean = synth.micrograph(shape, kind="mixed", rng=0)[0]
        for degradation, hybrid in DEGRADATIONS:
            name = f"degrade {degradation}" + (f" {hybrid}" if degradation == "C" else "")
            out.append((name, f"{shape[1]}x{shape[0]}",
                        lambda i, c=clean, d=degradation, h=hybrid: degrade.degrade(
                            c, d, rng=i + 1, hybrid=h)))
        out.append(("degrade A + noise", f"{shape[1]}x{shape[0]}",
                    lambda i, c=clean: degrade.degrade(c, "A", rng=i + 1, noise=NOISE)))
    smoke = datasets.profile_options("smoke")
    out.append(("make_dataset smoke, per crop", "256x256",
                lambda i: datasets.make_dataset(Path(workdir) / f"ds{i}", size=256, seed=i + 1,
                                                processes=1, progress=False, **smoke),
                smoke["n_crops"]))
    big = np.random.default_rng(0).random((TIFF_SIDE, TIFF_SIDE)).astype(np.float32)
    path = Path(workdir) / "bench.tif"
    label = f"{TIFF_SIDE}x{TIFF_SIDE} 16-bit"
    out.append(("images.write_image tif", label,
                lambda i: images.write_image(path, big, bit_depth=16)))
    out.append(("images.read_image tif", label, lambda i: images.read_image(path)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="seconds per case, at least (default 1.0)")
    parser.add_argument("--min-runs", type=int, default=3,
                        help="calls per case, at least (default 3)")
    parser.add_argument("--json", default="results/bench_data.json",
                        help="JSON output, relative to the current folder "
                             "(default results/bench_data.json)")
    args = parser.parse_args(argv)
    if args.min_time < 0 or args.min_runs < 1:
        parser.error("--min-time must be >= 0 and --min-runs >= 1")
    rows = []
    print(f"{'case':32s} {'size':>18s} {'runs':>5s} {'images/s':>10s} {'ms/image':>10s}")
    with tempfile.TemporaryDirectory(prefix="bench_data_") as workdir:
        for name, size, call, *per_call in cases(workdir):
            runs, seconds = measure(call, min_time=args.min_time, min_runs=args.min_runs)
            n = runs * (per_call[0] if per_call else 1)
            row = {"case": name, "size": size, "runs": runs, "seconds": seconds,
                   "images_per_s": n / seconds, "ms_per_image": 1000 * seconds / n}
            rows.append(row)
            print(f"{name:32s} {size:>18s} {runs:5d} {row['images_per_s']:10.2f} "
                  f"{row['ms_per_image']:10.1f}", flush=True)
    payload = {"benchmark": "bench_data", "rows": rows,
               "settings": {"min_time": args.min_time, "min_runs": args.min_runs},
               "machine": {"cpus": os.cpu_count(), "processor": platform.processor()},
               "versions": results.library_versions(), "argv": sys.argv}
    path = results.write_json(args.json, payload)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
