"""The triage corpus (tests/data/triage_corpus.toml): phrasings as patients and caregivers type
them, from the clinical reference and the seed pages, each with the lowest acceptable level.
No phrasing may be rated lower; over-triage is counted and kept low."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import pytest

from dosewise.services.triage import assess_symptoms

CASES = tomllib.loads((Path(__file__).parent.parent / "data" / "triage_corpus.toml").read_text("utf-8"))[
    "case"
]
RANK = {"routine": 0, "urgent": 1, "emergency": 2}
OVER_TRIAGE_LIMIT = 0.03  # at most 3% of the phrasings rated higher than needed


def _level(case: dict) -> str:
    return _level_of(CASES.index(case))


@cache
def _level_of(index: int) -> str:
    """Each phrasing is triaged once per test process (the two tests below share it)."""
    case = CASES[index]
    return assess_symptoms(
        [case["text"]],
        medicines=case.get("medicines", []),
        stopped_hours_ago=case.get("stopped_hours_ago"),
        missed_doses_24h=case.get("missed_doses_24h"),
        crcl_ml_min=case.get("crcl_ml_min"),
        usual_dose_mg=case.get("usual_dose_mg"),
        tablet_mg=case.get("tablet_mg"),
    ).result.level


def test_the_corpus_is_large_and_covers_each_level():
    assert len(CASES) >= 400
    levels = [case["level"] for case in CASES]
    assert min(levels.count(level) for level in RANK) >= 120


@pytest.mark.parametrize("case", CASES, ids=[case["text"][:60] for case in CASES])
def test_no_phrasing_is_rated_lower_than_it_must_be(case):
    assert RANK[_level(case)] >= RANK[case["level"]], case["why"]


def test_over_triage_is_low():
    over = [case["text"] for case in CASES if RANK[_level(case)] > RANK[case["level"]]]
    unexpected = [case["text"] for case in CASES if case["text"] in over and not case.get("over_triage_ok")]
    assert len(over) / len(CASES) <= OVER_TRIAGE_LIMIT, over
    assert unexpected == []
