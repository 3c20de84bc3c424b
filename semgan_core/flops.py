"""Analytic FLOP and parameter accounting of the networks (no data, nothing run).

:func:`count_flops` sums the multiply-adds of every convolution of a functional Keras
model for one input size, propagating static shapes through the graph;
:func:`layer_table` lists them per layer and :func:`model_table` per width, for the
generator and the discriminator of :mod:`semgan_core.models`.
"""

from __future__ import annotations

import keras
from keras import layers

from semgan_core.checks import check_input_size
from semgan_core.models import MultiBlock, build_discriminator, build_generator


def _conv_flops(kernel_shape, height: int, width: int) -> int:
    """2 k_h k_w c_in c_out H W: one convolution's multiply-adds, counted as 2 FLOPs."""
    kh, kw, cin, cout = (int(s) for s in kernel_shape)
    return 2 * kh * kw * cin * cout * int(height) * int(width)


def _layer_flops(layer, in_shape, out_shape) -> int:
    """Forward FLOPs of one layer given its static input and output shapes (0 if no conv)."""
    if isinstance(layer, layers.Conv2DTranspose):      # each input pixel scatters k x k
        return _conv_flops(layer.kernel.shape, *in_shape[1:3])
    if isinstance(layer, layers.Conv2D):
        return _conv_flops(layer.kernel.shape, *out_shape[1:3])
    if isinstance(layer, MultiBlock):
        return sum(_conv_flops(conv.kernel.shape, *out_shape[1:3])
                   for conv in (layer.conv1, layer.conv3))
    return 0


def _parents(node) -> list[str]:
    """Names of the layers whose outputs a serialised inbound node refers to, in order."""
    if isinstance(node, dict):
        if "keras_history" in node:
            return [node["keras_history"][0]]
        return [name for value in node.values() for name in _parents(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _parents(value)]
    return []


def _static_shapes(model: keras.Model, size) -> dict:
    """``{layer name: (input shape, output shape)}`` of a functional model on a batch-1
    input of ``size``, propagated with ``compute_output_shape`` (no weights, no data)."""
    h, w = (size, size) if isinstance(size, int) else size
    shapes = {}
    for spec in model.get_config()["layers"]:
        layer = model.get_layer(spec["name"])
        parents = _parents(spec["inbound_nodes"][:1])
        if not parents:                                  # an InputLayer
            shapes[layer.name] = (None, (1, int(h), int(w), layer.output.shape[-1]))
            continue
        inputs = [shapes[name][1] for name in parents]
        in_shape = inputs if len(inputs) > 1 else inputs[0]
        shapes[layer.name] = (in_shape, tuple(layer.compute_output_shape(in_shape)))
    return shapes


def count_flops(model: keras.Model, size: int | tuple[int, int]) -> int:
    """Analytic forward FLOPs of one image through ``model`` (batch 1).

    Parameters
    ----------
    model : keras.Model
        A generator or discriminator from this module (any functional model works).
    size : int or (int, int)
        Input height and width.

    Returns
    -------
    flops : int
        Sum over ``Conv2D`` (and the two convolutions inside each :class:`MultiBlock`)
        of ``2 k k c_in c_out H_out W_out``, and over ``Conv2DTranspose`` of
        ``2 k k c_in c_out H_in W_in`` (each input pixel scatters a k x k x c_out patch,
        so a stride-2 layer costs a quarter of what its output size suggests). Biases,
        norms, activations, additions and concatenations are left out (< 1 %).

    Notes
    -----
    Spatial sizes are propagated through the graph with each layer's
    ``compute_output_shape``; nothing is run or allocated.
    """
    shapes = _static_shapes(model, size)
    return sum(_layer_flops(model.get_layer(name), *io) for name, io in shapes.items())


def layer_table(model: keras.Model, size: int | tuple[int, int] = 256) -> list[dict]:
    """One row per convolution, Multi block and skip concatenation of ``model``.

    Parameters
    ----------
    model : keras.Model
    size : int or (int, int)
        Input height and width used for the output shapes and FLOPs.

    Returns
    -------
    rows : list of dict
        Keys ``name``, ``type``, ``kernel`` (e.g. ``"4x4"``, ``""`` if none), ``stride``,
        ``output`` (``(H, W, C)``), ``params`` and ``gflop``, in graph order.
    """
    kinds = (layers.Conv2D, layers.Conv2DTranspose, MultiBlock, layers.Concatenate)
    rows = []
    for name, (in_shape, out_shape) in _static_shapes(model, size).items():
        layer = model.get_layer(name)
        if not isinstance(layer, kinds):
            continue
        conv = isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))
        rows.append({
            "name": layer.name, "type": type(layer).__name__,
            "kernel": "x".join(map(str, layer.kernel_size)) if conv else
            ("1x1 + 3x3" if isinstance(layer, MultiBlock) else ""),
            "stride": layer.strides[0] if conv else 1,
            "output": tuple(int(s) for s in out_shape[1:]),
            "params": int(layer.count_params()),
            "gflop": _layer_flops(layer, in_shape, out_shape) / 1e9,
        })
    return rows


def model_table(widths=(1.0, 0.5, 0.25), size: int = 256, *,
                bottleneck_norm: bool = False) -> list[dict]:
    """Parameters and forward GFLOP of the generator and discriminator per width.

    Parameters
    ----------
    widths : sequence of float
        Channel multipliers.
    size : int
        Square input side for the FLOP count (multiple of 128).
    bottleneck_norm : bool
        Passed to :func:`build_generator` (changes the count by 3 x 512 x width).

    Returns
    -------
    rows : list of dict
        Keys ``width``, ``generator_params``, ``discriminator_params``,
        ``generator_gflop``, ``discriminator_gflop`` (one image, batch 1).
    """
    check_input_size(size, size)
    rows = []
    for width in widths:
        gen = build_generator(width, bottleneck_norm=bottleneck_norm)
        disc = build_discriminator(width)
        rows.append({
            "width": float(width),
            "generator_params": int(gen.count_params()),
            "discriminator_params": int(disc.count_params()),
            "generator_gflop": count_flops(gen, size) / 1e9,
            "discriminator_gflop": count_flops(disc, size) / 1e9,
        })
    return rows
