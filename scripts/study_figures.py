"""Figures and tables of the convergence study for the reproduction notes.

Usage (from the repository root, after ``benchmarks/convergence.py`` runs)::

    python scripts/study_figures.py --study STUDY_DIR [STUDY_DIR ...] --out book
    python scripts/study_figures.py --study book/study/synA.json --out book

For each study folder (``convergence.json`` inside) or study file, writes
``OUT/convergence_<name>.png`` (``<name>``: the folder name after its last '-', or the
file's stem). Copies each study to ``OUT/study/<name>.json`` (small: the curves and
configurations, no weights; variants under their present names) and prints one Markdown
table row per (dataset, variant, seed): final and best PSNR / SSIM on the validation
pairs, steps and training seconds, then the reference lines. Redrawing from the copies
gives the same figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from semgan_core import plotting, results  # noqa: E402
from semgan_core.study import harness  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--study", type=Path, nargs="+", required=True,
                   help="study folders (convergence.json inside) or study JSON files")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    print("| dataset | variant | seed | steps | PSNR | SSIM | best PSNR (step) | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    refs = []
    for folder in args.study:
        study = harness.read_study(folder)
        name = folder.stem if folder.suffix == ".json" else folder.name.split("-")[-1]
        results.write_json(args.out / "study" / f"{name}.json", study)
        plotting.convergence_curves(study, path=args.out / f"convergence_{name}.png")
        for row in harness.summary_table(study):
            print(f"| {name} | {row['variant']} | {row['seed']} | {row['steps']} | "
                  f"{row['psnr']:.2f} | {row['ssim']:.4f} | {row['best_psnr']:.2f} "
                  f"({row['best_step']}) | {row['seconds']:.0f} |")
        refs += [(name, ref, v) for ref, v in study["reference"].items()]
    print("\n| dataset | reference | PSNR | SSIM |\n|---|---|---|---|")
    for name, ref, v in refs:
        print(f"| {name} | {ref} | {v['psnr']:.2f} | {v['ssim']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
