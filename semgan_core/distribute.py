"""Where a training run executes: the distribution strategy, threads, the worker's role.

One device by default; several GPUs of one machine through ``MirroredStrategy``; several
machines through ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several
workers (one process per machine, each running the same command; the chief writes the
run folder).
"""

from __future__ import annotations

import functools
import json
import os
import warnings

import tensorflow as tf

from semgan_core import config


@functools.cache
def distribution_strategy() -> tf.distribute.Strategy:
    """The strategy for this process (made once; call it before other TensorFlow work).

    ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers (one
    process per machine, each running the same command), ``MirroredStrategy`` when
    several GPUs are visible, else the default one-device strategy.
    """
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def set_threads(cfg: config.Config) -> dict[str, int]:
    """Apply ``cfg.intra_op_threads`` / ``cfg.inter_op_threads`` (0: leave TensorFlow's).

    TensorFlow accepts them only before it runs its first operation; later, a differing
    setting is reported with a warning and training goes on with the current one.
    Returns the settings in force.
    """
    threading = tf.config.threading
    for name, value in (("intra_op", cfg.intra_op_threads), ("inter_op", cfg.inter_op_threads)):
        get = getattr(threading, f"get_{name}_parallelism_threads")
        if value and get() != value:
            try:
                getattr(threading, f"set_{name}_parallelism_threads")(value)
            except RuntimeError:
                warnings.warn(f"set_threads: {name}_threads={value} not applied: TensorFlow is "
                              f"already running (set it in a fresh process); using {get()} "
                              "(0: TensorFlow's default)", RuntimeWarning, stacklevel=3)
    return {"intra_op_threads": threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": threading.get_inter_op_parallelism_threads()}


def strategy_name(strategy) -> str:
    for kind in (tf.distribute.MultiWorkerMirroredStrategy, tf.distribute.MirroredStrategy):
        if isinstance(strategy, kind):
            return kind.__name__
    return "default"


def worker(strategy) -> tuple[bool, int]:
    """(is this the chief, task index) for the current process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True, 0
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    return task_type == "chief" or (not has_chief and task_id == 0), task_id
