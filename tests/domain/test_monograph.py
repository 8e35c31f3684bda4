"""The monograph as data: the shipped file loads; a malformed one is rejected, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosewise.errors import InputError
from dosewise.monographs import available_drugs, load_monograph, parse_monograph

TEXT = (Path(__file__).parents[2] / "src/dosewise/monographs/baclofen.toml").read_text()


def test_shipped_monograph_holds_the_references_numbers(monograph):
    titration = monograph.titration
    assert titration.steps_daily_mg == (15, 30, 45, 60)
    assert (titration.max_daily_mg, titration.override_max_daily_mg) == (80, 120)
    assert [(b.name, b.dose_factor) for b in monograph.kidney.bands] == [
        ("normal", "1"), ("mild", "2/3"), ("moderate", "1/2"), ("severe", "1/3"),
    ]  # fmt: skip
    assert (monograph.taper.min_total_days, monograph.taper.max_last_step_mg) == (14, 15)
    assert available_drugs() == ("baclofen",)


def test_every_product_default_cites_dosewise(monograph):
    assert "DOSEWISE" in monograph.titration.older_adults.source
    assert monograph.titration.older_adults.product_default
    assert monograph.taper.low_start_source == "DOSEWISE"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "max_daily_mg = 80",
            'max_daily_mg = "eighty"',
            r"titration\.max_daily_mg: expected a number, got str 'eighty'",
        ),
        ('dose_factor = "2/3"', 'dose_factor = "3/2"', r"kidney\.bands\[1\]: dose_factor must be"),
        (
            "step_days = 3\n",
            "stepdays = 3\nstep_days = 3\n",
            r"titration\.stepdays: unknown field \(known: beyond_labelled, ",
        ),
        ('source = "LYV"', 'source = "LYVX"', "source keys not in \\[sources\\]: LYVX"),
        (
            "steps_daily_mg = [15, 30, 45, 60]",
            "steps_daily_mg = [15, 45, 30, 60]",
            "strictly rising",
        ),
        (
            'max_split = 1\ndefault_split = 1\nmarkets = ["US", "UK"]',
            'max_split = 3\ndefault_split = 1\nmarkets = ["US", "UK"]',
            r"products\[0\]: max_split must be 1, 2 or 4",
        ),
        (
            "min_total_days = 14",
            "min_total_days = 2",
            r"taper: need min_step_days <= min_total_days",
        ),
        ("[taper]", "[taper\n", "not valid TOML"),
        (
            "[kidney.dialysis]\nrequires_clinician = true\n",
            "[kidney.dialysis]\n",
            r"kidney\.dialysis\.requires_clinician: missing required field",
        ),
        (
            'name = "severe"',
            'name = "terrible"',
            r"kidney\.bands\[3\]\.name: must be one of 'normal', 'mild'",
        ),
        (
            "doses_per_day = [3, 4]",
            'doses_per_day = [3, "4"]',
            r"titration\.doses_per_day\[1\]: expected int, got str '4'",
        ),
        (
            "lower_inclusive = false\n",
            "lower_inclusive = 0\n",
            r"kidney\.bands\[0\]\.lower_inclusive: expected bool",
        ),
        (
            "usual_range_mg_day = [40, 80]",
            "usual_range_mg_day = [40]",
            r"usual_range_mg_day: expected a list of 2, got 1",
        ),
    ],
)
def test_malformed_monograph_is_rejected_naming_the_field(old, new, message):
    assert old in TEXT
    with pytest.raises(InputError, match=message):
        parse_monograph(TEXT.replace(old, new, 1), origin="baclofen.toml")


def test_unknown_drug(monograph):
    with pytest.raises(InputError, match=r"unknown drug 'aspirin'.*baclofen"):
        load_monograph("aspirin")
