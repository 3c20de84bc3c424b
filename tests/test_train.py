"""The trainer: a run's files, bit-exact resume, refusals, signals, paired mode, options.

Each training session costs ~10 s of tracing and graph optimisation on 2 CPU cores
whatever its size, so the tests share runs: one 12-step run (``run12``) of the filter
recipe with the adversarial term and the study's discriminator options switched on is
the reference for the files, the resume and the refusals.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from semgan_core import (checkpoint, cli, config, datasets, gan, generators, imagepool,
                         images, optim, runguard, runlog, train, trainer)

ROOT = Path(__file__).resolve().parents[1]
# the study keys at non-default values (warm-up: test_warmup_...)
STUDY = dict(pool_size=2, disc_input="highpass", lambda_adv=0.5, lr_d_multiplier=2.0)
META = {"generator": "unet", "mode": "synthesized-pairs", "degradation": "A"}
COLUMNS = ["gen_total", "gan_g", "gan_f", "cycle", "identity", "edge", "disc_a", "disc_b",
           "spectral", "histogram"]


def _cfg(**overrides):
    settings = dict(steps=12, checkpoint_every=3, keep_checkpoints=2, sample_every=4,
                    log_every=1, deterministic=True, **STUDY)
    return config.get_config("smoke", **{**settings, **overrides})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "data"
    datasets.make_dataset(out, degradation="A", n_crops=6, n_source=2, size=256, seed=0,
                          progress=False)
    return out


@pytest.fixture(scope="module")
def determinism():
    """Runs of this module may switch op determinism on; switch it off afterwards."""
    from tensorflow.python.framework import config as tf_config   # no public 'disable'

    was_on = tf_config.is_op_determinism_enabled()
    yield
    if not was_on:
        tf_config.disable_op_determinism()


@pytest.fixture(scope="module")
def run12(dataset, determinism, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("train") / "run12"
    return run_dir, train.train(_cfg(), data_dir=dataset, run_dir=run_dir, progress=False)


def _checkpoint_tensors(folder):
    reader = tf.train.load_checkpoint(str(Path(folder) / "ckpt"))
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if k != "_CHECKPOINTABLE_OBJECT_GRAPH"}


# ---- a run and its files ------------------------------------------------------------------
def test_a_run_writes_checkpoints_losses_samples_report_and_generators(run12):
    run_dir, report = run12
    assert report["status"] == "finished" and report["steps"] == 12
    assert report["seconds_per_step"] > 0 and report["config"]["lambda_adv"] == 0.5
    assert json.loads((run_dir / "report.json").read_text())["steps"] == 12
    assert [s for s, _ in checkpoint.list_checkpoints(run_dir)] == [9, 12]    # keep 2
    state = checkpoint.read_state(checkpoint.latest_checkpoint(run_dir))
    assert state["step"] == 12 and state["seed"] == 0 and state["versions"]["tensorflow"]
    assert state["config"] == report["config"] and state["mode"] == "cyclegan"
    losses = runlog.read_losses(run_dir)
    assert list(losses) == ["step", "time_s", "lr", *COLUMNS]
    assert losses["step"].tolist() == list(range(1, 13))
    assert all(np.isfinite(v).all() for v in losses.values())
    assert [s for s, _ in runlog.list_samples(run_dir)] == [4, 8, 12]
    grid = images.read_image(runlog.sample_path(run_dir, 12))
    assert grid.shape == (256, 5 * 256 + 4 * 4)          # one test image: a G(a) FG(a) b F(b)
    assert any((run_dir / "tb").iterdir())


def test_the_saved_generator_reloads_and_restores(run12, dataset):
    run_dir, report = run12
    assert report["generator_path"] == str(run_dir / "generator_G.keras")
    generator = generators.load_generator(report["generator_path"])
    assert generators.load_generator(report["generator_F_path"]).name == "F"
    meta = generators.read_metadata(report["generator_path"])
    assert {k: meta[k] for k in ("generator", "mode", "degradation", "recipe", "role")} == {
        "generator": "filter", "mode": "unpaired", "degradation": "A", "recipe": "filter",
        "role": "G"}
    blurred, _, _, _ = datasets.load_test_pairs(dataset, n=1)
    x = images.to_model_range(blurred)[..., None]
    y = np.asarray(generator(x))
    assert y.shape == x.shape and np.isfinite(y).all()
    assert np.abs(y - x).max() < 0.5       # the identity at step 0: near it after 12 steps


def test_resume_6_plus_6_is_bit_identical_to_12(run12, dataset, tmp_path):
    run_dir = tmp_path / "run"
    first = train.train(_cfg(steps=6), data_dir=dataset, run_dir=run_dir, resume=True,
                        progress=False)             # --resume on an empty folder: fresh
    assert (first["start_step"], first["steps"]) == (0, 6)
    second = train.train(_cfg(), data_dir=dataset, run_dir=run_dir, resume=True,
                         progress=False)
    assert (second["start_step"], second["steps"]) == (6, 12)
    resumed = _checkpoint_tensors(checkpoint.step_dir(run_dir, 12))
    reference = _checkpoint_tensors(checkpoint.step_dir(run12[0], 12))
    assert resumed.keys() == reference.keys()
    assert any("pool_A" in k for k in reference) and any("optimizer_D_B" in k for k in reference)
    differ = [k for k in reference if not np.array_equal(reference[k], resumed[k])]
    assert not differ, differ[:5]
    ours, theirs = runlog.read_losses(run_dir), runlog.read_losses(run12[0])
    for name in COLUMNS:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_incompatible_resume_is_refused_naming_the_keys(run12, dataset):
    run_dir = run12[0]
    with pytest.raises(ValueError, match=r"lambda_adv: checkpoint 0.5, now 1.0; "
                                         r"width: checkpoint 0.125, now 0.25"):
        train.train(_cfg(width=0.25, lambda_adv=1.0), data_dir=dataset, run_dir=run_dir,
                    resume=True)
    with pytest.raises(ValueError, match=r"mode: checkpoint 'cyclegan', now 'paired'"):
        train.train(_cfg(), data_dir=dataset, run_dir=run_dir, resume=True, paired=True)


def test_an_existing_run_is_never_overwritten(run12, dataset, capsys):
    run_dir = run12[0]
    with pytest.raises(FileExistsError, match=r"already holds a run \(checkpoints up to "
                                              r"step 12\); pass --resume"):
        train.train(_cfg(), data_dir=dataset, run_dir=run_dir)
    status = cli.main(["train", "--profile", "smoke", "--data", str(dataset),
                       "--out", str(run_dir), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("semgan: error: train: ")


# ---- signals ------------------------------------------------------------------------------
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(dataset, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "semgan_core", "train", "--profile", "smoke", "--quiet",
               "--data", str(dataset), "--out", str(run_dir), "--set", "steps=1000",
               "--set", "checkpoint_every=1", "--set", "sample_every=0"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1"}
    env.pop("TF_CONFIG", None)
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not checkpoint.list_checkpoints(run_dir):
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "no checkpoint within 180 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "Traceback" not in err
    assert "semgan: interrupted by SIGTERM at step" in err and "--resume" in err
    report = json.loads((run_dir / "report.json").read_text())
    assert report["status"] == "interrupted" and report["interrupted"] == "SIGTERM"
    assert 1 <= report["steps"] < 1000 and report["generator_path"] is None
    assert checkpoint.list_checkpoints(run_dir)[-1][0] == report["steps"]


# ---- paired mode and options --------------------------------------------------------------
def test_paired_mode_trains_the_supervised_oracle_in_mixed_precision(dataset, tmp_path):
    cfg = config.get_config("smoke", steps=2, checkpoint_every=2, sample_every=2,
                            mixed_precision=True)
    report = train.train(cfg, data_dir=dataset, run_dir=tmp_path, paired=True,
                         progress=False)
    assert report["mode"] == "paired" and report["steps"] == 2
    assert report["generator_F_path"] is None and Path(report["generator_path"]).is_file()
    losses = runlog.read_losses(tmp_path)
    assert list(losses)[3:] == ["total", "l1", "ssim_loss", "log_mse"]
    assert all(np.isfinite(v).all() for v in losses.values())
    np.testing.assert_allclose(losses["total"], losses["l1"] + losses["ssim_loss"], rtol=1e-4)
    assert images.read_image(runlog.sample_path(tmp_path, 2)).shape == (256, 3 * 256 + 2 * 4)


def test_warmup_trains_only_the_generators(dataset):
    """With the adversarial term on, a warm-up step moves G and F only; the next step,
    past the warm-up, moves the discriminators too."""
    run = trainer.Trainer(config.get_config("smoke", lambda_adv=1.0, warmup_steps=1))
    batches = iter(run.dataset(dataset))

    def step(warmup):
        before = {k: [w.numpy().copy() for w in run.models[k].weights] for k in run.models}
        out = {k: float(v) for k, v in run.train_step(*next(batches), warmup=warmup).items()}
        moved = {name for name, weights in before.items()
                 if any(not np.array_equal(w, v.numpy())
                        for w, v in zip(weights, run.models[name].weights))}
        return out, moved

    out, moved = step(warmup=True)
    assert moved == {"G", "F"}
    assert set(out) == {"gen_total", "cycle", "identity", "edge", "spectral", "histogram"}
    assert np.isfinite(list(out.values())).all()
    out, moved = step(warmup=False)
    assert moved == {"G", "F", "D_A", "D_B"}
    assert set(out) == set(COLUMNS) and np.isfinite(list(out.values())).all()


def test_image_pool_stores_then_swaps_deterministically():
    def run(seed):
        pool = imagepool.ImagePool(2, (1, 1, 1), seed=seed)
        return [float(pool.query(tf.fill((1, 1, 1, 1), float(i)))[0, 0, 0, 0])
                for i in range(12)], pool

    outs, pool = run(0)
    assert outs[:2] == [0.0, 1.0] and int(pool.seen) == 12
    assert all(o == i or o < i for i, o in enumerate(outs))   # new, or an older image
    assert any(o < i for i, o in enumerate(outs[2:], 2))       # some swaps happened
    assert run(0)[0] == outs


def test_lr_factor_decays_linearly_over_the_second_half():
    cfg = config.get_config("smoke", lr_decay=True)
    assert [optim.lr_factor(cfg, s, 10) for s in (0, 4, 5, 6, 9)] == [1, 1, 1, 0.8, 0.2]
    assert optim.lr_factor(config.get_config("smoke"), 9, 10) == 1.0


def test_highpass_keeps_detail_and_removes_flat_areas():
    flat = tf.fill((1, 32, 32, 1), 0.3)
    np.testing.assert_allclose(gan.highpass(flat).numpy(), 0, atol=1e-6)
    edge = tf.concat([tf.zeros((1, 32, 16, 1)), tf.ones((1, 32, 16, 1))], axis=2)
    detail = gan.highpass(edge).numpy()[0, :, :, 0]
    assert detail[:, 15].max() < 0 < detail[:, 16].min() and detail[:, :8].max() == 0


def test_fused_adam_matches_keras_adam():
    import keras

    start = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    variables = [keras.Variable(start), keras.Variable(start)]
    optimizers = [keras.optimizers.Adam(1e-2, beta_1=0.5), optim.FusedAdam(1e-2, beta_1=0.5)]
    for step in range(4):
        grad = tf.constant(np.random.default_rng(step).normal(size=(4, 3)), tf.float32)
        for opt, var in zip(optimizers, variables):
            opt.apply([grad], [var])
    np.testing.assert_allclose(variables[1].numpy(), variables[0].numpy(), atol=1e-6)
    assert int(optimizers[1].iterations) == 4


def test_residual_generator_starts_at_the_identity():
    """The paper's recipe with residual=True: G(x) = x + U-Net(x), the U-Net's output
    layer zero-initialised, so G is exactly the identity before training (a U-Net with
    its usual initialisation is not)."""
    cfg = config.get_config("smoke", recipe="paper", residual=True)
    run = trainer.Trainer(cfg, paired=True)
    assert run.models["G"].get_layer("residual") is not None
    x = tf.random.stateless_uniform((1, 256, 256, 1), seed=(1, 2), minval=-1, maxval=1)
    np.testing.assert_array_equal(run.models["G"](x).numpy(), x.numpy())
    plain = trainer.Trainer(cfg.replace(residual=False), paired=True).models["G"]
    assert not np.array_equal(plain(x).numpy(), x.numpy())


def test_init_generator_warm_starts_g_from_a_saved_generator(tmp_path):
    """``init_generator``: G starts with the saved file's weights (not the seed's), and a
    file of another architecture is refused with one line naming it."""
    cfg = config.get_config("smoke", recipe="paper", seed=1)
    source = trainer.Trainer(cfg.replace(seed=2), paired=True).models["G"]
    path = generators.save_generator(source, tmp_path / "g.keras",
                                     metadata=META)
    warm = trainer.Trainer(cfg.replace(init_generator=str(path)), paired=True).models["G"]
    cold = trainer.Trainer(cfg, paired=True).models["G"]
    x = tf.random.stateless_uniform((1, 256, 256, 1), seed=(3, 4), minval=-1, maxval=1)
    np.testing.assert_array_equal(warm(x).numpy(), source(x).numpy())
    assert not np.array_equal(cold(x).numpy(), source(x).numpy())
    wider = trainer.Trainer(cfg.replace(width=0.25), paired=True).models["G"]
    other = generators.save_generator(wider, tmp_path / "wide.keras",
                                      metadata=META)
    with pytest.raises(ValueError, match=r"wide\.keras does not fit the configured generator"):
        trainer.Trainer(cfg.replace(init_generator=str(other)), paired=True)
    with pytest.raises(FileNotFoundError):
        trainer.Trainer(cfg.replace(init_generator=str(tmp_path / "none.keras")), paired=True)


@pytest.mark.parametrize("l1, ssim, psnr", [(1.0, 1.0, 0.0), (1.0, 0.25, 0.0),
                                            (1.0, 0.0, 0.0), (0.0, 1.0, 0.5), (2.0, 0.0, 1.0)])
def test_paired_loss_is_the_weighted_sum_of_its_terms(l1, ssim, psnr):
    cfg = config.get_config("smoke", recipe="paper", residual=True, paired_l1=l1,
                            paired_ssim=ssim, paired_psnr=psnr)
    run = trainer.Trainer(cfg, paired=True)
    clean = tf.random.stateless_uniform((2, 256, 256, 1), seed=(3, 4), minval=-1, maxval=1)
    blurred = clean * tf.constant([0.5, 0.9])[:, None, None, None]  # G starts as the identity
    terms = {k: float(v) for k, v in run._paired_step(blurred, clean).items()}
    error = (blurred - clean).numpy() / 2                              # on [0, 1] images
    assert terms["l1"] == pytest.approx(float(np.abs(error).mean()), rel=1e-5)
    assert terms["ssim_loss"] > 0.1
    # the mean over crops of log10(MSE + floor): -PSNR / 10 of each crop, averaged
    mse = (error ** 2).mean(axis=(1, 2, 3))
    assert terms["log_mse"] == pytest.approx(float(np.log10(mse + 1e-5).mean()), rel=1e-5)
    assert terms["total"] == pytest.approx(
        l1 * terms["l1"] + ssim * terms["ssim_loss"] + psnr * terms["log_mse"], rel=1e-5)


def test_log_mse_weighs_each_crop_in_decibels():
    """Halving a small error gains as much as halving a large one; the floor caps it."""
    cfg = config.get_config("smoke", recipe="paper", residual=True, paired_l1=0.0,
                            paired_ssim=0.0, paired_psnr=1.0, paired_mse_floor=1e-12)
    clean = tf.zeros((2, 128, 128, 1))

    def term(errors):    # a new trainer each time: a step updates G, which must stay x -> x
        run = trainer.Trainer(cfg, paired=True)
        blurred = clean + 2 * tf.constant(errors)[:, None, None, None]   # model range: x2
        return float(run._paired_step(blurred, clean)["log_mse"])

    terms = [term(e) for e in ([0.02, 0.2], [0.01, 0.2], [0.02, 0.1])]
    assert terms[0] - terms[1] == pytest.approx(terms[0] - terms[2], rel=1e-4)
    assert terms[0] - terms[1] == pytest.approx(np.log10(4) / 2, rel=1e-4)


@pytest.mark.parametrize("key, value", [("paired_ssim", 0.5), ("paired_l1", 0.0),
                                        ("paired_psnr", 1.0), ("paired_mse_floor", 1e-4)])
def test_paired_loss_settings_are_refused_for_the_cyclegan(key, value):
    cfg = config.get_config("smoke", recipe="paper", **{key: value})
    with pytest.raises(ValueError, match=rf"Trainer: {key}={value:g} would be ignored"):
        trainer.Trainer(cfg)
    assert trainer.Trainer(cfg.replace(**{key: trainer.PAIRED_DEFAULTS[key]})).mode == "cyclegan"


def test_an_empty_paired_loss_is_refused():
    cfg = config.get_config("smoke", recipe="paper", paired_l1=0, paired_ssim=0, paired_psnr=0)
    with pytest.raises(ValueError, match="Trainer: paired_l1, paired_ssim and paired_psnr are "
                                         "all 0"):
        trainer.Trainer(cfg, paired=True)


# ---- run folder and errors ----------------------------------------------------------------
def test_checkpoints_are_atomic_and_pruned(tmp_path):
    variable = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=variable)
    for step in range(1, 5):
        variable.assign(float(step))
        checkpoint.save(ckpt, tmp_path, step, {"config": {}}, keep=2)
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path)] == [3, 4]
    (tmp_path / "checkpoints" / ".tmp-step_000005-x").mkdir()      # killed mid-write
    (tmp_path / "checkpoints" / "step_000006").mkdir()             # no state.json
    assert checkpoint.prepare_run_dir(tmp_path, resume=True) == checkpoint.step_dir(tmp_path, 4)
    assert not (tmp_path / "checkpoints" / ".tmp-step_000005-x").exists()
    checkpoint.restore(ckpt, checkpoint.step_dir(tmp_path, 3))
    assert float(variable) == 3.0


@pytest.mark.parametrize("args, message", [
    (["--data", "{missing}"], "does not exist"),
    (["--data", "{data}", "--set", "widht=0.5"], "unknown key(s) 'widht'"),
    (["--data", "{data}", "--set", "image_size=128"], "the dataset's images are 256x256"),
])
def test_cli_errors_are_one_line_with_status_2(args, message, dataset, tmp_path, capsys):
    args = [a.format(missing=tmp_path / "none", data=dataset) for a in args]
    status = cli.main(["train", "--profile", "smoke", "--out", str(tmp_path / "run"),
                       "--quiet", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("semgan: error: ") and message in err[0]
    assert not (tmp_path / "run").exists()


# ---- damaged checkpoints, another dataset, a second run, a non-finite loss ----------------
def test_a_truncated_latest_checkpoint_is_reported_and_the_previous_one_used(
        run12, dataset, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(run12[0], run_dir)
    latest = checkpoint.step_dir(run_dir, 12)
    data_file = next(latest.glob("ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])          # killed while copying
    report = train.train(_cfg(), data_dir=dataset, run_dir=run_dir, resume=True,
                         progress=False)
    err = [line for line in capsys.readouterr().err.splitlines() if "step_000012" in line]
    assert len(err) == 1 and "cannot be read" in err[0] and "using the previous one" in err[0]
    assert (report["start_step"], report["steps"]) == (9, 12)
    assert (run_dir / "checkpoints" / "corrupt-step_000012").is_dir()
    resumed = _checkpoint_tensors(checkpoint.step_dir(run_dir, 12))
    reference = _checkpoint_tensors(checkpoint.step_dir(run12[0], 12))
    assert all(np.array_equal(reference[k], resumed[k]) for k in reference)


def test_resume_refuses_another_dataset_unless_allowed(run12, dataset, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(run12[0], run_dir)
    other = tmp_path / "other"
    datasets.make_dataset(other, degradation="A", n_crops=6, n_source=2, size=256, seed=5,
                          progress=False)
    with pytest.raises(ValueError, match=r"cannot resume, the checkpoint was trained on "
                                         r"another dataset .*--allow-other-data"):
        train.train(_cfg(), data_dir=other, run_dir=run_dir, resume=True, progress=False)
    sets = [f"--set={k}={v}" for k, v in _cfg().to_dict().items() if k != "profile"]
    status = cli.main(["train", "--profile", "smoke", "--data", str(other), "--out",
                       str(run_dir), "--resume", "--quiet", *sets])
    assert status == 2 and "another dataset" in capsys.readouterr().err
    moved = tmp_path / "moved"                      # the same dataset elsewhere: accepted
    shutil.copytree(dataset, moved)
    assert train.train(_cfg(), data_dir=moved, run_dir=run_dir, resume=True,
                       progress=False)["steps"] == 12
    report = train.train(_cfg(), data_dir=other, run_dir=run_dir, resume=True,
                         progress=False, allow_other_data=True)
    assert report["steps"] == 12 and report["dataset"]["path"] == str(other.resolve())


def test_a_second_run_into_the_same_folder_is_refused(dataset, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run_dir / runguard.LOCK_FILE).write_text(f"{holder.pid} {socket.gethostname()}\n")
        with pytest.raises(FileExistsError, match=rf"{run_dir} is in use by another training "
                                                  rf"run \(process {holder.pid} on "):
            train.train(_cfg(), data_dir=dataset, run_dir=run_dir, resume=True)
        assert (run_dir / runguard.LOCK_FILE).is_file()             # not taken
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "run" / runguard.LOCK_FILE
    lock.parent.mkdir()
    lock.write_text(f"{dead.pid} {socket.gethostname()}\n")
    with runguard.RunLock(lock.parent):
        assert lock.read_text().split()[0] == str(os.getpid())
        with pytest.raises(FileExistsError, match="is in use by another training run"):
            runguard.RunLock(lock.parent).__enter__()                # this process holds it
    assert not lock.exists() and lock.parent.is_dir()
    with runguard.RunLock(tmp_path / "new"):
        pass
    assert not (tmp_path / "new").exists()       # made for the run, removed when left empty


def test_a_non_finite_loss_stops_before_any_checkpoint_of_it(dataset, tmp_path,
                                                            monkeypatch):
    calls = []

    def fake_step(self, a, b, *, warmup=False):      # step 1 finite, step 2 NaN
        calls.append(1)
        value = 1.0 if len(calls) == 1 else float("nan")
        return {name: tf.constant(value) for name in self.loss_names}

    monkeypatch.setattr(trainer.Trainer, "train_step", fake_step)
    cfg = _cfg(steps=4, checkpoint_every=1, sample_every=0)
    with pytest.raises(train.NonFiniteLossError,
                       match=r"train: the loss became non-finite at step 2 \(gen_total=nan, "
                             r".*\); training stopped without saving it \(newest checkpoint: "
                             r"step 1\); lower learning_rate"):
        train.train(cfg, data_dir=dataset, run_dir=tmp_path / "run", progress=False)
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path / "run")] == [1]
    assert not (tmp_path / "run" / "generator_G.keras").exists()
    assert not (tmp_path / "run" / runguard.LOCK_FILE).exists()


@pytest.mark.parametrize("kind, mode, expected", [
    (None, "paired", ("unet-paired", "paired")),
    ("restorer-pairs", "paired", ("unet-restorer", "synthesized-pairs")),
    ("restorer-pairs", "cyclegan", ("unet-cyclegan", "unpaired")),
])
def test_generator_metadata_names_how_the_pairs_were_made(tmp_path, kind, mode, expected):
    """Pairs synthesised from clear images are not the oracle's real pairs of one field."""
    manifest = {"degradation": "A", **({"kind": kind} if kind else {})}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    cfg = config.get_config("smoke", recipe="paper")
    meta = train.generator_metadata(cfg, mode, tmp_path, "G")
    assert (generators.model_name(meta)[0], meta["mode"]) == expected
    assert meta["degradation"] == "A"
