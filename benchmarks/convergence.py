"""Convergence study from the command line: named variants, one step budget, curves.

Run from the repository root::

    python benchmarks/convergence.py --data data/A-val --variants paper residual \\
        --steps 2000 --eval-every 200 --seeds 0 1 --out results/convergence-A

The dataset needs a validation split (``datasets.make_dataset(..., val_fraction=0.1)``);
``--make-data`` builds one at ``--data`` first if that folder does not exist (synthetic
sources, ``--degradation``, ``--n-crops``, ``--val-fraction``). Variants are the names of
``semgan_core.study.variants.VARIANTS`` (``--list`` shows them); ``--set key=value`` adds
config overrides common to all. Prints one row per (variant, seed) -- final PSNR / SSIM
on the validation pairs, best PSNR and its step, training seconds -- and the reference
lines, and writes ``OUT/convergence.json`` and ``OUT/convergence.png``. Running the same
command again skips the runs already in the JSON (and resumes an interrupted one).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from semgan_core import config, datasets, plotting  # noqa: E402
from semgan_core.study import harness  # noqa: E402
from semgan_core.study.variants import VARIANTS  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, help="dataset folder with a validation split")
    p.add_argument("--variants", nargs="+", default=["paper", "residual"],
                   choices=sorted(VARIANTS), metavar="NAME",
                   help="variants to train (default: paper residual; --list shows all)")
    p.add_argument("--profile", default="book", choices=config.PROFILES)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--n-eval", type=int, default=16, help="validation pairs scored")
    p.add_argument("--out", type=Path, default=Path("results/convergence"))
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="config override common to every variant (repeatable)")
    p.add_argument("--keep-checkpoints", action="store_true",
                   help="keep each run's checkpoints after scoring (large)")
    p.add_argument("--make-data", action="store_true",
                   help="build a synthetic dataset at --data first if it does not exist")
    p.add_argument("--degradation", default="A", choices=("A", "B", "C"))
    p.add_argument("--n-crops", type=int, default=400)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--list", action="store_true", help="list the variants and exit")
    return p


def _print_table(study) -> None:
    print(f"{'variant':<32} {'seed':>4} {'steps':>6} {'PSNR':>7} {'SSIM':>7} "
          f"{'best PSNR':>9} {'@step':>6} {'seconds':>8}")
    for row in harness.summary_table(study):
        print(f"{row['variant']:<32} {row['seed']:>4} {row['steps']:>6} {row['psnr']:>7.2f} "
              f"{row['ssim']:>7.4f} {row['best_psnr']:>9.2f} {row['best_step']:>6} "
              f"{row['seconds']:>8.1f}")
    for name, values in study["reference"].items():
        print(f"{'[' + name + ']':<32} {'':>4} {'':>6} {values['psnr']:>7.2f} "
              f"{values['ssim']:>7.4f}")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.list:
        for name, overrides in VARIANTS.items():
            print(f"{name:<32} {overrides}")
        return 0
    if args.data is None:
        print("convergence: error: --data is required", file=sys.stderr)
        return 2
    try:
        if args.make_data and not args.data.exists():
            datasets.make_dataset(args.data, degradation=args.degradation, n_crops=args.n_crops,
                                  val_fraction=args.val_fraction)
        study = harness.run_variants(
            args.data, {name: VARIANTS[name] for name in args.variants},
            profile=args.profile, steps=args.steps, eval_every=args.eval_every,
            seeds=args.seeds, out_dir=args.out, n_eval=args.n_eval,
            overrides=config.parse_overrides(args.set), prune=not args.keep_checkpoints)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"convergence: error: {exc}", file=sys.stderr)
        return 2
    _print_table(study)
    plotting.convergence_curves(study, path=args.out / "convergence.png")
    print(f"wrote {args.out / harness.FILE_NAME} and {args.out / 'convergence.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
