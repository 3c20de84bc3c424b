"""Whole real frames: does each restorer lower the noise and sharpen the edges, per frame?

Usage (from the repository root)::

    python scripts/frame_factors.py --model A B C [--weights LABEL=PATH ...] \\
        [--counts ncm=12 sio2=7 charging=1] [--json results/frame_factors.json]

Reads whole frames of the shared real micrographs (:func:`semgan_core.realframes.
select_frames`: the 12 NCM frames, 7 SiO2 frames and the charging slice of chapter 6 by
default), restores each with every model named (shipped names with ``--model``, any
generator file with ``--weights``; tiled, with each model's default ensemble), and scores
input and output (:func:`semgan_core.realscore.score_frames`). It prints, per model, the
median and range over the frames of the estimated noise and of the edge sharpness (as it
is, and at the input's noise level: :func:`semgan_core.realscore.matched_edge_sharpness`)
as factors of the input's, the frames where the noise rises and those where it does not
while the edges sharpen at the input's noise level
(:func:`semgan_core.realscore.factor_summary`), then each failing frame. With ``--json``
it also writes every frame's scores and factors there (atomically).
Without the shared real micrographs it stops with a one-line error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from semgan_core import generators, infer, realdata, realframes, realscore, results


def _counts(items) -> dict:
    out = {}
    for item in items:
        subset, _, n = item.partition("=")
        if not n.isdigit():
            raise ValueError(f"--counts: expected SUBSET=N, got {item!r}")
        out[subset] = int(n)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", nargs="*", default=[], help="shipped models, e.g. A B C")
    p.add_argument("--weights", nargs="*", default=[], metavar="LABEL=PATH",
                   help="generator files, each under a label")
    p.add_argument("--counts", nargs="*", default=["ncm=12", "sio2=7", "charging=1"],
                   metavar="SUBSET=N", help="frames per source (default: chapter 6's)")
    p.add_argument("--json", type=Path, help="write the scores and factors here")
    args = p.parse_args(argv)
    try:
        bad = [item for item in args.weights if "=" not in item]
        if bad:
            raise ValueError(f"--weights: expected LABEL=PATH, got {bad[0]!r}")
        weights = dict(item.split("=", 1) for item in args.weights)
        if not args.model and not weights:
            raise ValueError("name at least one model (--model) or file (--weights)")
        if realdata.real_data_dir() is None:
            raise ValueError(realdata.missing_reason())
        frames = realframes.select_frames(_counts(args.counts))
        methods = {}
        for label, path in [*((m, generators.shipped_path(m)) for m in args.model),
                            *weights.items()]:
            model = generators.load_generator(path)
            methods[label] = lambda x, g=model: infer.deblur(g, x)
    except (ValueError, FileNotFoundError) as exc:
        print(f"frame_factors: error: {exc}", file=sys.stderr)
        return 2
    table, _ = realscore.score_frames(frames, methods)
    factors = realscore.frame_factors(table)
    summary = realscore.factor_summary(factors)
    print(summary.drop(columns="failing").round(2).to_markdown(index=False))
    for row in factors[~factors["passes"]].itertuples():
        print(f"{row.method} fails on {row.frame} ({row.source}): noise x{row.noise_factor:.2f},"
              f" edges x{row.edge_factor:.2f} (x{row.edge_matched_factor:.2f} at the input's"
              " noise level)")
    if args.json:
        results.write_json(args.json, {"scores": table.to_dict("records"),
                                       "factors": factors.to_dict("records"),
                                       "summary": summary.to_dict("records")})
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
