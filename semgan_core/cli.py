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
        val_fraction=args.val_fraction,
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

    checks = [(args.kind in synth.KINDS, f"--kind must be one of {', '.join(synth.KINDS)}, "
               f"got {args.kind!r}"),
              (args.n >= 1, f"--n must be at least 1, got {args.n}"),
              (args.size >= images.MIN_SIDE, f"--size must be at least {images.MIN_SIDE} "
               f"(the smallest side read_image accepts), got {args.size}"),
              (args.seed >= 0, f"--seed must be >= 0, got {args.seed}")]
    for ok, message in checks:
        if not ok:
            raise ValueError(f"synth: {message}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"synth: --out {out} exists and is not a folder")
    stems = [out / f"{args.kind}_{i:04d}" for i in range(args.n)]
    suffixes = [f".{args.format}"] + (["_mask.npy"] if args.masks else [])
    taken = [p for s in stems for p in (s.with_name(s.name + x) for x in suffixes)
             if p.exists()]
    if taken:
        raise FileExistsError(f"synth: {taken[0]} already exists ({len(taken)} file(s) "
                              "would be overwritten); choose another --out; nothing written")
    rng = np.random.default_rng(args.seed)
    for stem in stems:
        image, mask = synth.micrograph(args.size, kind=args.kind, rng=rng,
                                       noise=args.noise)
        images.write_image(stem.with_name(f"{stem.name}.{args.format}"), image,
                           bit_depth=args.bit_depth)
        if args.masks:
            np.save(stem.with_name(f"{stem.name}_mask.npy"), mask)
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
    if report.get("interrupted"):       # SIGINT / SIGTERM: stopped with a checkpoint
        import signal

        print(f"semgan: interrupted by {report['interrupted']} at step {report['steps']}; "
              f"checkpoint {report['checkpoint']}; continue with --resume", file=sys.stderr)
        return 128 + int(signal.Signals[report["interrupted"]])
    print(f"trained {report['steps']} steps; generator saved to {report['generator_path']}")
    return 0


_WRITABLE = (".tif", ".tiff", ".png")


def _deblur_inputs(inputs: list[str]):
    """Expand files and folders into (path, error message or None), in order."""
    from semgan_core import data

    for name in inputs:
        path = Path(name)
        if not path.is_dir():
            yield path, None if path.is_file() else f"{path}: no such file or folder"
            continue
        found = data.list_images(path)
        if not found:
            yield path, f"{path}: folder holds no image files"
        yield from ((p, None) for p in found)


def _deblur_one(model, path: Path, target: Path, args: argparse.Namespace) -> str | None:
    """Restore one file; return None, or a one-line error naming the file."""
    from semgan_core import infer

    try:
        infer.deblur_file(model, path, target, crop_databar=args.crop_databar,
                          bit_depth=args.bit_depth, tile=args.tile, overlap=args.overlap)
    except (ValueError, TypeError, OSError) as exc:
        return str(exc) if str(path) in str(exc) else f"{path}: {exc}"
    return None


def _cmd_deblur(args: argparse.Namespace) -> int:
    from semgan_core import infer

    model = infer.load_generator(args.weights, width=args.width)
    out, written, failed = Path(args.out), set(), 0
    for path, error in _deblur_inputs(args.inputs):
        target = out / (path.stem + (path.suffix if path.suffix.lower() in _WRITABLE
                                     else ".png"))
        if error is None and target in written:
            error = f"{path}: output {target} was already written from another input"
        if error is None:
            error = _deblur_one(model, path, target, args)
        if error is None:
            written.add(target)
            print(f"{path} -> {target}")
        else:
            failed += 1
            print("semgan: error: " + " ".join(error.split()), file=sys.stderr)
    print(f"deblurred {len(written)} image(s) into {out}"
          + (f"; {failed} failed" if failed else ""))
    return 2 if failed else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from semgan_core import evaluate

    record = evaluate.run_evaluation(args.recipe, args.out, data_dir=args.data,
                                     weights=args.weights, n=args.n, seed=args.seed,
                                     progress=not args.quiet)
    columns = ["method", "psf", *evaluate.METRICS, "seconds_per_image"]
    print(pd.DataFrame(record["table"])[columns].to_string(index=False, float_format="%.4g"))
    print("\nmean gain over the blurred input, same images (paired 95 % bootstrap interval):")
    print(pd.DataFrame(record["gains_over_blurred"]).to_string(index=False,
                                                               float_format="%.4g"))
    print(f"evaluated {record['n_images']} test images of recipe {args.recipe}; wrote "
          f"table.csv, gains.csv, per_image.csv and evaluation.json to {args.out}")
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (plus where to find help)."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(2, f"semgan: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m semgan_core``."""
    parser = _Parser(
        prog="python -m semgan_core",
        description="Restore SEM micrographs with an unpaired CycleGAN (semgan).",
    )
    parser.add_argument("--version", action="version", version=f"semgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("make-dataset", help="build one of the paper's simulated datasets A/B/C",
                       description="Crop, augment and degrade clean micrographs into "
                       "trainA/ (blurred), trainB/ (clear), testA/, testB/, testA_gt/ "
                       "(valA/, valA_gt/ with --val-fraction) and manifest.json. The split "
                       "is by source image.")
    p.add_argument("--recipe", choices=("A", "B", "C"), required=True)
    p.add_argument("--source", default="synthetic",
                   help="'synthetic' (default) or a folder of clean micrographs")
    p.add_argument("--n-source", type=int, default=None,
                   help="number of clean source images, at least 2 (3 with "
                   "--strict-unpaired, +1 with --val-fraction); default: one synthetic "
                   "image per 8 crops, or every image of --source")
    p.add_argument("--n-crops", type=int, default=2550,
                   help="crops after data expansion (paper: 2550)")
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="fraction of crops and sources held out in valA/ and valA_gt/ for "
                   "choosing settings without the test split (default 0: none)")
    p.add_argument("--size", type=int, default=256,
                   help="crop side in pixels, a multiple of 128 (default 256)")
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

    p = sub.add_parser("train", help="train the CycleGAN (or the supervised oracle)",
                       description="Train into a run folder: checkpoints/, losses.csv, tb/, "
                       "samples/, report.json, generator_G.keras and generator_F.keras. "
                       "SIGINT/SIGTERM stop with a checkpoint (exit status 130/143). Several "
                       "GPUs are used when visible; several machines when TF_CONFIG names "
                       "several workers (run the same command on each).")
    p.add_argument("--profile", choices=("smoke", "book", "paper"), default="book")
    p.add_argument("--data", required=True, help="dataset folder from make-dataset")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, generator)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in --out (start at step 0 if "
                   "there is none); without it, a run folder in use is refused")
    p.add_argument("--paired", action="store_true",
                   help="train the supervised oracle on paired data (L1 + SSIM)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config value, e.g. --set steps=500 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("deblur", help="restore micrographs with a trained generator",
                       description="Restore image files (or every image in a folder) tile "
                       "by tile and write them, under the same names, to --out; the input's "
                       "bit depth is kept and an info bar is passed through unchanged. A bad "
                       "file prints one line and the rest are still processed; the exit "
                       "status is 2 if any failed. Inputs are never overwritten.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    p.add_argument("--weights", required=True,
                   help="generator: a .keras file (e.g. RUN_DIR/generator_G.keras) or "
                   ".weights.h5 with --width")
    p.add_argument("--width", type=float, default=None,
                   help="channel width of a .weights.h5 generator")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tile", type=int, default=256, help="tile side, a multiple of 128")
    p.add_argument("--overlap", type=int, default=32, help="overlap of tiles in pixels")
    p.add_argument("--crop-databar", action="store_true",
                   help="drop the instrument's info bar instead of passing it through")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=None,
                   help="output bit depth (default: the input's)")
    p.set_defaults(func=_cmd_deblur)

    p = sub.add_parser("evaluate", help="the paper's tables: every method on a test set",
                       description="Run the blurred input, the generator and the classical "
                       "baselines (assumed and oracle PSF) over a recipe's test set; write "
                       "table.csv (means with 95% bootstrap intervals), per_image.csv and "
                       "evaluation.json.")
    p.add_argument("--recipe", choices=("A", "B", "C"), required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--data", default=None,
                   help="dataset folder (default: build the recipe's test split)")
    p.add_argument("--weights", default=None,
                   help="generator .keras file (default: weights/cyclegan_<recipe>.keras if "
                   "shipped, else classical methods only)")
    p.add_argument("--n", type=int, default=None, help="evaluate the first N test images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_evaluate)
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
