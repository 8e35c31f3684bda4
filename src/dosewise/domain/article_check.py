"""Does a page about baclofen agree with the label? Its checkable claims, each compared with the
monograph (issue 16, point 4).

A claim is one sentence that states a dose, a step, a maximum, a kidney adjustment, how to stop,
what to do about a missed dose, an interaction, a side effect, or something about pregnancy.
Each gets a verdict: ``contradicts`` only when a number or a rule clearly differs (a maximum above
the label's, stopping abruptly, adult doses by body weight, doubling a missed dose, ...);
``agrees`` only when the claim matches the monograph; ``not_covered`` otherwise. The reference text
is built from the monograph's own numbers and carries its source keys: nothing here is a clinical
number of its own (the words it looks for are vocabulary, not clinical data).

Pure: the caller passes the text, the monograph and the guidance.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from dosewise.domain.guidance import Guidance, Statement
from dosewise.domain.monograph import InteractionRule, KidneyBand, Monograph, Symptom, cite_sources

Verdict = Literal["agrees", "contradicts", "not_covered"]
Topic = Literal[
    "missed_dose", "stopping", "pregnancy", "kidney", "weight", "dose", "interactions", "side_effects"
]  # fmt: skip
VERDICTS: tuple[Verdict, ...] = ("agrees", "contradicts", "not_covered")


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    text: str
    topic: Topic
    verdict: Verdict
    reference: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleCheck:
    claims: tuple[Claim, ...]
    sources: tuple[str, ...]  # every key cited by a claim, first mention first

    def count(self, verdict: Verdict) -> int:
        return sum(1 for claim in self.claims if claim.verdict == verdict)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    verdict: Verdict
    reference: str
    sources: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Sentences

_DASHES = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": " - ",
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
})  # fmt: skip
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u25cf]+|\d+[.)])\s+")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"(]?[A-Z0-9])")
_GLUED = re.compile(r"(?<=[a-z][.!?])(?=[A-Z][a-z])")  # "picture.Before": two sentences
_WORDS_MAX = 80  # a "sentence" longer than this many words is run-on text, not one claim


def split_sentences(text: str) -> tuple[str, ...]:
    """The sentences of ``text`` that could be claims: ending in ``.`` or ``!`` (headings, list
    labels without a full stop and questions are not claims)."""
    sentences: list[str] = []
    for raw in text.translate(_DASHES).splitlines():
        line = _GLUED.sub(" ", _BULLET.sub("", " ".join(raw.split())))
        for piece in _SPLIT.split(line):
            sentence = piece.strip()
            if sentence.endswith((".", "!")) and 3 <= len(sentence.split()) <= _WORDS_MAX:
                sentences.append(sentence)
    return tuple(sentences)


_COMPILED: dict[str, re.Pattern[str]] = {}  # every pattern of this module, compiled once


def _rx(pattern: str) -> re.Pattern[str]:
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(pattern)
    return compiled


def _has(pattern: str, text: str) -> bool:
    return _rx(pattern).search(text) is not None


def _has_then(first: str, then: str, text: str) -> bool:
    """``_has(first + ".*" + then, text)`` in linear time: ``first`` somewhere on a line and
    ``then`` later on the same line. The ``.*`` form backtracks from every match of ``first`` to
    the end of the line, quadratic on a long run-on "sentence" repeating ``first`` ("missed-missed-
    ..."). Exact for a ``first`` whose matches cannot overlap (a word or phrase between ``\\b``):
    the first one on a line then has the earliest end."""
    first_rx, then_rx = _rx(first), _rx(then)
    start = 0
    while (found := first_rx.search(text, start)) is not None:
        line_end = text.find("\n", found.end())
        line_end = len(text) if line_end == -1 else line_end
        if then_rx.search(text, found.end(), line_end) is not None:
            return True
        start = line_end + 1
    return False


_NEGATION = r"\b(?:never|not|no|don't|do not|avoid|avoided|shouldn't|should not|must not|without)\b"

# ---------------------------------------------------------------------------------------------
# Missed dose

# a missed dose: "missed" then "dose", or "dose" then "missed" (see _is_missed)
_MISSED = ((r"\bmiss(?:ed|es|ing)?\b", r"\bdoses?\b"), (r"\bdoses?\b", r"\bmissed\b"))
_DOUBLE = r"\bdoubl\w*|\btwo doses\b|\bextra dose\b"


def _check_missed(sentence: str, monograph: Monograph) -> _Part | None:
    rules = monograph.missed_dose
    reference = (
        f"Take a missed dose as soon as remembered, unless the next dose is due in less than "
        f"{rules.window_h:g} hours: then skip it and take the next one as normal. Never take two doses "
        "together to make up."
    )
    sources = cite_sources(rules.window_source, rules.message_source)
    doubles = _has(_DOUBLE, sentence)
    if doubles and not _has(_NEGATION, sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if doubles or _has(r"\bas soon as\b|\bskip\w*\b", sentence):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Stopping

_STOPPING = (
    r"\bstop\w*|\bdiscontinu\w*|\btaper\w*|\bcold turkey\b|\bquit(?:s|ting)?\b|\bcome off\b|\bcoming off\b"
)
_SAFE_STOP = (
    r"\b(?:can|may|safe to|fine to|ok to|okay to)\s+(?:be\s+)?(?:stop\w*|discontinu\w*|quit\w*)\s+"
    r"(?:\w+\s+){0,2}(?:abruptly|suddenly|at any time|any time|at once|immediately|cold turkey)"
    r"|\bno need to (?:taper|reduce|lower)\b"
)
_SAFE_STOP_THEN = (r"\bwithout (?:tapering|reducing)\b", r"\bsafe")  # "without tapering ... safe"
_SLOW_STOP = (
    r"\btaper\w*|\bgradual\w*|\bslow\w*|\breduc\w*|\bwithdrawal\b|\bseizures?\b|\bhallucinat\w*"
    r"|\brebound\b|\breturn of\b|\bcause\w*|\blead to\b"
)
_ABRUPT = r"\babrupt\w*|\bsudden\w*|\bcold turkey\b|\bat once\b"


def _check_stopping(sentence: str, monograph: Monograph) -> _Part | None:
    advice = next((a for a in monograph.advice if a.code == "NEVER_STOP_ABRUPTLY"), None)
    taper = monograph.taper
    reference = (advice.message + " " if advice else "") + (
        f"A stop is a slow taper lasting at least {taper.min_total_days} days, each step lowering the "
        f"daily total by at most {taper.max_step_decrease_mg:g} mg."
    )
    sources = cite_sources(
        advice.source if advice else "", taper.min_total_days_source, taper.max_step_decrease_source
    )
    if (_has(_SAFE_STOP, sentence) or _has_then(*_SAFE_STOP_THEN, sentence)) and not _has(
        r"\b(?:never|not|don't|should not|must not)\b", sentence
    ):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    abrupt = _has(_ABRUPT, sentence)
    if (abrupt and (_has(_NEGATION, sentence) or _has(_SLOW_STOP, sentence))) or (
        not abrupt and _has(r"\btaper\w*|\bgradual\w*|\bslow\w*", sentence)
    ):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Pregnancy and breastfeeding


def _statements(guidance: Guidance, condition: str) -> tuple[Statement, ...]:
    for advice in guidance.conditions:
        if advice.condition == condition:
            return tuple(s for s in advice.statements if not s.product_default)
    return ()


def _cite(statements: Iterable[Statement]) -> tuple[str, tuple[str, ...]]:
    chosen = tuple(statements)
    return " ".join(s.text for s in chosen), cite_sources(*(s.source for s in chosen))


def _check_pregnancy(sentence: str, guidance: Guidance) -> _Part | None:
    breast = _has(r"\bbreast\s?-?(?:feed\w*|milk)|\bnursing\b|\blactat\w*", sentence)
    pregnant = _has(r"\bpregnan\w*", sentence)
    statements = (_statements(guidance, "pregnant") if pregnant else ()) + (
        _statements(guidance, "breastfeeding") if breast else ()
    )
    reference, sources = _cite(statements)
    if _has(
        r"\b(?:is|are|it's)\s+(?:completely |perfectly |totally |entirely )?safe\b", sentence
    ) and not _has(r"\b(?:not|never|no)\b", sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if _has(
        r"\bstop\w*\s+(?:\w+\s+){0,2}(?:immediately|at once|right away|straight away)", sentence
    ) and not _has(r"\b(?:not|never|don't)\b", sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    agrees = (
        pregnant
        and (
            _has(r"\blimited\b|\bno studies\b", sentence)
            or _has_then(r"\bonly\b", r"\b(?:clearly )?(?:needed|justif\w*)", sentence)
        )
    ) or (breast and _has(r"\bsmall\b", sentence) and _has(r"\bmilk\b", sentence))
    return _Part(verdict="agrees" if agrees else "not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Kidney function

_KIDNEY = r"\bkidneys?\b|\brenal\b|\bdialysis\b|\bcreatinine\b"
_KIDNEY_NO_EFFECT = (
    r"\bno (?:dose |dosage )?(?:adjustment|change|reduction)s? (?:is |are )?(?:needed|necessary|required)"
    r"|\bnot affected by\b|\bdoes not matter\b|\bregardless of\b"
)
_KIDNEY_AGREES = (
    r"\blower\w*|\breduc\w*|\badjust\w*|\btweak\w*|\bcautio\w*|\btoxic\w*|\baccumulat\w*|\bbuild up\b"
    r"|\bclear\w*|\bleaves the body\b|\bexcret\w*|\beliminat\w*|\bdepend\w*|\bslower\b"
)


def _fraction(value: Fraction) -> str:
    return str(value) if value.denominator != 1 else f"{value.numerator}"


def _check_kidney(sentence: str, monograph: Monograph) -> _Part | None:
    kidney = monograph.kidney
    # the bands in words, from the monograph's edges and factors
    parts: list[str] = []
    above: KidneyBand | None = None  # the band just above this one
    for band in kidney.bands:
        edge = f"{band.lower_ml_min:g}"
        if above is None:
            span = f"{'from' if band.lower_inclusive else 'above'} {edge}"
        else:
            top = f"{'under ' if above.lower_inclusive else ''}{above.lower_ml_min:g}"
            span = f"under {top.removeprefix('under ')}" if band.lower_ml_min == 0 else f"{edge} to {top}"
        if band.requires_clinician:
            action = "no automatic plan (a clinician decides)"
        else:
            action = f"x {_fraction(band.factor)}"
        parts.append(f"CrCl {span} mL/min: {action}")
        above = band
    accumulation = next((a for a in monograph.advice if a.code == "KIDNEY_ACCUMULATION"), None)
    reference = "Doses are scaled by kidney function (creatinine clearance): " + "; ".join(parts) + "."
    if accumulation is not None:
        reference += " " + accumulation.message
    sources = cite_sources(
        kidney.bands_source, *(b.source for b in kidney.bands), accumulation.source if accumulation else ""
    )
    if _has(_KIDNEY_NO_EFFECT, sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if _has(_KIDNEY_AGREES, sentence):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Body weight

_WEIGHT = r"\bweigh(?:t|ts|s|ing)?\b|\bmg/kg\b|\bper (?:kg|kilogram)\b|\bheavier\b"
_CHILDREN = r"\bchild\w*|\bp(?:a)?ediatric\w*|\bkids?\b|\binfants?\b|\bunder (?:12|18)\b"
_DOSE_WORD = r"\bdos(?:e|es|age|ages|ing)\b"
_DEPENDS = (
    r"\bdepend\w*|\bbased on\b|\baccording to\b|\brequire\w*|\bdetermin\w*|\badjust\w*|\bhigher\b"
    r"|\bimpact\w*|\bcrucial\b|\bmg/kg\b|\bper (?:kg|kilogram)\b"
)


def _check_weight(sentence: str, monograph: Monograph) -> _Part | None:
    titration = monograph.titration
    children = titration.children
    steps = ", ".join(f"{s:g}" for s in titration.steps_daily_mg)
    reference = (
        f"The labelled adult schedule is in fixed amounts, not per kg of body weight: {steps} mg/day, "
        f"each step for {titration.step_days} days, at most {titration.max_daily_mg:g} mg/day. Dosing by "
        f"weight (about {children.start_mg_per_kg_day:g} mg/kg/day to start) is the UK rule for children "
        "only."
    )
    sources = cite_sources(titration.source, titration.max_daily_source, children.limits_source)
    about_children = _has(_CHILDREN, sentence)
    if _has(_DOSE_WORD, sentence) and _has(_DEPENDS, sentence) and not about_children:
        if _has_then(r"\bnot\b", r"\b(?:based on|depend\w*)\b", sentence):
            return _Part(verdict="agrees", reference=reference, sources=sources)
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Doses: start, steps, range, maximum

# never from the middle of a run of digits: a match there would start at the run's first digit
# anyway, and trying every digit of a long run is quadratic; the digits are never given back
# (possessive): what follows a number never starts with a digit
_NUMBER = r"(?<!\d)(\d++(?:\.\d++)?)"
_MG = r"\s*(?:mg|milligrams?)\b"
_PER_DAY = r"\s*(?:mg|milligrams?)?\s*(?:/\s*day|per day|a day|daily|each day)"
_TID = re.compile(
    _NUMBER + _MG + r"\s+(?:\w+\s+){0,2}(?:three times|3 times)\s+(?:a |per |each )?(?:day|daily)"
)
_RANGE = re.compile(
    r"(?:from\s+)?(?:about\s+)?" + _NUMBER + r"(?:\s*mg)?\s*(?:-|to)\s*" + _NUMBER + _MG
    + r"\s*(?:\w+\s+){0,1}(?:/\s*day|per day|a day|daily|each day)"
)  # fmt: skip
_UP_TO = re.compile(
    r"\b(?:up to|maximum(?: of)?|max(?:imum)? dose(?: is| of)?|more than|not (?:to )?exceed|at most)\s+"
    + _NUMBER + _MG
)  # fmt: skip
_STEP = re.compile(
    r"\b(?:by|add(?:ing)?|increase[sd]? by|raise[sd]? by)\s+" + _NUMBER + _MG
    + r"(\s+per dose)?\s+(?:every|each)\s+(?:(three|3|two|2|one|1|four|4|five|5|few|several|couple of)"
    r"\s*days?|(day))\b"
)  # fmt: skip
_STEP_PER_DOSE = re.compile(
    r"\badd(?:ing)?\s+" + _NUMBER + _MG + r"\s+per dose\b"
)  # fmt: skip
_DAILY = re.compile(_NUMBER + _PER_DAY)  # an amount a day
_PER_DOSE = re.compile(r"\s*(?:per|a|each|in one) (?:dose|tablet)")  # just after an amount
_DAYS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


@dataclass(frozen=True, slots=True, kw_only=True)
class _DoseRefs:
    """The labelled schedule and maximum in words, from the monograph's numbers."""

    first_single_mg: float
    step_single_mg: float
    step_daily_mg: float
    schedule: _Part  # verdict unused: the reference and its sources
    maximum: _Part

    @classmethod
    def of(cls, monograph: Monograph) -> _DoseRefs:
        titration = monograph.titration
        steps = titration.steps_daily_mg
        times = min(titration.doses_per_day)
        step_daily = steps[1] - steps[0] if len(steps) > 1 else steps[0]
        labelled = "; ".join(f"{s / times:g} mg {times} times daily" for s in steps)
        totals = ", ".join(f"{s:g}" for s in steps)
        low, high = titration.usual_range_mg_day
        return cls(
            first_single_mg=steps[0] / times,
            step_single_mg=step_daily / times,
            step_daily_mg=step_daily,
            schedule=_Part(
                verdict="not_covered",
                reference=f"Labelled schedule: {labelled}, each for {titration.step_days} days "
                f"(daily totals {totals} mg).",
                sources=cite_sources(titration.source),
            ),
            maximum=_Part(
                verdict="not_covered",
                reference=f"Usual effective range {low:g}-{high:g} mg/day; "
                f"labelled maximum {titration.max_daily_mg:g} mg/day.",
                sources=cite_sources(titration.usual_range_source, titration.max_daily_source),
            ),
        )


def _as(verdict: Verdict, reference: _Part) -> _Part:
    return _Part(verdict=verdict, reference=reference.reference, sources=reference.sources)


def _start_parts(text: str, monograph: Monograph, refs: _DoseRefs) -> list[_Part]:
    parts: list[_Part] = []
    times = min(monograph.titration.doses_per_day)
    starting = _has(r"\bstart\w*|\bbegin\w*|\binitial\w*|\bfirst\b|\blow dose\b", text)
    for match in _TID.finditer(text):
        single = float(match.group(1))
        if starting:
            parts.append(_as("agrees" if single == refs.first_single_mg else "contradicts", refs.schedule))
        elif single * times > monograph.titration.max_daily_mg:
            parts.append(_as("contradicts", refs.maximum))
    return parts


def _step_parts(text: str, monograph: Monograph, refs: _DoseRefs) -> list[_Part]:
    titration = monograph.titration
    parts: list[_Part] = []
    for match in _STEP.finditer(text):
        amount = float(match.group(1))
        word = match.group(3) or "one"
        days = _DAYS.get(word, int(word) if word.isdigit() else None)
        per_dose = match.group(2) is not None
        same = (
            amount == refs.step_single_mg if per_dose else amount in (refs.step_single_mg, refs.step_daily_mg)
        )
        too_fast = days is not None and days < titration.step_days
        if amount > titration.beyond_labelled.max_increase_mg or too_fast:
            parts.append(_as("contradicts", refs.schedule))
        else:
            parts.append(
                _as(
                    "agrees" if same and days in (None, titration.step_days) else "not_covered", refs.schedule
                )
            )
    if not parts:
        for match in _STEP_PER_DOSE.finditer(text):
            every = _has(r"\bevery (?:few|3|three) days\b", text)
            same = float(match.group(1)) == refs.step_single_mg and every
            parts.append(_as("agrees" if same else "not_covered", refs.schedule))
    return parts


def _above_label(amount: float, text: str, monograph: Monograph) -> _Part:
    """A daily amount above the labelled maximum: agrees only when the page confines it to
    monitored hospital settings and it stays within the reference's ceiling [FR]."""
    titration = monograph.titration
    reference = _Part(
        verdict="not_covered",
        reference=f"The labelled maximum is {titration.max_daily_mg:g} mg/day; up to "
        f"{titration.override_max_daily_mg:g} mg/day only in carefully monitored hospital settings.",
        sources=cite_sources(titration.max_daily_source, titration.override_max_daily_source),
    )
    hospital = _has(r"\bhospital\w*|\bmonitored\b|\bclose monitoring\b", text)
    agrees = hospital and amount <= titration.override_max_daily_mg
    return _as("agrees" if agrees else "contradicts", reference)


def _maximum_parts(text: str, monograph: Monograph, refs: _DoseRefs) -> list[_Part]:
    titration = monograph.titration
    parts: list[_Part] = []
    ranges = list(_RANGE.finditer(text))
    for match in ranges:
        low, high = float(match.group(1)), float(match.group(2))
        if high > titration.max_daily_mg:
            parts.append(_above_label(high, text, monograph))
        else:
            parts.append(
                _as("agrees" if (low, high) == titration.usual_range_mg_day else "not_covered", refs.maximum)
            )
    for match in _UP_TO.finditer(text):
        if any(r.start() <= match.start(1) < r.end() for r in ranges):
            continue
        amount = float(match.group(1))
        single = _PER_DOSE.match(text, match.end()) is not None
        limit = (
            titration.max_single_dose_mg
            if single and titration.max_single_dose_mg
            else titration.max_daily_mg
        )
        if amount > limit and limit == titration.max_daily_mg:
            parts.append(_above_label(amount, text, monograph))
            continue
        verdict: Verdict = "contradicts" if amount > limit else "agrees" if amount == limit else "not_covered"
        parts.append(_as(verdict, refs.maximum))
    if not parts:
        daily = [float(m.group(1)) for m in _DAILY.finditer(text)]
        if daily and max(daily) > titration.max_daily_mg:
            parts.append(_above_label(max(daily), text, monograph))
    return parts


def _check_dose(sentence: str, monograph: Monograph, refs: _DoseRefs | None = None) -> _Part | None:
    refs = _DoseRefs.of(monograph) if refs is None else refs
    parts = [
        *_start_parts(sentence, monograph, refs),
        *_step_parts(sentence, monograph, refs),
        *_maximum_parts(sentence, monograph, refs),
    ]
    return _combine(parts) if parts else None


def _combine(parts: Sequence[_Part]) -> _Part:
    verdicts = {part.verdict for part in parts}
    verdict: Verdict = (
        "contradicts" if "contradicts" in verdicts else "agrees" if verdicts == {"agrees"} else "not_covered"
    )
    references: dict[str, None] = dict.fromkeys(part.reference for part in parts)
    return _Part(
        verdict=verdict,
        reference=" ".join(references),
        sources=cite_sources(*(", ".join(part.sources) for part in parts)),
    )


# ---------------------------------------------------------------------------------------------
# Interactions

# words people write for a medicine class -> the class key the monograph's interactions use
_CLASS_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bopioids?\b|\bopiates?\b|\bnarcotics?\b|\bstrong pain ?(?:killers?|medicines?|medications?)\b"
     r"|\boxycodone\b|\bmorphine\b|\btramadol\b|\bcodeine\b|\bfentanyl\b|\bhydrocodone\b"
     r"|\bmethadone\b", "opioid"),
    (r"\bbenzodiazepines?\b|\bbenzos?\b|\bdiazepam\b|\balprazolam\b|\blorazepam\b|\bclonazepam\b|\bxanax\b"
     r"|\bvalium\b", "benzodiazepine"),
    (r"\bsleeping (?:pills?|tablets?)\b|\bzolpidem\b", "z_drug"),
    (r"\bgabapentin\w*|\bpregabalin\b|\bneurontin\b|\blyrica\b", "gabapentinoid"),
    (r"\balcohol\b|\bdrinking\b", "alcohol"),
    (r"\bmuscle relaxants?\b|\btizanidine\b|\bcyclobenzaprine\b|\bmethocarbamol\b"
     r"|\bcarisoprodol\b", "muscle_relaxant"),
    (r"\bsedatives?\b|\bcns depressants?\b|\bcentral nervous system depressants?\b|\bantihistamines?\b"
     r"|\bantipsychotics?\b|\bbarbiturates?\b", "other_sedative"),
    (r"\btricyclic\w*|\bamitriptyline\b|\bnortriptyline\b", "tricyclic_antidepressant"),
    (r"\bmao inhibitors?\b|\bmaois?\b", "maoi"),
    (r"\bantiepileptic\w*|\banticonvulsant\w*|\bseizure medic\w*", "antiepileptic"),
    (r"\blithium\b", "lithium"),
    (r"\blevodopa\b|\bcarbidopa\b|\bsinemet\b", "levodopa"),
    (r"\bantihypertensives?\b|\bblood pressure (?:medications?|medicines?|drugs?|tablets?|pills?)\b"
     r"|\bace inhibitors?\b|\bbeta blockers?\b|\bdiuretics?\b", "ace_inhibitor"),
    (r"\bnsaids?\b|\bibuprofen\b|\bnaproxen\b", "nsaid"),
    (r"\bantidiabetic\w*|\bmetformin\b|\binsulin\b|\bdiabetes medic\w*", "antidiabetic"),
    (r"\bana?esthe(?:tic|sia)s?\b", "general_anaesthetic"),
)  # fmt: skip
_INTERACTION_CUE = (
    r"\bcombin\w*|\bmix\w*|\btogether\b|\binteract\w*|\btak\w* (?:baclofen |it )?with\b|\btaken with\b"
    r"|\bwith other\b|\balong with\b|\balongside\b"
)
_NO_INTERACTION = (
    r"\bno (?:known )?interactions?\b|\bdoes not interact\b|\bsafe to (?:combine|mix|take with)\b"
)
# effect words a page may name -> how the monograph's rule must read to support it
_EFFECTS: tuple[tuple[str, str], ...] = (
    (r"\bsedat\w*|\bdrows\w*|\bsleep\w*|\bcns depression\b", "sedation"),
    (r"\brespirat\w*|\bbreath\w*", "respiratory"),
    (r"\bblood pressure\b|\bhypotens\w*", "blood pressure"),
    (r"\bweak\w*|\bmuscle tone\b", "weakness"),
    (r"\bconfus\w*|\bhallucinat\w*|\bagitat\w*", "confusion"),
)


def _supports(rule: InteractionRule, effect: str) -> bool:
    if effect == "sedation":
        return rule.sedating
    return effect in rule.effect


def _check_interactions(sentence: str, monograph: Monograph) -> _Part | None:
    low = sentence.lower()
    if not _has(_INTERACTION_CUE, low):
        return None
    classes = [key for pattern, key in _CLASS_WORDS if _has(pattern, low)]
    rules: list[InteractionRule] = []
    for key in classes:
        rule = next((r for r in monograph.interactions if key in r.classes), None)
        if rule is not None and rule not in rules:
            rules.append(rule)
    if not rules:
        return None
    reference = " ".join(
        f"{', '.join(rule.classes).replace('_', ' ')}: {rule.effect} ({rule.severity})." for rule in rules
    )
    sources = cite_sources(*(rule.source for rule in rules))
    if _has(_NO_INTERACTION, low):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    effects = [name for pattern, name in _EFFECTS if _has(pattern, low)]
    if (
        effects
        and all(any(_supports(rule, e) for rule in rules) for e in effects)
        and all(any(_supports(rule, e) for e in effects) for rule in rules)
    ):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------
# Side effects

_SIDE_EFFECTS_THEN = (r"\bside[ -]effects?\b", r"\b(?:include\w*|like|such as|pop up)\b")
_SIDE_EFFECT_CUE = (
    r"\bis a (?:\w+ )?side[ -]effect\b"
    r"|\bare (?:a )?(?:\w+ )?side[ -]effects?\b|\b(?:may|can|could|might|sometimes) (?:cause|lead to)\b"
    r"|\bexperienc\w*|\bdoes not cause\b|\bno side[ -]effects?\b"
)
_SERIOUS_CUE = r"\bimmediate\w*|\bemergency\b|\bseek\b|\bright away\b|\burgent\w*|\bcall\b"
_NO_SIDE_EFFECTS = r"\bno side[ -]effects?\b|\bfree of side[ -]effects?\b|\bdoes not cause\b"


_NOT_SIDE_EFFECTS = ("mention", "reassurance", "overdose", "stopped", "kidney", "sedative", "pregnancy")


@functools.lru_cache(maxsize=8)
def _symptom_words(symptoms: tuple[Symptom, ...]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(key, kind, words) of each symptom a page may name as a side effect; the words that can be
    found in a sentence reduced to ``[a-z0-9]`` words (:func:`_symptoms_in`), others left out."""
    return tuple(
        (
            symptom.key,
            symptom.kind,
            tuple(word for word in (symptom.label, *symptom.synonyms) if _WORDS.fullmatch(word)),
        )
        for symptom in symptoms
        if symptom.kind not in _NOT_SIDE_EFFECTS
    )


_WORDS = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")


def _symptoms_in(sentence: str, monograph: Monograph) -> list[tuple[str, str]]:
    low = " " + re.sub(r"[^a-z0-9]+", " ", sentence.lower()) + " "
    tokens = set(low.split())
    # " word " in low: a one-word name is one of the sentence's words; a longer one is looked for
    # only when its first word is there (the same answer, fewer searches)
    found = [
        (key, kind)
        for key, kind, words in _symptom_words(monograph.symptoms)
        if any(
            word in tokens if " " not in word else word.split(" ", 1)[0] in tokens and f" {word} " in low
            for word in words
        )
    ]
    included = {
        key for symptom in monograph.symptoms for key in symptom.includes if symptom.key in dict(found)
    }
    severe = "|".join(re.escape(word) for word in monograph.triage.severity_words)
    result: list[tuple[str, str]] = []
    for key, found_kind in found:
        if key in included:
            continue
        kind = found_kind
        if kind == "common" and severe:
            symptom = next(s for s in monograph.symptoms if s.key == key)
            words = "|".join(re.escape(w) for w in (symptom.label, *symptom.synonyms) if w)
            if re.search(rf" (?:{severe}) (?:\w+ )?(?:{words}) ", low):
                kind = "urgent"  # a common effect said to be severe is not the mild one [triage]
        result.append((key, kind))
    return result


def _check_side_effects(sentence: str, monograph: Monograph) -> _Part | None:
    lowered = sentence.lower()
    if not _has(_SIDE_EFFECT_CUE + "|" + _SERIOUS_CUE, lowered) and not _has_then(
        *_SIDE_EFFECTS_THEN, lowered
    ):
        return None
    found = _symptoms_in(sentence, monograph)
    if not found and not _has(_NO_SIDE_EFFECTS, sentence.lower()):
        return None
    common = [s for s in monograph.symptoms if s.kind == "common"]
    triage = monograph.triage
    serious = [
        s.label
        for s in monograph.symptoms
        if s.kind in ("emergency", "alarming", "withdrawal") and "overdose" not in s.includes
    ]
    reference = (
        "Common effects, usually fading as the body adjusts: "
        + ", ".join(s.label for s in common)
        + ". Get medical help at once for: "
        + ", ".join(serious)
        + "."
    )
    sources = cite_sources(triage.common_source, triage.source)
    low = sentence.lower()
    if _has(_NO_SIDE_EFFECTS, low):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    kinds = {kind for _, kind in found}
    agrees = "common" not in kinds if _has(_SERIOUS_CUE, low) else kinds == {"common"}
    return _Part(verdict="agrees" if agrees else "not_covered", reference=reference, sources=sources)


# ---------------------------------------------------------------------------------------------


def check_article(text: str, monograph: Monograph, guidance: Guidance) -> ArticleCheck:
    """The checkable claims of ``text``, in page order, each with a verdict and its reference."""
    claims: list[Claim] = []
    refs = _DoseRefs.of(monograph)  # once per page, not per sentence
    for sentence in split_sentences(text):
        claim = _check_sentence(sentence, monograph, guidance, refs)
        if claim is not None:
            claims.append(claim)
    return ArticleCheck(claims=tuple(claims), sources=cite_sources(*(", ".join(c.sources) for c in claims)))


def _check_sentence(
    sentence: str, monograph: Monograph, guidance: Guidance, refs: _DoseRefs | None = None
) -> Claim | None:
    low = sentence.lower()
    checks: list[tuple[Topic, _Part | None]] = []
    if any(_has_then(first, then, low) for first, then in _MISSED):
        checks.append(("missed_dose", _check_missed(low, monograph)))
    elif _has(r"\bpregnan\w*|\bbreast\s?-?(?:feed\w*|milk)\b", low):
        checks.append(("pregnancy", _check_pregnancy(low, guidance)))
    elif _has(_STOPPING, low):
        checks.append(("stopping", _check_stopping(low, monograph)))
    elif _has(_WEIGHT, low):
        checks.append(("weight", _check_weight(low, monograph)))
    elif _has(_KIDNEY, low):
        checks.append(("kidney", _check_kidney(low, monograph)))
    else:
        dose = _check_dose(low, monograph, refs)
        if dose is not None:
            checks.append(("dose", dose))
        else:
            interaction = _check_interactions(low, monograph)
            if interaction is not None:
                checks.append(("interactions", interaction))
            else:
                checks.append(("side_effects", _check_side_effects(low, monograph)))
    topic, part = checks[0]
    if part is None:
        return None
    return Claim(
        text=sentence, topic=topic, verdict=part.verdict, reference=part.reference, sources=part.sources
    )
