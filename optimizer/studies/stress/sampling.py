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
correlation rho. Draws are read off the inverse CDF at precomputed cuts
(exact for rounded draws), so no normal CDF is evaluated per sample. The
same ``Z_p`` drives the party's duration delays and verification delays (a
slow party is slow at both); verification failures and value percentages are
independent.

Progress records (``Compiled.fixed_*``): every number is drawn as usual (so a
seed's draws do not depend on the record), then what the record fixed is
set to no delay and no failure: only the future is sampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

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


def triangular_cdf(x: float, a: int, c: int, b: int) -> float:
    """P(X <= x) for X ~ Triangular(a, c, b), a < b."""
    if x <= a:
        return 0.0
    if x >= b:
        return 1.0
    if x <= c:
        return (x - a) ** 2 / ((b - a) * (c - a))
    return 1.0 - (b - x) ** 2 / ((b - a) * (b - c))


def cuts(a: int, c: int, b: int, latent: str) -> np.ndarray:
    """Where a draw steps up: the rounded draw is ``a + #{cuts <= x}``.

    Rounding halves up, ``round(X) >= k + 1`` iff ``X >= k + 0.5`` iff
    ``u >= F(k + 0.5)``: the cuts are ``F(k + 0.5)`` for k = a..b-1 on the
    uniform scale, or their normal quantiles when the latent draw is normal.
    """
    u = [triangular_cdf(k + 0.5, a, c, b) for k in range(a, b)]
    if latent == "normal":
        nd = NormalDist()
        return np.array([nd.inv_cdf(min(max(x, 1e-300), 1 - 1e-16)) for x in u])
    return np.array(u)


def triangular(x: np.ndarray, tri: np.ndarray, latent: str = "uniform") -> np.ndarray:
    """Rounded triangular draws per row from latent draws ``x`` (n, b); ``tri`` is (n, 3).

    ``latent`` says what ``x`` is: uniform quantiles, or standard normals
    (the copula's); the inverse CDF is read off precomputed cuts, which is
    exact for rounded draws and needs no transcendental function per sample.
    """
    out = np.repeat(tri[:, 0:1], x.shape[1], axis=1).astype(np.int64)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, (a, c, b) in enumerate(tri.tolist()):
        if b > a:
            groups.setdefault((a, c, b), []).append(i)
    for (a, c, b), rows in groups.items():
        edges = cuts(a, c, b, latent)
        out[rows] += np.searchsorted(edges, x[rows], side="right")
    return out


def _latent(rng: np.random.Generator, comp: Compiled, b: int,
            common: np.ndarray | None) -> tuple[np.ndarray, str]:
    if common is None:
        return rng.random((comp.n, b)), "uniform"
    rho = comp.correlation
    own = rng.standard_normal((comp.n, b))
    return np.sqrt(rho) * common[comp.party] + np.sqrt(1.0 - rho) * own, "normal"


def draw_block(comp: Compiled, seed: int, block: int, size: int) -> Draws:
    """The draws of block ``block`` (``size`` samples) for seed ``seed``."""
    rng = np.random.default_rng([seed, block])
    common = (rng.standard_normal((len(comp.parties), size))
              if comp.correlation > 0 else None)
    delay = triangular(*_pair(_latent(rng, comp, size, common), comp.delay))
    vdelay = triangular(*_pair(_latent(rng, comp, size, common), comp.vdelay))
    failed = rng.random((comp.n, size)) < comp.fail[:, None]
    pct = None
    if comp.value_pct is not None:
        tri = np.tile(np.array(comp.value_pct, np.int64), (comp.n, 1))
        pct = triangular(rng.random((comp.n, size)), tri)
    if comp.fixed_duration.any():
        delay[comp.fixed_duration] = 0
    if comp.fixed_verification.any():
        vdelay[comp.fixed_verification] = 0
        failed[comp.fixed_verification] = False
    return Draws(delay, vdelay, failed, pct)


def _pair(latent: tuple[np.ndarray, str], tri: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, str]:
    return latent[0], tri, latent[1]


def blocks(samples: int) -> list[tuple[int, int]]:
    """(block index, size) covering ``samples``."""
    out = []
    k = 0
    while k * BLOCK < samples:
        out.append((k, min(BLOCK, samples - k * BLOCK)))
        k += 1
    return out
