"""Side-effect triage (clinical reference section 7): emergency, urgent or routine.

Symptoms come from a fixed list with synonyms (monograph ``[[symptoms]]``); free text is
matched to it where possible ("I keep seeing things" -> hallucinations). Withdrawal and
accumulation are recognised from the context (a recent stop or missed doses; CrCl), never from
the symptom alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from dosewise.domain.monograph import Monograph, Symptom, TriageRules, cite_sources
from dosewise.errors import InputError

TriageLevel = Literal["emergency", "urgent", "routine"]
_RANK: dict[TriageLevel, int] = {"routine": 0, "urgent": 1, "emergency": 2}
ADVICE: dict[TriageLevel, str] = {
    "emergency": (
        "Call emergency services now. Say that you take baclofen and when you last took it or "
        "stopped it. Do not restart or double baclofen on your own."
    ),
    "urgent": (
        "Contact your prescriber today. If you cannot reach them and it gets worse, call "
        "emergency services. Do not stop baclofen suddenly."
    ),
    "routine": (
        "Note it in your diary and mention it at your next visit; common side effects often fade "
        "as the body adjusts. Do not stop baclofen suddenly. If you are worried, contact your "
        "prescriber."
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageResult:
    level: TriageLevel
    reasons: tuple[str, ...]
    advice: str
    symptoms: tuple[Symptom, ...]
    unrecognised: tuple[str, ...]
    sources: tuple[str, ...]


_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _normalize(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


@lru_cache(maxsize=16)
def _phrase_index(symptoms: tuple[Symptom, ...]) -> tuple[tuple[str, int], ...]:
    """Every key, label and synonym of ``symptoms`` normalized and padded with spaces, with the
    position of its symptom, longest first ("very low blood pressure" before "low blood
    pressure"; equal lengths in monograph order).

    Built once per symptom list, not per call (docs/benchmarks.md, "Triage matching"). Keyed on
    the symptoms, not the monograph: Monograph is unhashable (its ``sources`` is a dict) and has
    no weakref slot, and the index depends on the symptoms alone. Symptom is a frozen, hashable
    dataclass, so an equal list (another monograph, a reloaded one) reuses the same index; the
    positions map back to the caller's own Symptom objects.
    """
    phrases = sorted(
        (
            (_normalize(phrase), position)
            for position, symptom in enumerate(symptoms)
            for phrase in (symptom.key, symptom.label, *symptom.synonyms)
        ),
        key=lambda item: -len(item[0]),
    )
    return tuple((f" {phrase} ", position) for phrase, position in phrases)


def match_symptoms(monograph: Monograph, texts: Sequence[str]) -> tuple[list[Symptom], list[str]]:
    """Symptoms named in ``texts`` (keys, labels, synonyms or free text containing them)."""
    symptoms = monograph.symptoms
    index = _phrase_index(symptoms)
    found: dict[str, Symptom] = {}
    unrecognised: list[str] = []
    for text in texts:
        remaining = f" {_normalize(text)} "
        hit = False
        for padded, position in index:  # longest first
            if padded in remaining:
                symptom = symptoms[position]
                found.setdefault(symptom.key, symptom)
                remaining = remaining.replace(padded, " ")
                hit = True
        if not hit and text.strip():
            unrecognised.append(text)
    return list(found.values()), unrecognised


def triage(
    monograph: Monograph,
    texts: Sequence[str],
    *,
    stopped_hours_ago: float | None = None,
    missed_doses_24h: int | None = None,
    crcl_ml_min: float | None = None,
    sedating_medicines: Sequence[str] = (),
) -> TriageResult:
    """The triage level with its reasons, from symptoms and their context."""
    rules = monograph.triage
    _check_context(stopped_hours_ago, missed_doses_24h, crcl_ml_min)
    symptoms, unrecognised = match_symptoms(monograph, texts)
    if not symptoms and not unrecognised:
        raise InputError("name at least one symptom, e.g. drowsiness, hallucinations, fever")
    recent_stop = stopped_hours_ago is not None and stopped_hours_ago <= rules.withdrawal_window_h
    recent_miss = bool(missed_doses_24h)
    withdrawal_context = recent_stop or recent_miss
    if recent_stop:
        context = f"within {rules.withdrawal_window_h / 24:g} days of stopping baclofen"
    else:
        context = f"after {missed_doses_24h} missed dose(s) in the last 24 hours"
    accumulation = crcl_ml_min is not None and crcl_ml_min < rules.accumulation_below_crcl_ml_min

    level: TriageLevel = "routine"
    reasons: list[str] = []
    sources: list[str] = [rules.source]

    def raise_to(new: TriageLevel, reason: str, source: str) -> None:
        nonlocal level
        if _RANK[new] > _RANK[level]:
            level = new
        reasons.append(f"{reason} [{source}]")
        sources.append(source)

    for symptom in symptoms:
        found = _symptom_finding(
            symptom,
            rules,
            withdrawal_context=withdrawal_context,
            context=context,
            accumulation=accumulation,
            crcl_ml_min=crcl_ml_min,
        )
        raise_to(*found)
        if symptom.accumulation and sedating_medicines:
            reasons.append(
                f"{symptom.label} adds up with {', '.join(sedating_medicines)}: tell the prescriber"
            )
    if unrecognised:
        # Never "routine" for something Dosewise could not read: it may be a danger sign.
        raise_to(
            "urgent",
            "not recognised: " + ", ".join(unrecognised) + ". If it involves breathing, a fit, being "
            "hard to wake, swelling of the face or throat, or thoughts of self-harm, call emergency "
            "services now",
            "DOSEWISE",
        )
    return TriageResult(
        level=level,
        reasons=tuple(reasons),
        advice=ADVICE[level],
        symptoms=tuple(symptoms),
        unrecognised=tuple(unrecognised),
        sources=cite_sources(*sources),
    )


def _check_context(
    stopped_hours_ago: float | None, missed_doses_24h: int | None, crcl_ml_min: float | None
) -> None:
    if stopped_hours_ago is not None and not (math.isfinite(stopped_hours_ago) and stopped_hours_ago >= 0):
        raise InputError("hours since stopping must be 0 or more", field="stopped_hours_ago")
    if missed_doses_24h is not None and not 0 <= missed_doses_24h <= 24:
        raise InputError(
            "missed doses in the last 24 hours must be between 0 and 24", field="missed_doses_24h"
        )
    if crcl_ml_min is not None and not (math.isfinite(crcl_ml_min) and 0 <= crcl_ml_min <= 250):
        raise InputError(f"CrCl {crcl_ml_min:g} mL/min is outside 0-250 mL/min", field="crcl_ml_min")


def _symptom_finding(
    symptom: Symptom,
    rules: TriageRules,
    *,
    withdrawal_context: bool,
    context: str,
    accumulation: bool,
    crcl_ml_min: float | None,
) -> tuple[TriageLevel, str, str]:
    """(level, reason, source) for one recognised symptom in its context."""
    if symptom.kind == "emergency":
        return "emergency", f"{symptom.label}: a danger sign", rules.source
    if symptom.withdrawal and withdrawal_context:
        return "emergency", f"{symptom.label} {context}: possible baclofen withdrawal", rules.source
    if symptom.accumulation and accumulation:
        return (
            "urgent",
            f"{symptom.label} with CrCl {crcl_ml_min:g} mL/min (below "
            f"{rules.accumulation_below_crcl_ml_min:g}): baclofen may be building up",
            rules.accumulation_source,
        )
    if symptom.kind in ("alarming", "urgent"):
        return "urgent", f"{symptom.label}: needs the prescriber's advice today", rules.source
    if symptom.kind == "rebound":
        if withdrawal_context:
            return "urgent", f"{symptom.label} {context}", rules.source
        return "routine", f"{symptom.label}: note it for the prescriber", rules.common_source
    if symptom.kind == "withdrawal":
        return (
            "urgent",
            f"{symptom.label}: not among baclofen's common effects; without a recent stop or "
            "missed dose it is not a withdrawal sign, but needs the prescriber's advice today",
            rules.source,
        )
    return "routine", f"{symptom.label}: a common side effect", rules.common_source
