"""Whole-image inference: a trained generator applied to a micrograph of any size.

The generator only takes sides that are multiples of 128 (:func:`models.check_input_size`)
and was trained on 256 x 256 crops, so :func:`deblur` splits a micrograph into
overlapping square tiles, runs them in batches and blends them back (CSBDeep style: the
caller passes an image and gets an image):

1. the image is mapped to the model range with :func:`images.to_model_range` (the only
   conversion) and mirror-padded (``numpy.pad(mode="reflect")``) so that the tiles cover
   it with at least ``overlap / 2`` pixels of context on each side (an image no larger
   than a tile is centred in one tile);
2. tiles of ``tile`` pixels start every ``tile - overlap`` pixels;
3. each tile's output is weighted by a separable raised-cosine window: 1 in the middle,
   rising as ``(1 - cos)/2`` over the first and last ``overlap`` pixels. Two such ramps
   sum to 1 where neighbouring tiles overlap, so the blend is a cross-fade that hides
   the tiles' borders (where the network sees zero padding) and the result is divided
   by the summed weight, so an identity model gives the input back exactly.

:func:`deblur_file` adds file handling (bit depth kept, the instrument's info bar passed
through) and :func:`load_generator` reads a saved generator.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

import keras

from semgan_core import filtergen, images, models  # noqa: F401 - register layers for loading

#: Smallest height and width :func:`deblur` accepts.
MIN_SIDE = 16
#: Default tile side (the training crop size) and overlap between tiles, in pixels.
TILE = 256
OVERLAP = 32
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "F")


def _check_int(func, name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{func}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_options(tile, overlap, batch_size):
    """Validate the tiling options of :func:`deblur`."""
    tile = _check_int("deblur", "tile", tile, models.SIZE_MULTIPLE)
    if tile % models.SIZE_MULTIPLE:
        raise ValueError(f"deblur: tile must be a multiple of {models.SIZE_MULTIPLE} (the "
                         f"generator's input multiple), got {tile}")
    overlap = _check_int("deblur", "overlap", overlap, 0)
    if overlap > tile // 2:
        raise ValueError(f"deblur: overlap must be between 0 and tile / 2 = {tile // 2}, "
                         f"got {overlap}")
    return tile, overlap, _check_int("deblur", "batch_size", batch_size, 1)


def _layout(length, tile, overlap):
    """Tile starts along one axis and the (before, after) padding that they need."""
    step = tile - overlap
    n = 1 if length <= tile else math.ceil((length + overlap - tile) / step) + 1
    total = tile + (n - 1) * step
    before = (total - length) // 2
    return [k * step for k in range(n)], (before, total - length - before)


def _window(tile, overlap):
    """Separable raised-cosine blending weights, shape (tile, tile), all positive."""
    ramp = np.ones(tile)
    if overlap:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
        ramp[:overlap], ramp[tile - overlap:] = rise, rise[::-1]
    return np.outer(ramp, ramp)


def _predict(model, batch):
    """Run the model on a (B, h, w, 1) float32 batch; return a NumPy array."""
    if isinstance(model, keras.Model):
        out = model.predict_on_batch(batch)  # compiled once per batch shape
    else:
        out = model(batch)
    out = np.asarray(out, dtype=np.float32)
    if out.shape != batch.shape:
        raise ValueError(f"deblur: the model must return its input's shape, got {out.shape} "
                         f"for input {batch.shape}")
    return out


def deblur(model, image, *, tile=TILE, overlap=OVERLAP, batch_size=4):
    """Restore a whole micrograph with a generator, tile by tile.

    Parameters
    ----------
    model : keras.Model or callable
        Maps (B, tile, tile, 1) float32 in [-1, 1] to the same shape (a generator from
        :func:`load_generator` or :func:`models.build_generator`).
    image : array_like, shape (H, W)
        Anything :func:`images.as_image` accepts, with ``H, W >= 16``.
    tile : int, optional
        Tile side in pixels, a multiple of 128 (default 256, the training crop size).
    overlap : int, optional
        Overlap of neighbouring tiles in pixels, 0 to ``tile / 2`` (default 32).
    batch_size : int, optional
        Tiles per model call.

    Returns
    -------
    restored : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    ValueError
        For an invalid image, a side below 16, invalid tiling options, or a model that
        does not return its input's shape.

    Notes
    -----
    The module docstring describes the padding and the blending.

    Examples
    --------
    >>> g = models.build_generator(0.0625)  # doctest: +SKIP
    >>> deblur(g, np.zeros((200, 333), np.float32)).shape  # doctest: +SKIP
    (200, 333)
    """
    image = images.as_image(image, name="deblur(image)")
    tile, overlap, batch_size = _check_options(tile, overlap, batch_size)
    if min(image.shape) < MIN_SIDE:
        raise ValueError(f"deblur: image is {image.shape[0]}x{image.shape[1]} pixels; the "
                         f"minimum is {MIN_SIDE} pixels on each side")
    (ys, pad_y), (xs, pad_x) = (_layout(n, tile, overlap) for n in image.shape)
    padded = np.pad(images.to_model_range(image), (pad_y, pad_x), mode="reflect")
    corners = [(y, x) for y in ys for x in xs]
    weight = _window(tile, overlap)
    total = np.zeros(padded.shape)
    norm = np.zeros(padded.shape)
    for i in range(0, len(corners), batch_size):
        chunk = corners[i:i + batch_size]
        batch = np.stack([padded[y:y + tile, x:x + tile] for y, x in chunk])[..., None]
        out = images.from_model_range(_predict(model, batch))[..., 0]
        for (y, x), tile_out in zip(chunk, out):
            total[y:y + tile, x:x + tile] += weight * tile_out
            norm[y:y + tile, x:x + tile] += weight
    restored = total / norm
    restored = restored[pad_y[0]:pad_y[0] + image.shape[0], pad_x[0]:pad_x[0] + image.shape[1]]
    return np.clip(restored, 0.0, 1.0).astype(np.float32)


def load_generator(path, *, width=None, bottleneck_norm=None):
    """Load a trained generator.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.keras`` file (architecture and weights, as :func:`train.train` writes
        ``RUN_DIR/generator_G.keras``; residual generators included), or a
        ``.weights.h5`` file of weights only, for a plain
        :func:`models.build_generator` network.
    width, bottleneck_norm : optional
        The architecture of a ``.weights.h5`` file (``width`` required there;
        ``bottleneck_norm`` None means :func:`models.build_generator`'s default); ignored
        for ``.keras`` files, which carry their own.

    Returns
    -------
    model : keras.Model
        (N, H, W, 1) float32 in [-1, 1] to the same shape, sides multiples of 128.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        Naming the path: another extension, ``.weights.h5`` without ``width``, or a
        file that cannot be loaded (corrupt, or weights of another architecture).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_generator: no such file: {path} (expected a .keras "
                                "generator, e.g. RUN_DIR/generator_G.keras, or .weights.h5)")
    name = path.name.lower()
    if not name.endswith((".keras", ".weights.h5")):
        raise ValueError(f"load_generator: {path}: expected a .keras or .weights.h5 file")
    if name.endswith(".weights.h5") and width is None:
        raise ValueError(f"load_generator: {path} holds weights only; pass width= (and "
                         "bottleneck_norm=) of the generator that was trained")
    try:
        if name.endswith(".keras"):
            return keras.saving.load_model(path, compile=False)
        norm = {} if bottleneck_norm is None else {"bottleneck_norm": bottleneck_norm}
        model = models.build_generator(width, **norm)
        model.load_weights(path)
        return model
    except Exception as exc:  # noqa: BLE001 - any loader failure means a bad file here
        raise ValueError(f"load_generator: cannot load {path}: {type(exc).__name__}: "
                         f"{exc}") from exc


def _bit_depth(path):
    """16 for 16-bit or float TIFF/PNG files, else 8 (what deblur_file writes back)."""
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        with tifffile.TiffFile(path) as tif:
            dtype = tif.series[0].dtype
        return 16 if dtype.itemsize > 1 else 8
    with Image.open(path) as img:
        return 16 if img.mode in _SIXTEEN_BIT_MODES else 8


def deblur_file(model, in_path, out_path, *, crop_databar=False, bit_depth=None,
                tile=TILE, overlap=OVERLAP, batch_size=4):
    """Restore a micrograph file and write the result.

    Parameters
    ----------
    model : keras.Model or callable
        As :func:`deblur`.
    in_path : str or os.PathLike
        Any file :func:`images.read_image` reads, at least 16 pixels on each side.
    out_path : str or os.PathLike
        ``.tif``, ``.tiff`` or ``.png``; never the input file. Written atomically.
    crop_databar : bool, optional
        Drop the instrument's info bar (and every row below it) from the output. When
        False (default), a bar found by :func:`images.find_databar` is passed through:
        only the rows above it are restored, and the rows from the bar's first row down
        are copied from the input unchanged.
    bit_depth : {None, 8, 16}, optional
        Output bit depth; default that of the input (16 for 16-bit and float files).
    tile, overlap, batch_size : int, optional
        As :func:`deblur`.

    Returns
    -------
    out_path : pathlib.Path

    Raises
    ------
    FileNotFoundError
        If ``in_path`` does not exist.
    ValueError
        Naming the file: unreadable, too small, or ``out_path`` is the input.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.exists() and in_path.exists() and os.path.samefile(in_path, out_path):
        raise ValueError(f"deblur_file: refusing to overwrite the input {in_path}; choose "
                         "another output path")
    if out_path.suffix.lower() not in images.WRITE_EXTENSIONS:
        raise ValueError(f"deblur_file: {out_path}: unsupported output extension "
                         f"{out_path.suffix!r}; supported: {', '.join(images.WRITE_EXTENSIONS)}")
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"deblur_file: bit_depth must be None, 8 or 16, got {bit_depth!r}")
    image = images.read_image(in_path, crop_databar=crop_databar, min_side=MIN_SIDE)
    depth = _bit_depth(in_path) if bit_depth is None else bit_depth
    row = None if crop_databar else images.find_databar(image)
    options = dict(tile=tile, overlap=overlap, batch_size=batch_size)
    if row is None:
        restored = deblur(model, image, **options)
    else:  # restore the specimen above the bar; keep the bar's rows as they are
        restored = image.copy()
        above = image[:row] if row >= MIN_SIDE else image
        restored[:row] = deblur(model, above, **options)[:row]
    return images.write_image(out_path, restored, bit_depth=depth)
