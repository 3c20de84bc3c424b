"""Generator files: the one saver, the one loader and the names of the shipped models.

A generator file is a Keras ``.keras`` archive (a zip holding ``config.json``,
``metadata.json`` and ``model.weights.h5``) with one more member, ``semgan.json``: the
project's metadata (format, library version, generator class ``unet`` or ``filter``,
degradation A/B/C, training recipe, mode ``unpaired`` or ``paired``, model name and
label, and whatever a model card shows about its training). :func:`load_generator`
reads the archive's table of contents, its ``config.json`` and ``semgan.json`` *before*
Keras builds anything, so a missing, truncated or foreign file is refused with one line
that says what the file is; only then is it loaded with ``safe_mode=True``.

The shipped models live in ``weights/`` under the names of :data:`SHIPPED`
(``filter-unpaired-A`` is ``weights/filter_unpaired_A.keras``); :data:`DEFAULTS` names the
default model for each degradation: the noise-aware U-Net restorer
(:mod:`semgan_core.restorer`), ``unet-restorer-A`` for ``'A'``.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from semgan_core import __version__, results

#: Value of ``semgan.json``'s ``format`` key, and the archive member that holds it.
FORMAT = "semgan-generator/1"
MEMBER = "semgan.json"
GENERATOR_CLASSES = ("unet", "filter")
#: How a generator was trained: unpaired (the CycleGAN step), on real pairs of the same
#: field (the oracle), or on pairs synthesised from clear images alone (``restorer``).
MODES = ("unpaired", "paired", "synthesized-pairs")
DEGRADATIONS = ("A", "B", "C")
#: (generator class, mode) -> (model key, label used in tables, figures and cards).
MODEL_NAMES = {
    ("filter", "unpaired"): ("filter-unpaired", "filter, unpaired (CPU recipe)"),
    ("filter", "paired"): ("filter-paired", "filter, paired (oracle)"),
    ("unet", "unpaired"): ("unet-cyclegan", "U-Net CycleGAN (paper)"),
    ("unet", "paired"): ("unet-paired", "U-Net, paired (oracle)"),
    ("unet", "synthesized-pairs"): ("unet-restorer", "U-Net restorer (synthesised pairs)"),
    ("filter", "synthesized-pairs"): ("filter-restorer",
                                      "filter restorer (pairs synthesised from clear images)"),
}
#: Layer classes that semgan's generators are built from (the U-Net, its residual
#: wrapper and the filter generator); any other layer makes a file foreign.
LAYER_CLASSES = frozenset({
    "Functional", "InputLayer", "InputSizeCheck", "MultiBlock", "Conv2D", "Conv2DTranspose",
    "GroupNormalization", "LeakyReLU", "Concatenate", "Add", "LearnedFilter", "ToneField",
    "NoiseLevelMap", "ContrastGain",
})
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: Shipped model name -> file in :data:`WEIGHTS_DIR`.
SHIPPED = {f"{kind}-{d}": f"{kind.replace('-', '_')}_{d}.keras"
           for kind in ("unet-restorer", "filter-unpaired", "filter-paired")
           for d in DEGRADATIONS}
#: Default model per degradation (what ``deblur --model A`` uses).
DEFAULTS = {d: f"unet-restorer-{d}" for d in DEGRADATIONS}
#: Orientations a loaded model averages by default (:mod:`semgan_core.ensemble`), by
#: model key; 1 for any other.
ENSEMBLE = {"unet-restorer": 8}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def one_line(message) -> str:
    """``message`` as one line: ANSI escape codes removed, whitespace runs collapsed."""
    return " ".join(_ANSI.sub("", str(message)).split())


def model_name(metadata: dict) -> tuple[str, str]:
    """(key, label) of a generator from its metadata, e.g. ``("filter-unpaired", ...)``."""
    return MODEL_NAMES[(metadata["generator"], metadata["mode"])]


def _check_metadata(func: str, metadata) -> dict:
    """Validate the required keys; return a copy with format and versions filled in."""
    if not isinstance(metadata, dict):
        raise TypeError(f"{func}: metadata must be a dict, got {type(metadata).__name__}")
    meta = dict(metadata)
    for key, allowed in (("generator", GENERATOR_CLASSES), ("mode", MODES),
                         ("degradation", (*DEGRADATIONS, None))):
        if meta.get(key) not in allowed:
            raise ValueError(f"{func}: metadata[{key!r}] must be one of "
                             f"{', '.join(map(repr, allowed))}, got {meta.get(key)!r}")
    key, label = model_name(meta)
    meta.setdefault("name", key)
    meta.setdefault("label", label)
    meta.setdefault("recipe", None)
    meta["format"] = FORMAT
    meta.setdefault("semgan_version", __version__)
    return meta


def _copy_with_metadata(source: Path, target: Path, meta: dict) -> None:
    """Copy the archive ``source`` to ``target`` with ``semgan.json`` set to ``meta``.

    Every other member is copied byte for byte (weights unchanged)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename != MEMBER:
                dst.writestr(info, src.read(info.filename))
        text = json.dumps(results.jsonable(meta), indent=1, sort_keys=True)
        dst.writestr(MEMBER, text, compress_type=zipfile.ZIP_DEFLATED)


def save_generator(model, path, *, metadata: dict) -> Path:
    """Save a generator as a ``.keras`` file carrying semgan's metadata, atomically.

    Parameters
    ----------
    model : keras.Model
        A generator built by :func:`models.build_generator`, ``recipes.build_unet`` or
        :func:`filtergen.build_filter_generator`.
    path : str or os.PathLike
        Ending in ``.keras``; missing parent folders are made.
    metadata : dict
        At least ``generator`` (``'unet'`` or ``'filter'``), ``mode`` (``'unpaired'`` or
        ``'paired'``) and ``degradation`` (``'A'``, ``'B'``, ``'C'`` or None); optional
        ``recipe`` (the training recipe), ``name``, ``label`` (default from
        :data:`MODEL_NAMES`) and any JSON-able extras (e.g. ``training``).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        For another extension or invalid metadata.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"save_generator: {path}: the file name must end in .keras")
    meta = _check_metadata("save_generator", metadata)

    def write(tmp):
        plain = Path(tmp).with_name(Path(tmp).name + ".keras")  # Keras wants the suffix
        try:
            model.save(plain)
            _copy_with_metadata(plain, Path(tmp), meta)
        finally:
            plain.unlink(missing_ok=True)

    return results.atomic_write(path, write)


def write_metadata(path, metadata: dict) -> Path:
    """Set the metadata of an existing ``.keras`` file (weights copied byte for byte).

    The file is rewritten atomically; ``metadata`` as in :func:`save_generator`.
    """
    path = Path(path)
    meta = _check_metadata("write_metadata", metadata)
    _inspect(path, "write_metadata", require_metadata=False)
    return results.atomic_write(path, lambda tmp: _copy_with_metadata(path, Path(tmp), meta))


def _layer_classes(config: dict) -> list[str]:
    """Class names of a model config's layers, nested models included, in order."""
    found = []
    for layer in config.get("config", {}).get("layers", []):
        found.append(layer.get("class_name", "?"))
        if layer.get("config", {}).get("layers"):
            found += _layer_classes(layer)
    return list(dict.fromkeys(found))


def _inspect(path: Path, func: str, *, require_metadata: bool = True) -> dict | None:
    """Check a generator file without building it; return its metadata (or None)."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise FileNotFoundError(f"{func}: {what}: {path} (expected a .keras generator, e.g. "
                                "RUN_DIR/generator_G.keras or weights/filter_unpaired_A.keras)")
    if path.suffix != ".keras":
        raise ValueError(f"{func}: {path}: expected a .keras generator file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {"config.json", "model.weights.h5"} <= names or archive.testzip():
                raise zipfile.BadZipFile("members missing or damaged")
            config = json.loads(archive.read("config.json"))
            meta = json.loads(archive.read(MEMBER)) if MEMBER in names else None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise ValueError(f"{func}: {path} is not a valid .keras archive (truncated or "
                         f"corrupt): {one_line(exc)}") from None
    layers = _layer_classes(config)
    foreign = [name for name in layers if name not in LAYER_CLASSES]
    if (meta is None and require_metadata) or foreign:
        reason = (f"layers {', '.join(foreign)} that semgan's generators do not use"
                  if foreign else "no semgan metadata")
        raise ValueError(f"{func}: {path.name} is a Keras model but not a semgan generator: "
                         f"it has layers {', '.join(layers) or 'none'} and {reason} ({path})")
    if meta is not None and meta.get("format") != FORMAT:
        raise ValueError(f"{func}: {path}: semgan metadata of format "
                         f"{meta.get('format')!r} is not understood (expected {FORMAT!r})")
    return meta


def read_metadata(path) -> dict:
    """The semgan metadata of a generator file, checked as :func:`load_generator` does.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_generator`.
    """
    return _inspect(Path(path), "read_metadata")


def default_ensemble(meta: dict) -> int:
    """Orientations a generator with semgan metadata ``meta`` averages when loaded
    (:data:`ENSEMBLE` by its model name; 1 for any other)."""
    return ENSEMBLE.get(meta.get("name"), 1)


def load_generator(path, *, ensemble=None):
    """Load a semgan generator file, refusing anything else before Keras reads it.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file written by :func:`save_generator` (``RUN_DIR/generator_G.keras``
        from training, or a shipped model, :func:`shipped_path`).
    ensemble : {None, 1, 2, 4, 8}, optional
        Orientations of the input to average the outputs over
        (:func:`semgan_core.ensemble.self_ensemble`). ``None`` (default): the model's
        default in :data:`ENSEMBLE` (8 for the U-Net restorers, whose orientation-dependent
        grain the mean cuts; 1, the generator itself, for the others).

    Returns
    -------
    model : keras.Model
        (N, H, W, 1) float32 in [-1, 1] to the same shape, sides multiples of 128. With an
        ensemble above 1, a model that wraps the generator (same weights; not for saving).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        One line naming the file: not a valid .keras archive (truncated or corrupt); a
        Keras model that is not a semgan generator (no semgan metadata, or foreign
        layers: the message lists them); or a file Keras refuses to load in safe mode.
    """
    path = Path(path)
    meta = _inspect(path, "load_generator")
    if ensemble is None:
        ensemble = default_ensemble(meta)
    from semgan_core import ensemble as ensembles

    ensemble = ensembles.check_size("load_generator", ensemble)
    import keras

    from semgan_core import filtergen, models  # noqa: F401 - register the layer classes

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any loader failure means a bad file here
        raise ValueError(f"load_generator: cannot load {path}: {type(exc).__name__}: "
                         f"{one_line(exc)}") from None
    return ensembles.self_ensemble(model, ensemble)


def shipped_path(name: str) -> Path:
    """File of a shipped model: a name of :data:`SHIPPED` or a degradation of
    :data:`DEFAULTS` (``'A'`` is the default model for degradation A).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    key = DEFAULTS.get(name, name)
    if key not in SHIPPED:
        raise ValueError(f"shipped_path: unknown model {name!r}; expected one of "
                         f"{', '.join([*DEFAULTS, *SHIPPED])}")
    return WEIGHTS_DIR / SHIPPED[key]


def load_shipped(name: str, *, ensemble=None):
    """Load a shipped model by name (``'filter-unpaired-A'``, or ``'A'`` for the default);
    ``ensemble`` as in :func:`load_generator`.

    Raises
    ------
    ValueError
        For an unknown name; FileNotFoundError if its file is not in ``weights/``.
    """
    return load_generator(shipped_path(name), ensemble=ensemble)


def warm_start(model, path) -> None:
    """Set ``model``'s weights to those of the generator file ``path`` (a warm start).

    Parameters
    ----------
    model : keras.Model
        A freshly built generator (``cfg.init_generator`` in training).
    path : str or os.PathLike
        A generator ``.keras`` file (:func:`load_generator`) of the same architecture.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_generator`; ValueError (one line naming the file) when its weights
        do not fit ``model``: another architecture, width or input set.
    """
    source = load_generator(path, ensemble=1)
    want = [tuple(w.shape) for w in model.weights]
    got = [tuple(w.shape) for w in source.weights]
    if want != got:
        raise ValueError(f"warm_start: {path} does not fit the configured generator: "
                         f"{len(got)} weight arrays against {len(want)}, or other shapes "
                         f"(another architecture, width or input set?)")
    model.set_weights(source.get_weights())


def copy_generator(source, target, *, metadata: dict) -> Path:
    """Copy a generator file to ``target`` with new metadata (weights byte for byte)."""
    source, target = Path(source), Path(target)
    _inspect(source, "copy_generator", require_metadata=False)
    meta = _check_metadata("copy_generator", metadata)
    return results.atomic_write(target,
                                lambda tmp: _copy_with_metadata(source, Path(tmp), meta))

