"""The image contract: every micrograph is a float32 ``(H, W)`` array in [0, 1].

This is the one place that converts dtypes, colour and file formats to that contract
(the files decoded by :mod:`semgan_core.fileformats`: TIFF through tifffile; PNG, JPEG,
BMP through Pillow; colour to gray with PIL's "L" weights, alpha ignored), writes 8/16-bit gray TIFF/PNG atomically (a TIFF with the
instrument's tags of :mod:`semgan_core.tiffmeta`), crops the instrument's info bar
(:mod:`semgan_core.databar`) and maps images to and from the model range [-1, 1].

Detectors often store 10, 12 or 14 bits in a 16-bit container: such an image read as
``value / 65535`` is nearly black. :func:`read_image` with ``bits="auto"`` divides by
the smallest ``2**b - 1`` (b in :data:`fileformats.USED_BITS`) that holds the image's maximum, and
:func:`write_image` with the same ``bits`` stores values in that range again.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from semgan_core import databar, fileformats, results
from semgan_core.checks import SIZE_MULTIPLE, check_int

#: Smallest height and width :func:`read_image` accepts (the generator's size multiple,
#: :data:`semgan_core.checks.SIZE_MULTIPLE`).
MIN_SIDE = SIZE_MULTIPLE
#: File extensions :func:`read_image` reads.
IMAGE_EXTENSIONS = fileformats.IMAGE_EXTENSIONS
#: File extensions :func:`write_image` writes.
WRITE_EXTENSIONS = (".tif", ".tiff", ".png")
_EPS = 1e-6  # float rounding error tolerated (and clipped) at the ends of [0, 1]
_STACK_HINT = ("read it with tifffile.imread(path, key=0) and pass the slice to "
               "images.as_image")


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
        by ``2**b - 1``; ``'auto'`` uses :func:`fileformats.used_bits`. Ignored for other files.

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
    fileformats.check_path(path)
    is_tiff = path.suffix.lower() in (".tif", ".tiff")
    try:
        data = fileformats.read_tiff(path) if is_tiff else fileformats.read_pillow(path)
    except fileformats.StackError as exc:
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
    image = _validate(data, str(path), "read_image")
    note = ""
    row = databar.find_databar(image) if crop_databar else None
    if row is not None:
        image, note = image[:row], f" after cropping the info bar at row {row}"
    if min(image.shape) < min_side:
        raise ValueError(f"read_image: {path} is {image.shape[0]}x{image.shape[1]} "
                         f"pixels (H x W){note}; the minimum is {min_side} pixels on "
                         "each side")
    return image


def _check_bits(func, bits, container=16):
    """``bits`` as an int in 1..container (or 'auto' / None, returned as given)."""
    if bits is None or bits == "auto":
        return bits
    return check_int(func, "bits", bits, low=1, high=container)


def _scale(data, bits, path):
    """uint16 container pixels divided by ``2**bits - 1`` (float32)."""
    b = fileformats.used_bits(data) if bits == "auto" else _check_bits("read_image", bits)
    top = int(data.max())
    if top > 2 ** b - 1:
        raise ValueError(f"read_image: {path} holds values up to {top}, above the "
                         f"{b}-bit maximum {2 ** b - 1}; pass bits=None, 'auto' or more bits")
    return data.astype(np.float32) / np.float32(2 ** b - 1)


def stack(arrays, paths, *, func="stack"):
    """Stack images of one size into (N, H, W); a mismatch names the file and shapes.

    Parameters
    ----------
    arrays : sequence of ndarray, shape (H, W)
    paths : sequence of str or os.PathLike
        The file each image came from, for the message.
    func : str, optional
        The calling function, for the message.

    Returns
    -------
    stack : ndarray, shape (N, H, W)

    Raises
    ------
    ValueError
        ``"{func}: {path} is HxW pixels (H x W), but {first path} is hxw; ..."``.
    """
    first = arrays[0].shape
    for array, path in zip(arrays, paths):
        if array.shape != first:
            raise ValueError(f"{func}: {path} is {array.shape[0]}x{array.shape[1]} pixels "
                             f"(H x W), but {paths[0]} is {first[0]}x{first[1]}; the images "
                             "of a set must all have one size")
    return np.stack(arrays)


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
    pixels = np.round(_validate(image, "image", "write_image") * np.float32(2 ** bits - 1))
    pixels = pixels.astype(dtype)
    if suffix == ".png":
        return results.atomic_write(path, lambda tmp: fileformats.write_png(tmp, pixels))
    return results.atomic_write(path, lambda tmp: fileformats.write_tiff(tmp, pixels,
                                                                         tiff_tags))


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
