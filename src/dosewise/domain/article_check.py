"""Does a page about baclofen agree with the label? Its checkable claims, each compared with the
monograph (issue 16, point 4).

A claim is one sentence that states a dose, a step, a maximum, a kidney adjustment, how to stop,
what to do about a missed dose, an interaction, a side effect, or something about pregnancy.
Each gets a verdict: ``contradicts`` only when a number or a rule clearly differs (a maximum above
the label's, stopping abruptly, a taper shorter than its minimum, a common effect called rare,
adult doses by body weight, doubling a missed dose, ...);
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

# What a negation denies is what it governs: the next few words ("does not cause withdrawal",
# "not need to be tapered"), not any word elsewhere in the sentence ("never stop it: it can cause
# withdrawal" denies the stop, not the withdrawal).
_NEG_WORD = r"(?:\b(?:never|not|no|cannot|without|neither|nor)|n't)"
_PERMISSIVE = (
    r"\b(?:safe|safely|fine|ok|okay|alright|harmless|freely)\b|\bno (?:\w+ )?(?:risk|harm|danger|problem)s?\b"
    r"|\bnot (?:a |an |any )?(?:problem|issue|concern|dangerous|harmful|risky)\b|\bnothing to worry\b"
    r"|\bwithout (?:any )?(?:risk|harm|danger|worry|concern|problem)s?\b|\bwhenever you (?:like|want|wish)\b"
)
_NOT_NEEDED = (
    r"(?:\b(?:no|not|never)|n't)\s+(?:\w+\s+){0,2}"
    r"(?:need\w*|necessary|required|requir\w*|essential|have to)\b"
    r"|\bunnecessary\b|\bneedless\b"
)


def _negates(target: str, text: str, gap: int = 2) -> bool:
    """A negation word governing ``target``: at most ``gap`` words between them."""
    return _has(rf"{_NEG_WORD}\s+(?:\w+\s+){{0,{gap}}}(?:{target})", text)


def _denies(verbs: str, objects: str, text: str) -> bool:
    """A negated verb with its object ("will not cause breathing problems"), or a negated object
    ("no withdrawal", "without any risk")."""
    # "without" governs the word after it only: "stopping without tapering can cause withdrawal"
    negation = r"(?:\b(?:never|not|no|cannot|neither|nor)|n't)\s+(?:\w+\s+){0,2}|\bwithout\s+"
    return _has(rf"(?:{negation})(?:{verbs})\w*\s+(?:\w+\s+){{0,2}}(?:{objects})", text) or _has(
        rf"\b(?:no|without)\s+(?:\w+\s+)?(?:{objects})", text
    )


def _permits(text: str) -> bool:
    """Something said to be safe, fine or free of risk, and that word not itself negated ("is not
    safe", "has not been shown to be safe")."""
    return _has(_PERMISSIVE, text) and not _negates(r"safe\w*|fine|ok|okay|freely|harmless", text, gap=4)


def _unexplained_negation(text: str, *explained: str) -> bool:
    """A negation left once the ``explained`` phrases are removed: the sentence says something
    this checker did not read, so it cannot agree."""
    for pattern in explained:
        text = re.sub(pattern, " ", text)
    return _has(_NEGATION + "|n't\\b|\\bcannot\\b", text)


# ---------------------------------------------------------------------------------------------
# Missed dose

# a missed dose: "missed" then "dose", or "dose" then "missed" (see _is_missed)
_MISSED = ((r"\bmiss(?:ed|es|ing)?\b", r"\bdoses?\b"), (r"\bdoses?\b", r"\bmissed\b"))
_DOUBLE = r"\bdoubl\w*|\btwo doses\b|\bextra dose\b"
_DOUBLE_VERB = r"doubl\w*|two doses|an extra dose|extra doses?"
_EVEN_IF = r"\beven (?:if|when|though)\b|\bregardless\b|\bno matter\b"


def _check_missed(sentence: str, monograph: Monograph) -> _Part | None:
    rules = monograph.missed_dose
    reference = (
        f"Take a missed dose as soon as remembered, unless the next dose is due in less than "
        f"{rules.window_h:g} hours: then skip it and take the next one as normal. Never take two doses "
        "together to make up."
    )
    sources = cite_sources(rules.window_source, rules.message_source)
    doubles = _has(_DOUBLE, sentence)
    if doubles and _permits(sentence):  # "it is not a problem to double the next one"
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    # the label's exception ignored: "take it as soon as you remember, even if the next is due"
    if _has(r"\bas soon as\b", sentence) and _has(_EVEN_IF, sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    never_double = _negates(_DOUBLE_VERB, sentence, gap=3)  # "do not double up", "not to take a double"
    if doubles and not never_double and not _has(_NEGATION, sentence):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if _unexplained_negation(sentence, rf"{_NEG_WORD}\s+(?:\w+\s+){{0,3}}(?:{_DOUBLE_VERB})"):
        return _Part(verdict="not_covered", reference=reference, sources=sources)
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
    if _has_then(*_SERIOUS_REACTION, sentence):
        # a rapid stop for a serious adverse reaction is the label's exception, a clinician's call
        # [PMS, NHS, FR]: "can be stopped at once if ..." neither matches nor breaks the rule
        return _Part(verdict="not_covered", reference=reference, sources=sources)
    if (_has(_SAFE_STOP, sentence) or _has_then(*_SAFE_STOP_THEN, sentence)) and not _has(
        r"\b(?:never|not|don't|should not|must not)\b", sentence
    ):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if _has(_ABRUPT, sentence) and _has(_DISMISS, sentence):  # "don't worry about stopping suddenly"
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    if (days := _taper_days(sentence)) is not None and days < taper.min_total_days:
        # "taper over 3 days": shorter than the taper's minimum [PMS, NHS, FR]
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    denial = _stop_denial(sentence)
    if denial is not None:
        return _Part(verdict=denial, reference=reference, sources=sources)
    abrupt = _has(_ABRUPT, sentence)
    if _unexplained_negation(sentence, *_STOP_NEGATIONS):
        return _Part(verdict="not_covered", reference=reference, sources=sources)
    if abrupt and _has(r"\bdanger\w*|\bharmful\b|\brisky\b|\bserious\b", sentence):
        return _Part(
            verdict="agrees", reference=reference, sources=sources
        )  # "stopping suddenly is dangerous"
    if (abrupt and (_has(_NEGATION, sentence) or _has(_SLOW_STOP, sentence))) or (
        not abrupt and _has(r"\btaper\w*|\bgradual\w*|\bslow\w*", sentence)
    ):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# counts and units of a length of time said in words ("for the first week", "over two weeks")
_COUNT_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
    "fourteen": 14,
}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30}


def _count_of(word: str) -> int | None:
    """A count written in digits; None for other words and for runs too long to be a count (int()
    refuses strings of over 4300 digits)."""
    return int(word) if word.isdigit() and len(word) <= 6 else None


_SERIOUS_REACTION = (
    r"\b(?:if|when|unless|in case of)\b",
    r"\b(?:serious|severe|allergic|anaphyla\w*|adverse reactions?)\b",
)
_DISMISS = (
    r"\b(?:don't|do not|no need to|needn't|never) (?:worry|be (?:worried|concerned|afraid|scared)) about\b"
)
# how long a taper lasts, as said: "over 3 days", "should take a couple of days", "over one to
# two weeks" (the longer end is read); "less than" or a negation before it is not read
_TAPER_DAYS = re.compile(
    r"\b(?:over|take|takes|taking|last|lasts|lasting|for)\s+(?:at least\s+|about\s+|around\s+|roughly\s+)?"
    r"(?:(?:a|an|one|two|three|four|five|six|seven|ten|fourteen|\d++)\s*(?:-|to|or)\s*)?"
    r"(a couple of|a few|several|a|an|one|two|three|four|five|six|seven|ten|fourteen|\d++)\s+"
    r"(days?|weeks?|months?)\b"
)
_TAPER_COUNT = {**_COUNT_WORDS, "a couple of": 2, "a few": 3, "several": 3}


def _taper_days(sentence: str) -> int | None:
    """The longest taper length the sentence states, in days, when it speaks of a taper."""
    if not _has(r"\btaper\w*|\bgradual\w*|\bslow\w*|\breduc\w*|\blower\w*|\bwean\w*", sentence):
        return None
    lengths: list[int] = []
    for found in _TAPER_DAYS.finditer(sentence):
        before = sentence[max(0, found.start() - 120) : found.start()]  # the few words before it
        # "do not taper over 3 days"; "if you have taken it for a week" is how long it was taken
        if _negates(r"$", before) or _has(
            r"\b(?:taken|took|taking|used|using|been on)\s+(?:\w+\s+){0,2}$", before
        ):
            continue
        word = found.group(1)
        count = _TAPER_COUNT.get(word, _count_of(word))
        if count is None:
            continue
        lengths.append(count * _UNIT_DAYS[found.group(2).rstrip("s")])
    return max(lengths) if lengths else None


_STOP_VERB = r"stop\w*|discontinu\w*|quit\w*|come off|coming off|be stopped|abrupt\w*|sudden\w*|cold turkey"
_TAPER = r"\btaper\w*|\bgradual\w*|\bslow\w*|\breduc\w*|\bwean\w*|\blower\w*"
_STOP_HARM = (
    r"withdrawal|seizures?|hallucinat\w*|rebound|problems?|harm|danger|risks?|symptoms?|fever"
    r"|side[ -]effects?|issues?|complications?"
)
# negations that say what the label says: "never stop suddenly", "should not be stopped
# abruptly", "is not safe", "without tapering" (said of a stop), "should be avoided"
_STOP_NEGATIONS = (
    # only adverbs and the like between: "never ever stop", "do not suddenly stop", "should not be
    # stopped" (not "don't worry about stopping")
    rf"{_NEG_WORD}\s+(?:(?:\w+ly|ever|just|you|be)\s+){{0,2}}(?:{_STOP_VERB})",
    rf"{_NEG_WORD}\s+(?:\w+\s+){{0,4}}(?:safe\w*|a good idea|advis\w*|recommended)",
    r"\bwithout (?:a |any )?(?:taper\w*|reduc\w*|lowering|weaning)",
    r"\bavoid\w*",
    r"^no\b,?",  # the answer to a question: "No, baclofen should not be stopped abruptly."
)


_HEDGE = r"\bunlikely\b|\brarely\b|\bseldom\b|\b(?:little|low|small|minimal) risk\b|\bhardly\b"


def _stop_denial(sentence: str) -> Verdict | None:
    """What a sentence denies about stopping: the taper ("does not need to be tapered"), the harm
    ("does not cause withdrawal") or the danger ("stopping abruptly is safe"): contradicts, or
    not_covered when the sentence also speaks of a taper ("a slow taper does not cause withdrawal")."""
    abrupt = _has(_ABRUPT + r"|\bat any time\b|\bany ?time\b|\bwhenever\b", sentence)
    if _has(_NOT_NEEDED, sentence) and _has(_TAPER, sentence):
        return "contradicts"  # "tapering is not necessary", "you do not need to taper"
    if _denies(r"caus|lead|result|trigger|bring|provok|produc|give", _STOP_HARM, sentence):
        tapered = _has(_TAPER, re.sub(r"\bwithout (?:a |any )?(?:taper\w*|reduc\w*)", " ", sentence))
        return "not_covered" if tapered and not abrupt else "contradicts"
    if _has(_HEDGE, sentence):  # "unlikely to cause withdrawal", "rarely causes problems"
        return "not_covered"
    if abrupt and _permits(sentence):  # "stopping abruptly is safe", "stop whenever you like"
        # "stopping abruptly is dangerous, tapering is safe": which one is safe is not read
        return "not_covered" if _has(r"\btaper\w*|\bgradual\w*|\bslow\w*", sentence) else "contradicts"
    return None


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
    if _permits(sentence):  # "safe", "used freely", "no risk to the baby", "breastfeeding is fine"
        # in pregnancy the label asks for use only if clearly needed [US-TAB]; for breastfeeding
        # the labels differ (LIO-IT expects no effect on the baby, CH-LIOHEM advises against it),
        # so the label neither confirms nor rules out "fine": not covered, with both sources
        verdict: Verdict = "contradicts" if pregnant else "not_covered"
        return _Part(verdict=verdict, reference=reference, sources=sources)
    if _has(r"\blimited (?:\w+ )?of (?:harm|risk|danger|problems?)\b", sentence):
        # "limited evidence of harm" is not the label's "no studies"
        return _Part(verdict="not_covered", reference=reference, sources=sources)

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
    denied = _negates(_KIDNEY_DENIED, sentence, gap=3) or (
        _has(_NOT_NEEDED, sentence) and _has(r"\badjust\w*|\breduc\w*|\blower\w*|\bchang\w*", sentence)
    )
    if denied or _has(_KIDNEY_HIGHER, sentence):
        # "not cleared by the kidneys" with "but by ..." is a contrast this checker does not read
        contrast = _has(r"\bbut\b|\bhowever\b|\bunless\b|\bexcept\b|\binstead\b", sentence)
        verdict: Verdict = "not_covered" if contrast else "contradicts"
        return _Part(verdict=verdict, reference=reference, sources=sources)
    if _has(_KIDNEY_AGREES, sentence) and not _unexplained_negation(sentence):
        return _Part(verdict="agrees", reference=reference, sources=sources)
    return _Part(verdict="not_covered", reference=reference, sources=sources)


# what a negation may deny about the kidneys: "do not require any dose adjustment", "is not
# cleared by the kidneys", "does not build up"
_KIDNEY_DENIED = (
    r"adjust\w*|reduc\w*|lower\w*|chang\w*|clear\w*|excret\w*|eliminat\w*|removed|depend\w*|affect\w*"
    r"|accumulat\w*|build\w* up|matter\w*|caution\w*|careful\w*"
)
_KIDNEY_HIGHER = (
    r"\b(?:can|may|should|could|need to|needs to|must)\s+(?:\w+\s+)?(?:take|use|have|get|be given)\s+"
    r"(?:\w+\s+)?(?:higher|larger|bigger|more) (?:doses?|amounts?)\b"
)


# ---------------------------------------------------------------------------------------------
# Body weight

_WEIGHT = r"\bweigh(?:t|ts|s|ing)?\b|\bmg/kg\b|\bper (?:kg|kilogram)\b|\bheavier\b"
_CHILDREN = r"\bchild\w*|\bp(?:a)?ediatric\w*|\bkids?\b|\binfants?\b|\bunder (?:12|18)\b"
_DOSE_WORD = r"\bdos(?:e|es|age|ages|ing)\b"
_DEPENDS = (
    r"\bdepend\w*|\bbased on\b|\baccording to\b|\brequire\w*|\bdetermin\w*|\badjust\w*|\bhigher\b"
    r"|\bimpact\w*|\bcrucial\b|\bmg/kg\b|\bper (?:kg|kilogram)\b"
)


_PER_KG = r"\bmg/kg\b|\bmg per (?:kg|kilogram)\b|\bper (?:kg|kilogram)\b"
_BY_WEIGHT = (
    r"\b(?:depend\w*|based|calculated|determined|worked out|according)\s+(?:\w+\s+){0,4}weight\b"
    r"|\b(?:higher|greater|more|larger|bigger) (?:body )?weight\b|\bheavier\b"
)
_AGE = r"\bage\b|\bolder\b|\belderly\b|\byounger\b"


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
    if _has(_KIDNEY + r"|\bcrcl\b|\bcockcroft", sentence):
        # kidney function for dosing is CrCl by Cockcroft-Gault, which uses body weight [CG76]: a
        # dose following a weight change through the kidney bands is not weight-based dosing
        kidney = (
            " Kidney function for dosing is creatinine clearance by Cockcroft-Gault (from age, body "
            "weight and serum creatinine), and doses are scaled by it."
        )
        return _Part(
            verdict="not_covered",
            reference=reference + kidney,
            sources=cite_sources(*sources, monograph.kidney.formula_source, monograph.kidney.bands_source),
        )
    negated = _has(_NEGATION + r"|n't\b", sentence)
    if not about_children and not negated and _has(_DOSE_WORD + "|" + _PER_KG, sentence):
        # an adult dose in mg/kg, or one said to follow body weight, is not the label's fixed
        # schedule; with age beside it ("based on age and weight") it is partly true (older adults
        # [PMS, UK], children [UK]), and a vague "weight plays a role" says nothing checkable
        if _has(_PER_KG, sentence) or (_has(_BY_WEIGHT, sentence) and not _has(_AGE, sentence)):
            return _Part(verdict="contradicts", reference=reference, sources=sources)
        return _Part(verdict="not_covered", reference=reference, sources=sources)

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


_STARTING = r"\bstart\w*|\bbegin\w*|\binitial\w*|\bfirst\b|\blow dose\b"


def _start_parts(text: str, monograph: Monograph, refs: _DoseRefs) -> list[_Part]:
    parts: list[_Part] = []
    times = min(monograph.titration.doses_per_day)
    starting = _has(_STARTING, text)
    for index, match in enumerate(_TID.finditer(text)):
        single = float(match.group(1))
        # the start is the first amount named; later ones are where it goes ("... up to 20 mg
        # three times a day"), checked against the maximum only
        if starting and index == 0:
            verdict: Verdict = "agrees" if single == refs.first_single_mg else "contradicts"
            if verdict == "agrees":
                verdict = _verdict_of_first_step(text[match.end() :], monograph.titration.step_days)
            parts.append(_as(verdict, refs.schedule))
        elif single * times > monograph.titration.max_daily_mg:
            parts.append(_as("contradicts", refs.maximum))
    return parts


_FOR_DAYS = re.compile(r"\bfor (?:the )?(?:first )?(?:(\w+)\s+)?(days?|weeks?|months?)\b")
_COUNT = _COUNT_WORDS


def _verdict_of_first_step(after: str, step_days: int) -> Verdict:
    """How long the start lasts, when the sentence says ("for the first week"): the label's
    first step lasts ``step_days``; shorter is a faster rise than labelled (contradicts), longer
    is a slower one the label does not give (not covered)."""
    found = _FOR_DAYS.search(after)
    if found is None:
        return "agrees"
    word = found.group(1) or "one"
    count = _COUNT.get(word, _count_of(word))
    if count is None:
        return "not_covered"
    days = count * _UNIT_DAYS[found.group(2).rstrip("s")]
    return "agrees" if days == step_days else "contradicts" if days < step_days else "not_covered"


def _step_parts(text: str, monograph: Monograph, refs: _DoseRefs) -> list[_Part]:
    titration = monograph.titration
    parts: list[_Part] = []
    for match in _STEP.finditer(text):
        amount = float(match.group(1))
        word = match.group(3) or "one"
        days = _DAYS.get(word, _count_of(word))
        per_dose = match.group(2) is not None
        same = (
            amount == refs.step_single_mg if per_dose else amount in (refs.step_single_mg, refs.step_daily_mg)
        )
        too_fast = days is not None and days < titration.step_days
        # a step "per dose" rises the daily total by that much at each of the day's doses
        daily_step = amount * min(titration.doses_per_day) if per_dose else amount
        if daily_step > titration.beyond_labelled.max_increase_mg or too_fast:
            parts.append(_as("contradicts", refs.schedule))
        else:
            parts.append(
                _as(
                    "agrees" if same and days in (None, titration.step_days) else "not_covered", refs.schedule
                )
            )
    if not parts:
        for match in _STEP_PER_DOSE.finditer(text):
            step = titration.step_days  # the labelled days between steps [US-TAB]
            said = "|".join(word for word, count in _COUNT_WORDS.items() if count == step)
            every = _has(rf"\bevery (?:few|{step}{'|' + said if said else ''}) days\b", text)
            same = float(match.group(1)) == refs.step_single_mg and every
            daily_step = float(match.group(1)) * min(titration.doses_per_day)
            too_big = daily_step > titration.beyond_labelled.max_increase_mg
            verdict: Verdict = "contradicts" if too_big else "agrees" if same else "not_covered"
            parts.append(_as(verdict, refs.schedule))
    return parts


# a dose said of everyone, at home or as the usual or highest one: not the hospital exception
_GENERAL_DOSE = (
    r"\b(?:at home|home|everyone|everybody|anyone|anybody|all (?:patients|adults|people)"
    r"|most (?:people|patients|adults)|usual\w*|normal\w*|typical\w*|standard|routine\w*|range\w*"
    r"|safe\w*|fine|ok|okay|maximum|max|highest|most you)\b"
)


def _above_label(
    amount: float, text: str, monograph: Monograph, *, beyond: bool = False, as_maximum: bool = False
) -> _Part:
    """A daily amount above the labelled maximum: agrees only when the page confines it to
    monitored hospital settings and it stays within the reference's ceiling [FR]; within that
    ceiling but with no setting said ("some people need up to 120 mg a day"), not covered; said as
    the maximum, at home or for everyone, contradicts."""
    titration = monograph.titration
    reference = _Part(
        verdict="not_covered",
        reference=f"The labelled maximum is {titration.max_daily_mg:g} mg/day; up to "
        f"{titration.override_max_daily_mg:g} mg/day only in carefully monitored hospital settings.",
        sources=cite_sources(titration.max_daily_source, titration.override_max_daily_source),
    )
    hospital = _has(r"\bhospital\w*|\bmonitored\b|\bclose monitoring\b", text)
    ceiling = titration.override_max_daily_mg
    if beyond:  # "more than X": no top given, so at best not covered
        return _as("not_covered" if hospital and amount < ceiling else "contradicts", reference)
    if amount > ceiling:
        return _as("contradicts", reference)
    if hospital:
        return _as("agrees", reference)
    general = as_maximum or _has(_GENERAL_DOSE, text)
    return _as("contradicts" if general else "not_covered", reference)


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
        if match.group(0).startswith("more than") and not _negates(r"$", text[: match.start()]):
            # "many people need more than 80 mg per day": amounts above the number, not a ceiling
            if amount >= limit and limit == titration.max_daily_mg:
                parts.append(_above_label(amount, text, monograph, beyond=True))
            else:
                parts.append(_as("contradicts" if amount >= limit else "not_covered", refs.maximum))
            continue
        if amount > limit and limit == titration.max_daily_mg:
            as_maximum = not match.group(0).startswith("up to")  # "maximum of", "at most", ...
            parts.append(_above_label(amount, text, monograph, as_maximum=as_maximum))
            continue
        verdict: Verdict = "contradicts" if amount > limit else "agrees" if amount == limit else "not_covered"
        parts.append(_as(verdict, refs.maximum))
    if not parts:
        daily = [float(m.group(1)) for m in _DAILY.finditer(text)]
        if daily and max(daily) > titration.max_daily_mg:
            parts.append(_above_label(max(daily), text, monograph))
    # a daily amount below the usual effective range, said of the dose people take (not of the
    # start): "some get relief at 10 mg per day" is not the label's 40-80 [US-TAB]
    named = [(m.start(), m.end()) for m in (*ranges, *_UP_TO.finditer(text))]
    if not _has(_STARTING, text) and any(
        float(m.group(1)) < titration.usual_range_mg_day[0]
        for m in re.finditer(_NUMBER + _PER_DAY, text)
        if not any(start <= m.start(1) < end for start, end in named)
    ):
        parts.append(_as("not_covered", refs.maximum))
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
    r"|\bwith other\b|\balong with\b|\balongside\b|\bwhile (?:taking|on|using)\b"
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


_EFFECT_VERBS = r"increas|caus|lead|worsen|enhanc|rais|amplif|intensif|slow|affect|add to|boost|deepen"
_EFFECT_OBJECTS = (
    r"sedat\w*|drows\w*|sleep\w*|respirat\w*|breath\w*|blood pressure|hypotens\w*|weak\w*|confus\w*"
    r"|hallucinat\w*|agitat\w*|problems?|risks?|harm|danger\w*|side[ -]effects?|effects?|interactions?"
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
    if _has(_NO_INTERACTION, low) and not _negates(r"safe", low):  # not "is not safe to combine"
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    # "does not increase drowsiness", "will not cause breathing problems", "can be safely combined"
    if _denies(_EFFECT_VERBS, _EFFECT_OBJECTS, low) or _permits(low):
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
_RARE = r"rare|rarely|uncommon|unusual|seldom|infrequent|infrequently"
# how often an effect happens: "drowsiness is common", "baclofen rarely causes dizziness"
_FREQUENCY_CUE = (
    rf"\b(?:is|are)\s+(?:(?:very|quite|fairly|a|an|not)\s+)?(?:common|{_RARE})\b"
    r"|\b(?:rarely|seldom|infrequently|commonly|often|frequently)\s+(?:causes?|leads? to)\b"
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


def _labels_by_source(labelled: Sequence[tuple[str, str]], first: str) -> str:
    """Labels grouped by source, the ``first`` source's group first: "drowsiness, dizziness
    [US-TAB]; agitation or anxiety [UK, PMS]"."""
    groups: dict[str, list[str]] = {first: []}
    for label, source in labelled:
        groups.setdefault(source, []).append(label)
    return "; ".join(f"{', '.join(labels)} [{source}]" for source, labels in groups.items() if labels)


def _check_side_effects(sentence: str, monograph: Monograph) -> _Part | None:
    lowered = sentence.lower()
    if not _has(_SIDE_EFFECT_CUE + "|" + _SERIOUS_CUE + "|" + _FREQUENCY_CUE, lowered) and not _has_then(
        *_SIDE_EFFECTS_THEN, lowered
    ):
        return None
    found = _symptoms_in(sentence, monograph)
    if not found and not _has(_NO_SIDE_EFFECTS, sentence.lower()):
        return None
    # each symptom with its own source, else the triage section's [US-TAB; US-TAB, OZO, LYV]
    triage = monograph.triage
    common = [(s.label, s.source or triage.common_source) for s in monograph.symptoms if s.kind == "common"]
    common += [(s.label, triage.common_source) for s in monograph.symptoms if s.common_in_label]
    serious = [
        (s.label, s.source or triage.source)
        for s in monograph.symptoms
        if s.kind in ("emergency", "alarming", "withdrawal") and "overdose" not in s.includes
    ]
    reference = (
        "Common effects, usually fading as the body adjusts: "
        + _labels_by_source(common, triage.common_source)
        + ". Get medical help at once for: "
        + _labels_by_source(serious, triage.source)
        + "."
    )
    sources = cite_sources(triage.common_source, *(source for _, source in (*common, *serious)))
    low = sentence.lower()
    if _has(_NO_SIDE_EFFECTS, low):
        return _Part(verdict="contradicts", reference=reference, sources=sources)
    label_common = {s.key for s in monograph.symptoms if s.common_in_label}
    # only the routine common effects: confusion (1-11% [US-TAB]) is also a serious one, and
    # "in rare cases ... confusion and hallucinations" is no clear difference
    rare = _said_rare(sentence, monograph, {key for key, kind in found if kind == "common"})
    if rare:
        # an effect the label lists as common said to be rare: its own source first
        named = ", ".join(f"{label} [{source}]" for label, source in rare)
        return _Part(
            verdict="contradicts",
            reference=f"Among the label's common effects: {named}. {reference}",
            sources=cite_sources(*(source for _, source in rare), *sources),
        )
    serious_cue = _has(_SERIOUS_CUE, low)
    # confusion is among the label's common effects [US-TAB] though triage reads it as alarming
    kinds = {"common" if key in label_common and not serious_cue else kind for key, kind in found}
    agrees = "common" not in kinds if serious_cue else kinds == {"common"}
    # "so it is fine to drive" or "in 90% of patients" says more than this checker reads
    agrees = agrees and not _permits(low) and not _has(r"\d\s*%|\bpercent\b", low)
    return _Part(verdict="agrees" if agrees else "not_covered", reference=reference, sources=sources)


def _said_rare(sentence: str, monograph: Monograph, common: set[str]) -> list[tuple[str, str]]:
    """(label, source) of each ``common`` effect with "rare", "rarely", "uncommon", ... at most
    three words from its name, not itself negated ("not uncommon")."""
    low = " ".join(re.sub(r"[^a-z0-9]+", " ", sentence.lower()).split())
    low = re.sub(rf"\bnot (?:(?:very|so|that|at all)\s+)?(?:{_RARE})\b", " ", low)
    if not _has(rf"\b(?:{_RARE})\b", low):
        return []
    said: list[tuple[str, str]] = []
    for symptom in monograph.symptoms:
        if symptom.key not in common:
            continue
        words = "|".join(
            re.escape(w) for w in (symptom.label, *symptom.synonyms) if w and _WORDS.fullmatch(w)
        )
        near = (
            rf"\b(?:{_RARE})\s+(?:\w+\s+){{0,3}}(?:{words})\b|\b(?:{words})\s+(?:\w+\s+){{0,3}}(?:{_RARE})\b"
        )
        if _has(near, low):
            source = symptom.source or monograph.triage.common_source
            said.append((symptom.label, source))
    return said


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
