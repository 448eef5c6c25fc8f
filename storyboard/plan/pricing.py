"""Prices: a versioned table shipped as package data, overridable with ``--pricing``.

Money is ``Decimal`` from the file's strings to the plan's totals; a float never
touches a price, so a plan is exact to the cent (and below).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from storyboard.errors import UsageError
from storyboard.files import Unreadable, read_limited
from storyboard.resources import data_path

DEFAULT_PRICES = "prices.json"
MAX_PRICES_BYTES = 1024 * 1024  # the shipped table is about 1 KB


@dataclass(frozen=True, slots=True)
class PriceTable:
    version: str
    source: str
    currency: str
    path: str
    # model -> mode -> sound -> USD per second
    rates: dict[str, dict[str, dict[str, Decimal]]]

    def rate(self, model: str, mode: str, sound: str) -> Decimal:
        try:
            return self.rates[model][mode][sound]
        except KeyError:
            raise UsageError(
                f"{self.path}: no price for model {model!r} with mode={mode} sound={sound}; "
                "add it to the price table or pass --pricing FILE"
            ) from None


def load_price_table(path: str | Path | None = None) -> PriceTable:
    """The shipped table, or the user's ``--pricing FILE`` (same JSON shape)."""
    file = Path(path) if path is not None else data_path(DEFAULT_PRICES)
    where = str(path) if path is not None else "built-in price table"
    try:
        data = read_limited(file, MAX_PRICES_BYTES, kind="price table")
        raw = json.loads(data.decode("utf-8"), parse_float=Decimal)
    except Unreadable as exc:
        raise UsageError(f"{where}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{where}: cannot read the price table as JSON: {exc}") from None
    return _parse(raw, where)


def _parse(raw: Any, where: str) -> PriceTable:
    shape = (
        'expected {"version": "...", "models": {MODEL: {"rates": '
        '{"std": {"off": "0.071", "on": "0.095"}, "pro": {...}}}}}'
    )
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), dict):
        raise UsageError(f"{where}: not a price table; {shape}")
    rates: dict[str, dict[str, dict[str, Decimal]]] = {}
    for model, entry in raw["models"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("rates"), dict):
            raise UsageError(f"{where}: model {model!r} has no 'rates'; {shape}")
        rates[model] = {}
        for mode, by_sound in entry["rates"].items():
            if not isinstance(by_sound, dict):
                raise UsageError(f"{where}: rates for {model} {mode} must map sound to a price")
            rates[model][mode] = {}
            for sound, value in by_sound.items():
                rates[model][mode][sound] = _money(value, f"{where}: {model} {mode} sound={sound}")
    return PriceTable(
        version=str(raw.get("version", "unversioned")),
        source=str(raw.get("source", "")),
        currency=str(raw.get("currency", "USD")),
        path=where,
        rates=rates,
    )


def _money(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise UsageError(f"{where}: price must be a decimal string like \"0.095\", "
                         f"got {_as_written(value)}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"{where}: {_as_written(value)} is not a decimal number") from None
    if not amount.is_finite() or amount < 0:
        raise UsageError(f"{where}: price must be a finite, non-negative number, "
                         f"got {_as_written(value)}")
    return amount


def _as_written(value: Any) -> str:
    """A value as the JSON file spells it (``null``, ``-1``), never Python's ``None``."""
    if isinstance(value, Decimal):  # JSON numbers are read as Decimal
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


@lru_cache(maxsize=4096)  # a plan has few distinct amounts and prints each many times
def format_usd(amount: Decimal) -> str:
    """Exact decimal string: at least cents, never rounded away (1.785 stays 1.785)."""
    q = amount.normalize()
    exponent = q.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        q = amount.quantize(Decimal("0.01"))
    return f"{q:f}"
