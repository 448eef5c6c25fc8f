"""What a sandbox gets wrong on purpose: faults at a rate, drawn from a seed so a run repeats.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from storyboard.errors import UsageError

# --- faults --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Faults:
    """How often each fault is injected: a rate from 0.0 (never) to 1.0 (always).

    ``drop_before`` closes the connection of a create without a reply and without
    running it; ``drop_after`` runs (and charges) it first, the case a client must
    never re-send. ``fail`` ends jobs in status 3 (refunded); ``expire`` makes a job's
    first result URL answer 410 once, until a re-query hands out a fresh one;
    ``truncate`` cuts a download short after promising its full length; ``no_callback``
    never calls a job's ``callback_url`` (a lost callback: the client's polls must notice).
    """

    http500: float = 0.0
    http503: float = 0.0
    http429: float = 0.0
    code3000: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    truncate: float = 0.0
    fail: float = 0.0
    expire: float = 0.0
    no_callback: float = 0.0
    retry_after: float = 1.0  # seconds, sent in the Retry-After header of 429s

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SETTINGS:
                if not value >= 0:  # also rejects NaN
                    raise UsageError(f"fault setting {_cli(f.name)}={value} must be >= 0")
            elif not 0.0 <= value <= 1.0:
                raise UsageError(f"fault rate {_cli(f.name)}={value} must be between 0 and 1")

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Faults:
        """From CLI strings: ``http503=0.2``, ``drop-after=0.1,slow-seconds=5``, ``fail``.

        A bare fault name means rate 1.0; settings (``slow-seconds``, ``retry-after``)
        need a value.
        """
        values: dict[str, float] = {}
        for spec in specs:
            for part in filter(None, (p.strip() for p in spec.split(","))):
                name, has_value, text = part.partition("=")
                key = name.strip().lower().replace("-", "_")
                if key not in _FIELDS:
                    raise UsageError(f"unknown fault {name.strip()!r}; valid: {_valid_names()}")
                if not has_value:
                    if key in _SETTINGS:
                        raise UsageError(f"{_cli(key)} needs a value in seconds, "
                                         f"like {_cli(key)}=2")
                    values[key] = 1.0
                    continue
                try:
                    values[key] = float(text)
                except ValueError:
                    raise UsageError(f"{_cli(key)}={text.strip()!r}: not a number") from None
        return cls(**values)

    def describe(self) -> str:
        """The faults in force, as ``parse`` reads them (``none`` if there are none)."""
        default = Faults()
        parts = [
            f"{_cli(f.name)}={getattr(self, f.name):g}"
            for f in dataclasses.fields(self)
            if f.name not in _SETTINGS and getattr(self, f.name) > 0
        ]
        parts += [
            f"{_cli(name)}={getattr(self, name):g}"
            for name in sorted(_SETTINGS)
            if getattr(self, name) != getattr(default, name)
        ]
        return ", ".join(parts) or "none"


_SETTINGS = frozenset({"slow_seconds", "retry_after"})
_FIELDS = frozenset(f.name for f in dataclasses.fields(Faults))


def _cli(name: str) -> str:
    return name.replace("_", "-")


def _valid_names() -> str:
    names = [_cli(f.name) for f in dataclasses.fields(Faults) if f.name not in _SETTINGS]
    return ", ".join(names) + "; settings: slow-seconds=S, retry-after=S"


def fault_draw(seed: int, fault: str, key: str, attempt: int) -> float:
    """A uniform number in [0, 1) fixed by its arguments: the fault fires if it is < rate."""
    digest = hashlib.sha256(f"{seed}\x1f{fault}\x1f{key}\x1f{attempt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
