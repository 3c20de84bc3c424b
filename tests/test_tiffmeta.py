"""Tests of semgan_core.tiffmeta: instrument tags carried from an input TIFF to an output."""

import numpy as np
import pytest
import tifffile

from semgan_core import images, realdata, tiffmeta

FEI = (b"[User]\r\nDate=12/01/2026\r\nUser=sem\r\n[Beam]\r\nHV=5000\r\n[Scan]\r\n"
       b"PixelWidth=2.5e-09\r\nPixelHeight=2.5e-09\r\n")  # no terminating NUL, as FEI
CZ_SEM = (b"\r\n0\r\nAP_PIXEL_SIZE\r\nPixel Size = 2.5 nm\r\nAP_MANUALKV\r\n"
          b"EHT Target = 5.00 kV\r\nAP_WD\r\nWD = 5.0 mm\r\n\x00")
VENDORS = {
    "fei": [(34682, 2, len(FEI), FEI, True), (34680, 2, len(FEI), FEI, True)],
    "zeiss": [(34118, 1, len(CZ_SEM), CZ_SEM, True)],
    "jeol": [(65027, 7, 16, b"JEOL\x00\x01header-data", True)],
    "tescan": [(50431, 7, 12, b"TescanMeta\x00\x00", True), (305, 2, 6, "TESCAN", True)],
    "hitachi": [(270, 2, None, "[SemImageFile]\r\nInstructName=SU8230\r\n"
                                "PixelSize=2.480469\r\n", True)],
}


def _pixels(dtype=np.uint16, seed=0):
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top, (130, 140), dtype=dtype)


def _write_vendor(path, vendor, pixels, byteorder="<"):
    tags = [(c, d, n if n is not None else len(v) + 1, v, w) for c, d, n, v, w in VENDORS[vendor]]
    tifffile.imwrite(path, pixels, byteorder=byteorder, metadata=None, software=False,
                     resolution=((4000000, 10), (4000000, 10)), resolutionunit=3,
                     extratags=tags)
    return path


def _carried(path):
    kept = {282, 283, 296}
    return {c: v for c, v in tiffmeta.stored_tags(path).items()
            if c not in tiffmeta.LAYOUT_TAGS or c in kept}


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_vendor_tags_round_trip(tmp_path, vendor, byteorder):
    src = _write_vendor(tmp_path / f"{vendor}.tif", vendor, _pixels(), byteorder)
    tags = tiffmeta.read_tags(src)
    assert tags.byteorder == byteorder
    restored = images.read_image(src)[::-1]  # new pixels
    out = images.write_image(tmp_path / "out.tif", restored, bit_depth=16, tiff_tags=tags)
    before, after = _carried(src), _carried(out)
    assert after == before
    assert {code for code, *_ in VENDORS[vendor]} <= set(after)
    np.testing.assert_array_equal(tifffile.imread(out), tifffile.imread(src)[::-1])


def test_vendor_metadata_still_parses(tmp_path):
    src = _write_vendor(tmp_path / "fei.tif", "fei", _pixels())
    out = images.write_image(tmp_path / "out.tif", images.read_image(src), bit_depth=16,
                             tiff_tags=tiffmeta.read_tags(src))
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].tags[34682].value["Scan"]["PixelWidth"] == 2.5e-09
        assert tif.pages[0].tags[296].value == 3


def test_layout_tags_are_written_anew(tmp_path):
    src = tmp_path / "compressed.tif"
    tifffile.imwrite(src, _pixels(), compression="zlib", tile=(64, 64),
                     extratags=[(34118, 1, len(CZ_SEM), CZ_SEM, True)])
    tags = tiffmeta.read_tags(src)
    assert not set(tags.codes()) & tiffmeta.LAYOUT_TAGS
    out = images.write_image(tmp_path / "out.tif", images.read_image(src), bit_depth=16,
                             tiff_tags=tags)
    with tifffile.TiffFile(out) as tif:
        page = tif.pages[0]
        assert page.compression == 1 and not page.is_tiled
        assert 34118 in page.tags


def test_grey_ramp_palette_is_kept_other_palettes_are_not(tmp_path):
    index = _pixels(np.uint8)
    ramp = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    tifffile.imwrite(tmp_path / "grey.tif", index, photometric="palette", colormap=ramp)
    tags = tiffmeta.read_tags(tmp_path / "grey.tif")
    assert tags.colormap is not None
    out = images.write_image(tmp_path / "out.tif", images.read_image(tmp_path / "grey.tif"),
                             tiff_tags=tags)
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.PALETTE
        np.testing.assert_array_equal(tif.pages[0].colormap, ramp)
        np.testing.assert_array_equal(tif.pages[0].asarray(), index)
    colours = ramp.copy()
    colours[0] = colours[0][::-1]
    tifffile.imwrite(tmp_path / "colour.tif", index, photometric="palette", colormap=colours)
    assert tiffmeta.read_tags(tmp_path / "colour.tif").colormap is None


def test_is_grey_ramp():
    assert tiffmeta.is_grey_ramp(np.tile(np.arange(256), (3, 1)))
    assert not tiffmeta.is_grey_ramp(np.tile(np.arange(16), (3, 1)))


def test_png_output_takes_no_tags(tmp_path):
    src = _write_vendor(tmp_path / "z.tif", "zeiss", _pixels())
    with pytest.raises(ValueError, match=r"out\.png: tiff_tags are for TIFF files, not PNG"):
        images.write_image(tmp_path / "out.png", images.read_image(src),
                           tiff_tags=tiffmeta.read_tags(src))


def test_real_fei_micrograph_round_trips(tmp_path):
    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    found = [p for p in realdata.list_real_images("sio2") if p.suffix == ".tif"]
    if not found:
        pytest.skip("no SiO2 TIFF in the real data")
    src = found[0]
    out = images.write_image(tmp_path / "out.tif", images.read_image(src),
                             tiff_tags=tiffmeta.read_tags(src))
    assert _carried(out) == _carried(src)
    assert 34680 in _carried(out)


def test_tifffile_shape_note_is_not_carried(tmp_path):
    tifffile.imwrite(tmp_path / "plain.tif", _pixels())  # writes {"shape": [130, 140]}
    assert 270 not in tiffmeta.read_tags(tmp_path / "plain.tif").codes()
