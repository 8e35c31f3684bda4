"""Emergency numbers: data with a source per country, and the lookup with its safe default."""

from __future__ import annotations

import pytest

from dosewise.domain.emergency import (
    CountryNumber,
    DefaultNumber,
    EmergencyDirectory,
    NumberSource,
    emergency_number,
)
from dosewise.monographs import load_emergency_numbers

EU = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"]
EU += ["IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
REQUIRED = ["US", "CA", "GB", "IE", "AU", "NZ", "IN", "ZA", "CH", "NO", "JP", "CN", "BR", "MX", *EU]


@pytest.fixture(scope="module")
def directory() -> EmergencyDirectory:
    return load_emergency_numbers()


@pytest.mark.parametrize(
    ("country", "number", "label"),
    [
        ("GB", "999", "999 (or 112)"),
        ("gb", "999", "999 (or 112)"),
        (" us ", "911", "911"),
        ("AU", "000", "000 (or 112)"),
        ("NZ", "111", "111"),
        ("ZA", "10177", "10177 (or 112)"),
        ("CH", "144", "144 (or 112)"),
        ("NO", "113", "113 (or 112)"),
        ("JP", "119", "119"),
        ("CN", "120", "120"),
        ("BR", "192", "192"),
        ("DE", "112", "112"),
        ("IE", "112", "112 (or 999)"),
    ],
)
def test_a_known_country_gets_its_number_and_source(directory, country, number, label) -> None:
    found = emergency_number(country, directory=directory)
    assert (found.number, found.label, found.tel_uri) == (number, label, f"tel:{number}")
    assert found.country == country.strip().upper() and not found.is_default and found.note is None
    assert found.citation and found.url.startswith("http")


@pytest.mark.parametrize("country", [None, "", "  ", "XX", "gb-eng", "Atlantis"])
def test_an_unknown_country_gets_112_and_is_told_to_check_the_local_number(directory, country) -> None:
    found = emergency_number(country, directory=directory)
    assert (found.number, found.label, found.country, found.tel_uri) == ("112", "112", None, "tel:112")
    assert found.is_default
    assert found.note is not None and "check your local emergency number" in found.note
    assert found.source == "GSM112" and found.citation


def test_every_required_country_is_covered_and_every_entry_has_a_source(directory) -> None:
    missing = [code for code in REQUIRED if code not in directory.countries]
    assert not missing
    for code in EU:
        assert directory.countries[code].number == "112"
    for code, entry in directory.countries.items():
        assert entry.source in directory.sources, code
        assert directory.sources[entry.source].url.startswith("http"), code
    names = [name for _, name in directory.country_names()]
    assert names == sorted(names)


def test_the_directory_refuses_bad_data() -> None:
    source = {"S": NumberSource(citation="c", url="https://example.org")}
    default = DefaultNumber(number="112", note="check", source="S")
    with pytest.raises(ValueError, match="ISO 3166-1"):
        EmergencyDirectory(default=default, sources=source,
                           countries={"gbr": CountryNumber(name="x", number="999", source="S")})  # fmt: skip
    unsourced = {"GB": CountryNumber(name="x", number="999", source="NOPE")}
    with pytest.raises(ValueError, match="unknown source"):
        EmergencyDirectory(default=default, sources=source, countries=unsourced)
    with pytest.raises(ValueError, match="2 to 6 digits"):
        CountryNumber(name="x", number="9-9-9", source="S")
