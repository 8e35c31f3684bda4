"""Side-effect triage (clinical reference sections 7 and 10): emergency, urgent or routine.

Guided first: the danger questions (breathing, waking, a fit, swelling, fever with stiffness,
confusion, self-harm, taking too much, a stop, pregnancy), then the person's own words, read by
:mod:`dosewise.domain.symptom_matcher`. The level is the highest that any answer or phrase
triggers. Anything not recognised, or a word that may hide a danger sign ("breathing"), is at
least urgent and asks the danger questions again: it is never "routine".

Withdrawal and accumulation come from the context (a stop or missed doses, said or in the
diary; CrCl), never from the symptom alone. An overdose is graded by the amount against the
usual single dose (section 10).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from dosewise.domain.monograph import Monograph, Symptom, TriageQuestion, TriageRules, cite_sources
from dosewise.domain.symptom_matcher import (
    Amount,
    many_tablets_taken,
    mg_taken,
    read_amount,
    read_hours_ago,
    read_symptoms,
    split_clauses,
)
from dosewise.errors import InputError

# re-exported: the diary's side-effect list reads names with it
__all__ = ["ADVICE", "TriageResult", "match_symptoms", "triage"]

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
OVERDOSE_URGENT_ADVICE = (
    "Contact your prescriber or a poison centre now, do not wait. Never take two doses together to "
    "make up. If breathing slows, the person is hard to wake or has a fit, call emergency services."
)
ANSWERS = ("yes", "no")


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageResult:
    level: TriageLevel
    reasons: tuple[str, ...]
    advice: str
    symptoms: tuple[Symptom, ...]
    unrecognised: tuple[str, ...]
    sources: tuple[str, ...]
    denied: tuple[Symptom, ...] = ()  # read and denied ("no fever")
    unread: tuple[str, ...] = ()  # words left unread in texts read in part ("odd chest")
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, read as)
    answers: Mapping[str, bool] = field(default_factory=dict)  # question key -> yes/no
    questions: tuple[TriageQuestion, ...] = ()  # to answer now: something was not recognised
    withdrawal_context: bool = False
    overdose_mg: float | None = None  # the amount taken at once, where it could be worked out


def match_symptoms(monograph: Monograph, texts: Sequence[str]) -> tuple[list[Symptom], list[str]]:
    """Symptoms named in ``texts`` (keys, labels, synonyms or free text containing them), and
    the texts with nothing recognised in them."""
    keyed = {symptom.key: symptom for symptom in monograph.symptoms}
    found: dict[str, Symptom] = {}
    rest: list[str] = []
    for text in texts:
        if text.strip() in keyed:  # a key, as the forms send it
            found.setdefault(text.strip(), keyed[text.strip()])
        else:
            rest.append(text)
    reading = read_symptoms(monograph.symptoms, monograph.triage, rest)
    for symptom in reading.found():
        found.setdefault(symptom.key, symptom)
    return list(found.values()), list(reading.unrecognised)


@dataclass(slots=True)
class _Grading:
    rules: TriageRules
    level: TriageLevel = "routine"
    reasons: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ask: bool = False

    def raise_to(self, new: TriageLevel, reason: str, source: str) -> None:
        if _RANK[new] > _RANK[self.level]:
            self.level = new
        self.reasons.append(f"{reason} [{source}]")
        self.sources.append(source)


def triage(
    monograph: Monograph,
    texts: Sequence[str],
    *,
    answers: Mapping[str, bool] | None = None,
    amount: str = "",
    stopped_hours_ago: float | None = None,
    missed_doses_24h: int | None = None,
    crcl_ml_min: float | None = None,
    sedating_medicines: Sequence[str] = (),
    major_sedating_medicines: Sequence[str] = (),
    levodopa_medicines: Sequence[str] = (),
    usual_dose_mg: float | None = None,
    tablet_mg: float | None = None,
) -> TriageResult:
    """The triage level with its reasons, from the answers to the questions, the symptoms as
    typed (keys, labels or free text) and their context.

    ``answers``: question key -> yes (True) or no (False); unanswered questions are left out.
    ``amount``: how much was taken at once when more than prescribed ("20 tablets", "60 mg").
    ``usual_dose_mg`` / ``tablet_mg``: the usual single dose and the tablet strength, for
    working out an overdose from "20 tablets" or "double dose"."""
    rules = monograph.triage
    answers = dict(answers or {})
    _check_answers(monograph, answers)
    _check_context(stopped_hours_ago, missed_doses_24h, crcl_ml_min, usual_dose_mg, tablet_mg)
    said = _read(monograph, texts, answers, usual_dose_mg)
    present = said.present
    context = _Context.of(rules, said, stopped_hours_ago, missed_doses_24h, crcl_ml_min)
    grading = _Grading(rules=rules, sources=[rules.source])
    medicines = _Medicines(
        sedating=tuple(sedating_medicines),
        major=tuple(major_sedating_medicines)
        or ((present["sedative_taken"].label,) if "sedative_taken" in present else ()),
        levodopa=tuple(levodopa_medicines),
    )
    overdose_mg: float | None = None
    for symptom in present.values():
        if symptom.kind == "overdose":
            overdose_mg = _grade_overdose(
                grading, list(present.values()), said.clauses, amount, usual_dose_mg, tablet_mg
            )
        elif symptom.kind == "reassurance":
            grading.reasons.append(f"{symptom.label}: good")
        else:
            _grade_symptom(grading, symptom, context, medicines, severe=symptom.key in said.severe)
    if said.unread and not said.unrecognised:
        grading.raise_to(
            "urgent",
            "words not read: " + "; ".join(f"“{words}”" for words in said.unread) + ". Answer the "
            "questions; if they are about breathing, a fit, being hard to wake, swelling of the face "
            "or throat, or thoughts of self-harm, call emergency services now",
            rules.unrecognised_source,
        )
        grading.ask = True
    if said.unrecognised:
        # Never "routine" for something Dosewise could not read: it may be a danger sign.
        grading.raise_to(
            "urgent",
            "not recognised: " + ", ".join(said.unrecognised) + ". Answer the questions; if it "
            "involves breathing, a fit, being hard to wake, swelling of the face or throat, or "
            "thoughts of self-harm, call emergency services now",
            rules.unrecognised_source,
        )
        grading.ask = True
    if not present and not said.unrecognised:
        denied = ", ".join(s.label for s in said.denied) or "the danger questions"
        grading.reasons.append(f"no danger sign in your answers ({denied}: no)")
    questions: tuple[TriageQuestion, ...] = ()
    if grading.ask:
        questions = tuple(q for q in monograph.triage_questions if q.danger and q.key not in answers)
    advice = ADVICE[grading.level]
    if grading.level == "urgent" and "overdose" in present:
        advice = OVERDOSE_URGENT_ADVICE
    return TriageResult(
        level=grading.level,
        reasons=tuple(grading.reasons),
        advice=advice,
        symptoms=tuple(present.values()),
        unrecognised=said.unrecognised,
        sources=cite_sources(*grading.sources),
        denied=said.denied,
        unread=said.unread,
        corrections=said.corrections,
        answers=answers,
        questions=questions,
        withdrawal_context=context.withdrawal,
        overdose_mg=overdose_mg,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Said:
    """What the answers, the ticks and the words say."""

    present: dict[str, Symptom]
    denied: tuple[Symptom, ...]
    unrecognised: tuple[str, ...]
    unread: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    clauses: tuple[tuple[str, ...], ...]
    severe: frozenset[str]


def _read(
    monograph: Monograph, texts: Sequence[str], answers: Mapping[str, bool], usual_dose_mg: float | None
) -> _Said:
    rules = monograph.triage
    keyed = {symptom.key: symptom for symptom in monograph.symptoms}
    typed = [text for text in texts if text.strip() and text.strip() not in keyed]
    ticked = [keyed[text.strip()] for text in texts if text.strip() in keyed]
    if not typed and not ticked and not answers:
        raise InputError(
            "answer the questions, tick what you feel, or describe it, e.g. drowsiness, "
            "hallucinations, fever",
            field="symptoms",
        )
    reading = read_symptoms(monograph.symptoms, rules, typed)
    present: dict[str, Symptom] = {}
    for symptom in [*ticked, *reading.found()]:
        present.setdefault(symptom.key, symptom)
    for question in monograph.triage_questions:
        if answers.get(question.key):
            for key in question.symptoms:
                present.setdefault(key, keyed[key])
    denied = {s.key: s for s in reading.denied() if s.key not in present}
    for question in monograph.triage_questions:
        if answers.get(question.key) is False:
            for key in question.symptoms:
                if key not in present:
                    denied.setdefault(key, keyed[key])
    # an overdose said with numbers only: "took 20 tablets" (more than the largest single dose
    # [titration] in the smallest tablets [products]: 20 / 5 = 4), "took 60 mg" (more than twice
    # the usual dose)
    most_tablets = _most_tablets_at_once(monograph)
    counted = [
        text
        for text in reading.unrecognised
        if most_tablets is not None and many_tablets_taken(split_clauses(text), most_tablets)
    ]
    said_mg = mg_taken(reading.clauses)
    if (
        counted
        or (most_tablets is not None and many_tablets_taken(reading.clauses, most_tablets))
        or (said_mg is not None and usual_dose_mg and said_mg > rules.overdose_ratio * usual_dose_mg)
    ):
        present.setdefault("overdose", keyed["overdose"])
    if "child_took_baclofen" in present:  # an emergency whatever the amount
        present.pop("overdose", None)
    return _Said(
        present=present,
        denied=tuple(denied.values()),
        unrecognised=tuple(text for text in reading.unrecognised if text not in counted),
        unread=reading.unread,
        corrections=reading.corrections,
        clauses=reading.clauses,
        severe=frozenset(reading.severe()),
    )


def _most_tablets_at_once(monograph: Monograph) -> float | None:
    """Tablets at once beyond which any tablet exceeds the largest labelled single dose."""
    largest = monograph.titration.max_single_dose_mg
    tablets = [p.strength_mg for p in monograph.products if p.form == "tablet"]
    return None if largest is None or not tablets else largest / min(tablets)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    withdrawal: bool  # within the window of a stop or missed doses
    words: str  # "within 3 days of stopping baclofen"
    accumulation: bool  # CrCl below the threshold, or kidney disease said
    crcl_ml_min: float | None

    @classmethod
    def of(
        cls,
        rules: TriageRules,
        said: _Said,
        stopped_hours_ago: float | None,
        missed_doses_24h: int | None,
        crcl_ml_min: float | None,
    ) -> _Context:
        stopped = "stopped" in said.present
        said_hours = read_hours_ago(said.clauses) if stopped else None
        if said_hours is not None and (stopped_hours_ago is None or said_hours < stopped_hours_ago):
            stopped_hours_ago = said_hours
        window = rules.withdrawal_window_h
        recent_stop = stopped_hours_ago is not None and stopped_hours_ago <= window
        # a stop said without a time is taken as recent: the safe reading
        withdrawal = recent_stop or (stopped and stopped_hours_ago is None) or bool(missed_doses_24h)
        if recent_stop:
            words = f"within {window / 24:g} days of stopping baclofen"
        elif missed_doses_24h:
            words = f"after {missed_doses_24h} missed dose(s) in the last 24 hours"
        else:
            words = "after stopping baclofen or missing doses"
        low_crcl = crcl_ml_min is not None and crcl_ml_min < rules.accumulation_below_crcl_ml_min
        return cls(
            withdrawal=withdrawal,
            words=words,
            accumulation=low_crcl or "kidney_disease" in said.present,
            crcl_ml_min=crcl_ml_min,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Medicines:
    sedating: tuple[str, ...]
    major: tuple[str, ...]  # opioids, benzodiazepines (named or said)
    levodopa: tuple[str, ...]


def _grade_symptom(
    grading: _Grading, symptom: Symptom, context: _Context, medicines: _Medicines, *, severe: bool
) -> None:
    rules = grading.rules
    level, reason, source = _symptom_finding(symptom, rules, context)
    grading.raise_to(level, reason, source)
    if symptom.kind == "mention":
        grading.ask = True
    if level == "routine" and severe and symptom.kind == "common":
        grading.raise_to(
            "urgent",
            f"severe {symptom.label}: not the mild effect that often fades; contact the prescriber today",
            rules.severity_source,
        )
    if symptom.sedation and medicines.major:
        grading.raise_to(
            "urgent",
            f"{symptom.label} with {', '.join(medicines.major)}: together they can slow breathing; "
            "contact the prescriber today",
            "PMS, OZO",
        )
    elif symptom.sedation and medicines.sedating:
        grading.reasons.append(
            f"{symptom.label} adds up with {', '.join(medicines.sedating)}: tell the prescriber"
        )
    if symptom.with_levodopa and medicines.levodopa:
        grading.raise_to(
            "urgent",
            f"{symptom.label} with {', '.join(medicines.levodopa)}: levodopa with baclofen can cause "
            "confusion, hallucinations and agitation",
            "PMS",
        )


def _grade_overdose(
    grading: _Grading,
    present: Sequence[Symptom],
    clauses: Sequence[Sequence[str]],
    amount_text: str,
    usual_dose_mg: float | None,
    tablet_mg: float | None,
) -> float | None:
    """Section 10: an emergency when the amount is unknown or more than twice the usual single
    dose, or with any danger sign; otherwise urgent (the prescriber or a poison centre, now)."""
    rules = grading.rules
    said = read_amount([*clauses, *split_clauses(amount_text)])
    usual = said.usual_mg or usual_dose_mg
    taken_mg = _amount_mg(said, usual, tablet_mg)
    ratio = said.multiple if said.multiple is not None and taken_mg is None else None
    if taken_mg is not None and usual:
        ratio = taken_mg / usual
    signs = [s.label for s in present if s.overdose_sign]
    source = rules.overdose_source
    if signs:
        grading.raise_to(
            "emergency", f"took more than prescribed, with {', '.join(signs)}: possible overdose", source
        )
    elif ratio is None:
        what = f"about {taken_mg:g} mg at once" if taken_mg is not None else "an amount not known"
        grading.raise_to(
            "emergency",
            f"took more than prescribed ({what}, against a usual dose not known): possible overdose",
            source,
        )
    elif ratio > rules.overdose_ratio:
        grading.raise_to(
            "emergency",
            f"took more than prescribed ({ratio:.3g} times the usual dose, more than "
            f"{rules.overdose_ratio:g} times): possible overdose",
            source,
        )
    else:
        grading.raise_to(
            "urgent",
            f"took more than prescribed ({ratio:.3g} times the usual dose): contact the prescriber or a "
            "poison centre now; watch for vomiting, floppiness, drowsiness, blurred vision or slow breathing",
            source,
        )
    return taken_mg


def _amount_mg(said: Amount, usual_mg: float | None, tablet_mg: float | None) -> float | None:
    if said.lots and said.mg is None and said.tablets is None:
        return None
    if said.mg is not None:
        return said.mg
    if said.tablets is not None and tablet_mg:
        return said.tablets * tablet_mg
    if said.extra_tablets is not None and tablet_mg and usual_mg:
        return usual_mg + said.extra_tablets * tablet_mg
    if said.multiple is not None and usual_mg:
        return said.multiple * usual_mg
    return None


def _check_answers(monograph: Monograph, answers: Mapping[str, bool]) -> None:
    known = {question.key for question in monograph.triage_questions}
    for key, value in answers.items():
        if key not in known:
            raise InputError(
                f"unknown question {key!r}: the questions are {', '.join(sorted(known))}", field=key
            )
        if not isinstance(value, bool):
            raise InputError(f"answer {key} with yes or no", field=key)


def _check_context(
    stopped_hours_ago: float | None,
    missed_doses_24h: int | None,
    crcl_ml_min: float | None,
    usual_dose_mg: float | None,
    tablet_mg: float | None,
) -> None:
    if stopped_hours_ago is not None and not (math.isfinite(stopped_hours_ago) and stopped_hours_ago >= 0):
        raise InputError("hours since stopping must be 0 or more", field="stopped_hours_ago")
    if missed_doses_24h is not None and not 0 <= missed_doses_24h <= 24:
        raise InputError(
            "missed doses in the last 24 hours must be between 0 and 24", field="missed_doses_24h"
        )
    if crcl_ml_min is not None and not (math.isfinite(crcl_ml_min) and 0 <= crcl_ml_min <= 250):
        raise InputError(f"CrCl {crcl_ml_min:g} mL/min is outside 0-250 mL/min", field="crcl_ml_min")
    for name, value in (("usual_dose_mg", usual_dose_mg), ("tablet_mg", tablet_mg)):
        if value is not None and not (math.isfinite(value) and 0 < value <= 1000):
            raise InputError(f"{name.replace('_', ' ')} must be above 0 and at most 1000", field=name)


def _symptom_finding(
    symptom: Symptom, rules: TriageRules, situation: _Context
) -> tuple[TriageLevel, str, str]:
    """(level, reason, source) for one recognised symptom in its context."""
    withdrawal_context, context = situation.withdrawal, situation.words
    accumulation, crcl_ml_min = situation.accumulation and symptom.accumulation, situation.crcl_ml_min
    source = symptom.source or rules.source
    note = f"; {symptom.note}" if symptom.note else ""
    if symptom.kind == "emergency":
        return "emergency", f"{symptom.label}: a danger sign{note}", source
    if symptom.withdrawal and withdrawal_context:
        return "emergency", f"{symptom.label} {context}: possible baclofen withdrawal", rules.source
    if symptom.withdrawal_urgent and withdrawal_context:
        return "urgent", f"{symptom.label} {context}: possible baclofen withdrawal", source
    if symptom.accumulation and accumulation:
        kidneys = (
            f"CrCl {crcl_ml_min:g} mL/min (below {rules.accumulation_below_crcl_ml_min:g})"
            if crcl_ml_min is not None
            else "kidney disease"
        )
        return (
            "urgent",
            f"{symptom.label} with {kidneys}: baclofen may be building up",
            rules.accumulation_source,
        )
    if symptom.kind in ("alarming", "urgent", "mention"):
        return "urgent", f"{symptom.label}: needs the prescriber's advice today{note}", source
    if symptom.kind == "stopped":
        return "urgent", f"{symptom.label}: stopping suddenly can cause withdrawal{note}", source
    if symptom.kind in ("kidney", "sedative"):
        return "routine", f"{symptom.label}{note}", source
    if symptom.kind == "pregnancy":
        return "urgent", f"{symptom.label}: contact the prescriber{note}", source
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
    return "routine", f"{symptom.label}: a common side effect{note}", symptom.source or rules.common_source
