"""Argument checks shared by every public entry point: one place for each rule.

Each check names the calling function, the argument, what was expected and what was
received, in one line (scikit-image style), and returns the value converted to a plain
Python type. The generator's size rule (sides that are positive multiples of
:data:`SIZE_MULTIPLE`) lives here too, so the dataset builder, the config, the tiled
inference and the networks refuse the same sizes with the same words.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

#: Image sides the U-Net generator accepts are multiples of this (7 stride-2 layers).
SIZE_MULTIPLE = 128


def is_int(value: Any) -> bool:
    """True for a Python or NumPy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(func: str, name: str, value: Any, low: int | None = None,
              high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ``ValueError`` naming ``func`` and ``name``.

    Parameters
    ----------
    func, name : str
        The calling function and the argument, for the message.
    value : object
        Must be an integer (not a bool), ``low <= value <= high`` where given.

    Raises
    ------
    ValueError
        ``"{func}: {name} must be an integer >= {low}, got {value!r}"``.
    """
    ok = is_int(value) and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise ValueError(f"{func}: {name} must be an integer{_bounds(low, high)}, "
                         f"got {value!r}")
    return int(value)


def check_number(func: str, name: str, value: Any, *, low: float | None = None,
                 high: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite float within bounds, or raise.

    Parameters
    ----------
    func, name : str
        The calling function and the argument, for the message.
    value : object
        A real number (not a bool); NaN and infinities are refused.
    low, high : float, optional
        Bounds; inclusive unless ``strict`` (then ``low < value < high``).

    Raises
    ------
    TypeError
        When ``value`` is not a number.
    ValueError
        When it is not finite or out of bounds.
    """
    if isinstance(value, bool):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be a number, got {value!r}") from None
    bad_low = low is not None and (out <= low if strict else out < low)
    bad_high = high is not None and (out >= high if strict else out > high)
    if not math.isfinite(out) or bad_low or bad_high:
        raise ValueError(f"{func}: {name} must be finite{_bounds(low, high, strict)}, "
                         f"got {value!r}")
    return out


def check_positive(func: str, name: str, value: Any, *, integer: bool = False):
    """A positive integer (``integer=True``) or a positive finite number."""
    if integer:
        return check_int(func, name, value, low=1)
    return check_number(func, name, value, low=0, strict=True)


def check_choice(func: str, name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise naming them all."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{func}: {name}={value!r} is not allowed; expected one of "
                         f"{', '.join(map(repr, choices))}")
    return value


def check_size_multiple(func: str, name: str, value: Any) -> int:
    """A positive integer multiple of :data:`SIZE_MULTIPLE` (a crop side or a tile)."""
    size = check_int(func, name, value, low=1)
    if size % SIZE_MULTIPLE:
        raise ValueError(f"{func}: {name} must be a positive multiple of {SIZE_MULTIPLE} "
                         f"(128, 256, 384, ...: the generator's input sizes), got {value!r}")
    return size


def check_input_size(height: int, width: int) -> None:
    """Raise unless both sides are positive multiples of :data:`SIZE_MULTIPLE`.

    Parameters
    ----------
    height, width : int
        Image size in pixels.

    Raises
    ------
    ValueError
        Naming the received size and the nearest valid size (pad, or crop, to it).
    """
    h, w = int(height), int(width)
    if h <= 0 or w <= 0 or h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
        up = [-(-max(s, 1) // SIZE_MULTIPLE) * SIZE_MULTIPLE for s in (h, w)]
        raise ValueError(
            f"check_input_size: image size {h}x{w} is not supported; the generator needs "
            f"sides that are positive multiples of {SIZE_MULTIPLE} (7 stride-2 layers), "
            f"e.g. pad to {up[0]}x{up[1]}"
        )


def _bounds(low, high, strict=False) -> str:
    """`` >= low``, `` in [low, high]`` ... for the messages."""
    if low is not None and high is not None:
        return f" in ({low}, {high})" if strict else f" in [{low}, {high}]"
    if low is not None:
        return f" > {low}" if strict else f" >= {low}"
    if high is not None:
        return f" < {high}" if strict else f" <= {high}"
    return ""
