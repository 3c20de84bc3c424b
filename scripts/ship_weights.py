"""Copy a finished run's generator G into ``weights/`` with its metadata and model card.

Usage (from the repository root)::

    python scripts/ship_weights.py --run RUN_DIR --kind filter-unpaired --degradation A \\
        --data-command "python -m semgan_core make-dataset --degradation A --out data/A" \\
        --train-command "python -m semgan_core train --profile book --data data/A ..."
    python scripts/ship_weights.py --card weights/filter_unpaired_A.keras

The first form writes ``weights/<kind>_<degradation>.keras`` (``-`` becomes ``_``): the
run's generator, weights copied byte for byte, with semgan's metadata
(:func:`semgan_core.generators.copy_generator`) holding what the model card shows: data,
steps, configuration, training time and machine, final losses, library versions and the
exact commands that reproduce it. It then writes ``weights/MODEL_CARD_<file stem>.md``
from that metadata. The second form only rewrites a card from a shipped file's metadata.
Files are written atomically; a run that did not finish is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from semgan_core import generators, results

KINDS = {"filter-unpaired": ("filter", "unpaired"), "filter-paired": ("filter", "paired"),
         "unet-restorer": ("unet", "synthesized-pairs")}
WHAT = {
    "unpaired": "the generator G (blurred -> clear) trained on unpaired data",
    "paired": "the same filter generator trained on the *paired* data (L1 + SSIM): an "
              "oracle, the ceiling of what this generator can do with pairs, not a method "
              "for real micrographs (which have no pairs)",
    "synthesized-pairs": "the paper's U-Net generator (reduced width, residual) trained on "
                         "pairs synthesised from clear images alone: the blur, the fog and "
                         "the noise levels are estimated from the unpaired blurred images "
                         "(no blurred image of the same field as a clear one is used)",
}


def _data_row(data: dict) -> str:
    """The card's description of the training data (a dataset, or synthesised pairs)."""
    if data.get("kind") != "restorer-pairs":
        return (f"`make_dataset` degradation {data.get('degradation')}, seed "
                f"{data.get('seed')}, source {data.get('source')}, {data.get('n_crops')} "
                f"crops of {data.get('size')} px")
    fog = data.get("fog")
    fog = ("no fog" if not fog or not fog["tau"][1] else
           f"fog airlight {fog['airlight']:.2f}, tau {fog['tau'][0]:.2f}-{fog['tau'][1]:.2f}")
    return (f"`make_pair_dataset`: {data.get('n_pairs')} pairs of {data.get('size')} px "
            f"from the clear images of {data.get('data_dir')} (+ "
            f"{', '.join(data.get('extra_clear') or []) or 'none'}), degradation "
            f"{data.get('degradation')} estimated as degrader {data.get('degrader')} "
            f"({fog}), {data.get('p_sharp')} of them unblurred, {data.get('p_clean')} "
            f"noise-free, "
            + (f"{data['p_fogless']} of the blurred ones without fog, "
               if data.get("p_fogless") else "")
            + (f"fog depth growing as the blur strength to the power {data['fog_power']:g}, "
               if data.get("fog_power") not in (None, 1) else "")
            + (f"{data['p_low_contrast']} with the clear crop's contrast scaled by "
               f"{data['contrast'][0]:g}-{data['contrast'][1]:g}"
               + (" (never fogged)" if data.get("low_contrast_fog") is False else "") + ", "
               if data.get("p_low_contrast") else "")
            + (f"noise correlated along rows or columns over {data['row_correlation'][0]:g}-"
               f"{data['row_correlation'][1]:g} px, "
               if data.get("row_correlation") and data["row_correlation"][1] else "")
            + (f"{data['p_gaussian']} of the blurred ones blurred instead by an isotropic "
               f"Gaussian of sigma {data['gaussian_sigma'][0]:g}-"
               f"{data['gaussian_sigma'][1]:g} px without fog, "
               if data.get("p_gaussian") else "")
            + f"blur strength {data.get('strength')}"
            + (f" (scaling {data['scaling']})" if data.get("scaling") else "")
            + f", seed {data.get('seed')}")


def _warm_start_row(start: dict) -> str:
    """The card's description of the generator a fine-tune started from."""
    if not start.get("steps"):
        return (f"the steps above continue the generator {start.get('file')} (its training "
                "was not recorded)")
    time = (f", {start['wall_time_s'] / 60:.1f} min" if start.get("wall_time_s") else "")
    return (f"the steps above continue a generator trained for {start.get('steps')} steps"
            f"{time} on {_data_row(start.get('data') or {})} (the first training command; "
            f"`--set init_generator` names its file)")


def _rows(mapping) -> str:
    return "\n".join(f"| {k} | {v} |" for k, v in mapping.items())


def card(meta: dict, file_name: str, size_bytes: int, n_params: int) -> str:
    """The model card of a shipped generator, from its metadata."""
    t = meta["training"]
    data = t["data"]
    losses = {k: f"{v:.6g}" for k, v in t["final_losses"].items()
              if isinstance(v, (int, float))}          # NaN (terms off) is stored as text
    versions = ", ".join(f"{k} {v}" for k, v in sorted(t["versions"].items()))
    training = {
        "model": f"`{meta['name']}`: {meta['label']}",
        "generator class": meta["generator"],
        "training recipe": meta.get("recipe") or "-",
        "mode": meta["mode"],
        "data": _data_row(data),
        "steps": t["steps"],
        **({"warm start": _warm_start_row(t["warm_start"])} if t.get("warm_start") else {}),
        "seed": t["seed"],
        "training time": f"{t['wall_time_s'] / 60:.1f} min "
                         f"({t['seconds_per_step']:.3f} s/step)",
        "machine": t["machine"], "threads": t.get("threads"),
        "note": t.get("note") or "-", "versions": versions,
    }
    return f"""# Model card: `{file_name}`

`{meta['name']}-{meta['degradation']}`, "{meta['label']}": {WHAT[meta['mode']]};
degradation {meta['degradation']}, book profile. {n_params} weights,
{size_bytes / 1024:.1f} KiB.

## Reproduce

```bash
{t['commands']['data']}
{t['commands']['train']}
python scripts/ship_weights.py --run RUN_DIR --kind {meta['name']} --degradation {meta['degradation']} ...
```

## Training

| item | value |
|---|---|
{_rows(training)}

## Final losses (last logged step)

| term | value |
|---|---|
{_rows(losses)}

## Configuration

| key | value |
|---|---|
{_rows(dict(sorted(t['config'].items())))}

## Use

```python
from semgan_core import generators, infer
G = generators.load_shipped("{meta['name']}-{meta['degradation']}")
restored = infer.deblur(G, image)      # image: float32 [0, 1], any size
```

or `python -m semgan_core deblur --model {meta['name']}-{meta['degradation']} --out OUT
INPUT...`. {_ensemble(meta)}{_scores(meta)}
"""


def _ensemble(meta: dict) -> str:
    """How the card's model runs when loaded (:func:`generators.default_ensemble`)."""
    n = generators.default_ensemble(meta)
    if n == 1:
        return ""
    return (f"Loaded this way it runs on the {n} flips and transposes of each tile and "
            "averages the outputs (`semgan_core.ensemble`; `load_generator(path, "
            "ensemble=1)` or `deblur --ensemble 1` for one pass). ")


def _scores(meta: dict) -> str:
    """Where the card's model is scored."""
    d = meta["degradation"]
    if meta["mode"] == "synthesized-pairs":
        return (f"It is the default model of degradation {d} (`--model {d}`). Its scores on "
                "held-out test sets with and without noise are in the book (the chapter "
                f"on noisy micrographs) and in `python -m semgan_core evaluate "
                f"--degradation {d} --noise 0 0.01 0.02 0.04 --out DIR`.")
    return (f"Its scores on the held-out test sets are in the book (chapter 4) and in "
            f"`python -m semgan_core evaluate --degradation {d} --out DIR`.")


def write_card(path: Path) -> Path:
    """Write ``MODEL_CARD_<stem>.md`` beside a shipped generator, from its metadata."""
    meta = generators.read_metadata(path)
    model = generators.load_generator(path)          # refuse a file that does not load
    text = card(meta, path.name, path.stat().st_size, model.count_params())
    return results.atomic_write(path.with_name(f"MODEL_CARD_{path.stem}.md"),
                                lambda tmp: Path(tmp).write_text(text))


def _metadata(report: dict, manifest: dict, args) -> dict:
    """The metadata of a finished run's generator G."""
    generator, mode = KINDS[args.kind]
    cfg = report["config"]
    trained = generators.read_metadata(report["generator_path"])
    if (trained["generator"], trained["mode"]) != (generator, mode):
        raise ValueError(f"ship_weights: {args.run} trained a {trained['generator']} "
                         f"generator in mode {trained['mode']}, not {args.kind}")
    keys = ("seed", "source", "n_crops", "size")
    if manifest.get("kind") == "restorer-pairs":
        keys = ("kind", "degradation", "seed", "size", "n_pairs", "data_dir", "extra_clear",
                "degrader", "psf", "fog", "noise_levels", "p_sharp", "p_clean", "p_fogless",
                "fog_power", "p_low_contrast", "contrast", "low_contrast_fog",
                "row_correlation", "strength", "scaling", "p_gaussian", "gaussian_sigma")
    data = {k: manifest.get(k) for k in keys}
    data["degradation"] = manifest.get("degradation", manifest.get("recipe"))
    training = {
        "data": data, "steps": report["steps"], "seed": report["seed"],
        "wall_time_s": report["total_wall_time_s"],
        "seconds_per_step": report["seconds_per_step"],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores "
                   f"({platform.platform()})",
        "threads": report.get("threads"), "note": args.note,
        "versions": report["versions"], "final_losses": report["final_losses"],
        "config": cfg, "commands": {"data": args.data_command, "train": args.train_command},
    }
    if cfg.get("init_generator"):
        try:
            start = generators.read_metadata(cfg["init_generator"]).get("training", {})
        except (OSError, ValueError):              # moved, or a file without metadata
            start = {}
        training["warm_start"] = {"file": cfg["init_generator"],
                                  **{k: start.get(k) for k in ("steps", "wall_time_s", "data")}}
    return {"generator": generator, "mode": mode, "degradation": args.degradation,
            "recipe": trained.get("recipe"), "training": training}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--card", type=Path, help="only rewrite the model card of this file")
    p.add_argument("--run", type=Path)
    p.add_argument("--kind", choices=tuple(KINDS))
    p.add_argument("--degradation", choices=generators.DEGRADATIONS)
    p.add_argument("--data-command")
    p.add_argument("--train-command")
    p.add_argument("--note", default="", help="a line for the training table, e.g. load")
    args = p.parse_args(argv)
    if args.card is not None:
        print(f"wrote {write_card(args.card)}")
        return 0
    missing = [f"--{k.replace('_', '-')}" for k in ("run", "kind", "degradation",
                                                   "data_command", "train_command")
               if getattr(args, k) is None]
    if missing:
        p.error(f"without --card, these are required: {', '.join(missing)}")
    report_path = args.run / "report.json"
    if not report_path.is_file():
        print(f"ship_weights: error: {report_path} does not exist", file=sys.stderr)
        return 2
    report = json.loads(report_path.read_text())
    if report.get("status") != "finished":
        print(f"ship_weights: error: {args.run} did not finish ({report.get('status')})",
              file=sys.stderr)
        return 2
    manifest_path = Path(report["data_dir"]) / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    out = generators.WEIGHTS_DIR / f"{args.kind.replace('-', '_')}_{args.degradation}.keras"
    generators.copy_generator(report["generator_path"], out,
                              metadata=_metadata(report, manifest, args))
    write_card(out)
    print(f"wrote {out} and its model card")
    return 0


if __name__ == "__main__":
    sys.exit(main())
