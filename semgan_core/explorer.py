"""Explorers that work without a kernel: precomputed frames behind linked sliders.

A widget that redraws through a Python callback needs a running kernel, and the built
book has none. An explorer made here holds every frame beforehand and switches between
them in the browser: each slider's ``index`` is linked (``ipywidgets.jslink``) to the
``selected_index`` of a :class:`ipywidgets.Stack` of images, so it works the same in the
static HTML (no kernel, no network) and in Jupyter.
"""

from __future__ import annotations

import io

import numpy as np

from semgan_core.images import as_image

#: CSS class of every explorer (the book's browser check looks for it).
EXPLORER_CLASS = "semgan-explorer"


def png_bytes(image):
    """Encode one image as an 8-bit grayscale PNG.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Returns
    -------
    data : bytes
    """
    from PIL import Image

    image = as_image(image, name="png_bytes: image")
    buffer = io.BytesIO()
    Image.fromarray(np.round(image * 255).astype(np.uint8), mode="L").save(buffer, "PNG")
    return buffer.getvalue()


def _check_frames(frames, parameters, captions):
    frames = np.asarray(frames, dtype=np.float32)
    shape = tuple(len(values) for values in parameters.values())
    if not 1 <= len(shape) <= 2:
        raise ValueError(f"frame_explorer: one or two parameters expected, got {len(shape)}")
    if frames.ndim != len(shape) + 2 or frames.shape[:len(shape)] != shape:
        raise ValueError(f"frame_explorer: frames of shape {shape} + (H, W) expected for "
                         f"parameters {list(parameters)}, got {frames.shape}")
    if captions is not None and np.shape(captions) != shape:
        raise ValueError(f"frame_explorer: captions of shape {shape} expected, "
                         f"got {np.shape(captions)}")
    return frames, shape


def frame_explorer(frames, parameters, *, start=None, captions=None, reference=None,
                   reference_title="reference", width="360px"):
    """A slider per parameter over precomputed frames, linked in the browser.

    Parameters
    ----------
    frames : array_like, shape (n1, H, W) or (n1, n2, H, W), float in [0, 1]
        ``frames[i, j]`` is the image for the i-th value of the first parameter and the
        j-th of the second.
    parameters : dict of str to sequence
        Parameter names (the slider labels) and their values, in the frames' axis order.
    start : dict of str to value, optional
        The value each slider starts at (one of its values); the first value by default.
    captions : array_like of str, shape (n1,) or (n1, n2), optional
        A line of text under each frame.
    reference : ndarray, shape (H, W), optional
        A fixed image shown beside the frames (for example the clean original).
    reference_title : str, optional
    width : str, optional
        CSS width of each image.

    Returns
    -------
    explorer : ipywidgets.VBox
        Sliders above the images; its DOM class is :data:`EXPLORER_CLASS`.

    Raises
    ------
    ValueError
        If there are not one or two parameters, the frames or captions do not have
        one entry per combination of values, or a start value is not among the values.
    """
    import ipywidgets as w

    frames, shape = _check_frames(frames, parameters, captions)
    index = []
    for name, values in parameters.items():
        value = (start or {}).get(name, values[0])
        matches = [i for i, v in enumerate(values) if np.isclose(v, value)]
        if not matches:
            raise ValueError(f"frame_explorer: start value of {name!r} must be one of "
                             f"{list(values)}, got {value!r}")
        index.append(matches[0])
    sliders = [w.SelectionSlider(options=[f"{v:g}" for v in values], index=i,
                                 description=name, continuous_update=True,
                                 layout=w.Layout(width="420px"))
               for (name, values), i in zip(parameters.items(), index)]

    def frame(index):
        image = w.Image(value=png_bytes(frames[index]), format="png",
                        layout=w.Layout(width=width, height="auto"))
        if captions is None:
            return image
        return w.VBox([image, w.HTML(f"<small>{np.asarray(captions)[index]}</small>")])

    if len(shape) == 1:
        stack = w.Stack([frame((i,)) for i in range(shape[0])], selected_index=index[0])
        w.jslink((sliders[0], "index"), (stack, "selected_index"))
    else:
        inner = [w.Stack([frame((i, j)) for j in range(shape[1])], selected_index=index[1])
                 for i in range(shape[0])]
        stack = w.Stack(inner, selected_index=index[0])
        w.jslink((sliders[0], "index"), (stack, "selected_index"))
        for child in inner:
            w.jslink((sliders[1], "index"), (child, "selected_index"))
    views = [stack]
    if reference is not None:
        fixed = w.Image(value=png_bytes(reference), format="png",
                        layout=w.Layout(width=width, height="auto"))
        views.insert(0, w.VBox([fixed, w.HTML(f"<small>{reference_title}</small>")]))
    explorer = w.VBox([*sliders, w.HBox(views)])
    explorer.add_class(EXPLORER_CLASS)
    return explorer
