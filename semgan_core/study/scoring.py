"""How the study scores a generator: PSNR and SSIM on held-out pairs, and the reference
lines every curve is read against.

A run's curve is G scored at step 0 (as initialised, built with the run's seed exactly
as the trainer builds it) and at each of its checkpoints, G alone restored from each;
the wall time at each point is the trainer's own clock (``state.json`` of the
checkpoint), so curves can also be read against seconds. Reference lines: the blurred
input, and the Wiener filter (:func:`semgan_core.baselines.wiener`) with each image's
true PSF (``degrade.kernel_from_info``) and with the assumed PSF
(``kernels.ASSUMED_PSF``).
"""

from __future__ import annotations

import numpy as np

from semgan_core import baselines, checkpoint, degrade, images, kernels, metrics

#: Names of the reference lines, as :func:`reference_lines` returns them.
REFERENCES = ("blurred", "wiener-true-psf", "wiener-assumed-psf")


def _mean_scores(restored, clean) -> dict[str, float]:
    """Mean PSNR and SSIM of restored images against their clean originals."""
    return {"psnr": float(np.mean([metrics.psnr(c, r) for c, r in zip(clean, restored)])),
            "ssim": float(np.mean([metrics.ssim(c, r) for c, r in zip(clean, restored)]))}


def reference_lines(blurred, clean, infos) -> dict[str, dict[str, float]]:
    """Mean PSNR / SSIM of the blurred input and of Wiener (true and assumed PSF).

    Parameters
    ----------
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1]
    infos : list of dict
        Degradation infos (``datasets.load_test_pairs``), for ``degrade.kernel_from_info``.

    Returns
    -------
    lines : dict
        ``{name: {"psnr": float, "ssim": float}}`` for each name in :data:`REFERENCES`.

    Raises
    ------
    ValueError
        If an image has no degradation info.
    """
    if any(info is None for info in infos):
        raise ValueError("reference_lines: every image needs its degradation info (the "
                         "dataset's manifest.json); got None")
    true = [baselines.wiener(b, degrade.kernel_from_info(i)) for b, i in zip(blurred, infos)]
    assumed = [baselines.wiener(b, kernels.ASSUMED_PSF) for b in blurred]
    return {"blurred": _mean_scores(blurred, clean),
            "wiener-true-psf": _mean_scores(true, clean),
            "wiener-assumed-psf": _mean_scores(assumed, clean)}


def score_generator(model, blurred, clean, *, batch_size=4) -> dict[str, float]:
    """Mean PSNR and SSIM of ``model`` (a generator, model range) on (blurred, clean) pairs.

    ``blurred`` and ``clean`` are (N, H, W) float32 in [0, 1], H and W multiples of 128.
    """
    restored = []
    for start in range(0, len(blurred), batch_size):
        x = images.to_model_range(np.asarray(blurred[start:start + batch_size]))[..., None]
        y = np.asarray(model(x, training=False), np.float32)[..., 0]
        restored.extend(images.from_model_range(y))
    return _mean_scores(restored, clean)


def curve(cfg, run_dir, blurred, clean) -> dict[str, list]:
    """Score G at step 0 (as initialised) and at every checkpoint of ``run_dir``.

    Returns
    -------
    curve : dict
        Equal-length lists ``steps``, ``seconds`` (the trainer's wall time), ``psnr``
        and ``ssim``.
    """
    import keras
    import tensorflow as tf

    from semgan_core import trainer

    keras.backend.clear_session()
    G = trainer.Trainer(cfg).models["G"]      # the trainer's own construction and seed
    points = {"steps": [0], "seconds": [0.0], **{k: [v] for k, v in
                                                 score_generator(G, blurred, clean).items()}}
    for step, folder in checkpoint.list_checkpoints(run_dir):
        tf.train.Checkpoint(G=G).read(str(folder / "ckpt")).expect_partial()
        scores = score_generator(G, blurred, clean)
        points["steps"].append(step)
        points["seconds"].append(float(checkpoint.read_state(folder)["wall_time_s"]))
        for key, value in scores.items():
            points[key].append(value)
    return points
