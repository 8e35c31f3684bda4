"""Which number to call in a medical emergency, by country (ISO 3166-1 alpha-2).

The numbers are data (``monographs/emergency_numbers.toml``, each with its source); the loader in
:mod:`dosewise.monographs` fills :class:`EmergencyDirectory`. :func:`emergency_number` only looks
up: a country the directory does not know (or no country) gets the directory's default, 112,
which mobile phones in many countries dial, with the advice to check the local number. That is
the safest fallback we can give without knowing where someone is: a wrong national number is
worse than the GSM number plus a clear note.

No ``from __future__ import annotations`` here: the loader reads these annotations at run time.
"""

import re
from dataclasses import dataclass

__all__ = ["CountryNumber", "DefaultNumber", "EmergencyDirectory", "EmergencyNumber", "NumberSource",
           "emergency_number"]  # fmt: skip

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DIALLED = re.compile(r"^[0-9]{2,6}$")


def _check_number(number: str) -> None:
    if not _DIALLED.match(number):
        raise ValueError(f"an emergency number is 2 to 6 digits, got {number!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberSource:
    citation: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CountryNumber:
    """The number for an ambulance in one country, and others that also reach it (``also``)."""

    name: str
    number: str
    source: str
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for number in (self.number, *self.also):
            _check_number(number)


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultNumber:
    number: str
    note: str
    source: str

    def __post_init__(self) -> None:
        _check_number(self.number)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyDirectory:
    default: DefaultNumber
    countries: dict[str, CountryNumber]
    sources: dict[str, NumberSource]

    def __post_init__(self) -> None:
        for code, entry in self.countries.items():
            if not _COUNTRY.match(code):
                raise ValueError(f"countries.{code}: a country is an upper-case ISO 3166-1 alpha-2 code")
            if entry.source not in self.sources:
                raise ValueError(f"countries.{code}.source: unknown source key {entry.source!r}")
        if self.default.source not in self.sources:
            raise ValueError(f"default.source: unknown source key {self.default.source!r}")

    def country_names(self) -> tuple[tuple[str, str], ...]:
        """(code, name) of every country with a number, by name: the profile's choices."""
        return tuple(sorted(((code, e.name) for code, e in self.countries.items()), key=lambda item: item[1]))


@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyNumber:
    """What to call: ``number`` (dial it), ``label`` as shown ("999 (or 112)"), the country it is
    for (None: the default for an unknown country), the source key and its citation, a
    ``tel:`` URI for a link, and a ``note`` (the fallback says to check the local number)."""

    number: str
    label: str
    country: str | None
    source: str
    tel_uri: str
    citation: str = ""
    url: str = ""
    note: str | None = None

    @property
    def is_default(self) -> bool:
        return self.country is None


def normalize_country(country: str | None) -> str | None:
    """``" gb "`` -> ``"GB"``; empty -> None (a format check only, not whether it is known)."""
    if country is None or not country.strip():
        return None
    return country.strip().upper()


def emergency_number(country: str | None, *, directory: EmergencyDirectory) -> EmergencyNumber:
    """The emergency number for ``country`` (ISO alpha-2, any case); the default (112, with
    "check your local number") when the country is not given or not in the directory."""
    code = normalize_country(country)
    entry = directory.countries.get(code) if code is not None else None
    if entry is None:
        default = directory.default
        source = directory.sources[default.source]
        return EmergencyNumber(
            number=default.number,
            label=default.number,
            country=None,
            source=default.source,
            tel_uri=f"tel:{default.number}",
            citation=source.citation,
            url=source.url,
            note=default.note,
        )
    source = directory.sources[entry.source]
    label = entry.number + (f" (or {' or '.join(entry.also)})" if entry.also else "")
    return EmergencyNumber(
        number=entry.number,
        label=label,
        country=code,
        source=entry.source,
        tel_uri=f"tel:{entry.number}",
        citation=source.citation,
        url=source.url,
    )
