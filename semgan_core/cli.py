"""Command line: ``python -m semgan_core COMMAND ...``.

Each command parses its arguments and calls one library function; the library does the
work and validates its input. Errors caused by the user (a wrong path, a bad file, an
unknown option value) print one line, ``semgan: error: ...``, and exit with status 2;
nothing is left half-written because every writer in the library renames a temporary
file into place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from semgan_core import __version__


def _cmd_make_dataset(args: argparse.Namespace) -> int:
    from semgan_core import data

    manifest = data.make_dataset(
        args.out,
        recipe=args.recipe,
        source=args.source,
        n_source=args.n_source,
        n_crops=args.n_crops,
        test_fraction=args.test_fraction,
        seed=args.seed,
        strict_unpaired=args.strict_unpaired,
        hybrid=args.hybrid,
        size=args.size,
        progress=not args.quiet,
    )
    counts = manifest.get("counts", {})
    print(f"wrote dataset {args.recipe} to {args.out}: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    import numpy as np

    from semgan_core import images, synth

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for i in range(args.n):
        image, mask = synth.micrograph(args.size, kind=args.kind, rng=rng,
                                       noise=args.noise)
        images.write_image(out / f"{args.kind}_{i:04d}.{args.format}", image,
                           bit_depth=args.bit_depth)
        if args.masks:
            np.save(out / f"{args.kind}_{i:04d}_mask.npy", mask)
    print(f"wrote {args.n} {args.kind} micrographs ({args.size}x{args.size}) to {out}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from semgan_core import config as config_mod
    from semgan_core import train

    overrides = config_mod.parse_overrides(args.set)
    if args.seed is not None:
        overrides["seed"] = args.seed
    cfg = config_mod.get_config(args.profile, **overrides)
    report = train.train(cfg, data_dir=args.data, run_dir=args.out, resume=args.resume,
                         paired=args.paired, progress=not args.quiet)
    print(f"trained {report.get('steps')} steps; generator saved to "
          f"{report.get('generator_path')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m semgan_core``."""
    parser = argparse.ArgumentParser(
        prog="python -m semgan_core",
        description="Restore SEM micrographs with an unpaired CycleGAN (semgan).",
    )
    parser.add_argument("--version", action="version", version=f"semgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("make-dataset", help="build one of the paper's simulated datasets A/B/C",
                       description="Crop, augment and degrade clean micrographs into "
                       "trainA/ (blurred), trainB/ (clear), testA/, testB/, testA_gt/ and "
                       "manifest.json. The split is by source image.")
    p.add_argument("--recipe", choices=("A", "B", "C"), required=True)
    p.add_argument("--source", default="synthetic",
                   help="'synthetic' (default) or a folder of clean micrographs")
    p.add_argument("--n-source", type=int, default=None,
                   help="number of clean source images (default: the library's)")
    p.add_argument("--n-crops", type=int, default=2550,
                   help="crops after data expansion (paper: 2550)")
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--size", type=int, default=256, help="crop side in pixels")
    p.add_argument("--hybrid", choices=("random", "compose"), default="random",
                   help="recipe C: one kernel per image (random) or all three composed")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--strict-unpaired", action="store_true",
                   help="draw the blurred and the clear domain from disjoint source images")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_make_dataset)

    p = sub.add_parser("synth", help="write procedural clean SEM-like micrographs")
    p.add_argument("--kind", default="mixed",
                   help="particles, rods, plates, porous or mixed (default)")
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--noise", type=float, default=None,
                   help="shot noise: mean electrons per pixel at full brightness (off)")
    p.add_argument("--format", choices=("png", "tif"), default="png")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=8)
    p.add_argument("--masks", action="store_true", help="also save the label masks (.npy)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("train", help="train the CycleGAN (or the supervised oracle)")
    p.add_argument("--profile", choices=("smoke", "book", "paper"), default="book")
    p.add_argument("--data", required=True, help="dataset folder from make-dataset")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, generator)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--paired", action="store_true",
                   help="train the supervised oracle on paired data (L1 + SSIM)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config value, e.g. --set steps=500 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError,
            NotADirectoryError, PermissionError) as exc:
        print(f"semgan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("semgan: interrupted", file=sys.stderr)
        return 130
