"""Image files, decoded and encoded: the formats behind :func:`semgan_core.images.read_image`.

TIFF through tifffile (the only series, palette applied, stacks and multi-page files
refused, tifffile's own warnings muted), PNG, JPEG and BMP through Pillow (palette
applied, alpha dropped, Pillow's 32-bit mode for 16-bit files narrowed); colour becomes
gray with PIL's "L" weights. Pixels come back in the file's dtype: the conversion to the
float32 [0, 1] contract is :mod:`semgan_core.images`' job. Also the bit depth of a file
(:func:`stored_depth`, :func:`used_bits`) and the writers of 8/16-bit gray TIFF (with the
carried instrument tags of :mod:`semgan_core.tiffmeta`) and PNG.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from semgan_core import tiffmeta
from semgan_core.checks import check_int

#: File extensions :func:`semgan_core.images.read_image` reads.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
#: Used bit depths that ``bits="auto"`` chooses from for 16-bit containers.
USED_BITS = (8, 10, 12, 14, 16)

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, PIL "L"
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "F")  # Pillow's 16-bit and float


class StackError(Exception):
    """A TIFF with several full-size images (pages or series)."""


def check_path(path):
    """Reject missing files, folders, empty files and unknown extensions."""
    if path.is_dir():
        raise ValueError(f"read_image: {path} is a directory, not an image file")
    if not path.exists():
        raise FileNotFoundError(f"read_image: no such file: {path}")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ValueError(f"read_image: {path}: unsupported extension {path.suffix!r}; "
                         f"supported: {', '.join(IMAGE_EXTENSIONS)}")
    if path.stat().st_size == 0:
        raise ValueError(f"read_image: {path} is empty (0 bytes)")


def _to_gray(data):
    """(H, W, samples) to gray: luma weights for colour, keeping the dtype's scale."""
    if data.shape[-1] < 3:  # gray (+ alpha)
        return data[..., 0]
    gray = data[..., :3].astype(np.float32) @ _LUMA
    if data.dtype.kind in "ui":
        return (gray / np.iinfo(data.dtype).max).astype(np.float32)
    return gray


@contextlib.contextmanager
def _quiet_tifffile():
    """Mute tifffile's logger: its warnings on bad files would be a second stderr line."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def read_tiff(path):
    """Pixels of a TIFF's only series, gray; palette applied; stacks kept 3-D."""
    with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
        if len(tif.pages) == 0 or not tif.series:  # tifffile only logs a bad offset
            raise ValueError("no image in the file (bad header or first-page offset)")
        full = [s for s in tif.series if not s.keyframe.subfiletype & 1]  # not reduced
        if len(full) > 1:
            raise StackError(f"holds {len(full)} images (multi-page TIFF)")
        series, page = tif.series[0], tif.pages[0]
        data = series.asarray()
        palette = page.photometric == tifffile.PHOTOMETRIC.PALETTE
        cmap = np.moveaxis(page.colormap, 0, -1) if palette else None  # (2**bits, 3)
    if data.size == 0:
        raise ValueError("no pixel data")
    if "S" in series.axes:
        return _to_gray(np.moveaxis(data, series.axes.index("S"), -1))
    if palette and data.ndim == 2:
        return _to_gray((cmap.astype(np.uint8) if cmap.max() < 256 else cmap)[data])
    return data


def read_pillow(path):
    """Pixels of a PNG, JPEG or BMP, gray; palette applied, alpha dropped."""
    with Image.open(path) as img:
        img.load()
        if img.mode in ("1", "LA", "La"):
            img = img.convert("L")
        elif img.mode not in ("L", "F", "I", "I;16", "I;16B", "I;16L"):
            img = img.convert("RGB")  # palette, RGBA (alpha dropped), CMYK, ...
        data = np.asarray(img)
    if img.mode == "I":  # 32-bit integers: Pillow's mode for some 16-bit files
        if data.min() < 0 or data.max() > 65535:
            raise ValueError(f"32-bit integer values outside 0-65535 in mode {img.mode}")
        data = data.astype(np.uint16)
    return _to_gray(data) if data.ndim == 3 else data


def used_bits(pixels):
    """Bits a 16-bit image uses: the smallest of :data:`USED_BITS` holding its maximum.

    Parameters
    ----------
    pixels : ndarray of uint8 or uint16

    Returns
    -------
    bits : int
        8 for uint8; for uint16, e.g. 12 when the maximum is 4095 (or 2000).

    Examples
    --------
    >>> used_bits(np.array([[0, 4095]], np.uint16))
    12
    """
    if pixels.dtype == np.uint8:
        return 8
    top = int(pixels.max()) if pixels.size else 0
    return next(b for b in USED_BITS if top <= 2 ** b - 1)


def stored_depth(path, *, bits=None):
    """(container bits, used bits) of an image file, as :func:`write_image` takes them.

    Parameters
    ----------
    path : str or os.PathLike
        A file :func:`read_image` reads.
    bits : None, 'auto' or int, optional
        As :func:`read_image`: None gives the container's bits, 'auto' the detected.

    Returns
    -------
    bit_depth, bits : int, int
        ``(8, 8)`` for 8-bit files; ``(16, b)`` for 16-bit and float files.
    """
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        with _quiet_tifffile():
            data = tifffile.imread(path, key=0)
    else:
        with Image.open(path) as img:
            data = np.asarray(img) if img.mode in _SIXTEEN_BIT_MODES else None
    if data is not None and data.dtype.kind == "i":  # Pillow's mode "I"
        data = data.astype(np.uint16)
    if data is None or data.dtype == np.uint8:
        return 8, 8
    if data.dtype != np.uint16 or bits is None:
        return 16, 16
    return 16, used_bits(data) if bits == "auto" else check_int("stored_depth", "bits", bits, low=1, high=16)


def write_tiff(path, pixels, tags=None):
    """Write uint8/uint16 gray pixels as an uncompressed TIFF (with carried tags)."""
    tiffmeta.write_tiff(path, pixels, tags)


def write_png(path, pixels):
    """Write uint8 (mode L) or uint16 (mode I;16) gray pixels as a PNG.

    zlib level 1: about 3x faster than Pillow's default (6) for files ~15 % larger,
    which matters when ``make-dataset`` writes thousands of crops.
    """
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)
