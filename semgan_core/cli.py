"""Command line: ``python -m semgan_core COMMAND ...``.

Each command parses its arguments and calls one library function; the library does the
work and validates its input. Commands that need TensorFlow import it first with its
start-up log lines hidden (:mod:`semgan_core.tflog`; ``--verbose`` shows them). Errors caused by the user (a wrong path, a bad file, an
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
    from semgan_core import datasets

    noise = args.noise
    if noise is not None:
        try:
            noise = tuple(float(x) for x in noise.split(":")) if ":" in noise else float(noise)
        except ValueError:
            raise ValueError(f"make-dataset: --noise must be a number or LOW:HIGH, got "
                             f"{args.noise!r}") from None
    manifest = datasets.make_dataset(
        args.out,
        degradation=args.degradation,
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
        skip_bad=args.skip_bad,
        noise=noise,
        clear_noise=args.clear_noise,
        read_noise=args.read_noise,
        row_noise=args.row_noise,
    )
    counts = manifest.get("counts", {})
    print(f"wrote dataset {args.degradation} to {args.out}: "
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
                         paired=args.paired, progress=not args.quiet,
                         allow_other_data=args.allow_other_data)
    if report.get("interrupted"):       # SIGINT / SIGTERM: stopped with a checkpoint
        import signal

        print(f"semgan: interrupted by {report['interrupted']} at step {report['steps']}; "
              f"checkpoint {report['checkpoint']}; continue with --resume", file=sys.stderr)
        return 128 + int(signal.Signals[report["interrupted"]])
    print(f"trained {report['steps']} steps; generator saved to {report['generator_path']}")
    return 0


def _cmd_deblur(args: argparse.Namespace) -> int:
    from semgan_core import batch, checks, generators, tflog

    options = {"tile": checks.check_size_multiple("deblur", "--tile", args.tile),
               "overlap": checks.check_int("deblur", "--overlap", args.overlap, low=0),
               "bits": "auto" if args.bits is None else checks.check_int(
                   "deblur", "--bits", args.bits, low=1, high=16),
               "crop_databar": args.crop_databar, "bit_depth": args.bit_depth}
    if options["overlap"] > options["tile"] // 2:
        raise ValueError(f"deblur: --overlap must be between 0 and --tile / 2 = "
                         f"{options['tile'] // 2}, got {args.overlap}")
    todo = batch.plan(args.inputs, args.out, overwrite=args.overwrite)
    tflog.import_tensorflow(verbose=args.verbose)
    if args.model is not None:
        model = generators.load_shipped(args.model, ensemble=args.ensemble)
    else:
        model = generators.load_generator(args.weights, ensemble=args.ensemble)
    if todo.skipped:
        print(f"kept {len(todo.skipped)} existing output(s) (pass --overwrite to replace "
              f"them): {', '.join(p.name for p in todo.skipped)}")
    written, failed = batch.run(model, todo, progress=not args.quiet, **options)
    print(f"deblurred {written} image(s) into {args.out}"
          + (f"; {len(todo.skipped)} kept" if todo.skipped else "")
          + (f"; {failed} failed" if failed else ""))
    return 2 if failed else 0


def _range_argument(parser, flag: str, help: str) -> None:
    """Add ``flag LOW HIGH``, two floats (None when not given)."""
    parser.add_argument(flag, type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help=help)


def _cmd_make_pairs(args: argparse.Namespace) -> int:
    from semgan_core import restorer

    degrader = args.degrader
    if degrader not in restorer.DEGRADERS and Path(degrader).is_file():
        from semgan_core import tflog

        tflog.import_tensorflow(verbose=args.verbose)   # quietly, only for a generator file
    options = {key: value for key, value in (
        ("n_pairs", args.n_pairs), ("size", args.size), ("p_sharp", args.p_sharp),
        ("p_clean", args.p_clean), ("p_fogless", args.p_fogless),
        ("fog_power", args.fog_power),
        ("p_low_contrast", args.p_low_contrast), ("contrast", args.contrast),
        ("low_contrast_fog", False if args.low_contrast_fogless else None),
        ("row_correlation", args.row_correlation),
        ("strength", args.strength),
        ("scaling", args.scaling), ("p_gaussian", args.p_gaussian),
        ("gaussian_sigma", args.gaussian_sigma))
        if value is not None}
    manifest = restorer.make_pair_dataset(args.data, args.out, degrader=degrader,
                                          extra_clear=args.extra_clear, seed=args.seed,
                                          **options)
    fog = manifest.get("fog")
    fitted = ("" if fog is None else f"; fitted fog: airlight {fog['airlight']:.2f}, "
              f"tau {fog['tau'][0]:g}-{fog['tau'][1]:g}")
    print(f"wrote {manifest['n_pairs']} pairs ({manifest['size']}x{manifest['size']}) to "
          f"{args.out}; degrader {degrader}{fitted}; noise level median "
          f"{manifest['noise_levels'][0.5]:.4f}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from semgan_core import benchmark, evaluate, noiselevels

    record = benchmark.run_evaluation(args.degradation, args.out, data_dir=args.data,
                                     weights=args.weights, models=args.model, n=args.n,
                                     seed=args.seed, noise=args.noise, source=args.source,
                                     progress=not args.quiet)
    if "skipped" in record:
        return 0
    if "levels" in record:
        print(noiselevels.levels_text(pd.DataFrame(record["levels_table"])))
        print(f"evaluated {record['n_images']} test images of degradation {args.degradation} "
              f"at noise levels {', '.join(f'{x:g}' for x in record['levels'])}; wrote "
              f"{', '.join(noiselevels.level_folder(x) + '/' for x in record['levels'])} "
              f"(table.csv, gains.csv, per_image.csv, evaluation.json), levels.csv"
              + (", noise_curves.png" if "noise_curves" in record["files"] else "")
              + f" and evaluation.json to {args.out}")
        return 0
    columns = ["method", "psf", *evaluate.METRICS, "seconds_per_image"]
    print(pd.DataFrame(record["table"])[columns].to_string(index=False, float_format="%.4g"))
    print("\nmean gain over the blurred input, same images (paired 95 % bootstrap interval):")
    print(pd.DataFrame(record["gains_over_blurred"]).to_string(index=False,
                                                               float_format="%.4g"))
    print(f"evaluated {record['n_images']} test images of degradation {args.degradation}; wrote "
          f"table.csv, gains.csv, per_image.csv and evaluation.json to {args.out}")
    return 0


#: Commands that never import TensorFlow, or import it (quietly) themselves once their
#: options and files are checked.
_WITHOUT_TENSORFLOW = ("synth", "make-dataset", "deblur", "make-pairs")


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
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up log lines (hidden by default)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("make-dataset", help="build one of the paper's simulated datasets A/B/C",
                       description="Crop, augment and degrade clean micrographs into "
                       "trainA/ (blurred), trainB/ (clear), testA/, testB/, testA_gt/ "
                       "(valA/, valA_gt/ with --val-fraction) and manifest.json. The split "
                       "is by source image.")
    p.add_argument("--degradation", choices=("A", "B", "C"), required=True,
                   help="the paper's degradation: A blur, B blur + fog, C hybrid blur + fog")
    p.add_argument("--source", default="synthetic",
                   help="'synthetic' (default), 'real' (the shared real clean micrographs, "
                   "linked, never copied) or a folder of clean micrographs")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out unreadable or too small images of --source (they are "
                   "listed) instead of stopping")
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
                   help="degradation C: one kernel per image (random) or all three composed")
    p.add_argument("--noise", default=None, metavar="SIGMA|LOW:HIGH",
                   help="SEM shot noise on the blurred images, as its standard deviation at "
                   "mid-grey on [0, 1] (e.g. 0.02), or a range drawn per image (0:0.05); "
                   "default: none, as in the paper")
    p.add_argument("--clear-noise", type=float, default=None, metavar="SIGMA",
                   help="shot noise of the clear domain (trainB/, testB/), e.g. 0.005")
    p.add_argument("--read-noise", type=float, default=0.0, metavar="SIGMA",
                   help="white read noise added with the shot noise (default 0)")
    p.add_argument("--row-noise", type=float, default=0.0, metavar="SIGMA",
                   help="scan-line noise, one offset per row (default 0)")
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

    p = sub.add_parser("make-pairs", help="synthesise training pairs for 'train --paired' "
                       "from a dataset's clear images alone",
                       description="Write a paired training folder for 'train --paired' "
                       "from an unpaired dataset DATA (trainA/ blurred, trainB/ clear): "
                       "DATA's clear images degraded by the blur, fog and noise estimated "
                       "from its unpaired blurred images (none of the same field is needed). "
                       "Writes trainA/, trainA_gt/, testA/, testA_gt/ and manifest.json "
                       "(the fitted PSF, fog and noise levels; '--set wiener_psf=OUT/"
                       "manifest.json' gives the U-Net Wiener-filtered inputs for that PSF).")
    p.add_argument("data", metavar="DATA", help="unpaired dataset folder (trainA/, trainB/)")
    p.add_argument("--out", required=True, help="new paired folder (must not exist or be "
                   "empty)")
    p.add_argument("--degrader", default="psf", metavar="psf|psf+fog|FILE.keras",
                   help="the degradation of the clear images: 'psf' (default), the blur's "
                   "point-spread function fitted from the two domains; 'psf+fog', that "
                   "blur and the fog (airlight, optical depth) fitted too, for "
                   "degradations B and C; or a clear -> blurred generator file, e.g. the "
                   "filter recipe's RUN_DIR/generator_F.keras (imports TensorFlow)")
    p.add_argument("--extra-clear", nargs="+", action="extend", default=[], metavar="DIR",
                   help="more unpaired datasets whose trainB/ images join the clear pool "
                   "(e.g. real micrographs; repeatable); each folder is drawn equally often")
    p.add_argument("--n-pairs", type=int, default=None, metavar="N",
                   help="pairs to write, at least 5 (default 6000)")
    p.add_argument("--size", type=int, default=None,
                   help="crop side, a multiple of 128 (default 128)")
    p.add_argument("--p-sharp", type=float, default=None, metavar="P",
                   help="share of pairs without blur, so a sharp image is left alone "
                   "(default 0.3)")
    p.add_argument("--p-clean", type=float, default=None, metavar="P",
                   help="share of pairs without noise (default 0.3)")
    p.add_argument("--p-fogless", type=float, default=None, metavar="P",
                   help="with psf+fog: share of the blurred pairs made without fog, so a "
                   "light blur without haze is not dehazed (default 0)")
    p.add_argument("--fog-power", type=float, default=None, metavar="GAMMA",
                   help="with psf+fog: the fog's depth is the fitted one times the "
                   "strength to this power, so at 3 a light blur comes with little fog "
                   "and the full blur with the full fog (default 1)")
    p.add_argument("--p-low-contrast", type=float, default=None, metavar="P",
                   help="share of pairs whose clear crop has its contrast scaled down "
                   "(by a factor drawn from --contrast) before it is degraded, so a clean "
                   "low-contrast image is not taken for a fogged one (default 0)")
    _range_argument(p, "--contrast",
                    "range of that contrast factor, in (0, 1] (default 0.25 1)")
    p.add_argument("--low-contrast-fogless", action="store_true",
                   help="with psf+fog and --p-low-contrast: never fog the low-contrast "
                   "share, so a flat crop that the fog has not brightened is left at its "
                   "grey levels (default: fogged like the other pairs)")
    _range_argument(p, "--row-correlation",
                    "range, in pixels, of the noise's correlation along the rows (the "
                    "scan line), drawn per pair; real micrographs' noise is smoothed along "
                    "the scan line (default 0 0: white noise)")
    _range_argument(p, "--strength",
                    "range of the blur strength of the other pairs, 1 = the fitted "
                    "blur (default 0.1 1.3)")
    p.add_argument("--scaling", choices=("otf", "mix"), default=None,
                   help="how the strength acts: 'otf' raises the fitted blur's transfer "
                   "function to the power of the strength and scales the fog's depth "
                   "(default for psf and psf+fog); 'mix' mixes the clear and the fully "
                   "degraded image (the only choice for a generator file)")
    p.add_argument("--p-gaussian", type=float, default=None, metavar="P",
                   help="share of the blurred pairs given an isotropic Gaussian blur (no "
                   "fog) instead of the fitted one, so a light defocus is not sharpened "
                   "as the blurred domain's mean blur (default 0)")
    _range_argument(p, "--gaussian-sigma",
                    "range of that Gaussian's standard deviation in pixels (default 0.3 1.2)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_make_pairs)

    p = sub.add_parser("train", help="train the CycleGAN (or the supervised oracle)",
                       description="Train into a run folder: checkpoints/, losses.csv, tb/, "
                       "samples/, report.json, generator_G.keras and generator_F.keras. "
                       "The training recipe is the config key 'recipe' (paper: the U-Net "
                       "CycleGAN; filter: the CPU recipe), e.g. --set recipe=paper. "
                       "SIGINT/SIGTERM stop with a checkpoint (exit status 130/143). A second "
                       "run into the same folder is refused while the first lives. Several "
                       "GPUs are used when visible; several machines when TF_CONFIG names "
                       "several workers (run the same command on each).")
    p.add_argument("--profile", choices=("smoke", "book", "paper"), default="book")
    p.add_argument("--data", required=True, help="dataset folder from make-dataset")
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, generator)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest intact checkpoint in --out (start at step "
                   "0 if there is none); without it, a run folder in use is refused")
    p.add_argument("--allow-other-data", action="store_true",
                   help="with --resume: continue on a dataset other than the checkpoint's "
                   "(refused otherwise)")
    p.add_argument("--paired", action="store_true",
                   help="train G alone on paired data (trainA/, trainA_gt/): paired_l1 x L1 "
                   "+ paired_ssim x (1 - SSIM) + paired_psnr x log10(MSE) per crop; the "
                   "supervised oracle, or the restorer on 'make-pairs' output")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config value, e.g. --set steps=500 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("deblur", help="restore micrographs with a trained generator",
                       description="Restore image files (or every image in a folder) tile "
                       "by tile and write them, under the same names, to --out. Inputs are "
                       "never overwritten: a run in which an output would replace an input "
                       "is refused before anything is written. Existing outputs are kept "
                       "unless --overwrite. The input's bit depth and used bits are kept, a "
                       "TIFF's instrument tags are carried over and the info bar is passed "
                       "through unchanged. A bad file prints one line and the rest are "
                       "still processed; the exit status is 2 if any failed.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--weights", help="a generator .keras file (e.g. "
                       "RUN_DIR/generator_G.keras)")
    which.add_argument("--model", help="a shipped model: A, B or C (the default for that "
                       "degradation) or a name such as filter-unpaired-A")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing outputs (never an input)")
    p.add_argument("--tile", type=int, default=256, help="tile side, a multiple of 128")
    p.add_argument("--overlap", type=int, default=32, help="overlap of tiles in pixels")
    p.add_argument("--ensemble", type=int, choices=(1, 2, 4, 8), default=None,
                   help="orientations (flips, transposes) to average the model's outputs "
                   "over (default: 8 for the U-Net restorers, 1 for the others)")
    p.add_argument("--crop-databar", action="store_true",
                   help="drop the instrument's info bar instead of passing it through")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=None,
                   help="output container bit depth (default: the input's)")
    p.add_argument("--bits", type=int, default=None,
                   help="bits used in 16-bit inputs, e.g. 12 (default: detected from the "
                   "maximum: 8, 10, 12, 14 or 16); the output keeps that range")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_deblur)

    p = sub.add_parser("evaluate", help="the paper's tables: every method on a test set",
                       description="Run the blurred input, the generators and the classical "
                       "baselines (assumed and oracle PSF) over a degradation's test set; "
                       "write table.csv (means with 95% bootstrap intervals), gains.csv, "
                       "per_image.csv and evaluation.json. With --noise, each level's files "
                       "go to OUT/noise-LEVEL/ and OUT gets levels.csv (all levels in one "
                       "table) and, for several levels, noise_curves.png.")
    p.add_argument("--degradation", choices=("A", "B", "C"), required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--data", default=None,
                   help="dataset folder (default: build the degradation's test split)")
    p.add_argument("--weights", nargs="+", default=None, metavar="FILE",
                   help="generator .keras file(s) to evaluate besides the shipped "
                   "weights/filter_unpaired_<degradation>.keras and "
                   "filter_paired_<degradation>.keras (without any: those, else the "
                   "classical methods only)")
    p.add_argument("--model", nargs="+", default=None, metavar="NAME",
                   help="shipped model(s) to evaluate besides those, by name: A, B or C "
                   "(the default model of that degradation) or e.g. filter-unpaired-B")
    p.add_argument("--noise", nargs="+", type=float, default=None, metavar="SIGMA",
                   help="noise levels, e.g. 0 0.01 0.02 0.04: SEM shot noise (Poisson) on "
                   "the blurred test images as its standard deviation at mid-grey on the "
                   "[0, 1] scale; the same clean crops at every level, noise seeded per "
                   "crop; classical methods noise-aware on noisy levels (default: "
                   "noise-free, files in --out itself)")
    p.add_argument("--source", choices=("synthetic", "real"), default="synthetic",
                   help="clean images of the built test set: the procedural micrographs "
                   "or the shared real clean micrographs (skipped, with the reason, when "
                   "they are not available)")
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
        if args.command not in _WITHOUT_TENSORFLOW:
            from semgan_core import tflog

            tflog.import_tensorflow(verbose=args.verbose)
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError,
            NotADirectoryError, PermissionError) as exc:
        print(f"semgan: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("semgan: interrupted", file=sys.stderr)
        return 130
