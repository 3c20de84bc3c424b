"""Tests of semgan_core.infer: tiled inference, files (bit depth, info bar), the CLI."""

import warnings

import numpy as np
import pytest
import tifffile
from PIL import Image
from scipy import ndimage

import keras

from semgan_core import cli, databar, fileformats, generators, images, infer, tiffmeta


def identity(batch):
    return batch


def invert(batch):  # a "model" that changes every pixel: x -> 1 - x in [0, 1]
    return -batch


def ramp(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random(shape).astype(np.float32)


def with_bar(shape=(128, 160), row=112):
    image = ramp(shape) * 0.6 + 0.2
    image[row:] = 0.0
    image[row + 4:row + 12:2, 10:60] = 1.0  # "text"
    assert databar.find_databar(image) == row
    return image


# --- deblur -----------------------------------------------------------------------------

def test_generator_output_keeps_shape_and_range_for_odd_sizes(generator):
    out = infer.deblur(generator, ramp((200, 333)), tile=128, batch_size=4)
    assert out.shape == (200, 333) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


@pytest.mark.parametrize("shape", [(16, 16), (200, 333), (128, 256), (257, 129), (17, 500)])
@pytest.mark.parametrize("tile,overlap", [(128, 32), (256, 0), (256, 128)])
def test_identity_model_gives_the_input_back(shape, tile, overlap):
    image = ramp(shape)
    out = infer.deblur(identity, image, tile=tile, overlap=overlap, batch_size=3)
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_allclose(out, image, atol=1e-5)


def test_identity_keras_model_and_integer_input():
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    image = (ramp((150, 140)) * 255).astype(np.uint8)
    np.testing.assert_allclose(infer.deblur(model, image, tile=128), image / 255.0, atol=1e-5)


def test_blending_is_seamless_for_a_shift_invariant_model():
    # a 5x5 mean filter run tile by tile equals the filter on the whole mirrored image
    conv = keras.layers.Conv2D(1, 5, padding="same", use_bias=False)
    model = keras.Sequential([keras.Input((None, None, 1)), conv])
    conv.set_weights([np.full((5, 5, 1, 1), 1 / 25, np.float32)])
    image = ramp((200, 333))
    out = infer.deblur(model, image, tile=128, overlap=32)
    expected = ndimage.uniform_filter(image.astype(np.float64), 5, mode="mirror")
    assert np.abs(out - expected).max() < 2e-3


@pytest.mark.parametrize("kwargs,match", [
    (dict(tile=200), "tile must be a positive multiple of 128"),
    (dict(tile=64), r"tile must be a positive multiple of 128 .*got 64"),
    (dict(overlap=129), "overlap must be between 0 and tile / 2"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
])
def test_deblur_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        infer.deblur(identity, ramp((32, 32)), **kwargs)


def test_deblur_rejects_bad_images_and_models():
    with pytest.raises(ValueError, match="minimum is 16"):
        infer.deblur(identity, ramp((8, 40)))
    with pytest.raises(ValueError, match=r"deblur\(image\).*2-D"):
        infer.deblur(identity, ramp((2, 32, 32)))
    with pytest.raises(ValueError, match="must return its input's shape"):
        infer.deblur(lambda b: b[:, :64], ramp((32, 32)), tile=128)


# --- deblur_file ------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_deblur_file_keeps_16_bits(tmp_path, suffix):
    pixels = (ramp((130, 140)) * 65535).astype(np.uint16)
    src = images.write_image(tmp_path / f"in{suffix}", pixels, bit_depth=16)
    out = infer.deblur_file(identity, src, tmp_path / f"out{suffix}", tile=128)
    written = tifffile.imread(out) if suffix == ".tif" else np.asarray(Image.open(out))
    assert written.dtype == np.uint16
    assert np.abs(written.astype(int) - pixels).max() <= 1
    eight = infer.deblur_file(identity, src, tmp_path / "out8.png", bit_depth=8, tile=128)
    assert np.asarray(Image.open(eight)).dtype == np.uint8


def test_deblur_file_keeps_8_bits(tmp_path):
    src = images.write_image(tmp_path / "in.png", ramp((128, 128)))
    out = infer.deblur_file(identity, src, tmp_path / "out.tif", tile=128)
    assert tifffile.imread(out).dtype == np.uint8


def test_deblur_file_passes_the_info_bar_through(tmp_path):
    image = with_bar()
    src = images.write_image(tmp_path / "bar.tif", image, bit_depth=16)
    original = images.read_image(src)
    out = images.read_image(infer.deblur_file(invert, src, tmp_path / "out.tif", tile=128))
    np.testing.assert_array_equal(out[112:], original[112:])
    np.testing.assert_allclose(out[:112], 1 - original[:112], atol=1e-4)
    cropped = infer.deblur_file(invert, src, tmp_path / "crop.tif", crop_databar=True,
                                tile=128)
    assert images.read_image(cropped, min_side=16).shape == (112, 160)


def test_deblur_file_never_overwrites_its_input(tmp_path):
    src = images.write_image(tmp_path / "in.png", ramp((128, 128)))
    before = src.read_bytes()
    with pytest.raises(ValueError, match="refusing to overwrite the input"):
        infer.deblur_file(invert, src, src)
    with pytest.raises(ValueError, match=r"output extension='\.jpg' is not allowed; "
                                         r"expected one of '\.tif', '\.tiff', '\.png'"):
        infer.deblur_file(invert, src, tmp_path / "out.jpg")
    with pytest.raises(ValueError, match="bit_depth=12 is not allowed; expected one of "
                                         "None, 8, 16"):
        infer.deblur_file(invert, src, tmp_path / "out.png", bit_depth=12)
    assert src.read_bytes() == before


def sharpen(batch):  # a shift-invariant model that rings: unsharp masking, per tile
    blurred = ndimage.uniform_filter(batch, size=(1, 7, 7, 1), mode="reflect")
    return np.clip(batch + 2.0 * (batch - blurred), -1, 1)


def test_twelve_bit_data_keeps_its_range(tmp_path):
    rng = np.random.default_rng(0)
    smooth = ndimage.gaussian_filter(rng.random((160, 150)), 4)
    smooth = 0.1 + 0.9 * (smooth - smooth.min()) / np.ptp(smooth)  # max 4095, min ~410
    pixels = np.round(smooth * 4095).astype(np.uint16)
    src = tmp_path / "dark12.tif"
    tifffile.imwrite(src, pixels)
    assert fileformats.stored_depth(src, bits="auto") == (16, 12)
    same = tifffile.imread(infer.deblur_file(identity, src, tmp_path / "id.tif", tile=128))
    assert same.dtype == np.uint16 and np.abs(same.astype(int) - pixels).max() <= 1
    model = generators.load_shipped("filter-unpaired-B")
    out = tifffile.imread(infer.deblur_file(model, src, tmp_path / "out.tif", tile=128))
    assert out.max() <= 4095 and out.max() > 3000  # the 12-bit range, not 16-bit
    stretched = tmp_path / "full16.tif"  # the same image over the full 16-bit range
    tifffile.imwrite(stretched, np.round(smooth * 65535).astype(np.uint16))
    full = tifffile.imread(infer.deblur_file(model, stretched, tmp_path / "f.tif", tile=128))
    assert np.abs(out / 4095 - full / 65535).max() < 1 / 255  # the same restoration
    assert np.mean(out == 0) < 0.02  # no mass clipping to black
    dark = tifffile.imread(infer.deblur_file(model, src, tmp_path / "dark.tif", bits=16,
                                             tile=128))
    assert np.mean(dark == 0) > 0.2  # read as 16-bit it is nearly black: what this guards
    full = tifffile.imread(infer.deblur_file(identity, src, tmp_path / "full.tif", bits=16,
                                             tile=128))
    np.testing.assert_array_equal(full, pixels)  # bits=16: the old full-range reading


def test_bits_below_the_data_are_refused(tmp_path):
    src = tmp_path / "twelve.tif"
    tifffile.imwrite(src, np.full((128, 128), 4095, np.uint16))
    with pytest.raises(ValueError, match=r"twelve\.tif holds values up to 4095, above the "
                                         r"10-bit maximum 1023"):
        infer.deblur_file(identity, src, tmp_path / "out.tif", bits=10)
    with pytest.raises(ValueError, match=r"deblur_file: bits must be an integer in \[1, 16\]"):
        infer.deblur_file(identity, src, tmp_path / "out.tif", bits=17)


def _bar_with_border(shape=(200, 170), top=160, border=4):
    """A smooth specimen over a white frame line (``border`` rows) and a black bar."""
    rng = np.random.default_rng(1)
    image = ndimage.gaussian_filter(rng.random(shape), 2)
    image = (0.2 + 0.6 * (image - image.min()) / np.ptp(image)).astype(np.float32)
    image[top - border:top] = 1.0
    image[top:] = 0.0
    image[top + 4:top + 30:3, 10:90:4] = 1.0  # "text"
    return image, top - border


def test_info_bar_and_its_border_pass_through_untouched(tmp_path):
    image, bar = _bar_with_border()
    assert databar.bar_top(image) == bar
    src = images.write_image(tmp_path / "bar.tif", image, bit_depth=16)
    pixels = tifffile.imread(src)
    out = tifffile.imread(infer.deblur_file(sharpen, src, tmp_path / "out.tif", tile=128))
    np.testing.assert_array_equal(out[bar:], pixels[bar:])  # bar rows bit-identical
    specimen = images.read_image(src)[:bar]
    alone = np.round(infer.deblur(sharpen, specimen, tile=128) * 65535).astype(np.uint16)
    np.testing.assert_array_equal(out[:bar], alone)  # rows above: as if no bar existed
    naive = np.round(infer.deblur(sharpen, images.read_image(src), tile=128) * 65535)
    assert np.abs(naive[bar - 3:bar] - alone[bar - 3:]).max() > 1000  # what it guards


def test_tiff_tags_survive_deblur_file(tmp_path):
    cz_sem = b"\r\n0\r\nAP_PIXEL_SIZE\r\nPixel Size = 2.5 nm\r\nAP_WD\r\nWD = 5.0 mm\r\n\x00"
    pixels = np.round(_bar_with_border()[0] * 255).astype(np.uint8)
    src = tmp_path / "zeiss.tif"
    tifffile.imwrite(src, pixels, resolution=((4, 1), (4, 1)), resolutionunit=3,
                     metadata=None, extratags=[(34118, 1, len(cz_sem), cz_sem, True)])
    out = infer.deblur_file(sharpen, src, tmp_path / "out.tif", tile=128)
    before, after = tiffmeta.stored_tags(src), tiffmeta.stored_tags(out)
    for code in (34118, 282, 283, 296):
        assert after[code] == before[code], code
    assert tifffile.imread(out).dtype == np.uint8


# --- CLI --------------------------------------------------------------------------------

def test_cli_deblur_files_and_folders(generator_file, tmp_path, capsys):
    folder = tmp_path / "in"
    for name in ("a.png", "b.tif"):
        images.write_image(folder / name, ramp((128, 150)))
    single = images.write_image(tmp_path / "c.png", ramp((130, 128)), bit_depth=16)
    status = cli.main(["deblur", str(folder), str(single), "--weights", str(generator_file),
                       "--out", str(tmp_path / "out"), "--tile", "128"])
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.tif", "c.png"]
    assert np.asarray(Image.open(tmp_path / "out" / "c.png")).dtype == np.uint16
    assert "deblurred 3 image(s)" in capsys.readouterr().out


def test_cli_deblur_bad_file_in_the_middle(generator_file, tmp_path, capsys):
    good1 = images.write_image(tmp_path / "good1.png", ramp((128, 128)))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    good2 = images.write_image(tmp_path / "good2.png", ramp((128, 128)))
    status = cli.main(["deblur", str(good1), str(bad), str(good2), "--weights",
                       str(generator_file), "--out", str(tmp_path / "out"), "--tile", "128",
                       "--quiet"])
    captured = capsys.readouterr()
    assert status == 2
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1 and "bad.png" in errors[0] and errors[0].startswith("semgan:")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good1.png", "good2.png"]
    assert "; 1 failed" in captured.out


def test_cli_deblur_missing_weights(tmp_path, capsys):
    status = cli.main(["deblur", str(tmp_path), "--weights", str(tmp_path / "none.keras"),
                       "--out", str(tmp_path / "out")])
    assert status == 2
    assert "none.keras" in capsys.readouterr().err
