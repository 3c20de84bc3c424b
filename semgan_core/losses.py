"""The CycleGAN losses of the paper (eqs. 6, 9-16), one small function per term.

TensorFlow, NHWC tensors. Unless a docstring says otherwise, image arguments are in the
model range [-1, 1] (what the generators read and write); every term that compares
pixel values converts them to [0, 1] first with
:func:`semgan_core.images.from_model_range`, so the weights lambda1, lambda2 and gamma
of eq. 16 apply to losses on the same [0, 1] scale as the metrics (SSIM, PSNR). On the
[-1, 1] scale the identity and edge MSEs would be 4 times larger, and so, in effect,
would their weights.

Adopted readings of the paper's equations:

* LSGAN split of eqs. 9-10: G minimises (D(G(a)) - 1)^2; D minimises
  1/2 [(D(b) - 1)^2 + D(G(a))^2]. Means over the patch map and the batch.
* SSIM (eq. 6, with the product in the denominator): 11x11 Gaussian window, sigma 1.5,
  C1 = 1e-4, C2 = 4e-4 (K1 = 0.01, K2 = 0.02), 'valid' filtering (``tf.image.ssim``).
* Edge loss (eq. 13) literal by default: edges of F(G(a)) against edges of F(a); the
  ``reference="input"`` variant compares them with the edges of a.
* Edge maps (eqs. 14-15): un-normalised Sobel, ``sqrt(gx^2 + gy^2 + eps)`` (a step of
  height 1 gives 4), or Kirsch, the maximum of the 8 compass responses (15 and 9 on
  the two sides of a unit step); symmetric padding, so borders make no edges.
* Inputs are cast to float32 (mixed precision keeps losses in float32).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from semgan_core.images import from_model_range

SSIM_FILTER_SIZE = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01          # C1 = (K1 * 1)^2 = 1e-4
SSIM_K2 = 0.02          # C2 = (K2 * 1)^2 = 4e-4 (the paper's value; usual K2 is 0.03)
EDGE_EPS = 1e-6         # inside the square root of eq. 14: finite gradients on flat images
EDGE_OPERATORS = ("sobel", "kirsch")
EDGE_REFERENCES = ("paper", "input")

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)   # eq. 15
SOBEL_Y = SOBEL_X.T.copy()


def _kirsch_kernels() -> np.ndarray:
    """The 8 Kirsch compass kernels, shape (3, 3, 8): 5 on three ring cells, -3 elsewhere."""
    ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    kernels = np.full((8, 3, 3), -3.0, np.float32)
    kernels[:, 1, 1] = 0.0
    for k in range(8):
        for j in range(3):
            kernels[(k, *ring[(k + j) % 8])] = 5.0
    return np.moveaxis(kernels, 0, -1)


KIRSCH = _kirsch_kernels()


def _f32(x) -> tf.Tensor:
    return tf.cast(tf.convert_to_tensor(x), tf.float32)


def _nhwc(func: str, name: str, x) -> tf.Tensor:
    """``x`` as a float32 tensor of rank 4, or ValueError naming ``func`` and ``name``."""
    x = _f32(x)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise ValueError(f"{func}: {name} must be an NHWC tensor of rank 4, got shape {x.shape}")
    return x


def _mse(x, y) -> tf.Tensor:
    return tf.reduce_mean(tf.square(_f32(x) - _f32(y)))


def lsgan_generator_loss(d_fake) -> tf.Tensor:
    """Least-squares generator loss, mean((D(G(a)) - 1)^2) (eqs. 9-10, generator part).

    Parameters
    ----------
    d_fake : tensor
        Discriminator output (patch map) on generated images.

    Returns
    -------
    loss : scalar float32 tensor
    """
    return tf.reduce_mean(tf.square(_f32(d_fake) - 1.0))


def lsgan_discriminator_loss(d_real, d_fake) -> tf.Tensor:
    """Least-squares discriminator loss, 1/2 [mean((D(b) - 1)^2) + mean(D(G(a))^2)] (eqs. 9-10).

    Parameters
    ----------
    d_real, d_fake : tensor
        Discriminator outputs on real and on generated images.

    Returns
    -------
    loss : scalar float32 tensor
    """
    real = tf.reduce_mean(tf.square(_f32(d_real) - 1.0))
    return 0.5 * (real + tf.reduce_mean(tf.square(_f32(d_fake))))


def ssim_tf(x, y) -> tf.Tensor:
    """Mean SSIM (eq. 6) of two image batches given in the model range [-1, 1].

    Parameters
    ----------
    x, y : tensor, shape (N, H, W, C), values in [-1, 1], H and W >= 11
        Converted to [0, 1] inside.

    Returns
    -------
    ssim : scalar float32 tensor
        ``tf.image.ssim`` with max_val 1, an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
        K2 = 0.02 ('valid' filtering: the mean over the (H-10) x (W-10) interior, which is
        what ``skimage.metrics.structural_similarity`` averages too), averaged over the batch.

    Raises
    ------
    ValueError
        For a rank other than 4 or a side smaller than the 11-pixel window.
    """
    x, y = _nhwc("ssim_tf", "x", x), _nhwc("ssim_tf", "y", y)
    if any(s is not None and s < SSIM_FILTER_SIZE for s in x.shape[1:3]):
        raise ValueError(
            f"ssim_tf: images must be at least {SSIM_FILTER_SIZE}x{SSIM_FILTER_SIZE}, "
            f"got shape {x.shape}")
    values = tf.image.ssim(from_model_range(x), from_model_range(y), max_val=1.0,
                           filter_size=SSIM_FILTER_SIZE, filter_sigma=SSIM_SIGMA,
                           k1=SSIM_K1, k2=SSIM_K2)
    return tf.reduce_mean(values)


def cycle_loss(real_a, cycled_a, real_b, cycled_b) -> tf.Tensor:
    """Cycle-consistency loss (1 - SSIM(F(G(a)), a)) + (1 - SSIM(G(F(b)), b)) (eq. 11).

    Parameters
    ----------
    real_a, cycled_a, real_b, cycled_b : tensor, (N, H, W, 1) in [-1, 1]
        a, F(G(a)), b, G(F(b)).

    Returns
    -------
    loss : scalar float32 tensor, in [0, 4]; 0 when both cycles are exact.
    """
    return (1.0 - ssim_tf(cycled_a, real_a)) + (1.0 - ssim_tf(cycled_b, real_b))


def identity_loss(real_a, same_a, real_b, same_b) -> tf.Tensor:
    """Identity loss MSE(a - F(a)) + MSE(b - G(b)) on [0, 1] images (eq. 12).

    Parameters
    ----------
    real_a, same_a, real_b, same_b : tensor, (N, H, W, 1) in [-1, 1]
        a, F(a), b, G(b); converted to [0, 1] before the MSE (the [-1, 1] MSE is 4x).

    Returns
    -------
    loss : scalar float32 tensor
    """
    a, b = from_model_range(_f32(real_a)), from_model_range(_f32(real_b))
    return _mse(a, from_model_range(_f32(same_a))) + _mse(b, from_model_range(_f32(same_b)))


def edge_map(images, operator: str = "sobel") -> tf.Tensor:
    """Edge magnitude of images in [0, 1] (eqs. 14-15; Kirsch for Table S4).

    Parameters
    ----------
    images : tensor, shape (N, H, W, C), values in [0, 1]
        Note: [0, 1], not the model range.
    operator : {'sobel', 'kirsch'}
        Sobel: ``sqrt(gx^2 + gy^2 + EDGE_EPS)`` with the un-normalised kernels of eq. 15
        (a unit step gives 4 on both sides of the edge). Kirsch: the maximum of the 8
        compass responses (a unit step gives 15 on the dark side, 9 on the bright one).

    Returns
    -------
    edges : float32 tensor, same shape as ``images``
        Borders are padded symmetrically (edge pixels repeated): a flat image gives a
        flat map (``sqrt(EDGE_EPS)`` for Sobel, 0 for Kirsch).

    Raises
    ------
    ValueError
        For an unknown operator or a rank other than 4.
    """
    if operator not in EDGE_OPERATORS:
        raise ValueError(f"edge_map: operator must be one of {EDGE_OPERATORS}, got {operator!r}")
    x = _nhwc("edge_map", "images", images)
    kernels = np.stack([SOBEL_X, SOBEL_Y], -1) if operator == "sobel" else KIRSCH
    channels, n_k = int(x.shape[-1]), kernels.shape[-1]
    filters = tf.constant(np.tile(kernels[:, :, None, :], (1, 1, channels, 1)))
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    resp = tf.nn.depthwise_conv2d(padded, filters, strides=[1, 1, 1, 1], padding="VALID")
    resp = tf.reshape(resp, tf.concat([tf.shape(x), [n_k]], 0))
    if operator == "sobel":
        return tf.sqrt(tf.reduce_sum(tf.square(resp), -1) + EDGE_EPS)
    return tf.reduce_max(resp, -1)


def edge_loss(real_a, cycled_a, same_a, real_b, cycled_b, same_b, *,
              operator: str = "sobel", reference: str = "paper") -> tf.Tensor:
    """Edge loss (eq. 13): MSE between edge maps of the cycle outputs and references.

    Parameters
    ----------
    real_a, cycled_a, same_a, real_b, cycled_b, same_b : tensor, (N, H, W, 1) in [-1, 1]
        a, F(G(a)), F(a), b, G(F(b)), G(b). Converted to [0, 1] before the edge maps.
    operator : {'sobel', 'kirsch'}
        Edge operator (:func:`edge_map`).
    reference : {'paper', 'input'}
        'paper' (eq. 13 literally): MSE(g*F(G(a)) - g*F(a)) + MSE(g*G(F(b)) - g*G(b)).
        'input': MSE(g*F(G(a)) - g*a) + MSE(g*G(F(b)) - g*b).

    Returns
    -------
    loss : scalar float32 tensor; 0 when each cycle output equals its reference.

    Raises
    ------
    ValueError
        For an unknown operator or reference.
    """
    if reference not in EDGE_REFERENCES:
        raise ValueError(
            f"edge_loss: reference must be one of {EDGE_REFERENCES}, got {reference!r}")
    ref_a, ref_b = (same_a, same_b) if reference == "paper" else (real_a, real_b)

    def edges(t):
        return edge_map(from_model_range(_f32(t)), operator)

    return _mse(edges(cycled_a), edges(ref_a)) + _mse(edges(cycled_b), edges(ref_b))


def total_generator_loss(real_a, real_b, cycled_a, cycled_b, same_a, same_b,
                         d_fake_b=None, d_fake_a=None, *, lambda_adv: float = 1.0,
                         lambda_cycle: float = 10.0, lambda_identity: float = 5.0,
                         gamma_edge: float = 10.0, edge_operator: str = "sobel",
                         edge_reference: str = "paper"):
    """Total loss of the generator pair G, F (eq. 16).

    L = lambda1 L_cycle + lambda2 L_id + gamma L_edge + lambda_adv (L_GAN(G) + L_GAN(F)).

    The paper's eq. 16 has ``lambda_adv = 1``; the trainer passes no discriminator
    outputs when the adversarial term is off (``lambda_adv = 0``, or an identity
    warm-up), and the GAN terms are then neither computed nor returned.

    Parameters
    ----------
    real_a, real_b : tensor, (N, H, W, 1) in [-1, 1]
        A blurred image a and a clean image b (unpaired).
    cycled_a, cycled_b : tensor
        F(G(a)) and G(F(b)).
    same_a, same_b : tensor
        F(a) and G(b) (identity outputs).
    d_fake_b, d_fake_a : tensor or None
        D_B(G(a)) and D_A(F(b)) (patch maps); both None: no adversarial term.
    lambda_adv, lambda_cycle, lambda_identity, gamma_edge : float
        The weights (paper: 1, 10, 5, 10).
    edge_operator, edge_reference : str
        Passed to :func:`edge_loss` as ``operator`` and ``reference``.

    Returns
    -------
    total : scalar float32 tensor
    terms : dict of scalar tensors
        Unweighted ``gan_g``, ``gan_f`` (with discriminator outputs), ``cycle``,
        ``identity``, ``edge``, and ``total``.

    Raises
    ------
    ValueError
        When only one of ``d_fake_b``, ``d_fake_a`` is given.
    """
    if (d_fake_b is None) != (d_fake_a is None):
        raise ValueError("total_generator_loss: give both d_fake_b and d_fake_a, or neither")
    terms = {}
    if d_fake_b is not None:
        terms["gan_g"] = lsgan_generator_loss(d_fake_b)
        terms["gan_f"] = lsgan_generator_loss(d_fake_a)
    terms.update(
        cycle=cycle_loss(real_a, cycled_a, real_b, cycled_b),
        identity=identity_loss(real_a, same_a, real_b, same_b),
        edge=edge_loss(real_a, cycled_a, same_a, real_b, cycled_b, same_b,
                       operator=edge_operator, reference=edge_reference))
    total = (lambda_cycle * terms["cycle"] + lambda_identity * terms["identity"]
             + gamma_edge * terms["edge"])
    if d_fake_b is not None:
        total += lambda_adv * (terms["gan_g"] + terms["gan_f"])
    terms["total"] = total
    return total, terms
