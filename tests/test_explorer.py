"""The kernel-free explorer: precomputed frames behind sliders linked in the browser."""

import numpy as np
import pytest
from PIL import Image
import io

from semgan_core import explorer


def _frames(n1, n2, size=8):
    return np.stack([np.stack([np.full((size, size), (i * n2 + j) / (n1 * n2), np.float32)
                               for j in range(n2)]) for i in range(n1)])


def test_png_bytes_round_trip():
    image = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    decoded = np.asarray(Image.open(io.BytesIO(explorer.png_bytes(image))))
    assert decoded.dtype == np.uint8 and decoded.shape == (8, 8)
    assert np.array_equal(decoded, np.round(image * 255).astype(np.uint8))


def test_two_parameters_link_each_slider_to_its_stacks():
    import ipywidgets as w
    from ipywidgets.widgets.widget_link import Link

    box = explorer.frame_explorer(_frames(3, 2), {"sigma": [0, 1, 2], "beta": [0, 2]},
                                  start={"sigma": 1, "beta": 2}, reference=_frames(1, 1)[0, 0])
    assert explorer.EXPLORER_CLASS in box._dom_classes
    sigma, beta, row = box.children
    assert (sigma.index, beta.index) == (1, 1)
    stack = row.children[1]
    assert stack.selected_index == 1 and all(c.selected_index == 1 for c in stack.children)
    from ipywidgets.widgets import widget as widget_module

    live = getattr(widget_module, "_instances", None)  # ipywidgets 8 (Widget.widgets: 7)
    live = w.Widget.widgets if live is None else live
    links = [x for x in live.values() if isinstance(x, Link)]
    pairs = {(l.source[0].model_id, l.target[0].model_id) for l in links}
    assert (sigma.model_id, stack.model_id) in pairs
    assert all((beta.model_id, c.model_id) in pairs for c in stack.children)
    # every frame is its own image, in axis order
    first = [c.value for c in stack.children[0].children]
    assert first[0] != first[1]


def test_one_parameter_with_captions():
    box = explorer.frame_explorer(_frames(3, 1)[:, 0], {"sigma": [0, 1, 2]},
                                  captions=["a", "b", "c"])
    slider, row = box.children
    assert slider.options == ("0", "1", "2") and slider.index == 0
    assert "c" in row.children[0].children[2].children[1].value


@pytest.mark.parametrize("frames, parameters, captions, start, match", [
    (_frames(2, 2), {"a": [0, 1], "b": [0, 1], "c": [0]}, None, None, "one or two parameters"),
    (_frames(2, 2), {"a": [0, 1, 2], "b": [0, 1]}, None, None, r"frames of shape \(3, 2\)"),
    (_frames(2, 2), {"a": [0, 1], "b": [0, 1]}, ["x"], None, r"captions of shape \(2, 2\)"),
    (_frames(2, 2), {"a": [0, 1], "b": [0, 1]}, None, {"a": 5}, "start value of 'a'"),
])
def test_errors(frames, parameters, captions, start, match):
    with pytest.raises(ValueError, match=match):
        explorer.frame_explorer(frames, parameters, captions=captions, start=start)
