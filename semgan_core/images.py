"""The image contract: every micrograph is a float32 ``(H, W)`` array in [0, 1].

This is the one place that converts dtypes, colour and file formats to that contract
(TIFF through tifffile; PNG, JPEG, BMP through Pillow; colour to gray with PIL's "L"
weights, alpha ignored), writes 8/16-bit gray TIFF/PNG atomically, crops the
instrument's info bar and maps images to and from the model range [-1, 1].
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from semgan_core import results

#: Smallest height and width :func:`read_image` accepts (the generator needs 128).
MIN_SIDE = 128
#: File extensions :func:`read_image` reads.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp")
#: File extensions :func:`write_image` writes.
WRITE_EXTENSIONS = (".tif", ".tiff", ".png")

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601-2, PIL "L"
_EPS = 1e-6  # float rounding error tolerated (and clipped) at the ends of [0, 1]
_BAR_TOL = 0.08  # a pixel within this of black (white) is info-bar background
_BAR_MIN_ROWS = 4  # the shortest info bar
_STACK_HINT = ("read it with tifffile.imread(path, key=0) and pass the slice to "
               "images.as_image")


class _StackError(Exception):
    """A TIFF with several full-size images (pages or series)."""


def _validate(array, name, func):
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
    return _validate(array, name, "as_image")


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


def read_image(path, *, crop_databar=False, min_side=MIN_SIDE):
    """Read a micrograph as a float32 gray image in [0, 1].

    Parameters
    ----------
    path : str or os.PathLike
        One image: TIFF (8/16-bit, palette, float in [0, 1]), PNG (8/16-bit), JPEG or
        BMP. Colour becomes gray with PIL's "L" weights; alpha is ignored.
    crop_databar : bool, optional
        Drop the instrument's info bar and all rows below it (:func:`find_databar`).
    min_side : int, optional
        Smallest height and width accepted, after cropping.

    Returns
    -------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file: a directory; an empty, corrupt or truncated file; an unknown
        extension; a stack; NaN/inf or out-of-range floats; smaller than ``min_side``.

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
    image = _validate(data, str(path), "read_image")
    note = ""
    if crop_databar and (row := find_databar(image)) is not None:
        image, note = image[:row], f" after cropping the info bar at row {row}"
    if min(image.shape) < min_side:
        raise ValueError(f"read_image: {path} is {image.shape[0]}x{image.shape[1]} "
                         f"pixels (H x W){note}; the minimum is {min_side} pixels on "
                         "each side")
    return image


def _write_tiff(path, pixels):
    """Write uint8/uint16 gray pixels as an uncompressed TIFF."""
    tifffile.imwrite(path, pixels, photometric="minisblack")


def _write_png(path, pixels):
    """Write uint8 (mode L) or uint16 (mode I;16) gray pixels as a PNG.

    zlib level 1: about 3x faster than Pillow's default (6) for files ~15 % larger,
    which matters when ``make-dataset`` writes thousands of crops.
    """
    Image.fromarray(pixels).save(path, format="PNG", compress_level=1)


def write_image(path, image, *, bit_depth=8):
    """Write a gray image to a TIFF or PNG file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Ending in ``.tif``, ``.tiff`` or ``.png``; missing parent folders are made.
    image : array_like, shape (H, W)
        Anything :func:`as_image` accepts.
    bit_depth : {8, 16}, optional
        Stores ``round(image * 255)`` as uint8 or ``round(image * 65535)`` as uint16.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        For an unsupported extension or bit depth, or an invalid image.

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
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    pixels = np.round(_validate(image, "image", "write_image") * np.iinfo(dtype).max)
    pixels = pixels.astype(dtype)
    writer = _write_png if suffix == ".png" else _write_tiff  # looked up at call time
    return results.atomic_write(path, lambda tmp: writer(tmp, pixels))


def _is_bar(image, background, frac, top, level):
    """Whether rows from ``top`` form an info bar on background ``level`` (0 or 1)."""
    bottom = top
    while bottom + 1 < len(frac) and frac[bottom + 1] >= 0.3:
        bottom += 1
    rows = bottom - top + 1
    if rows < _BAR_MIN_ROWS:
        return False
    above = frac[max(0, top - rows):top]
    if frac[top:bottom + 1].mean() - above.mean() < 0.3:  # the band stands out
        return False
    cols = np.flatnonzero(background[top:bottom + 1].mean(axis=0) >= 0.5)
    if cols.size < image.shape[1] // 2:  # a bar spans at least half the width
        return False
    box = image[top:bottom + 1, cols[0]:cols[-1] + 1]
    text = np.mean(np.abs(box - level) >= 0.5)  # sparse high-contrast text
    return 0.002 <= text <= 0.5


def find_databar(image):
    """Find the first row of the instrument's info bar near the bottom of a micrograph.

    Parameters
    ----------
    image : array_like, shape (H, W)
        Anything :func:`as_image` accepts.

    Returns
    -------
    row : int or None
        The bar's first row (crop with ``image[:row]``), or None without a bar.

    Notes
    -----
    A bar is a band, starting in the bottom quarter and at least 4 rows high, on a
    black (or white) background with sparse text; it may be a box narrower than the
    image with specimen rows below it. ``f`` is a row's fraction of background pixels
    (within 0.08 of black, or white). The top row has ``f >= 0.5``, at least 0.25 above
    the row before (a sharp edge); the band goes on while ``f >= 0.3``; its mean ``f``
    beats that of as many rows above by 0.3 (a dark specimen is no bar); its mostly-
    background columns cover half the width; 0.2-50 % of that box is text (0.5 or more
    from the background). The first such row from the top of the bottom quarter down
    is returned, black tried before white.

    Examples
    --------
    >>> img = np.full((128, 128), 0.5, dtype=np.float32)
    >>> img[112:] = 0.0
    >>> img[116:124:2, 10:60] = 1.0  # "text"
    >>> find_databar(img)
    112
    >>> find_databar(np.full((128, 128), 0.5)) is None
    True
    """
    img = _validate(image, "image", "find_databar")
    height = img.shape[0]
    first = max(height - height // 4, 1)
    for level, background in ((0.0, img <= _BAR_TOL), (1.0, img >= 1 - _BAR_TOL)):
        frac = background.mean(axis=1)
        for top in range(first, height - _BAR_MIN_ROWS + 1):
            if (frac[top] >= 0.5 and frac[top] - frac[top - 1] >= 0.25
                    and _is_bar(img, background, frac, top, level)):
                return top
    return None


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
