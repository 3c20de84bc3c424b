"""SEM detector noise: shot noise at a dose, read noise and scan-line (row) noise.

A scanning electron microscope counts secondary electrons per pixel, so its grey level
carries Poisson (shot) noise whose variance grows with the signal; the lower the dose
(the way weakly conductive samples are imaged), the stronger. On the [0, 1] grey scale a
pixel of level ``s`` at a dose of ``D`` electrons per pixel at full scale is
``N / D`` with ``N ~ Poisson(D s)``: mean ``s``, variance ``s / D``. The model is named
by ``sigma``, the shot noise's standard deviation at mid-grey (``s = 0.5``), so that
``D = 0.5 / sigma**2`` (sigma 0.01, 0.02, 0.04 are doses of 5000, 1250 and 312.5
electrons). Read noise (white, signal-independent) and scan-line noise (one Gaussian
offset per image row, the line-to-line jitter of a slow raster) are added on top.

The paper's degradations have no noise; :func:`semgan_core.degrade.degrade` applies
:func:`add_noise` last (after blur and fog) when given a :class:`NoiseModel`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from semgan_core import images
from semgan_core.checks import check_number

#: Grey level at which ``NoiseModel.sigma`` is the shot noise's standard deviation.
MID_GREY = 0.5


@dataclasses.dataclass(frozen=True)
class NoiseModel:
    """Parameters of the SEM noise stage (all standard deviations on the [0, 1] scale).

    Parameters
    ----------
    sigma : float, optional
        Shot noise: its standard deviation at mid-grey (Gaussian equivalent), >= 0.
        The dose is ``0.5 / sigma**2`` electrons per pixel at full scale. 0: none.
    read_sigma : float, optional
        White Gaussian read noise, independent of the signal, >= 0.
    row_sigma : float, optional
        Scan-line noise: one Gaussian offset per row, >= 0.
    poisson : bool, optional
        True (default): Poisson counts at the dose. False: the Gaussian approximation,
        ``s + sqrt(s / dose) z``.

    Raises
    ------
    TypeError, ValueError
        For a value that is not a finite number >= 0, or a ``poisson`` that is not a
        bool.

    Examples
    --------
    >>> model = NoiseModel(sigma=0.02)
    >>> model.dose
    1250.0
    >>> NoiseModel.from_dose(1250.0).sigma
    0.02
    """

    sigma: float = 0.0
    read_sigma: float = 0.0
    row_sigma: float = 0.0
    poisson: bool = True

    def __post_init__(self):
        for name in ("sigma", "read_sigma", "row_sigma"):
            value = check_number("NoiseModel", name, getattr(self, name), low=0)
            object.__setattr__(self, name, value)
        if not isinstance(self.poisson, (bool, np.bool_)):
            raise TypeError(f"NoiseModel: poisson must be a bool, got {self.poisson!r}")
        object.__setattr__(self, "poisson", bool(self.poisson))

    @property
    def dose(self) -> float:
        """Electrons per pixel at full scale (``inf`` without shot noise)."""
        return math.inf if self.sigma == 0 else MID_GREY / self.sigma**2

    @classmethod
    def from_dose(cls, dose, *, read_sigma=0.0, row_sigma=0.0, poisson=True):
        """The model with shot noise at ``dose`` electrons per pixel at full scale.

        Parameters
        ----------
        dose : float
            > 0; ``sigma = sqrt(0.5 / dose)``.
        read_sigma, row_sigma, poisson
            As in the class.

        Raises
        ------
        TypeError, ValueError
            For a dose that is not a finite number > 0.
        """
        dose = check_number("NoiseModel.from_dose", "dose", dose, low=0, strict=True)
        return cls(sigma=math.sqrt(MID_GREY / dose), read_sigma=read_sigma,
                   row_sigma=row_sigma, poisson=poisson)

    def std_at(self, level=MID_GREY) -> float:
        """Total noise standard deviation at grey ``level`` (before clipping)."""
        shot2 = self.sigma**2 * level / MID_GREY
        return math.sqrt(shot2 + self.read_sigma**2 + self.row_sigma**2)

    def to_dict(self) -> dict:
        """JSON-able record (the fields, plus the dose, ``None`` when infinite)."""
        record = dataclasses.asdict(self)
        record["dose"] = None if self.sigma == 0 else self.dose
        return record

    @classmethod
    def from_dict(cls, record):
        """Inverse of :meth:`to_dict` (the ``dose`` entry is ignored; None gives None).

        Raises
        ------
        ValueError
            If ``record`` is not a dict or has keys that are not fields.
        """
        if record is None:
            return None
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(record, dict) or set(record) - fields - {"dose"}:
            raise ValueError(f"NoiseModel.from_dict: expected a dict with keys in "
                             f"{sorted(fields)}, got {record!r}")
        return cls(**{k: v for k, v in record.items() if k in fields})


def add_noise(image, model, *, rng=None):
    """Add shot, read and scan-line noise to a clean or degraded image.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        The noise-free signal (after blur and fog).
    model : NoiseModel
    rng : numpy.random.Generator, int or None
        Seed or generator; the same seed gives the same noise. Draws, in order: the
        shot noise, the read noise, the row offsets (each only when its sigma > 0).

    Returns
    -------
    noisy : ndarray, shape (H, W), float32, clipped to [0, 1]
        Equal to ``image`` when every sigma is 0.

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`NoiseModel`.
    ValueError
        For an invalid image.

    Examples
    --------
    >>> flat = np.full((256, 256), 0.5, np.float32)
    >>> noisy = add_noise(flat, NoiseModel(sigma=0.02), rng=0)
    >>> round(float(noisy.std()), 2)
    0.02
    """
    if not isinstance(model, NoiseModel):
        raise TypeError(f"add_noise: model must be a NoiseModel, got {type(model).__name__}")
    image = images.as_image(image, name="add_noise: image")
    rng = np.random.default_rng(rng)
    out = image.astype(np.float64)
    if model.sigma > 0:
        dose = model.dose
        if model.poisson:
            out = rng.poisson(out * dose) / dose
        else:
            out = out + np.sqrt(out / dose) * rng.standard_normal(out.shape)
    if model.read_sigma > 0:
        out = out + model.read_sigma * rng.standard_normal(out.shape)
    if model.row_sigma > 0:
        out = out + model.row_sigma * rng.standard_normal((out.shape[0], 1))
    return np.clip(out, 0.0, 1.0).astype(np.float32)
