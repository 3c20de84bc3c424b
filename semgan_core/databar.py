"""The instrument's info bar: the band of text at the bottom of most SEM micrographs.

:func:`find_databar` finds the bar's first row of text background; :func:`bar_top` adds
the frame lines drawn above it (a white or black line a few pixels high), so that the
whole bar, border included, can be cropped or passed through a restoration untouched.

Both take an image already in the image contract (a float ``(H, W)`` array in [0, 1], as
:func:`semgan_core.images.as_image` and :func:`~semgan_core.images.read_image` return);
this module converts nothing, so that :mod:`semgan_core.images` can use it.
"""

from __future__ import annotations

import numpy as np

_BAR_TOL = 0.08  # a pixel within this of black (white) is info-bar background
_BAR_MIN_ROWS = 4  # the shortest info bar
_BORDER_MAX = 8  # the thickest frame line above a bar, in rows
_BORDER_FRAC = 0.9  # a frame row is this uniform (black or white) across the bar


def _checked(image, func):
    """``image`` as an array if it is a 2-D float image, else a ValueError naming func."""
    img = np.asarray(image)
    if img.ndim != 2 or img.dtype.kind != "f":
        raise ValueError(f"{func}: expected a 2-D float image in [0, 1] (H, W), got shape "
                         f"{img.shape} dtype {img.dtype}; convert it with images.as_image")
    return img


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
    image : ndarray, shape (H, W), float in [0, 1]
        As :func:`semgan_core.images.as_image` returns it.

    Returns
    -------
    row : int or None
        The bar's first row (crop with ``image[:row]``), or None without a bar.

    Raises
    ------
    ValueError
        If ``image`` is not a 2-D float array (e.g. uint8: convert it first).

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
    img = _checked(image, "find_databar")
    height = img.shape[0]
    first = max(height - height // 4, 1)
    for level, background in ((0.0, img <= _BAR_TOL), (1.0, img >= 1 - _BAR_TOL)):
        frac = background.mean(axis=1)
        for top in range(first, height - _BAR_MIN_ROWS + 1):
            if (frac[top] >= 0.5 and frac[top] - frac[top - 1] >= 0.25
                    and _is_bar(img, background, frac, top, level)):
                return top
    return None


def bar_top(image):
    """First row of the info bar including its frame line, or None without a bar.

    Parameters
    ----------
    image : ndarray, shape (H, W), float in [0, 1]
        As :func:`semgan_core.images.as_image` returns it.

    Returns
    -------
    row : int or None
        ``find_databar(image)`` moved up over the frame rows just above it: up to 8
        rows of which 90 % or more, across the bar's columns, are black (or white)
        within 0.08. Everything from ``row`` down is the bar.

    Raises
    ------
    ValueError
        If ``image`` is not a 2-D float array (e.g. uint8: convert it first).

    Examples
    --------
    >>> img = np.full((128, 128), 0.5, dtype=np.float32)
    >>> img[108:112] = 1.0  # a white frame line
    >>> img[112:] = 0.0
    >>> img[116:124:2, 10:60] = 1.0
    >>> find_databar(img), bar_top(img)
    (112, 108)
    """
    img = _checked(image, "bar_top")
    row = find_databar(img)
    if row is None:
        return None
    cols = np.flatnonzero(np.abs(img[row] - round(float(np.median(img[row])))) <= _BAR_TOL)
    span = img[:, cols[0]:cols[-1] + 1] if cols.size else img
    top = row
    while top > 0 and row - top < _BORDER_MAX:
        line = span[top - 1]
        uniform = max(np.mean(line <= _BAR_TOL), np.mean(line >= 1 - _BAR_TOL))
        if uniform < _BORDER_FRAC:
            break
        top -= 1
    return top
