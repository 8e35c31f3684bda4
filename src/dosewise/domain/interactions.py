"""Interactions: medicine names as people type them, matched to a vocabulary, then checked
against the monograph's interaction table (clinical reference section 6).

Matching is case- and punctuation-insensitive, ignores strengths and release words
("oxycodone 10mg ER"), and tolerates typos (Damerau-Levenshtein distance, rapidfuzz): up to
1 edit for names of 4-5 letters, 2 for longer ones, and only when the best candidate is
strictly closer than any other medicine, so a near-miss between two real drugs is never
matched silently. A name can be a medicine, a product (read by its ingredients: NyQuil is
doxylamine + dextromethorphan + paracetamol, with alcohol in some forms) or a class as people
say it ("opioids", "sleeping pills": read as every class it may mean). A typo, a known
misspelling or a medicine found inside a longer text ("painkillers like oxycodone") is always
reported with the name it was read as. A name that is not recognised is reported as not
recognised, never as "no interaction".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from dosewise.domain.findings import Finding
from dosewise.domain.kidney import KidneyAssessment
from dosewise.domain.medicines import DoseReading, Medicine, MedicineVocabulary, normalize_name
from dosewise.domain.monograph import InteractionRule, InteractionSeverity, Monograph, cite_sources
from dosewise.errors import InputError

MatchKind = Literal["medicine", "product", "class", "same_drug"]
MatchHow = Literal["exact", "typo", "misspelling", "words"]

_SEVERITY_ORDER = {"major": 0, "moderate": 1, "minor": 2}
# a strength needs its unit: a bare number can be part of a name ("Tylenol #3" has codeine)
_DOSE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|iu|units?)\b|\b\d+(?:\.\d+)?\s*%")
# how often: "once a day", "twice daily", "at night" (the amount per day is read separately)
_SCHEDULE = re.compile(
    r"\b(?:(?:once|twice|(?:one|two|three|four|\d+) times?)\s+)?(?:a|per|each|every)\s+"
    r"(?:day|night|morning|evening)\b"
    r"|\b(?:once|twice|three times|four times)\b"
    r"|\b(?:daily|nightly|bd|bid|tds|tid|qds|qid|od|prn|as needed|at night|at bedtime"
    r"|in the morning|in the evening)\b"
)
_BARE_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|milligrams?|mcg|micrograms?|g|grams?)?\b")
_TIMES_A_DAY = (
    (re.compile(r"\b(?:four times|4 times|qds|qid|4 ?x)\b"), 4),
    (re.compile(r"\b(?:three times|3 times|tds|tid|3 ?x)\b"), 3),
    (re.compile(r"\b(?:twice|two times|2 times|bd|bid|2 ?x)\b"), 2),
)
_PARTS = re.compile(r"\s*(?:/|\+|&|,|\band\b|\bwith\b|-)\s*", re.IGNORECASE)
_MAX_WORDS = 5  # the longest name looked for inside a longer text
_RELEASE_WORDS = frozenset(
    [
        "er", "xr", "xl", "sr", "cr", "la", "mr", "ir", "dr", "ec", "odt", "retard", "extended",
        "release", "modified", "immediate", "delayed", "tablet", "tablets", "tab", "tabs",
        "capsule", "capsules", "cap", "caps", "caplet", "caplets", "gelcaps", "softgels",
        "liquicaps", "liquid", "oral", "solution", "syrup", "patch", "patches", "injection",
        "cream", "gel", "spray", "inhaler", "drops", "pill", "pills", "extra", "strength",
        "maximum", "regular", "original", "chewable", "dispersible", "soluble", "effervescent",
    ]
)  # fmt: skip


def _strip_dose_words(normalized: str) -> str:
    without_doses = _SCHEDULE.sub(" ", _DOSE.sub(" ", normalized))
    return " ".join(word for word in without_doses.split() if word not in _RELEASE_WORDS)


def _daily_mg(text: str) -> float | None:
    """The daily amount in mg written in ``text`` ("aspirin 81", "aspirin 75 mg twice a day")."""
    lowered = text.lower()
    amount = _AMOUNT.search(lowered)
    if amount is None:
        return None
    value = float(amount.group(1))
    unit = amount.group(2) or "mg"  # a bare number with a medicine read by its dose is in mg
    scale = 1000.0 if unit.startswith("g") else 0.001 if unit.startswith(("mc", "mi")) else 1.0
    per_dose_mg = value * scale
    times = next((count for pattern, count in _TIMES_A_DAY if pattern.search(lowered)), 1)
    return per_dose_mg * times


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    spelling: str  # as shown (a misspelling entry shows the right name)
    medicines: tuple[Medicine, ...]  # for a class word: one stand-in per class
    owner: str  # entries of one owner are one medicine, product or class
    kind: MatchKind
    combination: str | None = None
    sometimes: tuple[Medicine, ...] = ()
    note: str = ""
    note_source: str = ""
    misspelling: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class NameMatch:
    """What a typed name was taken to be."""

    text: str  # as typed
    spelling: str  # the vocabulary spelling it matched ("Xanax")
    medicines: tuple[Medicine, ...]  # one, the ingredients of a product, or one per class
    combination: str | None = None
    distance: int = 0  # 0 exact; otherwise the typo distance that was tolerated
    kind: MatchKind = "medicine"
    how: MatchHow = "exact"
    sometimes: tuple[Medicine, ...] = ()  # ingredients of some forms of the product only
    note: str = ""  # what to know about this reading (which kind? which form? the dose?)
    note_source: str = ""
    daily_mg: float | None = None  # the daily amount written with the name, when it matters
    owner: str = ""  # the vocabulary entry read (medicine, product or "class:<name>")

    @property
    def display(self) -> str:
        if self.kind == "class":
            return f"{self.spelling} (a class)"
        if self.kind == "same_drug":
            return self.spelling
        generics = " + ".join(m.name for m in self.medicines)
        if self.sometimes:
            generics += "; in some forms " + " + ".join(m.name for m in self.sometimes)
        return self.spelling if self.spelling.lower() == generics else f"{self.spelling} ({generics})"

    @property
    def assumed(self) -> bool:
        """Read from a typo, a known misspelling or a longer text: the user should check it."""
        return self.how != "exact"

    @property
    def read_note(self) -> str:
        """Like "read as oxycodone (from 'oxycodon'): check the spelling" ("" for an exact name)."""
        if self.how == "exact":
            return ""
        check = "check that this is the medicine meant" if self.how == "words" else "check the spelling"
        return f"read as {self.display} (from {self.text.strip()!r}): {check}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NameMiss:
    text: str
    suggestions: tuple[str, ...]  # "Did you mean ...?" (empty: nothing close)


class MedicineIndex:
    """Every spelling of every medicine, product and class word, for matching typed names;
    ``same_drug``: the monograph drug's own names (another product of it is a duplicate) and
    ``same_drug_misspellings`` its known misspellings."""

    def __init__(
        self,
        vocabulary: MedicineVocabulary,
        *,
        same_drug: Sequence[str] = (),
        same_drug_misspellings: Sequence[str] = (),
    ) -> None:
        by_name = {m.name: m for m in vocabulary.medicine}
        self._entries: dict[str, _Entry] = {}
        self._readings: dict[str, DoseReading] = {r.medicine: r for r in vocabulary.dose_reading}
        self._by_name = by_name
        for medicine in vocabulary.medicine:
            entry = _Entry(
                spelling=medicine.name,
                medicines=(medicine,),
                owner=medicine.name,
                kind="medicine",
                note=medicine.note,
                note_source=medicine.source,
            )
            self._add(entry, (medicine.name, *medicine.brands, *medicine.synonyms), medicine.misspellings)
        for combination in vocabulary.combination:
            entry = _Entry(
                spelling=combination.name,
                medicines=tuple(by_name[c] for c in combination.components),
                owner=combination.name,
                kind="product",
                combination=combination.name,
                sometimes=tuple(by_name[c] for c in combination.sometimes),
                note=combination.note,
            )
            self._add(entry, (combination.name, *combination.aliases), combination.misspellings)
        for word in vocabulary.class_word:
            stand_ins = tuple(
                Medicine(name=vocabulary.classes[key], drug_class=key, atc="") for key in word.classes
            )
            entry = _Entry(
                spelling=word.name,
                medicines=stand_ins,
                owner=f"class:{word.name}",
                kind="class",
                note=word.ask,
            )
            self._add(entry, (word.name, *word.words), word.misspellings)
        if same_drug:
            entry = _Entry(spelling=same_drug[0], medicines=(), owner="same drug", kind="same_drug")
            self._add(entry, tuple(same_drug), tuple(same_drug_misspellings))
        self._keys = list(self._entries)
        self._by_length: dict[int, list[str]] = {}
        for key in self._keys:
            self._by_length.setdefault(len(key), []).append(key)
        self.vocabulary = vocabulary

    def _add(self, entry: _Entry, spellings: Sequence[str], misspellings: Sequence[str]) -> None:
        for spelling in spellings:
            self._entries[normalize_name(spelling)] = replace(entry, spelling=spelling)
        for spelling in misspellings:
            self._entries.setdefault(normalize_name(spelling), replace(entry, misspelling=True))

    def match(self, text: str) -> NameMatch | NameMiss:
        normalized = normalize_name(text)
        stripped = _strip_dose_words(normalized)
        for candidate in dict.fromkeys((normalized, stripped)):
            if candidate in self._entries:
                return self._found(text, candidate, 0)
        without_numbers = " ".join(_BARE_NUMBER.sub(" ", stripped).split())
        entry = self._entries.get(without_numbers)
        if entry is not None and entry.kind == "medicine" and entry.medicines[0].name in self._readings:
            return self._found(text, without_numbers, 0)  # "aspirin 81": the number is the dose
        combined = self._match_parts(text)
        if combined is not None:
            return combined
        query = stripped or normalized
        allowed = _allowed_typos(query)
        reach = allowed + 1  # suggestions reach one edit further than a match
        # a distance is at least the difference in length: compare only keys of a length in reach
        keys = [
            key
            for size in range(len(query) - reach, len(query) + reach + 1)
            for key in self._by_length.get(size, ())
        ]
        nearest = process.extract(
            query, keys, scorer=DamerauLevenshtein.distance, limit=8, score_cutoff=reach
        )
        best_distance = nearest[0][1] if nearest else reach
        if best_distance <= allowed:
            owners = {self._owner(key) for key, distance, _ in nearest if distance == best_distance}
            if len(owners) == 1:
                return self._found(text, nearest[0][0], int(best_distance))
        else:  # nothing within reach of a typo: names inside a longer text?
            found = self._match_words(text, stripped)
            if found is not None:
                return found
        suggestions = tuple(dict.fromkeys(self._entries[key].spelling for key, _, _ in nearest))[:3]
        return NameMiss(text=text, suggestions=suggestions)

    def _match_parts(self, text: str) -> NameMatch | None:
        """ "oxycodone/acetaminophen", "carbidopa-levodopa": every part a medicine's name."""
        parts = [normalize_name(part) for part in _PARTS.split(text) if normalize_name(part)]
        if len(parts) < 2:
            return None
        keys = [next((k for k in (p, _strip_dose_words(p)) if k in self._entries), None) for p in parts]
        if any(key is None for key in keys):
            return None
        entries = [self._entries[key] for key in keys if key]
        if any(entry.kind not in ("medicine", "product") for entry in entries):
            return None
        return self._joined(text, entries, "misspelling" if any(e.misspelling for e in entries) else "exact")

    def _match_words(self, text: str, stripped: str) -> NameMatch | None:
        """Names inside a longer text ("painkillers like oxycodone", "my Tylenol PM at night"):
        the longest names first; a medicine or product named wins over a class word."""
        words = stripped.split()
        if len(words) < 2:
            return None
        hits: list[_Entry] = []
        taken = [False] * len(words)
        for size in range(min(_MAX_WORDS, len(words) - 1), 0, -1):
            for start in range(len(words) - size + 1):
                if any(taken[start : start + size]):
                    continue
                key = " ".join(words[start : start + size])
                entry = self._entries.get(key)
                if entry is None or entry.misspelling or len(key.replace(" ", "")) < 3:
                    continue
                hits.append(entry)
                taken[start : start + size] = [True] * size
        named = [entry for entry in hits if entry.kind in ("medicine", "product")]
        chosen = named or [entry for entry in hits if entry.kind == "class"]
        if not chosen:
            return None
        return self._joined(text, chosen, "words")

    def _joined(self, text: str, entries: list[_Entry], how: MatchHow) -> NameMatch:
        if len({entry.owner for entry in entries}) == 1:
            return _with_how(self._from_entry(text, entries[0], 0), how)
        if all(entry.kind == "class" for entry in entries):
            stand_ins = tuple(dict.fromkeys(m for entry in entries for m in entry.medicines))
            spelling = " and ".join(dict.fromkeys(entry.spelling for entry in entries))
            notes = " ".join(dict.fromkeys(entry.note for entry in entries if entry.note))
            return NameMatch(
                text=text, spelling=spelling, medicines=stand_ins, kind="class", how=how, note=notes
            )
        medicines = tuple(dict.fromkeys(m for entry in entries for m in entry.medicines))
        sometimes = tuple(
            dict.fromkeys(m for entry in entries for m in entry.sometimes if m not in medicines)
        )
        spelling = " + ".join(m.name for m in medicines)
        notes = " ".join(dict.fromkeys(entry.note for entry in entries if entry.note))
        return NameMatch(
            text=text,
            spelling=spelling,
            medicines=medicines,
            combination=spelling,
            kind="product",
            how=how,
            sometimes=sometimes,
            note=notes,
        )

    def _owner(self, key: str) -> str:
        return self._entries[key].owner

    def _found(self, text: str, key: str, distance: int) -> NameMatch:
        return self._from_entry(text, self._entries[key], distance)

    def _from_entry(self, text: str, entry: _Entry, distance: int) -> NameMatch:
        how: MatchHow = "typo" if distance else "misspelling" if entry.misspelling else "exact"
        match = NameMatch(
            text=text,
            spelling=entry.spelling,
            medicines=entry.medicines,
            combination=entry.combination,
            distance=distance,
            kind=entry.kind,
            how=how,
            sometimes=entry.sometimes,
            note=entry.note,
            note_source=entry.note_source,
            owner=entry.owner,
        )
        return self._read_dose(match)

    def _read_dose(self, match: NameMatch) -> NameMatch:
        """Aspirin up to 100 mg a day is read as low-dose aspirin (the vocabulary's rule)."""
        if match.kind != "medicine" or match.medicines[0].name not in self._readings:
            return match
        reading = self._readings[match.medicines[0].name]
        daily_mg = _daily_mg(match.text)
        if daily_mg is None:
            return replace(match, note=reading.hint, note_source=reading.source)
        if daily_mg > reading.up_to_daily_mg:
            limit = f"{reading.up_to_daily_mg:g} mg a day"
            above = f"{daily_mg:g} mg a day is above the {limit} of {reading.read_as}."
            return replace(match, daily_mg=daily_mg, note=above, note_source=reading.source)
        low = self._by_name[reading.read_as]
        return replace(
            match,
            spelling=f"{match.spelling} {daily_mg:g} mg a day",
            medicines=(low,),
            note=low.note,
            note_source=low.source or reading.source,
            daily_mg=daily_mg,
        )


def _with_how(match: NameMatch, how: MatchHow) -> NameMatch:
    return match if how == "exact" else replace(match, how=how)


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
    medicine: str  # the generic with the interaction (for a class word: the class)
    drug_class: str
    class_label: str
    severity: InteractionSeverity
    effect: str
    advice: str
    source: str
    drug_classes: tuple[str, ...] = ()  # every class of the rule's medicines (drug_class first)
    read_as: MatchKind = "medicine"  # a medicine, a product's ingredient or a class word
    assumed: bool = False  # read from a typo, misspelling or longer text: check it
    read_note: str = ""  # "read as oxycodone (from 'oxycodon'): check the spelling"
    note: str = ""  # which kind? which form? the dose?
    in_some_forms: bool = False  # an ingredient of some forms of the product only
    sedating: bool = False  # adds to the drug's CNS depression (the rule says so)


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedTwice:
    """One medicine named in several entries ("OxyContin" and "oxycodone")."""

    medicine: str
    texts: tuple[str, ...]  # as typed
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionReport:
    findings: tuple[InteractionFinding, ...]  # most severe first
    no_listed_interaction: tuple[NameMatch, ...]  # recognised, nothing in the sources
    unrecognised: tuple[NameMiss, ...]
    assumed: tuple[NameMatch, ...]  # typo, misspelling or longer-text readings: say which
    combined: tuple[Finding, ...]  # same drug, listed twice, several sedating medicines together
    sources: tuple[str, ...]
    names: tuple[NameMatch | NameMiss, ...] = ()  # every name as it was read, in input order
    listed_twice: tuple[ListedTwice, ...] = ()

    def sedating(self, monograph: Monograph) -> list[str]:
        """The medicines (as matched) that add to the drug's sedation: triage's context."""
        classes = {key for rule in monograph.interactions if rule.sedating for key in rule.classes}
        return list(
            dict.fromkeys(f.matched for f in self.findings if f.drug_class in classes and not f.in_some_forms)
        )

    def major_sedating(self, monograph: Monograph) -> list[str]:
        """The medicines (as matched) whose interaction is major CNS and respiratory depression
        (opioids, benzodiazepines and Z-drugs; the rules graded major that sedate)."""
        rules = _rules_by_class(monograph)
        return list(
            dict.fromkeys(
                f.matched
                for f in self.findings
                if f.severity == "major"
                and not f.in_some_forms
                and rules[f.drug_class].sedating
                and rules[f.drug_class].severity == "major"
            )
        )

    def with_class(self, monograph: Monograph, class_key: str) -> list[str]:
        """The medicines (as matched) with an interaction of the class ``class_key`` (a class key
        of the monograph's interaction table, e.g. "levodopa"); ValueError for another key."""
        if class_key not in _rules_by_class(monograph):
            raise ValueError(f"{class_key!r} is not a class in {monograph.name}'s interaction table")
        return list(
            dict.fromkeys(
                f.matched for f in self.findings if class_key in (f.drug_classes or (f.drug_class,))
            )
        )


def _rules_by_class(monograph: Monograph) -> dict[str, InteractionRule]:
    return {key: rule for rule in monograph.interactions for key in rule.classes}


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
    rules = _rules_by_class(monograph)
    own_names = {normalize_name(name) for name in monograph.same_drug.names}
    duplicates: list[Finding] = []
    classes = index.vocabulary.classes
    findings: list[InteractionFinding] = []
    clean: list[NameMatch] = []
    misses: list[NameMiss] = []
    assumed: list[NameMatch] = []
    read: list[NameMatch | NameMiss] = []
    sedating: dict[str, str] = {}
    holders: dict[str, list[NameMatch]] = {}
    for text in names:
        if not text.strip():
            continue
        result = index.match(text)
        if _strip_dose_words(normalize_name(text)) in own_names and not (
            isinstance(result, NameMatch) and result.kind == "same_drug"
        ):
            result = NameMatch(text=text, spelling=monograph.name, medicines=(), kind="same_drug")
        read.append(result)
        if isinstance(result, NameMiss):
            misses.append(result)
            continue
        if result.assumed:
            assumed.append(result)
        if result.kind == "same_drug":
            duplicates.append(_same_drug(monograph, result))
            continue
        if result.kind != "class":
            for medicine in result.medicines:
                holders.setdefault(medicine.name, []).append(result)
        found = _findings_of(result, rules, classes, kidney)
        findings.extend(found)
        _note_sedating(result, rules, sedating)
        if not found:
            clean.append(result)
    twice = _listed_twice(holders)
    combined = _combined_sedation(monograph, sedating)
    findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    notes = [m.note_source for m in read if isinstance(m, NameMatch) and m.note_source]
    sources = cite_sources(
        *(f.source for f in findings),
        *(c.source for c in (*duplicates, *combined)),
        *notes,
        *(_LISTED_TWICE_SOURCE for _ in twice[:1]),
    )
    return InteractionReport(
        findings=tuple(findings),
        no_listed_interaction=tuple(clean),
        unrecognised=tuple(misses),
        assumed=tuple(assumed),
        combined=tuple(duplicates + [_listed_twice_finding(t) for t in twice] + combined),
        sources=sources,
        names=tuple(read),
        listed_twice=tuple(twice),
    )


_LISTED_TWICE_SOURCE = "DOSEWISE"


def _same_drug(monograph: Monograph, match: NameMatch) -> Finding:
    read = f" ({match.read_note})" if match.assumed else ""
    return Finding(
        code="SAME_DRUG",
        severity="warning",
        message=f"{match.text.strip()}{read} {monograph.same_drug.message}",
        source=monograph.same_drug.source,
    )


def _listed_twice(holders: dict[str, list[NameMatch]]) -> list[ListedTwice]:
    """Medicines named in more than one entry: the same medicine, counted once."""
    found: list[ListedTwice] = []
    for medicine, matches in holders.items():
        if len(matches) < 2:
            continue
        texts = tuple(m.text.strip() for m in matches)
        single = all(len(m.medicines) == 1 for m in matches)
        verb = "are both" if len(texts) == 2 else "are all"
        if not single:
            verb = "both contain" if len(texts) == 2 else "all contain"
        listed = " and ".join([", ".join(texts[:-1]), texts[-1]])
        found.append(
            ListedTwice(
                medicine=medicine,
                texts=texts,
                message=f"listed twice: {listed} {verb} {medicine}",
            )
        )
    return found


def _listed_twice_finding(twice: ListedTwice) -> Finding:
    return Finding(
        code="LISTED_TWICE",
        severity="warning",
        message=(
            f"{twice.message[0].upper()}{twice.message[1:]}: one medicine, counted once. Check that "
            "you do not take more of it than prescribed or than the label allows."
        ),
        source=_LISTED_TWICE_SOURCE,
    )


def _findings_of(
    match: NameMatch,
    rules: dict[str, InteractionRule],
    classes: dict[str, str],
    kidney: KidneyAssessment | None,
) -> list[InteractionFinding]:
    """One finding per rule: Sinemet's two parts are one; a product's ingredients of some
    forms only are their own findings, marked so."""
    found: list[InteractionFinding] = []
    for members, some_forms in ((match.medicines, False), (match.sometimes, True)):
        by_rule: dict[int, list[Medicine]] = {}
        for medicine in members:
            rule = rules.get(medicine.drug_class)
            if rule is not None:
                by_rule.setdefault(id(rule), []).append(medicine)
        for group in by_rule.values():
            rule = rules[group[0].drug_class]
            found.append(_finding(match, group, rule, classes, kidney, in_some_forms=some_forms))
    return found


def _note_sedating(match: NameMatch, rules: dict[str, InteractionRule], sedating: dict[str, str]) -> None:
    """Sedating medicines for the combined risk: the certain ingredients only, and a class word
    only when every class it may mean sedates."""
    if match.kind == "class":
        if all(m.drug_class in rules and rules[m.drug_class].sedating for m in match.medicines):
            sedating.setdefault(f"class:{match.spelling}", match.display)
        return
    for medicine in match.medicines:
        rule = rules.get(medicine.drug_class)
        if rule is not None and rule.sedating:
            sedating.setdefault(medicine.name, match.display)


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
                f"{', '.join(dict.fromkeys(sedating.values()))}. {together.message}"
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
    *,
    in_some_forms: bool = False,
) -> InteractionFinding:
    severity: InteractionSeverity = rule.severity
    said = {rule.effect_of_medicine(m.name, m.drug_class) for m in members}
    effect = said.pop() if match.kind != "class" and len(said) == 1 else rule.effect
    threshold = rule.major_below_crcl_ml_min
    if (
        threshold is not None
        and kidney is not None
        and (kidney.band == "dialysis" or (kidney.crcl_ml_min is not None and kidney.crcl_ml_min < threshold))
    ):
        severity = "major"
        effect = f"{effect}; major because kidney function is below CrCl {threshold:g} mL/min"
    medicine = " + ".join(m.name for m in members)
    note = match.note
    if in_some_forms:
        note = " ".join(filter(None, (f"{medicine} is in some forms of {match.spelling} only.", note)))
    return InteractionFinding(
        text=match.text,
        matched=match.display,
        medicine=medicine,
        drug_class=members[0].drug_class,
        class_label=classes[members[0].drug_class],
        severity=severity,
        effect=effect,
        advice=rule.advice,
        source=rule.source,
        drug_classes=tuple(dict.fromkeys(m.drug_class for m in members)),
        read_as=match.kind,
        assumed=match.assumed,
        read_note=match.read_note,
        note=note,
        in_some_forms=in_some_forms,
        sedating=rule.sedating,
    )
