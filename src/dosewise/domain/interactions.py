"""Interactions: medicine names as people type them, matched to a vocabulary, then checked
against the monograph's interaction table (clinical reference section 6).

Matching is case- and punctuation-insensitive, ignores strengths and release words
("oxycodone 10mg ER"), and tolerates typos (Damerau-Levenshtein distance, rapidfuzz): up to
1 edit for names of 4-5 letters, 2 for longer ones, and only when the best candidate is
strictly closer than any other medicine, so a near-miss between two real drugs is never
matched silently. A fuzzy match is always reported with the name it assumed. A name that is
not recognised is reported as not recognised, never as "no interaction".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.medicines import Medicine, MedicineVocabulary, normalize_name
from dosewise.domain.monograph import InteractionRule, InteractionSeverity, Monograph, cite_sources
from dosewise.errors import InputError

_SEVERITY_ORDER = {"major": 0, "moderate": 1, "minor": 2}
# a strength needs its unit: a bare number can be part of a name ("Tylenol #3" has codeine)
_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|iu|units?)\b|\b\d+(?:\.\d+)?\s*%")
_PARTS = re.compile(r"\s*(?:/|\+|&|,|\band\b|\bwith\b|-)\s*", re.IGNORECASE)
_RELEASE_WORDS = frozenset(
    [
        "er",
        "xr",
        "xl",
        "sr",
        "cr",
        "la",
        "mr",
        "ir",
        "dr",
        "ec",
        "odt",
        "retard",
        "extended",
        "release",
        "modified",
        "immediate",
        "delayed",
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "caps",
        "oral",
        "solution",
        "syrup",
        "liquid",
        "patch",
        "injection",
        "cream",
        "gel",
        "spray",
        "inhaler",
        "drops",
    ]
)


def _strip_dose_words(normalized: str) -> str:
    without_doses = _DOSE.sub(" ", normalized)
    return " ".join(word for word in without_doses.split() if word not in _RELEASE_WORDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class NameMatch:
    """What a typed name was taken to be."""

    text: str  # as typed
    spelling: str  # the vocabulary spelling it matched ("Xanax")
    medicines: tuple[Medicine, ...]  # one, or the components of a combination
    combination: str | None = None
    distance: int = 0  # 0 exact; otherwise the typo distance that was tolerated

    @property
    def display(self) -> str:
        generics = " + ".join(m.name for m in self.medicines)
        return self.spelling if self.spelling.lower() == generics else f"{self.spelling} ({generics})"


@dataclass(frozen=True, slots=True, kw_only=True)
class NameMiss:
    text: str
    suggestions: tuple[str, ...]  # "Did you mean ...?" (empty: nothing close)


class MedicineIndex:
    """Every spelling of every medicine and combination, for matching typed names."""

    def __init__(self, vocabulary: MedicineVocabulary) -> None:
        by_name = {m.name: m for m in vocabulary.medicine}
        self._entries: dict[str, tuple[str, tuple[Medicine, ...], str | None]] = {}
        for medicine in vocabulary.medicine:
            for spelling in (medicine.name, *medicine.brands, *medicine.synonyms):
                self._entries[normalize_name(spelling)] = (spelling, (medicine,), None)
        for combination in vocabulary.combination:
            parts = tuple(by_name[c] for c in combination.components)
            for spelling in (combination.name, *combination.aliases):
                self._entries[normalize_name(spelling)] = (spelling, parts, combination.name)
        self._keys = list(self._entries)
        self.vocabulary = vocabulary

    def match(self, text: str) -> NameMatch | NameMiss:
        normalized = normalize_name(text)
        for candidate in dict.fromkeys((normalized, _strip_dose_words(normalized))):
            if candidate in self._entries:
                return self._found(text, candidate, 0)
        combined = self._match_parts(text)
        if combined is not None:
            return combined
        query = _strip_dose_words(normalized) or normalized
        allowed = _allowed_typos(query)
        nearest = process.extract(
            query, self._keys, scorer=DamerauLevenshtein.distance, limit=8, score_cutoff=allowed + 1
        )
        if not nearest:
            return NameMiss(text=text, suggestions=())
        best_distance = nearest[0][1]
        owners = {self._owner(key) for key, distance, _ in nearest if distance == best_distance}
        closer_rivals = len(owners) > 1
        if best_distance <= allowed and not closer_rivals:
            return self._found(text, nearest[0][0], int(best_distance))
        suggestions = tuple(dict.fromkeys(self._entries[key][0] for key, _, _ in nearest))[:3]
        return NameMiss(text=text, suggestions=suggestions)

    def _match_parts(self, text: str) -> NameMatch | None:
        """ "oxycodone/acetaminophen", "carbidopa-levodopa": every part an exact name."""
        parts = [normalize_name(part) for part in _PARTS.split(text) if normalize_name(part)]
        if len(parts) < 2:
            return None
        keys = [next((k for k in (p, _strip_dose_words(p)) if k in self._entries), None) for p in parts]
        if any(key is None for key in keys):
            return None
        medicines = tuple(dict.fromkeys(m for key in keys if key for m in self._entries[key][1]))
        spelling = " + ".join(m.name for m in medicines)
        return NameMatch(text=text, spelling=spelling, medicines=medicines, combination=spelling)

    def _owner(self, key: str) -> str:
        _, medicines, combination = self._entries[key]
        return combination or medicines[0].name

    def _found(self, text: str, key: str, distance: int) -> NameMatch:
        spelling, medicines, combination = self._entries[key]
        return NameMatch(
            text=text, spelling=spelling, medicines=medicines, combination=combination, distance=distance
        )


def _allowed_typos(query: str) -> int:
    """Edits tolerated: none below 4 letters, 1 for 4-5, 2 from 6 (chosen by tests)."""
    letters = len(query.replace(" ", ""))
    if letters < 4:
        return 0
    return 1 if letters <= 5 else 2


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionFinding:
    """One interaction between baclofen and a medicine the patient takes."""

    text: str  # as typed
    matched: str  # what it was taken to be
    medicine: str  # the generic with the interaction
    drug_class: str
    class_label: str
    severity: InteractionSeverity
    effect: str
    advice: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionReport:
    findings: tuple[InteractionFinding, ...]  # most severe first
    no_listed_interaction: tuple[NameMatch, ...]  # recognised, nothing in the sources
    unrecognised: tuple[NameMiss, ...]
    assumed: tuple[NameMatch, ...]  # typo matches: say which name was assumed
    combined: tuple[Finding, ...]  # several sedating medicines together
    sources: tuple[str, ...]

    def sedating(self, monograph: Monograph) -> list[str]:
        """The medicines (as matched) that add to the drug's sedation: triage's context."""
        classes = {key for rule in monograph.interactions if rule.sedating for key in rule.classes}
        return [finding.matched for finding in self.findings if finding.drug_class in classes]


def check_interactions(
    monograph: Monograph,
    index: MedicineIndex,
    names: Sequence[str],
    *,
    kidney: KidneyAssessment | None = None,
) -> InteractionReport:
    """Interactions of ``monograph``'s drug with each named medicine (and alcohol)."""
    if not any(name.strip() for name in names):
        raise InputError("name at least one other medicine, e.g. oxycodone or alcohol")
    rules = {key: rule for rule in monograph.interactions for key in rule.classes}
    own_names = {normalize_name(name) for name in monograph.same_drug.names}
    duplicates: list[Finding] = []
    classes = index.vocabulary.classes
    findings: list[InteractionFinding] = []
    clean: list[NameMatch] = []
    misses: list[NameMiss] = []
    assumed: list[NameMatch] = []
    sedating: dict[str, str] = {}
    for text in names:
        if not text.strip():
            continue
        if _strip_dose_words(normalize_name(text)) in own_names:
            duplicates.append(
                Finding(
                    code="SAME_DRUG",
                    severity="warning",
                    message=f"{text.strip()} {monograph.same_drug.message}",
                    source=monograph.same_drug.source,
                )
            )
            continue
        result = index.match(text)
        if isinstance(result, NameMiss):
            misses.append(result)
            continue
        if result.distance:
            assumed.append(result)
        by_rule = _group_by_rule(result, rules, sedating)
        for members in by_rule.values():  # one finding per rule: Sinemet's two parts are one
            findings.append(_finding(result, members, rules[members[0].drug_class], classes, kidney))
        if not by_rule:
            clean.append(result)
    combined = _combined_sedation(monograph, sedating)
    findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    sources = cite_sources(*(f.source for f in findings), *(c.source for c in (*duplicates, *combined)))
    return InteractionReport(
        findings=tuple(findings),
        no_listed_interaction=tuple(clean),
        unrecognised=tuple(misses),
        assumed=tuple(assumed),
        combined=tuple(duplicates + combined),
        sources=sources,
    )


def _group_by_rule(
    result: NameMatch, rules: dict[str, InteractionRule], sedating: dict[str, str]
) -> dict[int, list[Medicine]]:
    """The matched medicines by the rule that covers them; notes the sedating ones."""
    by_rule: dict[int, list[Medicine]] = {}
    for medicine in result.medicines:
        rule = rules.get(medicine.drug_class)
        if rule is not None:
            by_rule.setdefault(id(rule), []).append(medicine)
            if rule.sedating:
                sedating.setdefault(medicine.name, result.display)
    return by_rule


def _combined_sedation(monograph: Monograph, sedating: dict[str, str]) -> list[Finding]:
    together = monograph.combined_sedation
    if len(sedating) < together.min_sedating:
        return []
    return [
        Finding(
            code="COMBINED_SEDATION",
            severity="warning",
            message=(
                f"Combined risk ({together.severity}): {monograph.display_name} with "
                f"{', '.join(sedating.values())}. {together.message}"
            ),
            source=together.source,
        )
    ]


def _finding(
    match: NameMatch,
    members: list[Medicine],
    rule: InteractionRule,
    classes: dict[str, str],
    kidney: KidneyAssessment | None,
) -> InteractionFinding:
    severity: InteractionSeverity = rule.severity
    effect = rule.effect
    threshold = rule.major_below_crcl_ml_min
    if (
        threshold is not None
        and kidney is not None
        and (kidney.band == "dialysis" or (kidney.crcl_ml_min is not None and kidney.crcl_ml_min < threshold))
    ):
        severity = "major"
        effect = f"{effect}; major because kidney function is below CrCl {threshold:g} mL/min"
    return InteractionFinding(
        text=match.text,
        matched=match.display,
        medicine=" + ".join(m.name for m in members),
        drug_class=members[0].drug_class,
        class_label=classes[members[0].drug_class],
        severity=severity,
        effect=effect,
        advice=rule.advice,
        source=rule.source,
    )
