"""The image contract: every micrograph is a float32 ``(H, W)`` array in [0, 1].

This is the one place that converts dtypes, colour and file formats to that contract
(TIFF through tifffile; PNG, JPEG, BMP through Pillow; colour to gray with PIL's "L"
weights, alpha ignored), writes 8/16-bit gray TIFF/PNG atomically (a TIFF with the
instrument's tags of :mod:`semgan_core.tiffmeta`), crops the instrument's info bar
(:mod:`semgan_core.databar`) and maps images to and from the model range [-1, 1].

Detectors often store 10, 12 or 14 bits in a 16-bit container: such an image read as
``value / 65535`` is nearly black. :func:`read_image` with ``bits="auto"`` divides by
the smallest ``2**b - 1`` (b in :data:`USED_BITS`) that holds the image's maximum, and
:func:`write_image` with the same ``bits`` stores values in that range again.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from semgan_core import results, tiffmeta
from semgan_core.checks import check_int

#: Smallest height and width :func:`read_image` accepts (the generator needs 128).
MIN_SIDE = 128
#: File extensions :func:`read_image` reads.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
#: File extensions :func:`write_image` writes.
WRITE_EXTENSIONS = (".tif", ".tiff", ".png")
#: Used bit depths that ``bits="auto"`` chooses from for 16-bit containers.
USED_BITS = (8, 10, 12, 14, 16)

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, PIL "L"
_EPS = 1e-6  # float rounding error tolerated (and clipped) at the ends of [0, 1]
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "F")  # Pillow's 16-bit and float
_STACK_HINT = ("read it with tifffile.imread(path, key=0) and pass the slice to "
               "images.as_image")


class _StackError(Exception):
    """A TIFF with several full-size images (pages or series)."""


def validate(array, name, func):
    """Check one 2-D image, convert it to float32 [0, 1]; errors name func and name."""
    arr = np.asarray(array)
    where = f"{func}: {name}"
    if arr.dtype.byteorder not in "=|":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype == bool or arr.dtype.kind not in "uif":
        raise ValueError(f"{where}: dtype {arr.dtype} is not an image; expected uint8, "
                         "uint16 or float in [0, 1]")
    if arr.ndim != 2 or arr.size == 0:
        hint = (f" (a stack of {arr.shape[0]} images? pass one slice, e.g. array[0]; "
                "colour? convert to gray first)") if arr.ndim == 3 else ""
        raise ValueError(f"{where}: expected a 2-D gray image (H, W), got shape "
                         f"{arr.shape} dtype {arr.dtype}{hint}")
    if arr.dtype.kind in "ui":
        if arr.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"{where}: integer dtype {arr.dtype} is not supported; "
                             "expected uint8, uint16 or float in [0, 1]")
        return arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where}: float image (shape {arr.shape}, dtype {arr.dtype}) "
                         "contains NaN or infinite values")
    low, high = float(arr.min()), float(arr.max())
    if low < -_EPS or high > 1 + _EPS:
        raise ValueError(f"{where}: float values must lie in [0, 1], found range "
                         f"[{low:.6g}, {high:.6g}] (shape {arr.shape}, dtype {arr.dtype}); "
                         "rescale it first")
    return np.clip(arr, 0.0, 1.0).astype(np.float32, copy=False)


def as_image(array, *, name="image"):
    """Validate an in-memory image and convert it to float32 in [0, 1].

    Parameters
    ----------
    array : array_like, shape (H, W)
        uint8/uint16 (divided by the dtype's maximum) or finite float in [0, 1]
        (up to 1e-6 outside is clipped). bool, other dtypes and 3-D arrays are rejected.
    name : str, optional
        What to call the array in error messages.

    Returns
    -------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    ValueError
        Naming ``name``, the shape, the dtype and, for floats, the range found.

    Examples
    --------
    >>> as_image(np.array([[0, 255]], dtype=np.uint8))
    array([[0., 1.]], dtype=float32)
    """
    return validate(array, name, "as_image")


def _check_path(path):
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


def _read_tiff(path):
    """Pixels of a TIFF's only series, gray; palette applied; stacks kept 3-D."""
    with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
        if len(tif.pages) == 0 or not tif.series:  # tifffile only logs a bad offset
            raise ValueError("no image in the file (bad header or first-page offset)")
        full = [s for s in tif.series if not s.keyframe.subfiletype & 1]  # not reduced
        if len(full) > 1:
            raise _StackError(f"holds {len(full)} images (multi-page TIFF)")
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


def _read_pillow(path):
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


def read_image(path, *, crop_databar=False, min_side=MIN_SIDE, bits=None):
    """Read a micrograph as a float32 gray image in [0, 1].

    Parameters
    ----------
    path : str or os.PathLike
        One image: TIFF (8/16-bit, palette, float in [0, 1]), PNG (8/16-bit), JPEG or
        BMP. Colour becomes gray with PIL's "L" weights; alpha is ignored.
    crop_databar : bool, optional
        Drop the instrument's info bar and all rows below it
        (:func:`semgan_core.databar.find_databar`).
    min_side : int, optional
        Smallest height and width accepted, after cropping.
    bits : None, 'auto' or int, optional
        How a 16-bit container is scaled: None divides by 65535; an int ``b`` (1-16)
        by ``2**b - 1``; ``'auto'`` uses :func:`used_bits`. Ignored for other files.

    Returns
    -------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file: a directory; an empty, corrupt or truncated file; an unknown
        extension; a stack; NaN/inf or out-of-range floats; smaller than ``min_side``;
        values above ``2**bits - 1``.

    Examples
    --------
    >>> read_image("sio2.tif", crop_databar=True).shape  # doctest: +SKIP
    (423, 712)
    """
    path = Path(path)
    _check_path(path)
    is_tiff = path.suffix.lower() in (".tif", ".tiff")
    try:
        data = _read_tiff(path) if is_tiff else _read_pillow(path)
    except _StackError as exc:
        raise ValueError(f"read_image: {path} {exc}, not one 2-D image; "
                         f"{_STACK_HINT}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad file
        kind = "TIFF" if is_tiff else path.suffix.lstrip(".").upper()
        raise ValueError(f"read_image: {path}: cannot read this {kind} file (corrupt, "
                         f"truncated or unsupported): {type(exc).__name__}: {exc}") from exc
    if data.ndim != 2:
        raise ValueError(f"read_image: {path} holds a stack of shape {data.shape}, not "
                         f"one 2-D image; {_STACK_HINT}")
    if bits is not None and data.dtype == np.uint16:
        data = _scale(data, bits, path)
    image = validate(data, str(path), "read_image")
    note = ""
    if crop_databar:
        from semgan_core.databar import find_databar

        row = find_databar(image)
    if crop_databar and row is not None:
        image, note = image[:row], f" after cropping the info bar at row {row}"
    if min(image.shape) < min_side:
        raise ValueError(f"read_image: {path} is {image.shape[0]}x{image.shape[1]} "
                         f"pixels (H x W){note}; the minimum is {min_side} pixels on "
                         "each side")
    return image


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


def _check_bits(func, bits, container=16):
    """``bits`` as an int in 1..container (or 'auto' / None, returned as given)."""
    if bits is None or bits == "auto":
        return bits
    return check_int(func, "bits", bits, low=1, high=container)


def _scale(data, bits, path):
    """uint16 container pixels divided by ``2**bits - 1`` (float32)."""
    b = used_bits(data) if bits == "auto" else _check_bits("read_image", bits)
    top = int(data.max())
    if top > 2 ** b - 1:
        raise ValueError(f"read_image: {path} holds values up to {top}, above the "
                         f"{b}-bit maximum {2 ** b - 1}; pass bits=None, 'auto' or more bits")
    return data.astype(np.float32) / np.float32(2 ** b - 1)


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
    return 16, used_bits(data) if bits == "auto" else _check_bits("stored_depth", bits)


def _write_tiff(path, pixels, tags=None):
    """Write uint8/uint16 gray pixels as an uncompressed TIFF (with carried tags)."""
    tiffmeta.write_tiff(path, pixels, tags)


def _write_png(path, pixels):
    """Write uint8 (mode L) or uint16 (mode I;16) gray pixels as a PNG.

    zlib level 1: about 3x faster than Pillow's default (6) for files ~15 % larger,
    which matters when ``make-dataset`` writes thousands of crops.
    """
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)


def write_image(path, image, *, bit_depth=8, bits=None, tiff_tags=None):
    """Write a gray image to a TIFF or PNG file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Ending in ``.tif``, ``.tiff`` or ``.png``; missing parent folders are made.
    image : array_like, shape (H, W)
        Anything :func:`as_image` accepts.
    bit_depth : {8, 16}, optional
        Stores ``round(image * 255)`` as uint8 or ``round(image * 65535)`` as uint16.
    bits : int, optional
        Bits used in the container (default all): stores ``round(image * (2**bits -
        1))``, e.g. 12 to write back what ``read_image(..., bits=12)`` read.
    tiff_tags : tiffmeta.TiffTags, optional
        Tags carried from an input TIFF (:func:`semgan_core.tiffmeta.read_tags`);
        TIFF output only.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        For an unsupported extension or bit depth, ``bits`` above ``bit_depth``,
        ``tiff_tags`` for a PNG, or an invalid image.

    Notes
    -----
    Written under a temporary name in the same folder, then :func:`os.replace`: a
    failure never leaves a partial file nor harms an existing file of that name.

    Examples
    --------
    >>> write_image("ramp.png", np.tile(np.linspace(0, 1, 128), (128, 1)),
    ...             bit_depth=16)  # doctest: +SKIP
    PosixPath('ramp.png')
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_EXTENSIONS:
        raise ValueError(f"write_image: {path}: unsupported extension {path.suffix!r}; "
                         f"supported: {', '.join(WRITE_EXTENSIONS)}")
    if bit_depth not in (8, 16):
        raise ValueError(f"write_image: bit_depth must be 8 or 16, got {bit_depth!r}")
    bits = bit_depth if bits is None else _check_bits("write_image", bits, bit_depth)
    if tiff_tags is not None and suffix == ".png":
        raise ValueError(f"write_image: {path}: tiff_tags are for TIFF files, not PNG")
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    pixels = np.round(validate(image, "image", "write_image") * np.float32(2 ** bits - 1))
    pixels = pixels.astype(dtype)
    if suffix == ".png":
        return results.atomic_write(path, lambda tmp: _write_png(tmp, pixels))
    if tiff_tags is None:  # looked up at call time
        return results.atomic_write(path, lambda tmp: _write_tiff(tmp, pixels))
    return results.atomic_write(path, lambda tmp: _write_tiff(tmp, pixels, tiff_tags))


def to_model_range(x):
    """Map an image from [0, 1] to the model range [-1, 1]: ``2 x - 1``.

    Parameters
    ----------
    x : ndarray or tf.Tensor
        Values in [0, 1]. NumPy input (and lists) comes back as float32.

    Returns
    -------
    y : same kind as ``x``, in [-1, 1]

    Examples
    --------
    >>> to_model_range(np.array([0.0, 0.5, 1.0]))
    array([-1.,  0.,  1.], dtype=float32)
    """
    if isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
        x = np.asarray(x, dtype=np.float32)
    return x * 2.0 - 1.0


def from_model_range(y):
    """Map model output from [-1, 1] back to an image in [0, 1]: ``(y + 1) / 2``, clipped.

    Parameters
    ----------
    y : ndarray or tf.Tensor
        Values in [-1, 1], clipped outside. NumPy comes back float32, tensors stay
        tensors (``tf.clip_by_value``; TensorFlow is never imported here).

    Returns
    -------
    x : same kind as ``y``, in [0, 1]

    Examples
    --------
    >>> from_model_range(np.array([-1.5, 0.0, 1.0]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    tf = sys.modules.get("tensorflow")  # never import TensorFlow just to check
    if tf is not None and tf.is_tensor(y):
        return tf.clip_by_value((y + 1.0) / 2.0, 0.0, 1.0)
    if type(y).__module__.startswith("keras"):  # symbolic Keras tensors
        from keras import ops

        return ops.clip((y + 1.0) / 2.0, 0.0, 1.0)
    return np.clip((np.asarray(y, dtype=np.float32) + 1.0) / 2.0, 0.0, 1.0)
