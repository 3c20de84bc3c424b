"""Copy a finished run's generator G into ``weights/`` and write its model card.

Usage (from the repository root)::

    python scripts/ship_weights.py --run RUN_DIR --kind cyclegan|supervised --recipe A \\
        --data-command "python -m semgan_core make-dataset --recipe A --out data/A" \\
        --train-command "python -m semgan_core train --profile book --data data/A ..."

Writes ``weights/<kind>_<recipe>.keras`` (float32; the book-profile generators are a few
thousand weights) and ``weights/MODEL_CARD_<kind>_<recipe>.md`` from the run's
``report.json``: data recipe and seed, steps, configuration, training time and machine,
final losses, library versions and the exact commands that reproduce it. Both files are
written atomically. Refuses a run that did not finish.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

from semgan_core import data, infer, results

ROOT = Path(__file__).resolve().parents[1]


def _card(report, manifest, kind, recipe, commands, size_bytes, n_params) -> str:
    cfg = report["config"]
    what = ("the CycleGAN generator G (blurred -> clear), trained unpaired"
            if kind == "cyclegan" else
            "the supervised oracle: the same generator trained on the *paired* data "
            "(L1 + SSIM), the ceiling of what this architecture can do with pairs")
    losses = "\n".join(f"| {k} | {v:.6g} |" for k, v in report["final_losses"].items()
                       if isinstance(v, (int, float)))   # NaN (terms off) is stored as text
    conf = "\n".join(f"| {k} | {v} |" for k, v in sorted(cfg.items()))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(report["versions"].items()))
    minutes = report["total_wall_time_s"] / 60
    return f"""# Model card: `{kind}_{recipe}.keras`

{what}, book profile (the CPU recipe; see the book's reproduction notes), dataset
{recipe}. {n_params} weights, {size_bytes / 1024:.1f} KiB.

## Reproduce

```bash
{commands['data']}
{commands['train']}
python scripts/ship_weights.py --run RUN_DIR --kind {kind} --recipe {recipe} ...
```

## Training

| item | value |
|---|---|
| data | `make_dataset` recipe {manifest.get('recipe')}, seed {manifest.get('seed')}, source {manifest.get('source')}, {manifest.get('n_crops')} crops of {manifest.get('size')} px |
| mode | {report['mode']} |
| steps | {report['steps']} |
| seed | {report['seed']} |
| training time | {minutes:.1f} min ({report['seconds_per_step']:.3f} s/step, last session) |
| machine | {platform.machine()}, {os.cpu_count()} CPU cores, no GPU ({platform.platform()}) |
| threads | {report.get('threads')} |
| note | {commands['note'] or '-'} |
| versions | {versions} |

## Final losses (last logged step)

| term | value |
|---|---|
{losses}

## Configuration

| key | value |
|---|---|
{conf}

## Use

```python
from semgan_core import infer
G = infer.load_generator("weights/{kind}_{recipe}.keras")
restored = infer.deblur(G, image)      # image: float32 [0, 1], any size
```

Its scores on the held-out test sets are in the book (chapter 4) and in
`python -m semgan_core evaluate --recipe {recipe} --out DIR`.
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--kind", choices=("cyclegan", "supervised"), required=True)
    p.add_argument("--recipe", choices=("A", "B", "C"), required=True)
    p.add_argument("--data-command", required=True)
    p.add_argument("--train-command", required=True)
    p.add_argument("--note", default="", help="a line for the training table, e.g. load")
    args = p.parse_args(argv)
    report_path = args.run / "report.json"
    if not report_path.is_file():
        print(f"ship_weights: error: {report_path} does not exist", file=sys.stderr)
        return 2
    report = json.loads(report_path.read_text())
    if report.get("status") != "finished":
        print(f"ship_weights: error: {args.run} did not finish ({report.get('status')})",
              file=sys.stderr)
        return 2
    manifest = data.read_manifest(report["data_dir"]) or {}
    source = Path(report["generator_path"])
    model = infer.load_generator(source)           # refuse a file that does not load
    out = ROOT / "weights" / f"{args.kind}_{args.recipe}.keras"
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.keras")
    shutil.copyfile(source, tmp)
    os.replace(tmp, out)
    card = _card(report, manifest, args.kind, args.recipe,
                 {"data": args.data_command, "train": args.train_command,
                  "note": args.note},
                 out.stat().st_size, model.count_params())
    results.atomic_write(out.with_name(f"MODEL_CARD_{args.kind}_{args.recipe}.md"),
                         lambda tmp: Path(tmp).write_text(card))
    print(f"wrote {out} and its model card")
    return 0


if __name__ == "__main__":
    sys.exit(main())
