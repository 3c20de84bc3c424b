"""Seconds to restore one 2048x1536 SEM frame: each shipped model and Wiener.

Run from anywhere::

    python benchmarks/bench_restore.py [--json bench_restore.json] [--repeats 1]
                                       [--weights FILE ...]

The frame is a synthetic micrograph of 1536 rows by 2048 columns blurred with
degradation A plus SEM shot noise of 0.02 (standard deviation at mid-grey). Rows:

* every shipped generator file in ``weights/`` (``generators.SHIPPED``: the U-Net
  restorers and the filters), and each file
  given with ``--weights``, run whole-frame by ``infer.deblur`` (256-pixel tiles with a
  32-pixel overlap, batches of 4: the ``deblur`` command's defaults), loaded as
  ``deblur`` loads it (the U-Net restorers averaged over 8 orientations,
  :mod:`semgan_core.ensemble`); a model whose default ensemble is above 1 gets a row
  with the 4 flips (``--ensemble 4``, when its default is 8) and one without it
  (``--ensemble 1``);
* Wiener with the assumed PSF, noise-aware (``balance="auto"``: the noise estimate is
  part of the time) and with its noise-free default.

Each time is the fastest of ``--repeats`` calls after one warm-up call on the same frame
(graph tracing), so that a busy machine inflates it as little as possible; the load
average before and after is recorded. Prints one table and writes the JSON (``--json``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from semgan_core import baselines, degrade, generators, kernels, synth, timing
from semgan_core.noise import NoiseModel

FRAME = (1536, 2048)          # rows, columns
NOISE = 0.02


def _frame(seed=0):
    clean, _ = synth.micrograph(FRAME, rng=seed)
    return degrade.degrade(clean, "A", rng=seed, noise=NoiseModel(sigma=NOISE))[0]


def _model_files(extra):
    """(row name, path) of the shipped generator files present, then the given ones."""
    files = [(name, generators.shipped_path(name)) for name in generators.SHIPPED]
    files = [(name, path) for name, path in files if path.is_file()]
    return files + [(Path(p).stem, Path(p)) for p in extra]


def _generator_rows(frame, extra, repeats):
    from semgan_core import tflog

    tflog.import_tensorflow()   # quietly
    from semgan_core import infer

    entries = []
    for name, path in _model_files(extra):
        model = generators.load_generator(path)
        n = generators.default_ensemble(generators.read_metadata(path))
        entries.append((name, f"weights file {path.name}, {n} orientation(s)", model))
        for fewer in (4, 1):
            if fewer < n:
                entries.append((f"{name} (--ensemble {fewer})",
                                f"weights file {path.name}, {fewer} orientation(s)",
                                generators.load_generator(path, ensemble=fewer)))
    rows = []
    for name, note, model in entries:
        seconds = timing.best_time(lambda: infer.deblur(model, frame), repeats)
        rows.append({"method": name, "seconds": seconds,
                     "note": f"{note}; infer.deblur, tile 256, overlap 32"})
        print(f"  {name}: {seconds:.2f} s", flush=True)
    return rows


def _wiener_rows(frame, repeats):
    psf = kernels.ASSUMED_PSF
    return [{"method": "wiener (noise-aware)", "note": 'assumed PSF, balance="auto"',
             "seconds": timing.best_time(
                 lambda: baselines.wiener(frame, psf, balance="auto"), repeats)},
            {"method": "wiener (noise-free default)", "note": "assumed PSF",
             "seconds": timing.best_time(lambda: baselines.wiener(frame, psf), repeats)}]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="bench_restore.json", help="output JSON path")
    parser.add_argument("--repeats", type=int, default=1, help="timed calls per entry")
    parser.add_argument("--weights", nargs="*", default=[], metavar="FILE",
                        help="more generator files to time")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")

    load_before = os.getloadavg()
    frame = _frame()
    rows = _wiener_rows(frame, args.repeats) + _generator_rows(frame, args.weights,
                                                               args.repeats)
    label = f"{FRAME[1]}x{FRAME[0]}"
    print(f"{'method':<34}{'s / ' + label + ' frame':>20}  note")
    for row in rows:
        print(f"{row['method']:<34}{row['seconds']:>20.2f}  {row['note']}")
    payload = {"unit": f"seconds per {label} frame (fastest of repeats after a warm-up)",
               "frame": {"rows": FRAME[0], "columns": FRAME[1], "degradation": "A",
                         "noise_sigma": NOISE},
               "repeats": args.repeats, "rows": rows}
    path = timing.write_timings(args.json, payload, load_before)
    print(f"wrote {path} ({timing.load_note(load_before)})")


if __name__ == "__main__":
    main()
