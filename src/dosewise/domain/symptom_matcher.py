"""Read symptoms as people write them: any word order within a clause, denials ("no fever"),
common misspellings, and the amounts of an overdose ("took 20 tablets").

The vocabulary is data (monograph ``[[symptoms]]``: phrases read word for word, patterns read in
any order within a clause; ``[triage]``: the denial words, the words that end a denial, the
misspellings). This module only reads; the levels are :mod:`dosewise.domain.triage`'s.

Reading errs towards safety: a denial reaches at most five words and stops at "and", "but",
a comma or a new subject ("no sleep and now seeing things" is a hallucination), a misspelling
is corrected only for long words (one letter off from 8 letters, two from 11), and a text with
nothing recognised in it is reported as such, so that triage asks the danger questions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from dosewise.domain.monograph import Symptom, TriageRules

_APOSTROPHES = re.compile(r"[\u0027\u2019\u2018`\u00b4]")
_CLAUSES = re.compile(r"[,;:!?\n\r()\[\]/]+|(?<!\d)\.|\.(?!\d)|\s-+\s")
_WORD = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_DENIAL_REACH = 5  # words after a denial word that it can deny
_NEAREST_KEPT = 10_000  # long unknown words remembered with their reading, per symptom list
_NUMBER_WORDS = {
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100, "dozen": 12,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Pattern:
    """Groups of alternatives; an alternative is a tuple of words, a final ``*`` a prefix.
    ``firsts``: per group, the exact first words and the first-word prefixes of its
    alternatives, so that a clause without any of them is passed over at once."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    firsts: tuple[tuple[frozenset[str], tuple[str, ...]], ...]

    @classmethod
    def of(cls, text: str) -> _Pattern:
        groups = tuple(tuple(tuple(part.split()) for part in group.split("|")) for group in text.split(" + "))
        firsts = tuple(
            (
                frozenset(alt[0] for alt in group if not alt[0].endswith("*")),
                tuple(alt[0][:-1] for alt in group if alt[0].endswith("*")),
            )
            for group in groups
        )
        return cls(groups, firsts)

    def may_match(self, words: frozenset[str]) -> bool:
        return all(
            exact & words or any(word.startswith(prefix) for prefix in prefixes for word in words)
            for exact, prefixes in self.firsts
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SymptomMatch:
    symptom: Symptom
    words: str  # the words it was read from, as normalized
    denied: bool  # "no fever": read, and denied
    text_index: int  # which of the texts
    severe: bool = False  # said with a severity word in its clause ("severe headache")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What was read from the texts."""

    matches: tuple[SymptomMatch, ...]
    unrecognised: tuple[str, ...]  # texts with nothing read from them, as typed
    unread: tuple[str, ...] = ()  # words left unread in texts that were read in part (not filler)
    corrections: tuple[tuple[str, str], ...]  # (typed, read as)
    clauses: tuple[tuple[str, ...], ...]  # every clause's words, after corrections

    def found(self) -> list[Symptom]:
        """The symptoms read and not denied, first mention first."""
        seen: dict[str, Symptom] = {}
        for match in self.matches:
            if not match.denied:
                seen.setdefault(match.symptom.key, match.symptom)
        return list(seen.values())

    def severe(self) -> set[str]:
        """Keys of the symptoms said to be severe."""
        return {match.symptom.key for match in self.matches if match.severe}

    def denied(self) -> list[Symptom]:
        present = {symptom.key for symptom in self.found()}
        seen: dict[str, Symptom] = {}
        for match in self.matches:
            if match.denied and match.symptom.key not in present:
                seen.setdefault(match.symptom.key, match.symptom)
        return list(seen.values())


@dataclass(frozen=True, slots=True)
class _Index:
    phrases: dict[str, tuple[tuple[tuple[str, ...], int], ...]]  # first word -> (words, symptom)
    patterns: tuple[tuple[_Pattern, int], ...]
    vocabulary: frozenset[str]
    by_length: dict[int, tuple[str, ...]]
    rank: tuple[int, ...]  # per symptom: how serious its kind is (ties in overlaps)
    includes: tuple[frozenset[int], ...]  # per symptom: the narrower ones it replaces
    stems: tuple[str, ...]  # the prefixes of the patterns ("breath" of "breath*")
    nearest: dict[str, str | None]  # long unknown words already looked up, and what they read as


_KIND_RANK = {
    "emergency": 6, "overdose": 5, "withdrawal": 4, "alarming": 4, "urgent": 3, "stopped": 3,
    "pregnancy": 3, "rebound": 2, "common": 1, "kidney": 1, "sedative": 1, "reassurance": 3, "mention": 0,
}  # fmt: skip


def normalize_words(text: str) -> list[str]:
    """Lower-case words and numbers, apostrophes dropped ("can't" -> "cant")."""
    return _WORD.findall(_APOSTROPHES.sub("", text.lower()))


def split_clauses(text: str) -> list[list[str]]:
    """The text's clauses (split at punctuation), each as normalized words."""
    cleaned = _APOSTROPHES.sub("", text.lower())
    return [words for part in _CLAUSES.split(cleaned) if (words := _WORD.findall(part))]


@lru_cache(maxsize=16)
def _index(symptoms: tuple[Symptom, ...]) -> _Index:
    """Built once per symptom list (docs/benchmarks.md, "Triage matching")."""
    phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    patterns: list[tuple[_Pattern, int]] = []
    vocabulary: set[str] = set()
    for position, symptom in enumerate(symptoms):
        for phrase in {symptom.label, *symptom.synonyms}:
            words = tuple(normalize_words(phrase))
            if words:
                phrases.setdefault(words[0], []).append((words, position))
                vocabulary.update(words)
        for text in symptom.patterns:
            pattern = _Pattern.of(text)
            patterns.append((pattern, position))
            vocabulary.update(
                word for group in pattern.groups for part in group for word in part if not word.endswith("*")
            )
    by_length: dict[int, list[str]] = {}
    for word in vocabulary:
        by_length.setdefault(len(word), []).append(word)
    return _Index(
        phrases={
            first: tuple(sorted(items, key=lambda item: -len(item[0]))) for first, items in phrases.items()
        },
        patterns=tuple(patterns),
        vocabulary=frozenset(vocabulary),
        by_length={length: tuple(sorted(words)) for length, words in by_length.items()},
        rank=tuple(_KIND_RANK[symptom.kind] for symptom in symptoms),
        includes=tuple(
            frozenset(i for i, other in enumerate(symptoms) if other.key in symptom.includes)
            for symptom in symptoms
        ),
        stems=tuple(
            sorted(
                {
                    word[:-1]
                    for pattern, _ in patterns
                    for group in pattern.groups
                    for part in group
                    for word in part
                    if word.endswith("*")
                }
            )
        ),
        nearest={},
    )


def read_symptoms(symptoms: tuple[Symptom, ...], rules: TriageRules, texts: Sequence[str]) -> Reading:
    """Every symptom read from ``texts`` (each a phrase or sentence as typed)."""
    index = _index(symptoms)
    matches: list[SymptomMatch] = []
    unrecognised: list[str] = []
    corrections: dict[tuple[str, str], None] = {}
    all_clauses: list[tuple[str, ...]] = []
    unread: dict[str, None] = {}
    quiet = _quiet_words(rules.filler_words, rules.negation_words, rules.scope_breakers, rules.severity_words)
    for text_index, text in enumerate(texts):
        hit = False
        left: list[str] = []
        for raw in split_clauses(text):
            clause = [_correct(word, index, rules, corrections) for word in raw]
            all_clauses.append(tuple(clause))
            severe = bool(set(clause) & set(rules.severity_words))
            read: set[int] = set()
            for symptom_position, positions, denied in _read_clause(clause, index, rules):
                hit = True
                read |= positions
                matches.append(
                    SymptomMatch(
                        symptom=symptoms[symptom_position],
                        words=" ".join(clause[i] for i in sorted(positions)),
                        denied=denied,
                        text_index=text_index,
                        severe=severe and not denied,
                    )
                )
            left += [
                word for i, word in enumerate(clause) if i not in read and _says_something(word, index, quiet)
            ]
        if not hit and text.strip():
            unrecognised.append(text.strip())
        elif left:
            unread.setdefault(" ".join(left), None)
    return Reading(
        matches=tuple(matches),
        unrecognised=tuple(unrecognised),
        unread=tuple(unread),
        corrections=tuple(corrections),
        clauses=tuple(all_clauses),
    )


def _says_something(word: str, index: _Index, quiet: frozenset[str]) -> bool:
    """A word left unread that may say something Dosewise did not read: not filler, not a
    number, not a word a pattern reads by its stem (unread, it is a word of another choice of
    the same reading: "pee" in "the bathroom to pee more often")."""
    if word[0].isdigit() or word in quiet:
        return False
    return not any(word.startswith(stem) for stem in index.stems)


@lru_cache(maxsize=16)
def _quiet_words(*lists: tuple[str, ...]) -> frozenset[str]:
    """Words that say nothing about a symptom by themselves: filler, denials, clause ends,
    severity words (they change what they are said with)."""
    return frozenset(word for words in lists for word in words)


def _correct(word: str, index: _Index, rules: TriageRules, corrections: dict[tuple[str, str], None]) -> str:
    if word in index.vocabulary or word[0].isdigit():
        return word
    fixed = rules.spellings.get(word)
    if fixed is None and len(word) >= 8:
        if word in index.nearest:
            fixed = index.nearest[word]
        else:
            fixed = _nearest(word, index, 2 if len(word) >= 11 else 1)
            if len(index.nearest) < _NEAREST_KEPT:  # bounded: words people type are unbounded
                index.nearest[word] = fixed
    if fixed is None or fixed == word:
        return word
    corrections.setdefault((word, fixed), None)
    return fixed


def _nearest(word: str, index: _Index, limit: int) -> str | None:
    best: tuple[int, str] | None = None
    for length in range(len(word) - limit, len(word) + limit + 1):
        for candidate in index.by_length.get(length, ()):
            distance = _edit_distance(word, candidate, limit)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, candidate)
    return best[1] if best else None


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (an adjacent swap counts once), cut off above limit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _word_matches(pattern_word: str, word: str) -> bool:
    if pattern_word.endswith("*"):
        return word.startswith(pattern_word[:-1])
    return word == pattern_word


def _alternative_at(alternative: tuple[str, ...], clause: Sequence[str], start: int) -> bool:
    if start + len(alternative) > len(clause):
        return False
    return all(_word_matches(p, clause[start + k]) for k, p in enumerate(alternative))


def _read_clause(
    clause: list[str], index: _Index, rules: TriageRules
) -> list[tuple[int, frozenset[int], bool]]:
    """(symptom position, word positions, denied) for what one clause says."""
    candidates: list[tuple[int, frozenset[int]]] = []
    for start, word in enumerate(clause):
        for words, symptom in index.phrases.get(word, ()):
            if tuple(clause[start : start + len(words)]) == words:
                candidates.append((symptom, frozenset(range(start, start + len(words)))))
    in_clause = frozenset(clause)
    for pattern, symptom in index.patterns:
        if not pattern.may_match(in_clause):
            continue
        positions = _pattern_positions(pattern, clause)
        if positions is not None:
            candidates.append((symptom, positions))
    if not candidates:
        return []
    # the longer reading first, the more serious on a tie; a reading inside a longer one that is
    # at least as serious is the same words read less precisely ("low blood pressure" inside
    # "very low blood pressure")
    candidates.sort(key=lambda item: (-len(item[1]), -index.rank[item[0]]))
    kept: list[tuple[int, frozenset[int]]] = []
    for symptom, positions in candidates:
        if any(
            positions <= other and index.rank[other_symptom] >= index.rank[symptom]
            for other_symptom, other in kept
        ):
            continue
        kept.append((symptom, positions))
    kept = [
        (symptom, positions)
        for symptom, positions in kept
        if not any(
            symptom in index.includes[other_symptom] and positions & other for other_symptom, other in kept
        )
    ]
    denials = _denied_positions(clause, rules)
    return [
        (
            symptom,
            positions,
            any(p in denials and cue not in positions for p, cue in _cues_over(positions, denials)),
        )
        for symptom, positions in kept
    ]


def _cues_over(positions: frozenset[int], denials: dict[int, int]) -> list[tuple[int, int]]:
    return [(p, denials[p]) for p in positions if p in denials]


def _denied_positions(clause: list[str], rules: TriageRules) -> dict[int, int]:
    """Word position -> the position of the denial word that reaches it."""
    denied: dict[int, int] = {}
    for cue, word in enumerate(clause):
        if word not in rules.negation_words:
            continue
        for position in range(cue + 1, min(len(clause), cue + 1 + _DENIAL_REACH)):
            if clause[position] in rules.scope_breakers:
                break
            denied.setdefault(position, cue)
    return denied


def _pattern_positions(pattern: _Pattern, clause: list[str]) -> frozenset[int] | None:
    """Positions of one alternative of every group, none overlapping, or None."""
    chosen: set[int] = set()
    for group in pattern.groups:
        found = False
        for start in range(len(clause)):
            for alternative in group:
                span = set(range(start, start + len(alternative)))
                if not span & chosen and _alternative_at(alternative, clause, start):
                    chosen |= span
                    found = True
                    break
            if found:
                break
        if not found:
            return None
    return frozenset(chosen)


# --- amounts ---------------------------------------------------------------------------------

_TAKE = frozenset({"took", "taken", "take", "takes", "had", "swallowed", "swallow", "given", "gave", "ate"})
_TABLETS = frozenset(
    {"tablet", "tablets", "pill", "pills", "tab", "tabs", "capsule", "capsules", "packet", "packets"}
)
_MG = frozenset({"mg", "mgs", "milligram", "milligrams"})
_PER_DAY = (
    ("a", "day"),
    ("per", "day"),
    ("each", "day"),
    ("every", "day"),
    ("times", "a"),
    ("daily",),
    ("today",),
)
_LOTS = (
    "whole",
    "all",
    "handful",
    "entire",
    "bottle",
    "box",
    "pack",
    "packet",
    "strip",
    "lot",
    "lots",
    "loads",
)
_MULTIPLE = {
    "double": 2.0,
    "doubled": 2.0,
    "twice": 2.0,
    "again": 2.0,
    "another": 2.0,
    "triple": 3.0,
    "tripled": 3.0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Amount:
    """How much was taken at once, as said: mg, a number of tablets, a multiple of the usual
    dose, an extra tablet on top of it, or "a lot" (unknown and large)."""

    mg: float | None = None
    tablets: float | None = None
    multiple: float | None = None
    extra_tablets: float | None = None
    lots: bool = False
    usual_mg: float | None = None  # "20 mg instead of 10 mg"


def _number(word: str) -> float | None:
    if word[0].isdigit():
        return float(word)
    value = _NUMBER_WORDS.get(word)
    return float(value) if value is not None else None


def read_amount(clauses: Sequence[Sequence[str]]) -> Amount:
    """The amount taken at once, from the words of an overdose ("took 20 tablets", "double
    dose", "60 mg instead of 20 mg", "the whole bottle")."""
    found: dict[str, float] = {}
    lots = False
    for clause in clauses:
        for i, word in enumerate(clause):
            for name, value in _amount_words(clause, i):
                found.setdefault(name, value)
            lots = lots or word in _LOTS or (word == "too" and clause[i + 1 : i + 2] == ["many"])
    return Amount(
        mg=found.get("mg"),
        tablets=found.get("tablets"),
        multiple=found.get("multiple"),
        extra_tablets=found.get("extra"),
        lots=lots,
        usual_mg=found.get("usual"),
    )


def _amount_words(clause: Sequence[str], i: int) -> list[tuple[str, float]]:
    """What the word at ``i`` says about an amount: (mg | usual | tablets | extra | multiple, value)."""
    word = clause[i]
    following = clause[i + 1] if i + 1 < len(clause) else ""
    after_next = clause[i + 2] if i + 2 < len(clause) else ""
    value = _number(word) if word not in ("a", "an") else None
    if value is None:
        if word in _MULTIPLE:
            return [("multiple", _MULTIPLE[word])]
        if word == "extra" and following in _TABLETS:
            return [("extra", 1.0)]
        if word == "extra" and after_next in _TABLETS and (count := _number(following)) is not None:
            return [("extra", count)]
        return []
    if following in _MG:
        usual = tuple(clause[max(0, i - 2) : i]) == ("instead", "of") or clause[i - 1 : i] == ["usual"]
        return [("usual" if usual else "mg", value)]
    if following in _TABLETS:
        return [("tablets", value)]
    if following == "extra" and after_next in _TABLETS:
        return [("extra", value)]
    if following in ("doses", "dose", "times", "lots", "x") or "doses" in clause[i + 1 : i + 4]:
        return [("multiple", value)]
    return []


def mg_taken(clauses: Sequence[Sequence[str]]) -> float | None:
    """An amount in mg said with a verb of taking ("took 40mg"), if any."""
    for clause in clauses:
        if not _TAKE & set(clause):
            continue
        for i, word in enumerate(clause[:-1]):
            if word[0].isdigit() and clause[i + 1] in _MG:
                return float(word)
    return None


def many_tablets_taken(clauses: Sequence[Sequence[str]], more_than: float) -> bool:
    """A number of tablets above ``more_than`` taken at once ("took 20 tablets"), not a day's
    count ("I take 6 tablets a day")."""
    for clause in clauses:
        if not _TAKE & set(clause):
            continue
        if any(tuple(clause[i : i + len(words)]) == words for words in _PER_DAY for i in range(len(clause))):
            continue
        for i, word in enumerate(clause[:-1]):
            value = _number(word) if word not in ("a", "an") else None
            if value is not None and clause[i + 1] in _TABLETS and value > more_than:
                return True
    return False


_HOURS = {"hour": 1, "hours": 1, "hr": 1, "hrs": 1, "day": 24, "days": 24, "week": 168, "weeks": 168}
_WHEN = (
    (("day", "before", "yesterday"), 48.0), (("last", "night"), 12.0), (("this", "morning"), 6.0),
    (("yesterday",), 24.0), (("today",), 6.0), (("tonight",), 2.0), (("last", "week"), 168.0),
    (("a", "week", "ago"), 168.0),
)  # fmt: skip


def read_hours_ago(clauses: Sequence[Sequence[str]]) -> float | None:
    """How long ago a stop was, if said ("2 days ago", "yesterday", "for 3 days"); None if not."""
    for clause in clauses:
        for i, word in enumerate(clause[:-1]):
            value = _number(word)
            unit = _HOURS.get(clause[i + 1])
            if value is not None and unit is not None:
                return value * unit
        for words, hours in _WHEN:
            if any(tuple(clause[i : i + len(words)]) == words for i in range(len(clause))):
                return hours
    return None
