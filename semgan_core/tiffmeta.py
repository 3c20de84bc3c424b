"""Instrument metadata of TIFF micrographs, carried from an input file to its restoration.

SEM vendors store the acquisition settings (pixel size, high voltage, working distance,
detector, ...) in the first page of the TIFF: FEI/Thermo Fisher in the private tags
34680 (``FEI_SFEG``) and 34682 (``FEI_HELIOS``), Zeiss in 34118 (``CZ_SEM``), JEOL in
65027 (``JEOL_Header``), TESCAN, Hitachi and others in private tags or in
``ImageDescription`` (270); the pixel size often also in ``XResolution``/``YResolution``
with a ``ResolutionUnit``. :func:`read_tags` keeps every tag of the first page byte for
byte except those that describe the pixel layout (size, bit depth, compression, strips,
tiles, sample format, the value range, the colour space of colour images), tifffile's own
shape note in ``ImageDescription``, and pointers into the file (EXIF and GPS
directories, sub-images), which cannot be copied; :func:`write_tiff` writes new pixels
with those tags, in the input's byte order, so a vendor's software reads the restored
file as it reads the original (an ASCII value that lacked the terminating NUL the TIFF
standard requires gains one). A palette (``ColorMap``) is carried when it is a grey
ramp (entry ``i`` is gray ``i``), so that the stored indices are the gray levels.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
import tifffile

#: Tags that describe the pixel layout, the colour of colour images, or point into the
#: file: written anew (or left out of a gray output), not carried.
LAYOUT_TAGS = frozenset({
    254, 255, 256, 257, 258, 259, 262, 273, 277, 278, 279, 280, 281, 284, 317, 320, 322,
    323, 324, 325, 330, 338, 339, 340, 341, 347, 529, 530, 531, 532, 32997, 34665, 34853,
    40965, 301, 318, 319, 34675,
    282, 283, 296,          # resolution: written through tifffile's own arguments
})
_RATIONAL = (5, 10)


@dataclass(frozen=True)
class TiffTags:
    """What :func:`write_tiff` carries from an input TIFF.

    Attributes
    ----------
    byteorder : {'<', '>'}
        The input's byte order (multi-byte tag values are kept as stored).
    extratags : tuple of (code, dtype, count, value, writeonce)
        Every carried tag, in tifffile's ``extratags`` form; ``value`` is the stored
        bytes (rationals: the integers).
    resolution : ((int, int), (int, int)) or None
        X and Y resolution as stored rationals.
    resolutionunit : int or None
    colormap : ndarray, shape (3, 256), uint16, or None
        The palette, kept only when it is a grey ramp.
    """

    byteorder: str = "<"
    extratags: tuple = ()
    resolution: tuple | None = None
    resolutionunit: int | None = None
    colormap: np.ndarray | None = field(default=None, compare=False)

    def codes(self) -> list[int]:
        """The carried tag numbers."""
        return [tag[0] for tag in self.extratags]


def _raw(fh, tag, byteorder):
    """The stored value of ``tag``: bytes, or integers for rationals."""
    fmt = tifffile.TIFF.DATA_FORMATS[tag.dtype]
    size = struct.calcsize("<" + fmt) * tag.count
    fh.seek(tag.valueoffset)
    data = fh.read(size)
    if tag.dtype in _RATIONAL:
        kind = "I" if tag.dtype == 5 else "i"
        return struct.unpack(f"{byteorder}{2 * tag.count}{kind}", data)
    return data


def _is_shape_note(tag) -> bool:
    """tifffile's own ``{"shape": [...]}`` description: about the old array, not the
    instrument (it would be wrong for a cropped output)."""
    return tag.code == 270 and str(tag.value).startswith('{"shape":')


def is_grey_ramp(colormap) -> bool:
    """Whether a TIFF palette, shape (3, n), maps index ``i`` to gray ``i`` (n = 256)."""
    cmap = np.asarray(colormap)
    if cmap.shape != (3, 256):
        return False
    ramp = np.arange(256) * (257 if cmap.max() > 255 else 1)
    return bool(np.all(cmap == ramp))


def read_tags(path) -> TiffTags:
    """The tags of a TIFF's first page that :func:`write_tiff` carries over.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF file (:func:`semgan_core.images.read_image` has checked it).

    Returns
    -------
    tags : TiffTags
    """
    with tifffile.TiffFile(path) as tif:
        page, order = tif.pages[0], tif.byteorder
        fh = tif.filehandle
        extra = tuple((tag.code, int(tag.dtype), tag.count, _raw(fh, tag, order), True)
                      for tag in page.tags.values()
                      if tag.code not in LAYOUT_TAGS and not _is_shape_note(tag))
        found = {code: page.tags.get(code) for code in (282, 283, 296)}
        resolution = None
        if found[282] is not None and found[283] is not None:
            resolution = tuple(tuple(_raw(fh, found[c], order)[:2]) for c in (282, 283))
        unit = int(found[296].value) if found[296] is not None else None
        palette = page.photometric == tifffile.PHOTOMETRIC.PALETTE
        cmap = page.colormap if palette and is_grey_ramp(page.colormap) else None
    return TiffTags(order, extra, resolution, unit, cmap)


def write_tiff(path, pixels, tags: TiffTags | None = None) -> None:
    """Write gray pixels as an uncompressed TIFF with the carried tags.

    Parameters
    ----------
    path : str or os.PathLike
    pixels : ndarray, shape (H, W), uint8 or uint16
    tags : TiffTags, optional
        From :func:`read_tags`; None writes a plain gray TIFF. A carried grey-ramp
        palette is written with uint8 pixels (the indices are the gray levels).
    """
    if tags is None:
        tifffile.imwrite(path, pixels, photometric="minisblack")
        return
    options = {}
    if tags.resolution is not None:
        options["resolution"] = tags.resolution
        options["resolutionunit"] = tags.resolutionunit or 1
    if tags.colormap is not None and pixels.dtype == np.uint8:
        options.update(photometric="palette", colormap=tags.colormap)
    else:
        options["photometric"] = "minisblack"
    tifffile.imwrite(path, pixels, byteorder=tags.byteorder, metadata=None, software=False,
                     extratags=list(tags.extratags), **options)


def stored_tags(path) -> dict[int, tuple]:
    """``{code: (dtype, stored value)}`` of a TIFF's first page, for comparing an
    input's tags with its output's; ASCII values without their terminating NULs (the
    writer adds the one the TIFF standard requires where an input lacked it). A code
    that occurs twice keeps its first value (e.g. an ImageDescription, not the shape
    note tifffile writes after it)."""
    tags = {}
    with tifffile.TiffFile(path) as tif:
        fh, order = tif.filehandle, tif.byteorder
        for tag in tif.pages[0].tags.values():
            tags.setdefault(tag.code, (int(tag.dtype), _raw(fh, tag, order)))
    return {code: (dtype, value.rstrip(b"\0") if dtype == 2 else value)
            for code, (dtype, value) in tags.items()}
