"""Random draws of one block of realisations (SPEC §5.7).

Draws come in fixed blocks of ``BLOCK`` samples, block k from its own
``numpy.random.Generator`` seeded with ``(seed, k)``: the same seed gives the
same draws whatever the memory chunking, and the vectorised path and the
per-sample reference loop consume exactly the same numbers.

Triangular draws use the inverse CDF of ``[min, mode, max]`` and are rounded
to the nearest integer, halves up (``floor(x + 0.5)``); ``min = max`` gives
that value.

Correlated delays (``party_correlation`` = rho > 0): a Gaussian copula with
one common factor per party and sample. For a step i of party p,
``z_i = sqrt(rho) * Z_p + sqrt(1 - rho) * e_i`` with ``Z_p, e_i ~ N(0, 1)``
independent, and the step's quantile is ``u_i = Phi(z_i)``: every marginal
stays exactly triangular and any two of one party's latent normals have
correlation rho. The same ``Z_p`` drives the party's duration delays and
verification delays (a slow party is slow at both); verification failures
and value percentages are independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.studies.stress.compiled import Compiled

BLOCK = 8192


@dataclass
class Draws:
    """One block: every array is (n, b) over the present concessions."""

    delay: np.ndarray        # added to the duration
    vdelay: np.ndarray       # added to the verification lag
    failed: np.ndarray       # bool: the verification never comes
    pct: np.ndarray | None   # value percentage, None when no ``value`` entry

    @property
    def size(self) -> int:
        return int(self.delay.shape[1])


def phi(z: np.ndarray) -> np.ndarray:
    """The standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7)."""
    x = -z / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    poly = (-1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277)))))))))
    erfc = t * np.exp(-x * x + poly)
    erfc = np.where(x >= 0, erfc, 2.0 - erfc)
    return np.clip(0.5 * erfc, 0.0, 1.0)


def triangular(u: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Inverse CDF of a triangular [min, mode, max] per row, rounded halves up.

    ``u`` is (n, b), ``tri`` (n, 3).
    """
    a = tri[:, 0:1].astype(np.float64)
    c = tri[:, 1:2].astype(np.float64)
    b = tri[:, 2:3].astype(np.float64)
    width = b - a
    safe = np.where(width > 0, width, 1.0)
    cut = (c - a) / safe
    left = a + np.sqrt(u * safe * (c - a))
    right = b - np.sqrt((1.0 - u) * safe * (b - c))
    x = np.where(u < cut, left, right)
    x = np.where(width > 0, x, a)
    return np.floor(x + 0.5).astype(np.int64)


def _quantiles(rng: np.random.Generator, comp: Compiled, b: int,
               common: np.ndarray | None) -> np.ndarray:
    if common is None:
        return rng.random((comp.n, b))
    rho = comp.correlation
    own = rng.standard_normal((comp.n, b))
    return phi(np.sqrt(rho) * common[comp.party] + np.sqrt(1.0 - rho) * own)


def draw_block(comp: Compiled, seed: int, block: int, size: int) -> Draws:
    """The draws of block ``block`` (``size`` samples) for seed ``seed``."""
    rng = np.random.default_rng([seed, block])
    common = (rng.standard_normal((len(comp.parties), size))
              if comp.correlation > 0 else None)
    delay = triangular(_quantiles(rng, comp, size, common), comp.delay)
    vdelay = triangular(_quantiles(rng, comp, size, common), comp.vdelay)
    failed = rng.random((comp.n, size)) < comp.fail[:, None]
    pct = None
    if comp.value_pct is not None:
        tri = np.tile(np.array(comp.value_pct, np.int64), (comp.n, 1))
        pct = triangular(rng.random((comp.n, size)), tri)
    return Draws(delay, vdelay, failed, pct)


def blocks(samples: int) -> list[tuple[int, int]]:
    """(block index, size) covering ``samples``."""
    out = []
    k = 0
    while k * BLOCK < samples:
        out.append((k, min(BLOCK, samples - k * BLOCK)))
        k += 1
    return out
