"""Tests for semgan_core.images: reading, writing, info-bar detection, model range."""

import csv
import doctest
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image
from scipy import ndimage

from semgan_core import databar, fileformats, images, realdata

SIDE = 128  # images.MIN_SIDE: the smallest image read_image accepts by default


def _random(shape=(SIDE, SIDE), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _with_bar(top=112, *, shape=(SIDE, SIDE), level=0.0, box=None, seed=0):
    """A smooth specimen in [0.2, 0.8] with an info bar (text stripes) from ``top``."""
    image = ndimage.gaussian_filter(_random(shape, seed), 3)
    image = 0.2 + 0.6 * (image - image.min()) / np.ptp(image)
    bottom, (c0, c1) = (box or (shape[0], (0, shape[1])))
    image[top:bottom, c0:c1] = level
    image[top + 3:bottom - 3:3, c0 + 5:c1 - 5:4] = 1.0 - level  # sparse "text"
    return image.astype(np.float32)


def _rgb():
    return np.random.default_rng(1).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)


def _luma(rgb):
    return (rgb[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114] / 255).astype(np.float32)


# --- reading and writing ---------------------------------------------------------------

@pytest.mark.parametrize("ext", [".tif", ".tiff", ".png"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_round_trip(tmp_path, ext, bit_depth):
    image = _random()
    path = images.write_image(tmp_path / f"x{ext}", image, bit_depth=bit_depth)
    back = images.read_image(path)
    assert back.dtype == np.float32 and back.shape == image.shape
    maxval = 2 ** bit_depth - 1
    np.testing.assert_allclose(back, np.round(image * maxval) / maxval, atol=1e-7)
    assert np.abs(back - image).max() <= 0.5 / maxval + 1e-7
    again = tmp_path / f"again{ext}"
    images.write_image(again, back, bit_depth=bit_depth)
    assert np.array_equal(images.read_image(again), back)  # quantised values are exact


@pytest.mark.parametrize("bit_depth, dtype", [(8, np.uint8), (16, np.uint16)])
def test_written_files_are_plain_gray(tmp_path, bit_depth, dtype):
    ramp = np.linspace(0, 1, SIDE * SIDE, dtype=np.float32).reshape(SIDE, SIDE)
    tif = images.write_image(tmp_path / "r.tif", ramp, bit_depth=bit_depth)
    assert tifffile.imread(tif).dtype == dtype
    png = images.write_image(tmp_path / "r.png", ramp, bit_depth=bit_depth)
    with Image.open(png) as img:
        assert img.mode == ("L" if bit_depth == 8 else "I;16")
        assert np.asarray(img).max() == np.iinfo(dtype).max
    header = png.read_bytes()[24:26]  # IHDR: bit depth, colour type 0 (gray)
    assert header == bytes([bit_depth, 0])


def test_reads_16_bit_exactly(tmp_path):
    pixels = np.arange(SIDE * SIDE, dtype=np.uint16).reshape(SIDE, SIDE) * 3
    tifffile.imwrite(tmp_path / "a.tif", pixels)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    images.write_image(tmp_path / "b.png", pixels, bit_depth=16)  # uint16 in, unchanged
    for name in ("a.tif", "a.png", "b.png"):
        back = images.read_image(tmp_path / name)
        np.testing.assert_allclose(back * 65535, pixels, atol=1e-2)


def test_rgb_and_rgba_to_gray(tmp_path):
    rgb = _rgb()
    rgba = np.dstack([rgb, np.random.default_rng(2).integers(0, 256, (SIDE, SIDE), np.uint8)])
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    tifffile.imwrite(tmp_path / "rgb.tif", rgb)
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb.astype(np.uint16) * 257)
    expected = _luma(rgb)
    for name in ("rgb.png", "rgba.png", "rgb.tif", "rgb16.tif"):
        np.testing.assert_allclose(images.read_image(tmp_path / name), expected, atol=1e-6)
    pil_l = np.asarray(Image.fromarray(rgb).convert("L")) / 255
    assert np.abs(expected - pil_l).max() <= 1 / 255


def test_palette_png_and_tiff(tmp_path):
    rng = np.random.default_rng(3)
    index = rng.integers(0, 4, (SIDE, SIDE), dtype=np.uint8)
    colours = np.array([[0, 0, 0], [255, 0, 0], [10, 200, 30], [255, 255, 255]], np.uint8)
    expected = _luma(colours[index])
    png = Image.fromarray(index, mode="P")
    png.putpalette(colours.ravel().tolist())
    png.save(tmp_path / "p.png")
    cmap = np.zeros((3, 256), np.uint16)
    cmap[:, :4] = colours.T.astype(np.uint16) * 257
    tifffile.imwrite(tmp_path / "p.tif", index, photometric="palette", colormap=cmap)
    for name in ("p.png", "p.tif"):
        np.testing.assert_allclose(images.read_image(tmp_path / name), expected, atol=1e-6)


def test_jpeg_and_bmp(tmp_path):
    smooth = np.round(_with_bar(SIDE, seed=4) * 255).astype(np.uint8)  # no bar: top = H
    Image.fromarray(smooth).save(tmp_path / "g.jpg", quality=95)
    Image.fromarray(np.dstack([smooth] * 3)).save(tmp_path / "c.jpeg", quality=95)
    Image.fromarray(smooth).save(tmp_path / "g.bmp")
    for name in ("g.jpg", "c.jpeg"):
        back = images.read_image(tmp_path / name)
        assert back.shape == smooth.shape and np.abs(back - smooth / 255).mean() < 0.01
    np.testing.assert_array_equal(images.read_image(tmp_path / "g.bmp"), smooth / np.float32(255))


def test_float_tiff(tmp_path):
    image = _random()
    tifffile.imwrite(tmp_path / "f.tif", image)
    tifffile.imwrite(tmp_path / "d.tif", image.astype(np.float64))
    np.testing.assert_array_equal(images.read_image(tmp_path / "f.tif"), image)
    np.testing.assert_allclose(images.read_image(tmp_path / "d.tif"), image)
    tifffile.imwrite(tmp_path / "big.tif", image * 1000)
    with pytest.raises(ValueError, match=r"big\.tif.*must lie in \[0, 1\], found range"):
        images.read_image(tmp_path / "big.tif")


# --- the info bar -------------------------------------------------------------------

def _manifest_rows():
    """(path, expected bar row or None) for every real micrograph, from the manifest."""
    root = realdata.real_data_dir()
    if root is None or not (root / "manifest.csv").is_file():
        return [pytest.param(None, None, id="no-real-data")]
    with open(root / "manifest.csv", newline="") as fh:
        content = {row["path"]: (row["content_rows"], int(row["height"]))
                   for row in csv.DictReader(fh)}
    params = []
    for path in realdata.list_real_images():
        rows, height = content[path.relative_to(root).as_posix()]
        last = int(rows.split("-")[1])
        params.append(pytest.param(path, None if last == height - 1 else last + 1,
                                   id=path.name))
    return params


@pytest.mark.parametrize("path, expected", _manifest_rows())
def test_find_databar_on_real_images(path, expected):
    if path is None:
        pytest.skip(realdata.missing_reason())
    image = images.read_image(path)
    assert databar.find_databar(image) == expected
    if expected is not None:  # the specimen above the bar holds no second bar
        assert databar.find_databar(image[:expected]) is None


def test_real_bars_are_where_sources_md_says():
    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    ncm, sio2 = realdata.list_real_images("ncm"), realdata.list_real_images("sio2")
    assert len(ncm) == 110 and len(sio2) == 7
    assert images.read_image(ncm[0], crop_databar=True).shape == (896, 1280)
    assert images.read_image(sio2[0], crop_databar=True).shape == (423, 712)


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_find_databar_synthetic_bars(level):
    assert databar.find_databar(_with_bar(100, level=level)) == 100
    assert databar.find_databar(_with_bar(100, level=level).astype(np.float64)) == 100
    # a box narrower than the image, with specimen rows below it (like the SiO2 images)
    boxed = _with_bar(100, shape=(SIDE, 160), level=level, box=(120, (20, 140)))
    assert databar.find_databar(boxed) == 100
    as_uint8 = np.round(_with_bar(110, level=level) * 255).astype(np.uint8)
    assert databar.find_databar(images.as_image(as_uint8)) == 110


@pytest.mark.parametrize("func", ["find_databar", "bar_top"])
@pytest.mark.parametrize("array", [np.zeros((128, 128), np.uint8), np.zeros((2, 128, 128))],
                         ids=["uint8", "stack"])
def test_databar_takes_float_images_only(func, array):
    with pytest.raises(ValueError, match=rf"{func}: expected a 2-D float image in \[0, 1\] "
                                         r"\(H, W\), got shape .* dtype .*; convert it "
                                         r"with images.as_image"):
        getattr(databar, func)(array)


def _bar_free():
    rng = np.random.default_rng(5)
    ramp = np.linspace(0, 1, 256, dtype=np.float32)
    particles = np.zeros((256, 256), np.float32)  # bright blobs on a black background
    yy, xx = np.mgrid[:256, :256]
    for y, x in rng.integers(0, 256, (60, 2)):
        particles[(yy - y) ** 2 + (xx - x) ** 2 < 36] = 0.9
    texture = ndimage.gaussian_filter(rng.random((256, 256)), 2)
    noise = rng.normal(0, 0.05, (256, 256))
    return {
        "vertical ramp": np.tile(ramp[:, None], (1, 256)),
        "vertical ramp reversed": np.tile(ramp[::-1, None], (1, 256)),
        "horizontal ramp": np.tile(ramp, (256, 1)),
        "noisy ramp": np.clip(np.tile(ramp[:, None], (1, 256)) + noise, 0, 1),
        "uniform noise": rng.random((256, 256)),
        "texture": (texture - texture.min()) / np.ptp(texture),
        "black": np.zeros((256, 256)),
        "white": np.ones((256, 256)),
        "particles on black": particles,
        "particles on white": 1 - particles,
    }


@pytest.mark.parametrize("name", list(_bar_free()))
def test_find_databar_none_without_bar(name):
    assert databar.find_databar(_bar_free()[name]) is None


def test_find_databar_none_on_synth_micrographs():
    from semgan_core import synth

    for i, kind in enumerate(synth.KINDS):
        image, _ = synth.micrograph(256, kind=kind, rng=i)
        assert databar.find_databar(image) is None, kind


def test_crop_databar(tmp_path):
    path = images.write_image(tmp_path / "bar.png", _with_bar(140, shape=(160, SIDE)))
    assert images.read_image(path).shape == (160, SIDE)
    assert images.read_image(path, crop_databar=True).shape == (140, SIDE)
    plain = images.write_image(tmp_path / "plain.png", _random((160, SIDE)))
    assert images.read_image(plain, crop_databar=True).shape == (160, SIDE)
    short = images.write_image(tmp_path / "short.png", _with_bar(120, shape=(140, SIDE)))
    with pytest.raises(ValueError, match=r"short\.png is 120x128 pixels \(H x W\) after "
                                         r"cropping the info bar at row 120; the minimum "
                                         r"is 128 pixels"):
        images.read_image(short, crop_databar=True)
    assert images.read_image(short, crop_databar=True, min_side=64).shape == (120, SIDE)


# --- errors -------------------------------------------------------------------------

def _truncated(tmp_path, name):
    whole = tmp_path / f"whole{name[-4:]}"
    Image.fromarray(np.uint8(_random() * 255)).save(whole)
    data = whole.read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    return tmp_path / name


@pytest.mark.parametrize("name", ["cut.tif", "cut.png", "cut.jpg"])
def test_truncated_files(tmp_path, name):
    path = _truncated(tmp_path, name)
    kind = {"tif": "TIFF", "png": "PNG", "jpg": "JPG"}[name[-3:]]
    message = rf"{name}: cannot read this {kind} file \(corrupt, truncated or unsupported\)"
    with pytest.raises(ValueError, match=message):
        images.read_image(path)


@pytest.mark.parametrize("name, content, detail", [
    ("garbage.tif", b"this is not a TIFF file" * 20, "not a TIFF file"),
    # a valid header whose first page lies past the end: tifffile only logs a warning
    ("header_only.tif", b"II*\x00\x08\x00\x00\x00", "no image in the file"),
    ("bad_offset.tif", b"II*\x00" + b"\xff" * 100, "no image in the file"),
    ("garbage.png", b"this is not a PNG file", "cannot identify"),
    ("garbage.jpeg", b"\xff\xd8\xff this is not a JPEG", ""),
    ("garbage.bmp", b"BM not a bitmap", ""),
])
def test_corrupt_files(tmp_path, name, content, detail):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=rf"read_image: .*{name}: cannot read .*\(corrupt.*"
                                         rf"{detail}"):
        images.read_image(tmp_path / name)


def test_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"read_image: no such file: .*missing\.tif"):
        images.read_image(tmp_path / "missing.tif")
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ValueError, match=r"folder\.png is a directory"):
        images.read_image(tmp_path / "folder.png")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.png is empty \(0 bytes\)"):
        images.read_image(tmp_path / "empty.png")
    (tmp_path / "x.gif").write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match=r"x\.gif: unsupported extension '\.gif'; "
                                         r"supported: \.tif, \.tiff, \.png, \.jpg"):
        images.read_image(tmp_path / "x.gif")


def test_non_finite_float_tiff(tmp_path):
    image = _random()
    image[3, 4] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", image)
    with pytest.raises(ValueError, match=r"read_image: .*nan\.tif: .*NaN or infinite"):
        images.read_image(tmp_path / "nan.tif")


def test_stacks_are_rejected(tmp_path):
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((5, SIDE, SIDE), np.uint8),
                     photometric="minisblack")
    with pytest.raises(ValueError, match=r"stack\.tif holds a stack of shape \(5, 128, "
                                         r"128\).*tifffile\.imread\(path, key=0\)"):
        images.read_image(tmp_path / "stack.tif")
    with pytest.raises(ValueError, match=r"as_image: frames: .*shape \(5, 128, 128\).*"
                                         r"pass one slice, e.g\. array\[0\]"):
        images.as_image(np.zeros((5, SIDE, SIDE), np.float32), name="frames")


def test_multi_page_tiff_is_rejected(tmp_path):
    path = tmp_path / "pages.tif"
    tifffile.imwrite(path, np.zeros((SIDE, SIDE), np.uint8))
    tifffile.imwrite(path, np.ones((SIDE, SIDE), np.uint8), append=True)
    with pytest.raises(ValueError, match=r"pages\.tif holds 2 images \(multi-page TIFF\), "
                                         r"not one 2-D image.*key=0"):
        images.read_image(path)


def test_reduced_resolution_page_is_ignored(tmp_path):
    path = tmp_path / "thumb.tif"
    image = _random()
    tifffile.imwrite(path, np.uint8(np.round(image * 255)))
    tifffile.imwrite(path, np.zeros((32, 32), np.uint8), append=True, subfiletype=1)
    np.testing.assert_allclose(images.read_image(path), image, atol=0.5 / 255)


def test_bad_tiff_logs_nothing(tmp_path, caplog):
    (tmp_path / "bad_offset.tif").write_bytes(b"II*\x00" + b"\xff" * 100)
    with pytest.raises(ValueError, match="no image in the file"):
        images.read_image(tmp_path / "bad_offset.tif")
    assert not [r for r in caplog.records if r.name.startswith("tifffile")]


def test_too_small(tmp_path):
    path = images.write_image(tmp_path / "small.png", _random((64, 200)))
    with pytest.raises(ValueError, match=r"small\.png is 64x200 pixels \(H x W\); the "
                                         r"minimum is 128 pixels on each side"):
        images.read_image(path)
    assert images.read_image(path, min_side=64).shape == (64, 200)


@pytest.mark.parametrize("array, match", [
    (np.zeros((8, 8), bool), "as_image: img: dtype bool is not an image"),
    (np.zeros((8, 8), np.int64), "integer dtype int64 is not supported"),
    (np.full((8, 8), 1.5), r"img: float values must lie in \[0, 1\], found range "
                           r"\[1\.5, 1\.5\] \(shape \(8, 8\), dtype float64\)"),
    (np.full((8, 8), -np.inf), r"img: float image \(shape \(8, 8\), dtype float64\) "
                               "contains NaN or infinite"),
    (np.zeros((8, 8, 3)), r"expected a 2-D gray image \(H, W\), got shape \(8, 8, 3\)"),
    (np.zeros(8), r"got shape \(8,\)"),
    (np.zeros((0, 8)), r"got shape \(0, 8\)"),
    (np.array([["a"]]), "dtype <U1 is not an image"),
])
def test_as_image_errors(array, match):
    with pytest.raises(ValueError, match=match):
        images.as_image(array, name="img")


def test_as_image_conversions():
    assert images.as_image(np.array([[0, 255]], np.uint8)).tolist() == [[0.0, 1.0]]
    assert images.as_image(np.array([[0, 65535]], np.uint16)).tolist() == [[0.0, 1.0]]
    big_endian = np.array([[0, 65535]], dtype=">u2")
    assert images.as_image(big_endian).tolist() == [[0.0, 1.0]]
    nearly = images.as_image(np.array([[-1e-8, 1 + 1e-8]]))
    assert nearly.dtype == np.float32 and nearly.tolist() == [[0.0, 1.0]]


def test_write_errors(tmp_path):
    with pytest.raises(ValueError, match=r"x\.jpg: unsupported extension '\.jpg'; "
                                         r"supported: \.tif, \.tiff, \.png"):
        images.write_image(tmp_path / "x.jpg", _random())
    with pytest.raises(ValueError, match="bit_depth must be 8 or 16, got 12"):
        images.write_image(tmp_path / "x.png", _random(), bit_depth=12)
    with pytest.raises(ValueError, match=r"write_image: bits must be an integer in \[1, 8\], "
                                         "got 12"):
        images.write_image(tmp_path / "x.png", _random(), bits=12)
    with pytest.raises(ValueError, match=r"write_image: image: float values must lie"):
        images.write_image(tmp_path / "x.png", _random() + 1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext, writer", [(".png", "write_png"), (".tif", "write_tiff")])
def test_write_is_atomic(tmp_path, monkeypatch, ext, writer):
    path = images.write_image(tmp_path / f"keep{ext}", _random())
    before = path.read_bytes()

    def broken(tmp, pixels, *tags):
        with open(tmp, "wb") as fh:
            fh.write(b"partial data")
        raise OSError("disk full")

    monkeypatch.setattr(fileformats, writer, broken)
    with pytest.raises(OSError, match="disk full"):
        images.write_image(path, _random(seed=9))
    with pytest.raises(OSError, match="disk full"):
        images.write_image(tmp_path / f"new{ext}", _random(seed=9))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_makes_parent_folders(tmp_path):
    path = images.write_image(tmp_path / "a" / "b" / "x.png", _random())
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["x.png"]


# --- model range --------------------------------------------------------------------

def test_model_range_numpy():
    image = _random((8, 8))
    model = images.to_model_range(image)
    assert model.dtype == np.float32 and model.min() >= -1 and model.max() <= 1
    np.testing.assert_allclose(images.from_model_range(model), image, atol=1e-6)
    clipped = images.from_model_range(np.array([-3.0, -1.0, 0.0, 1.0, 2.0]))
    assert clipped.dtype == np.float32 and clipped.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert images.to_model_range([0.0, 1.0]).tolist() == [-1.0, 1.0]


def test_model_range_tensorflow():
    tf = pytest.importorskip("tensorflow")
    image = tf.constant(_random((1, 8, 8, 1)))
    model = images.to_model_range(image)
    assert tf.is_tensor(model) and model.dtype == tf.float32
    back = images.from_model_range(model)
    assert tf.is_tensor(back)
    np.testing.assert_allclose(back.numpy(), image.numpy(), atol=1e-6)
    clipped = images.from_model_range(tf.constant([-3.0, 3.0]))
    assert clipped.numpy().tolist() == [0.0, 1.0]


def test_module_does_not_import_tensorflow():
    code = ("import sys, semgan_core.images, semgan_core.databar, semgan_core.fileformats, semgan_core.tiffmeta, "
            "semgan_core.infer, semgan_core.batch; sys.exit('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("module", [images, databar, fileformats])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("bits, scale", [(12, 4095), (10, 1023), (16, 65535)])
def test_bits_read_and_write_back(tmp_path, bits, scale):
    pixels = np.random.default_rng(0).integers(0, scale + 1, (SIDE, SIDE)).astype(np.uint16)
    pixels[0, 0] = scale
    tifffile.imwrite(tmp_path / "in.tif", pixels)
    for given in (bits, "auto"):
        image = images.read_image(tmp_path / "in.tif", bits=given)
        assert image.max() == 1.0
        out = images.write_image(tmp_path / "out.tif", image, bit_depth=16, bits=bits)
        np.testing.assert_array_equal(tifffile.imread(out), pixels)
    assert fileformats.stored_depth(tmp_path / "in.tif", bits="auto") == (16, bits)
    assert fileformats.stored_depth(tmp_path / "in.tif") == (16, 16)


def test_stack_names_the_file_of_another_size(tmp_path):
    arrays = [_random((8, 8)), _random((8, 8)), _random((8, 9))]
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    assert images.stack(arrays[:2], paths[:2]).shape == (2, 8, 8)
    with pytest.raises(ValueError, match=r"load: .*2\.png is 8x9 pixels \(H x W\), but "
                                         r".*0\.png is 8x8; the images of a set must all"):
        images.stack(arrays, paths, func="load")
