"""How long a sandbox's jobs take: fixed, a uniform range, or lognormal like the real API's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

from storyboard.api.sandbox.faults import fault_draw
from storyboard.errors import UsageError

# --- latency -------------------------------------------------------------------------

LATENCY_FORMS = (
    "seconds (2 or 2.5), a uniform range (0.5-3), "
    "or lognormal:MEDIAN,SIGMA[,max=SECONDS] (lognormal:3,0.5,max=30)"
)


_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"  # no sign, exponent, inf or nan
_FIXED = re.compile(_NUMBER)
_RANGE = re.compile(rf"{_NUMBER}\s*-\s*{_NUMBER}")
_LOGNORMAL = re.compile(rf"lognormal:\s*{_NUMBER}\s*,\s*{_NUMBER}(?:\s*,\s*max\s*=\s*{_NUMBER})?",
                        re.IGNORECASE)


_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class _UniformLatency:
    """Seconds uniform in [low, high], fixed by (seed, request hash)."""

    spec: str
    seed: int
    low: float
    high: float

    def __call__(self, request_hash: str) -> float:
        u = fault_draw(self.seed, "latency", request_hash, 0)
        return self.low + (self.high - self.low) * u

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True, slots=True)
class _LognormalLatency:
    """Seconds log-normal around ``median`` (inverse CDF of a hashed uniform), capped."""

    spec: str
    seed: int
    median: float
    sigma: float
    maximum: float | None

    def __call__(self, request_hash: str) -> float:
        u = fault_draw(self.seed, "latency", request_hash, 0)
        u = min(max(u, 1e-12), 1.0 - 1e-12)  # inv_cdf wants an open interval
        seconds = self.median * math.exp(self.sigma * _STANDARD_NORMAL.inv_cdf(u))
        return seconds if self.maximum is None else min(seconds, self.maximum)

    def __str__(self) -> str:
        return self.spec


def parse_latency(spec: str, *, seed: int = 0) -> float | Callable[[str], float]:
    """A job latency from a CLI spec, for ``SandboxConfig.latency``.

    ``"2"`` or ``"2.5"``: that many seconds for every job. ``"0.5-3"``: uniform in
    that range. ``"lognormal:3,0.5"``: log-normal with median 3 s and sigma 0.5 (of
    the underlying normal), optionally capped: ``"lognormal:3,0.5,max=30"``. The
    variable forms are functions of the request hash drawn like faults, from (seed,
    hash) only, so a request meets the same latency in every run with that seed.
    """
    text = spec.strip()

    def bad(why: str = "") -> UsageError:
        reason = f" ({why})" if why else ""
        return UsageError(f"bad latency {spec!r}{reason}; use {LATENCY_FORMS}")

    if match := _FIXED.fullmatch(text):
        return float(match.group(1))
    if match := _RANGE.fullmatch(text):
        low, high = float(match.group(1)), float(match.group(2))
        if low > high:
            raise bad(f"{low:g} is above {high:g}")
        return _UniformLatency(text, seed, low, high)
    if match := _LOGNORMAL.fullmatch(text):
        median, sigma = float(match.group(1)), float(match.group(2))
        maximum = None if match.group(3) is None else float(match.group(3))
        if median <= 0:
            raise bad("the median must be above 0")
        if maximum is not None and maximum <= 0:
            raise bad("max must be above 0")
        return _LognormalLatency(text, seed, median, sigma, maximum)
    raise bad()
