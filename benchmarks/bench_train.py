"""Benchmark the training step: seconds per step, achieved GFLOP/s, share of the input pipeline.

Usage::

    python benchmarks/bench_train.py --json results/bench_train.json [--steps-w1 3]
        [--steps-w025 12] [--steps-recipe 100] [--intra 1] [--inter 0]

For (width 1.0, 256 px) and (width 0.25, 256 px), batch 1, the paper's CycleGAN step
(:class:`semgan_core.trainer.Trainer`) is traced, warmed up and timed over a few steps; in
the same run the machine's matmul peak is measured (4096 x 4096 float32 through
TensorFlow, best of several). Output rows (JSON list, also printed as a table) have keys
``width``, ``size``, ``seconds_per_step``, ``achieved_gflops``, ``matmul_peak_gflops``,
``fraction_of_peak``, ``gflop_per_step``, ``input_fetch_s`` (time to fetch one batch
from the tf.data pipeline on its own), ``input_wait_s`` and ``input_share`` (time the
training loop waited for a batch, and that wait as a fraction of the step time).

FLOPs per step (an estimate, documented): the forward GFLOP of one image through a
generator ``g`` and a discriminator ``d`` (:func:`semgan_core.flops.count_flops`:
convolutions only) times the passes in a step: 6 generator passes (G(a), F(b),
F(G(a)), G(F(b)), F(a), G(b)) and 4 discriminator passes (D_B on G(a) and b, D_A on F(b)
and a), each forward + backward ~ 3 x forward: ``3 (6 g + 4 d)``. Norms, activations,
losses and the optimizer are left out, so the fraction of peak slightly understates
the work done.

Threads: ``--intra`` / ``--inter`` set ``tf.config.threading`` (0: TensorFlow's
default). The default here, one thread per op and as many concurrent ops as cores, was
the fastest on a 2-core CPU (width 0.25: 0.30 s/step against 0.35 with TensorFlow's
defaults; width 1.0: 3.3 against 3.5 s): at these sizes most ops are too small to
split across threads, while independent passes (G and F, their gradients) run side by
side. The matmul peak is measured with the same settings (:func:`matmul_peak_gflops`).

Measured on the shared 2-core development machine (Xeon, AVX-512; load average ~1.5
from other users), ``--intra 1``: width 1.0, 3.28 s/step, 153 GFLOP/s, 47 % of a
327 GFLOP/s matmul peak; width 0.25, 0.30 s/step, 107 GFLOP/s, 33 %; the input
pipeline's share of a step < 0.5 %. The convolutions (oneDNN, batch 1 or 2, many layers
at 2x2 to 16x16 pixels) run at 80-100 GFLOP/s per op-thread; they are nearly all of
the step.

A last row (``recipe`` "filter") times the book profile's CPU recipe (``recipe="filter"``:
two 15x15 filter generators with tone fields, no discriminator): seconds per step and
input share only. The row ``restorer`` times the default models' training step: the
paired step of the U-Net restorer at :data:`semgan_core.restorer.SETTINGS` (width 0.125,
128 px crops, batch 8, two Wiener-filtered input copies) on pairs synthesised from the
temporary dataset (``--steps-restorer``); ``--contrast-residual 0 0.25`` adds a row with
the contrast gain of the B and C models' fine-tunes (``restorer, gain 0.25``). Measured on
2 idle AVX2 cores, 50 steps at width 0.25: 0.765 s/step without the gain, 0.715 with it
(the difference is run-to-run noise; the gain is one variance per image).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GENERATOR_PASSES, DISCRIMINATOR_PASSES, FORWARD_BACKWARD = 6, 4, 3
MATMUL_N = 4096


def matmul_peak_gflops(repeats: int = 6) -> dict[str, float]:
    """The machine's float32 matmul peak through TensorFlow, with this run's threads.

    The best GFLOP/s of one 4096 x 4096 matmul (it uses ``intra`` threads) and of
    ``os.cpu_count()`` independent ones in one function (the inter-op pool runs them at
    once): with ``intra = 1`` only the second uses every core. ``peak`` is the larger.
    """
    import tensorflow as tf

    n_cores = os.cpu_count() or 1
    a = tf.random.stateless_normal((n_cores, MATMUL_N, MATMUL_N), seed=(0, 1))
    b = tf.random.stateless_normal((n_cores, MATMUL_N, MATMUL_N), seed=(0, 2))
    single = tf.function(lambda x, y: tf.reduce_sum(tf.linalg.matmul(x[0], y[0])))
    concurrent = tf.function(lambda x, y: tf.add_n(
        [tf.reduce_sum(tf.linalg.matmul(x[i], y[i])) for i in range(n_cores)]))
    out = {}
    for name, fn, count in (("single", single, 1), ("concurrent", concurrent, n_cores)):
        float(fn(a, b))                              # trace and warm up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            float(fn(a, b))
            best = min(best, time.perf_counter() - start)
        out[name] = count * 2 * MATMUL_N ** 3 / best / 1e9
    out["peak"] = max(out["single"], out["concurrent"])
    return out


def gflop_per_step(width: float, size: int) -> float:
    """Estimated GFLOP of one CycleGAN step at batch 1 (module docstring)."""
    from semgan_core import flops, models

    g = flops.count_flops(models.build_generator(width), size) / 1e9
    d = flops.count_flops(models.build_discriminator(width), size) / 1e9
    return FORWARD_BACKWARD * (GENERATOR_PASSES * g + DISCRIMINATOR_PASSES * d)


def time_steps(width: float, size: int, data_dir: Path, steps: int,
               recipe: str = "paper", *, paired: bool = False, **settings) -> dict:
    """Seconds per step (mean after 2 warm-up steps) and the input pipeline's share.

    ``recipe``: the training recipe (default ``"paper"``: the paper's U-Net CycleGAN at
    the book profile's engineering settings; ``"filter"``: the CPU recipe). ``paired``
    and ``settings``: the paired step with more config settings (the restorer's)."""
    from semgan_core import config
    from semgan_core.trainer import Trainer

    cfg = config.get_config("book", **{"recipe": recipe, "width": width,
                                       "image_size": size, **settings})
    trainer = Trainer(cfg, paired=paired)
    batches = iter(trainer.dataset(data_dir))
    key = "total" if paired else "gen_total"
    for _ in range(2):                               # trace + graph optimisation
        float(trainer.train_step(*next(batches))[key])
    waits, times = [], []
    for _ in range(steps):
        start = time.perf_counter()
        a, b = next(batches)
        fetched = time.perf_counter()
        float(trainer.train_step(a, b)[key])  # wait for the step to finish
        times.append(time.perf_counter() - start)
        waits.append(fetched - start)
    fresh = iter(trainer.dataset(data_dir, start_step=1000))
    next(fresh)
    start = time.perf_counter()
    for _ in range(8):
        next(fresh)
    fetch = (time.perf_counter() - start) / 8
    per_step = statistics.mean(times)
    return {"seconds_per_step": per_step, "seconds_per_step_min": min(times),
            "input_fetch_s": fetch, "input_wait_s": statistics.mean(waits),
            "input_share": statistics.mean(waits) / per_step}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="output JSON file")
    parser.add_argument("--steps-w1", type=int, default=3,
                        help="timed steps at width 1.0 (0: skip)")
    parser.add_argument("--steps-w025", type=int, default=12,
                        help="timed steps at width 0.25 (0: skip)")
    parser.add_argument("--steps-recipe", type=int, default=100,
                        help="timed steps of the book profile's CPU recipe (0: skip)")
    parser.add_argument("--steps-restorer", type=int, default=100,
                        help="timed steps of the U-Net restorer's paired step (0: skip)")
    parser.add_argument("--restorer-widths", type=float, nargs="+", default=[0.125, 0.25],
                        metavar="W", help="widths of the restorer rows (default 0.125 "
                        "0.25: degradation A's default model is the wider one)")
    parser.add_argument("--contrast-residual", type=float, nargs="+", default=[0.0],
                        metavar="REF", help="contrast_residual of the restorer rows, one row "
                        "each (default 0; the B and C models' fine-tunes use 0.25)")
    parser.add_argument("--intra", type=int, default=1,
                        help="intra-op threads (default 1; 0: TensorFlow's default)")
    parser.add_argument("--inter", type=int, default=0,
                        help="inter-op threads (default 0: TensorFlow's, one per core)")
    args = parser.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    from semgan_core import datasets, results

    matmul = matmul_peak_gflops()
    peak = matmul["peak"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        datasets.make_dataset(data_dir, n_crops=12, n_source=2, size=256, seed=0, progress=False)
        for width, steps in ((1.0, args.steps_w1), (0.25, args.steps_w025)):
            if not steps:
                continue
            timing = time_steps(width, 256, data_dir, steps)
            gflop = gflop_per_step(width, 256)
            achieved = gflop / timing["seconds_per_step"]
            rows.append({"recipe": "paper", "width": width, "size": 256, "steps_timed": steps,
                         **timing, "gflop_per_step": gflop, "achieved_gflops": achieved,
                         "matmul_peak_gflops": peak, "fraction_of_peak": achieved / peak})
        if args.steps_recipe:
            # the CPU recipe: two filter generators, no discriminator; its work is FFTs
            # and small ops, not convolutions, so no FLOP estimate
            timing = time_steps(0.25, 256, data_dir, args.steps_recipe, "filter")
            nan = float("nan")
            rows.append({"recipe": "filter", "width": nan, "size": 256,
                         "steps_timed": args.steps_recipe, **timing, "gflop_per_step": nan,
                         "achieved_gflops": nan, "matmul_peak_gflops": peak,
                         "fraction_of_peak": nan})
        if args.steps_restorer:
            # the default models' training: the paired step of the U-Net restorer at its
            # settings (width 0.125, 128 px, batch 8, Wiener inputs), on synthesised pairs
            from semgan_core import restorer

            pairs = Path(tmp) / "pairs"
            restorer.make_pair_dataset(data_dir, pairs, n_pairs=24, size=128, n_fit=4)
            settings = {k: v for k, v in restorer.SETTINGS.items()
                        if k not in ("recipe", "width", "image_size", "steps",
                                     "intra_op_threads")}
            for width, gain in ((w, g) for w in args.restorer_widths
                                for g in args.contrast_residual):
                timing = time_steps(width, restorer.SETTINGS["image_size"], pairs,
                                    args.steps_restorer, paired=True,
                                    wiener_psf=str(pairs / "manifest.json"),
                                    contrast_residual=gain, **settings)
                nan = float("nan")
                rows.append({"recipe": "restorer" if not gain else f"restorer, gain {gain:g}",
                             "width": width,
                             "size": restorer.SETTINGS["image_size"],
                             "steps_timed": args.steps_restorer, **timing,
                             "gflop_per_step": nan, "achieved_gflops": nan,
                             "matmul_peak_gflops": peak, "fraction_of_peak": nan})
    payload = {"rows": rows, "matmul_gflops": matmul,
               "threads": {"intra": args.intra, "inter": args.inter},
               "cpu_count": os.cpu_count(), "load_average": os.getloadavg(),
               "versions": results.library_versions()}
    results.write_json(args.json, payload)
    print(f"{'recipe':>20} {'width':>6} {'size':>5} {'s/step':>8} {'GFLOP/step':>11} "
          f"{'GFLOP/s':>8} {'peak':>7} {'of peak':>8} {'input':>6}")
    for r in rows:
        print(f"{r['recipe']:>20} {r['width']:>6} {r['size']:>5} {r['seconds_per_step']:>8.3f} "
              f"{r['gflop_per_step']:>11.1f} {r['achieved_gflops']:>8.1f} "
              f"{r['matmul_peak_gflops']:>7.1f} {r['fraction_of_peak']:>8.1%} "
              f"{r['input_share']:>6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
