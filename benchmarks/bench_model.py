"""Generator forward throughput against the machine's float32 matmul peak.

Usage: ``python benchmarks/bench_model.py [--json PATH] [--repeats N]``

1. Peak: the best of a few 4096x4096 float32 products through TensorFlow
   (2 * 4096^3 FLOP each), the practical ceiling of dense float32 work here, measured
   before and after the generator runs (the better of the two is used).
2. The generator's forward pass (inference mode, batch 1, ``tf.function``) at widths
   1.0 and 0.25 and sizes 256 and 1024, timed in the same run; FLOPs are the analytic
   count of :func:`semgan_core.flops.count_flops`. The best of ``--repeats`` timings
   is reported, after one warm-up call (tracing).

Prints a table with the fraction of peak and writes JSON (default
``bench_model.json`` in the current folder). On a shared machine, numbers vary with
the load of other users: compare runs taken back to back.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from semgan_core import flops, models, results  # noqa: E402

MATMUL_N = 4096


def best_time(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` (each result is forced to host)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(fn())
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_peak(repeats: int) -> dict:
    """Float32 GFLOP/s of a 4096x4096 product, best of ``repeats`` (after a warm-up)."""
    a = tf.random.stateless_normal((MATMUL_N, MATMUL_N), seed=(0, 1))
    b = tf.random.stateless_normal((MATMUL_N, MATMUL_N), seed=(0, 2))
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product()
    seconds = best_time(product, repeats)
    return {"n": MATMUL_N, "seconds": seconds, "gflops": 2 * MATMUL_N ** 3 / seconds / 1e9}


def generator_throughput(width: float, size: int, repeats: int) -> dict:
    """Forward GFLOP/s of the generator at ``width`` on one ``size`` x ``size`` image."""
    generator = models.build_generator(width)
    x = tf.random.stateless_uniform((1, size, size, 1), seed=(1, 0), minval=-1.0, maxval=1.0)
    forward = tf.function(lambda: generator(x, training=False))
    forward()
    seconds = best_time(forward, repeats)
    gflop = flops.count_flops(generator, size) / 1e9
    return {"width": width, "size": size, "gflop": gflop, "seconds": seconds,
            "gflops": gflop / seconds}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="bench_model.json", help="output JSON path")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per case")
    parser.add_argument("--widths", type=float, nargs="+", default=[1.0, 0.25])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    args = parser.parse_args(argv)

    before = matmul_peak(args.repeats)
    rows = [generator_throughput(w, s, args.repeats) for w in args.widths for s in args.sizes]
    after = matmul_peak(args.repeats)        # again: other users' load changes over the run
    peak = max(before, after, key=lambda p: p["gflops"])
    for row in rows:
        row["fraction_of_peak"] = row["gflops"] / peak["gflops"]
    devices = [d.device_type for d in tf.config.list_physical_devices()]
    print(f"float32 matmul peak ({MATMUL_N}x{MATMUL_N}): {peak['gflops']:.1f} GFLOP/s "
          f"(before {before['gflops']:.1f}, after {after['gflops']:.1f}) on "
          f"{', '.join(devices)}, {os.cpu_count()} logical CPUs; shared machines vary")
    print(f"{'width':>6s} {'size':>5s} {'GFLOP':>8s} {'time (s)':>9s} {'GFLOP/s':>8s} "
          f"{'of peak':>8s}")
    for row in rows:
        print(f"{row['width']:6.2f} {row['size']:5d} {row['gflop']:8.2f} {row['seconds']:9.4f}"
              f" {row['gflops']:8.1f} {row['fraction_of_peak']:8.1%}")
    payload = {"peak": peak, "peak_before": before, "peak_after": after,
               "generator_forward": rows, "devices": devices,
               "cpu_count": os.cpu_count(), "machine": platform.machine(),
               "processor": platform.processor(), "versions": results.library_versions(),
               "repeats": args.repeats}
    results.write_json(args.json, payload)
    print(f"wrote {args.json}")
    return payload


if __name__ == "__main__":
    main()
