"""Load drug monographs (``<drug>.toml`` next to this file) into typed domain records.

msgspec converts the parsed TOML into the frozen records of :mod:`dosewise.domain.monograph`
(see docs/adr/0002); unknown keys are rejected too, so a misspelt optional field cannot pass
silently. Every error names the field: ``baclofen.toml: titration.max_daily_mg: ...``.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cache

import msgspec

from dosewise.domain.monograph import Monograph
from dosewise.errors import InputError

__all__ = ["available_drugs", "load_monograph", "parse_monograph"]

_FOLDER = os.path.dirname(__file__)  # the monographs ship inside the package
_PATH_IN_MESSAGE = re.compile(r"^(?P<message>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)


def available_drugs() -> tuple[str, ...]:
    """Names of the drugs that have a monograph."""
    return tuple(sorted(name.removesuffix(".toml") for name in os.listdir(_FOLDER) if name.endswith(".toml")))


@cache
def load_monograph(drug: str) -> Monograph:
    """The monograph of ``drug`` (case-insensitive); :class:`InputError` for an unknown drug."""
    name = drug.strip().lower()
    if name not in available_drugs():
        known = ", ".join(available_drugs())
        raise InputError(f"unknown drug {drug!r}: Dosewise has monographs for {known}")
    with open(os.path.join(_FOLDER, f"{name}.toml"), encoding="utf-8") as file:
        text = file.read()
    return parse_monograph(text, origin=f"{name}.toml")


def parse_monograph(text: str, *, origin: str = "monograph") -> Monograph:
    """Parse and check monograph TOML; :class:`InputError` names the malformed field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{origin}: not valid TOML: {error}") from None
    try:
        return msgspec.convert(raw, Monograph)
    except msgspec.ValidationError as error:
        match = _PATH_IN_MESSAGE.match(str(error))
        assert match is not None  # the pattern matches any string
        where = match["path"] or "(top level)"
        raise InputError(f"{origin}: {where}: {match['message']}") from None
