"""Whole-image inference: a trained generator applied to a micrograph of any size.

The generator only takes sides that are multiples of 128 (:func:`checks.check_input_size`)
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

:func:`deblur_file` adds file handling: the input's bit depth and used bits kept, a
TIFF's instrument tags carried over (:mod:`semgan_core.tiffmeta`), the info bar with its
frame line passed through untouched (:func:`semgan_core.databar.bar_top`) and the
specimen above it restored on its own, so that the padding at the bar's edge mirrors the
specimen, not the bar. Generators are loaded by :mod:`semgan_core.generators`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from semgan_core import databar, fileformats, images, tiffmeta
from semgan_core.checks import SIZE_MULTIPLE, check_choice, check_int, check_size_multiple

#: Smallest height and width :func:`deblur` accepts.
MIN_SIDE = 16
#: Default tile side (the training crop size) and overlap between tiles, in pixels.
TILE = 256
OVERLAP = 32


def check_options(tile=TILE, overlap=OVERLAP, batch_size=4, *, func="deblur"):
    """Validate the tiling options of :func:`deblur`; return them as ints.

    Raises
    ------
    ValueError
        Naming ``func`` and the option: a tile that is not a positive multiple of 128,
        an overlap outside 0 to ``tile / 2``, a batch size below 1.
    """
    tile = check_size_multiple(func, "tile", tile)
    overlap = check_int(func, "overlap", overlap, low=0)
    if overlap > tile // 2:
        raise ValueError(f"{func}: overlap must be between 0 and tile / 2 = {tile // 2}, "
                         f"got {overlap}")
    return tile, overlap, check_int(func, "batch_size", batch_size, low=1)


def covering_tile(shape) -> int:
    """The smallest tile side (a multiple of 128, at most :data:`TILE`) that covers an
    image of ``shape`` in one tile: how test crops are restored whole."""
    return int(min(TILE, SIZE_MULTIPLE * math.ceil(max(shape) / SIZE_MULTIPLE)))


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
    if hasattr(model, "predict_on_batch"):  # a keras.Model
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
        :func:`semgan_core.generators.load_generator` or :func:`models.build_generator`).
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
    tile, overlap, batch_size = check_options(tile, overlap, batch_size)
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


def deblur_file(model, in_path, out_path, *, crop_databar=False, bit_depth=None,
                bits="auto", tile=TILE, overlap=OVERLAP, batch_size=4):
    """Restore a micrograph file and write the result.

    Parameters
    ----------
    model : keras.Model or callable
        As :func:`deblur`.
    in_path : str or os.PathLike
        Any file :func:`images.read_image` reads, at least 16 pixels on each side.
    out_path : str or os.PathLike
        ``.tif``, ``.tiff`` or ``.png``; never the input file. Written atomically. A
        TIFF written from a TIFF carries its instrument tags (:mod:`semgan_core.tiffmeta`).
    crop_databar : bool, optional
        Drop the instrument's info bar (and every row below it) from the output. When
        False (default), the bar found by :func:`databar.bar_top` (frame line included)
        is passed through: the rows above it are restored on their own and the rows
        from the bar down are the input's, unchanged.
    bit_depth : {None, 8, 16}, optional
        Output container; default that of the input (16 for 16-bit and float files).
    bits : 'auto', None or int, optional
        Bits used in a 16-bit input (:func:`images.read_image`); default detected. The
        output stores values in the same range (a 12-bit input gives 12-bit output).
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
        Naming the file: unreadable, too small, values above ``bits``, or ``out_path``
        is the input.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.resolve() == in_path.resolve() or (
            out_path.exists() and in_path.exists() and os.path.samefile(in_path, out_path)):
        raise ValueError(f"deblur_file: refusing to overwrite the input {in_path}; choose "
                         "another output path")
    check_choice("deblur_file", "output extension", out_path.suffix.lower(),
                 images.WRITE_EXTENSIONS)
    check_choice("deblur_file", "bit_depth", bit_depth, (None, 8, 16))
    if bits not in (None, "auto"):
        check_int("deblur_file", "bits", bits, low=1, high=16)
    options = dict(zip(("tile", "overlap", "batch_size"),
                       check_options(tile, overlap, batch_size, func="deblur_file")))
    image = images.read_image(in_path, crop_databar=crop_databar, min_side=MIN_SIDE,
                              bits=bits)
    container, used = fileformats.stored_depth(in_path, bits=bits)
    if bit_depth is not None and bit_depth != container:
        container, used = bit_depth, bit_depth
    top = None if crop_databar else databar.bar_top(image)
    if top is None:
        restored = deblur(model, image, **options)
    else:  # restore the specimen above the bar on its own; keep the bar's rows
        restored = image.copy()
        above = image[:top] if top >= MIN_SIDE else image
        restored[:top] = deblur(model, above, **options)[:top]
    tags = None
    if out_path.suffix.lower() != ".png" and in_path.suffix.lower() in (".tif", ".tiff"):
        tags = tiffmeta.read_tags(in_path)
    return images.write_image(out_path, restored, bit_depth=container, bits=used,
                              tiff_tags=tags)
