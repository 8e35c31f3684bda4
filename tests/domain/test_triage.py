"""Triage: every emergency trigger, the context-dependent rules, free text (section 7)."""

from __future__ import annotations

import pytest

from dosewise.domain.triage import match_symptoms, triage
from dosewise.errors import InputError


@pytest.mark.parametrize(
    "text",
    ["trouble breathing", "breathing slowly", "seizure", "had a fit", "cannot be woken", "very hard to wake",
     "swollen lips", "swelling of the throat", "thoughts of self harm", "suicidal"],
)  # fmt: skip
def test_every_emergency_trigger(monograph, text):
    result = triage(monograph, [text])
    assert result.level == "emergency"
    assert "Call emergency services now" in result.advice


@pytest.mark.parametrize("symptom", ["hallucinations", "high fever", "confusion", "muscle rigidity"])
def test_withdrawal_signs_are_emergencies_within_3_days_of_stopping(monograph, symptom):
    assert triage(monograph, [symptom], stopped_hours_ago=20).level == "emergency"
    assert triage(monograph, [symptom], stopped_hours_ago=72).level == "emergency"
    assert triage(monograph, [symptom], missed_doses_24h=3).level == "emergency"
    assert triage(monograph, [symptom], stopped_hours_ago=80).level == "urgent"  # still never routine


def test_withdrawal_is_recognised_from_context_not_symptom_alone(monograph):
    result = triage(monograph, ["hallucinations"])
    assert result.level == "urgent"
    assert not any("withdrawal" in reason for reason in result.reasons)


@pytest.mark.parametrize("symptom", ["drowsiness", "confusion"])
def test_accumulation_with_low_crcl(monograph, symptom):
    result = triage(monograph, [symptom], crcl_ml_min=35)
    assert result.level == "urgent"
    assert any("building up" in r and "WOLF17" in r for r in result.reasons)
    assert triage(monograph, ["drowsiness"], crcl_ml_min=50).level == "routine"


@pytest.mark.parametrize("symptom", ["fainted", "very low blood pressure", "severe weakness"])
def test_urgent_symptoms(monograph, symptom):
    assert triage(monograph, [symptom]).level == "urgent"


def test_spasticity_rebound_after_missed_doses(monograph):
    assert triage(monograph, ["spasms worse"], missed_doses_24h=2).level == "urgent"
    assert triage(monograph, ["spasms worse"]).level == "routine"


@pytest.mark.parametrize("symptom", ["drowsy", "dizzy", "nausea", "headache", "constipation", "tired"])
def test_common_effects_are_routine(monograph, symptom):
    result = triage(monograph, [symptom])
    assert result.level == "routine"
    assert "US-TAB" in result.sources


def test_free_text_is_matched(monograph):
    symptoms, unrecognised = match_symptoms(monograph, ["I keep seeing things and feel very sleepy"])
    assert {s.key for s in symptoms} == {"hallucinations", "drowsiness"}
    assert unrecognised == []


def test_very_low_blood_pressure_is_not_also_the_common_one(monograph):
    symptoms, _ = match_symptoms(monograph, ["very low blood pressure"])
    assert [s.key for s in symptoms] == ["very_low_blood_pressure"]


def test_unrecognised_symptom_is_reported_and_never_routine(monograph):
    result = triage(monograph, ["purple toes", "dizzy"])
    assert result.unrecognised == ("purple toes",)
    assert any("not recognised: purple toes" in r for r in result.reasons)
    assert result.level == "urgent"


@pytest.mark.parametrize(
    "text",
    ["stopped breathing", "not breathing", "blue lips", "suicide", "wants to kill himself", "seizing",
     "he won't wake up", "took an overdose"],
)  # fmt: skip
def test_danger_signs_in_plain_words_are_emergencies(monograph, text):
    assert triage(monograph, [text]).level == "emergency"


@pytest.mark.parametrize("crcl", [-10, float("nan"), 900])
def test_implausible_crcl(monograph, crcl):
    with pytest.raises(InputError, match="CrCl"):
        triage(monograph, ["dizzy"], crcl_ml_min=crcl)


def test_sedating_medicines_are_named(monograph):
    result = triage(monograph, ["drowsy"], sedating_medicines=["oxycodone"])
    assert any("adds up with oxycodone" in r for r in result.reasons)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"stopped_hours_ago": -1}, "0 or more"), ({"missed_doses_24h": 99}, "between 0 and 24")],
)
def test_bad_context(monograph, kwargs, message):
    with pytest.raises(InputError, match=message):
        triage(monograph, ["dizzy"], **kwargs)


def test_no_symptom(monograph):
    with pytest.raises(InputError, match="answer the questions, tick what you feel, or describe it"):
        triage(monograph, ["  "])
