"""Deblurring one's own micrographs: finding the files, an example, before/after views.

The restoration itself is :func:`semgan_core.infer.deblur_file` (the bit depth kept, the
instrument's info bar passed through); this module finds the files a reader names
(:func:`find_inputs`), provides an example when they name none (:func:`example_input`),
describes what a restored file kept of its input (:func:`file_report`) and builds the
views of a chapter: a before/after wipe (:func:`wipe_frames`, shown with a slider by
:func:`semgan_core.explorer.frame_explorer`, which works without a kernel) and, in a live
notebook, a small form to pick another file and model (:func:`chooser`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semgan_core import (crops, databar, fileformats, images, kernels, realdata, synth,
                         tiffmeta)

#: The shared micrograph used as the example when there is one: an SiO2 particle film
#: imaged at 5 kV, an 8-bit TIFF with the instrument's data box and its metadata tag.
EXAMPLE_SHARED = ("sio2", "sio2_K3K4Me3_2-2.tif")
#: Side of the synthetic example (height, width) and the height of its info bar.
EXAMPLE_SHAPE = (448, 512)
EXAMPLE_BAR = 40
#: File name of the synthetic example.
SYNTHETIC_EXAMPLE = "synthetic_example.tif"


def find_inputs(path) -> list[Path]:
    """The micrographs at ``path``: the file itself, or a folder's image files.

    Parameters
    ----------
    path : str or os.PathLike
        One image file (extensions :data:`semgan_core.images.IMAGE_EXTENSIONS`), or a
        folder: its image files as :func:`semgan_core.crops.list_images` lists them
        (sorted, not its sub-folders nor hidden files).

    Returns
    -------
    paths : list of pathlib.Path

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For a file with another extension, or a folder without image files.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"find_inputs: no such file or folder: {path}")
    if path.is_file():
        if path.suffix.lower() not in images.IMAGE_EXTENSIONS:
            raise ValueError(f"find_inputs: {path} is not an image file; expected one of "
                             f"{', '.join(images.IMAGE_EXTENSIONS)}")
        return [path]
    found = crops.list_images(path)
    if not found:
        raise ValueError(f"find_inputs: folder {path} holds no image files "
                         f"({', '.join(images.IMAGE_EXTENSIONS)})")
    return found


def example_input(dest, *, rng=0) -> Path:
    """An example micrograph: the shared SiO2 film, or a synthetic one written to ``dest``.

    Parameters
    ----------
    dest : str or os.PathLike
        Folder for the synthetic example (made if missing); unused when the shared
        micrographs are present (:func:`semgan_core.realdata.real_data_dir`), whose
        file is returned where it lies.
    rng : numpy.random.Generator, int or None
        Seed of the synthetic specimen.

    Returns
    -------
    path : pathlib.Path
        The shared TIFF, or ``dest/synthetic_example.tif``: a procedural micrograph
        (:func:`semgan_core.synth.micrograph`) blurred with the assumed PSF, with a black
        info bar holding white marks in its last 40 rows, stored as a 16-bit TIFF with
        a description and a resolution, so that the metadata a restoration keeps can be
        checked.
    """
    root = realdata.real_data_dir()
    if root is not None:
        shared = root / realdata.SUBSETS[EXAMPLE_SHARED[0]] / EXAMPLE_SHARED[1]
        if shared.is_file():
            return shared
    import tifffile

    height, width = EXAMPLE_SHAPE
    specimen = synth.micrograph((height, width), rng=rng)[0]
    frame = kernels.convolve(specimen, kernels.ASSUMED_PSF)
    frame[-EXAMPLE_BAR:] = 0.0
    for row in range(height - EXAMPLE_BAR + 10, height - 10, 4):
        frame[row:row + 2, 16:width // 3] = 1.0          # "text" of the info bar
    path = Path(dest) / SYNTHETIC_EXAMPLE
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.round(np.clip(frame, 0, 1) * 65535).astype(np.uint16)
    tifffile.imwrite(path, pixels, photometric="minisblack", resolution=(200.0, 200.0),
                     description="synthetic SEM micrograph, 16-bit, with an info bar")
    return path


def _tags(path: Path) -> dict[int, tuple]:
    """:func:`semgan_core.tiffmeta.stored_tags` of a TIFF (empty for other formats)."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return {}
    return tiffmeta.stored_tags(path)


def _tag_name(code: int) -> str:
    """The TIFF tag's name (tifffile's registry), or its code as text."""
    import tifffile

    return tifffile.TIFF.TAGS.get(code, str(code))


#: TIFF tags that describe the pixel layout of a file, not the instrument or the
#: specimen; :func:`file_report` leaves them out of the metadata it compares.
LAYOUT_TAGS = frozenset({254, 256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 339})


def file_report(in_path, out_path) -> dict:
    """What a restored file kept of its input: bit depth, size and metadata tags.

    Parameters
    ----------
    in_path, out_path : str or os.PathLike
        The input micrograph and the file :func:`semgan_core.infer.deblur_file` wrote.

    Returns
    -------
    report : dict
        ``bits_in``, ``bits_out`` (bits per sample, 8 or 16, as
        :func:`semgan_core.fileformats.stored_depth` gives them), ``shape_in``, ``shape_out``
        (H, W), ``tags_in`` (names of the input's TIFF tags other than the pixel layout
        ones of :data:`LAYOUT_TAGS`; empty for other formats), ``tags_kept`` and
        ``tags_lost`` (those the output holds with the same stored value,
        :func:`semgan_core.tiffmeta.stored_tags`, or not).
    """
    in_path, out_path = Path(in_path), Path(out_path)
    tags_in = {c: v for c, v in _tags(in_path).items() if c not in LAYOUT_TAGS}
    tags_out = _tags(out_path)
    read = [images.read_image(p, min_side=1) for p in (in_path, out_path)]
    kept = {c for c, value in tags_in.items() if tags_out.get(c) == value}
    return {"bits_in": fileformats.stored_depth(in_path)[0],
            "bits_out": fileformats.stored_depth(out_path)[0],
            "shape_in": list(read[0].shape), "shape_out": list(read[1].shape),
            "tags_in": sorted(_tag_name(c) for c in tags_in),
            "tags_kept": sorted(_tag_name(c) for c in kept),
            "tags_lost": sorted(_tag_name(c) for c in tags_in if c not in kept)}


def wipe(before, after, fraction) -> np.ndarray:
    """``after`` left of a vertical line at ``fraction`` of the width, ``before`` right.

    Parameters
    ----------
    before, after : ndarray, shape (H, W), float32 in [0, 1]
    fraction : float
        0 shows ``before`` alone, 1 ``after`` alone.

    Returns
    -------
    ndarray, shape (H, W), float32
        With a one-pixel white line at the border when 0 < fraction < 1.

    Raises
    ------
    ValueError
        For images of two shapes or a fraction outside [0, 1].
    """
    before = images.as_image(before, name="wipe(before)")
    after = images.as_image(after, name="wipe(after)")
    if before.shape != after.shape:
        raise ValueError(f"wipe: before and after must have one shape, got {before.shape} "
                         f"and {after.shape}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"wipe: fraction must be in [0, 1], got {fraction!r}")
    column = int(round(fraction * before.shape[1]))
    out = before.copy()
    out[:, :column] = after[:, :column]
    if 0 < column < before.shape[1]:
        out[:, column] = 1.0
    return out


def wipe_frames(before, after, fractions) -> np.ndarray:
    """:func:`wipe` at each of ``fractions``, stacked: frames for a slider."""
    return np.stack([wipe(before, after, f) for f in fractions])


def output_path(in_path, model, out_dir) -> Path:
    """Where :func:`deblur_path` writes the restoration of ``in_path`` by ``model``.

    ``out_dir/<stem>_<model>.tif``: a TIFF, which holds 8 or 16 bits and the input's
    tags, whatever the input's format.
    """
    return Path(out_dir) / f"{Path(in_path).stem}_{model}.tif"


def deblur_path(path, model, out_dir) -> list[tuple[Path, Path]]:
    """Restore the micrograph(s) at ``path`` with a shipped model into ``out_dir``.

    Parameters
    ----------
    path : str or os.PathLike
        A file or a folder (:func:`find_inputs`).
    model : str
        A shipped model name (:data:`semgan_core.generators.SHIPPED`).
    out_dir : str or os.PathLike
        Output folder (made if missing); see :func:`output_path`.

    Returns
    -------
    pairs : list of (input path, output path)

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`find_inputs`, :func:`semgan_core.generators.load_shipped` and
        :func:`semgan_core.infer.deblur_file`.
    """
    from semgan_core import generators, infer

    inputs = find_inputs(path)
    generator = generators.load_shipped(model)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return [(p, infer.deblur_file(generator, p, output_path(p, model, out_dir)))
            for p in inputs]


def compare_figure(before, after, *, zoom=128, titles=("before", "after")):
    """Before and after side by side, each with the same zoomed inset.

    Parameters
    ----------
    before, after : ndarray, shape (H, W), float32 in [0, 1]
    zoom : int
        Side of the inset square, placed where the specimen rows of ``before`` (above
        its info bar) have the most detail (:func:`semgan_core.plotting.detail_region`).
    titles : pair of str

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    from semgan_core import plotting

    before = images.as_image(before, name="compare_figure(before)")
    specimen = before[:databar.bar_top(before) or before.shape[0]]
    side = min(int(zoom), *specimen.shape)
    return plotting.method_panels({titles[0]: before, titles[1]: after}, ncols=2,
                                  inset=plotting.detail_region(specimen, size=side),
                                  panel_size=4.5)


def chooser(path, model, models, *, out_dir):
    """A live form: a path box, a model menu and a button that restores and shows.

    The button runs :func:`deblur_path` and draws :func:`compare_figure` of the first
    file under the form. Needs a running kernel (the built book shows the static
    figures instead).

    Parameters
    ----------
    path : str
        The path the box starts with.
    model : str
        The model the menu starts with, one of ``models``.
    models : sequence of str
        The model names offered.
    out_dir : str or os.PathLike
        Where restored files are written.

    Returns
    -------
    form : ipywidgets.VBox

    Raises
    ------
    ValueError
        If ``model`` is not one of ``models``.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    if model not in models:
        raise ValueError(f"chooser: model must be one of {list(models)}, got {model!r}")
    box = w.Text(value=str(path), description="file or folder",
                 layout=w.Layout(width="560px"), style={"description_width": "initial"})
    menu = w.Dropdown(options=list(models), value=model, description="model")
    button = w.Button(description="Deblur", button_style="primary")
    shown = w.Output()

    def run(_):
        shown.clear_output()
        with shown:
            try:
                pairs = deblur_path(box.value, menu.value, out_dir)
            except (OSError, ValueError) as exc:
                print(f"cannot deblur {box.value!r}: {exc}")
                return
            print("\n".join(f"{a} -> {b}" for a, b in pairs))
            fig = compare_figure(*(images.read_image(p, min_side=1) for p in pairs[0]))
            display(fig)
            plt.close(fig)

    button.on_click(run)
    return w.VBox([w.HBox([box, menu, button]), shown])
