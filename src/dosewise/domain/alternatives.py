"""Other treatments for spasticity and muscle spasm, compared for one patient's situation.

The data mirror ``monographs/alternatives.toml`` (loaded by :mod:`dosewise.monographs`); every
fact carries the source keys of the project's reference ``../shared/clinical/alternatives.md``
([S1], [S9t], [S44b] ...) exactly as written there, and a fact the reference marks
**UNCONFIRMED** carries ``unconfirmed = true`` and is shown as unconfirmed, never as a fact.

:func:`compare_alternatives` informs: what each medicine is labelled for, its route, how it is
started, its maximum, and which of the patient's facts (kidney function, liver disease,
pregnancy, other medicines, dialysis) the reference says something about, and what the baclofen
monograph's interaction table says about taking it with the baclofen the patient takes (given by
the caller as :class:`WithBaclofen`, with the monograph's own source keys). It never proposes a
switch.

No ``from __future__ import annotations`` here: the loader reads these annotations at run time.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dosewise.domain.medicines import normalize_name
from dosewise.errors import InputError

if TYPE_CHECKING:  # matching names needs rapidfuzz: not imported to load the data
    from dosewise.domain.interactions import NameMatch

Level = Literal["contraindicated", "warning", "caution", "info"]
LEVELS: tuple[Level, ...] = ("contraindicated", "warning", "caution", "info")
Category = Literal["spasticity", "spasticity_and_msk_spasm", "off_label_spasticity", "short_term_msk_spasm"]
LiverDisease = Literal["none", "mild", "moderate", "severe"]
LIVER_DISEASE: tuple[LiverDisease, ...] = ("none", "mild", "moderate", "severe")
# what About me keeps (migration 0015): the answers above, or "not known" (nobody was asked)
LiverRecord = Literal["none", "mild", "moderate", "severe", "not_known"]
LIVER_RECORD: tuple[LiverRecord, ...] = (*LIVER_DISEASE, "not_known")
# safety: always shown; baclofen: with the baclofen the patient takes (the baclofen monograph)
Topic = Literal["use", "safety", "kidney", "liver", "pregnancy", "medicine", "baclofen"]
RECORD_FIRST: tuple[Topic, ...] = ("kidney", "liver", "pregnancy", "medicine", "baclofen")
SOURCE_KEY = re.compile(r"^[SP]\d+[a-z]?$")  # S1, S9t, S44b, P2b: as alternatives.md writes them


def _check_fact(sources: tuple[str, ...], unconfirmed: bool, plain: str = "-") -> None:
    if not plain.strip():
        raise ValueError("a fact needs its plain wording (plain = ...) beside the label's")
    if not sources and not unconfirmed:
        raise ValueError("a fact needs source keys, or unconfirmed = true")
    bad = [key for key in sources if not SOURCE_KEY.match(key)]
    if bad:
        raise ValueError(f"not a source key of alternatives.md: {', '.join(bad)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """A statement of the reference, with its source keys; ``unconfirmed``: marked UNCONFIRMED
    there (not found in any source checked). ``text``: the label's (reference's) wording, for
    the clinician; ``plain``: the same fact in words a patient understands, same sources."""

    text: str
    plain: str
    sources: tuple[str, ...] = ()
    unconfirmed: bool = False

    def __post_init__(self) -> None:
        _check_fact(self.sources, self.unconfirmed, self.plain)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A caution shown always (``always``) or when the patient is pregnant (``pregnancy``)."""

    level: Level
    text: str
    plain: str  # the same in words a patient understands
    sources: tuple[str, ...] = ()
    unconfirmed: bool = False

    def __post_init__(self) -> None:
        _check_fact(self.sources, self.unconfirmed, self.plain)


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyRule:
    """Applies when the creatinine clearance is in [crcl_from_ml_min, crcl_below_ml_min) (an
    edge left out is open). ``dialysis``: applies on dialysis only (no CrCl bounds). On dialysis
    the rules for the lowest CrCl apply too: every rule without a lower bound."""

    level: Level
    text: str
    plain: str  # the same in words a patient understands
    sources: tuple[str, ...] = ()
    unconfirmed: bool = False
    crcl_from_ml_min: float | None = None
    crcl_below_ml_min: float | None = None
    dialysis: bool = False

    def __post_init__(self) -> None:
        _check_fact(self.sources, self.unconfirmed, self.plain)
        low, high = self.crcl_from_ml_min, self.crcl_below_ml_min
        if low is not None and high is not None and not low < high:
            raise ValueError("need crcl_from_ml_min < crcl_below_ml_min")
        if self.dialysis and (low is not None or high is not None):
            raise ValueError("a dialysis rule has no CrCl bounds")

    def holds(self, crcl_ml_min: float) -> bool:
        low, high = self.crcl_from_ml_min, self.crcl_below_ml_min
        if self.dialysis:
            return False
        return (low is None or crcl_ml_min >= low) and (high is None or crcl_ml_min < high)

    def holds_on_dialysis(self) -> bool:
        """A dialysis rule, or a rule for the lowest CrCl (no lower bound)."""
        return self.dialysis or self.crcl_from_ml_min is None


@dataclass(frozen=True, slots=True, kw_only=True)
class LiverRule:
    disease: tuple[LiverDisease, ...]
    level: Level
    text: str
    plain: str  # the same in words a patient understands
    sources: tuple[str, ...] = ()
    unconfirmed: bool = False

    def __post_init__(self) -> None:
        _check_fact(self.sources, self.unconfirmed, self.plain)
        if not self.disease or "none" in self.disease:
            raise ValueError("disease must list mild, moderate and/or severe")


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicineRule:
    """Applies when the patient takes one of ``medicines`` (generic names of medicines.toml) or
    a medicine of one of ``classes`` (its class keys)."""

    level: Level
    text: str
    plain: str  # the same in words a patient understands
    sources: tuple[str, ...] = ()
    unconfirmed: bool = False
    medicines: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_fact(self.sources, self.unconfirmed, self.plain)
        if not self.medicines and not self.classes:
            raise ValueError("a medicine rule names medicines or classes")


@dataclass(frozen=True, slots=True, kw_only=True)
class Alternative:
    name: str
    display_name: str
    aliases: tuple[str, ...] = ()
    category: Category
    route: str
    labelled_for: Fact
    mechanism: Fact
    start: Fact
    max_daily: Fact
    always: tuple[Rule, ...] = ()
    kidney: tuple[KidneyRule, ...] = ()
    liver: tuple[LiverRule, ...] = ()
    pregnancy: tuple[Rule, ...] = ()
    medicines: tuple[MedicineRule, ...] = ()

    @property
    def labelled_for_spasticity(self) -> bool:
        return self.category in ("spasticity", "spasticity_and_msk_spasm")


@dataclass(frozen=True, slots=True, kw_only=True)
class AlternativesReference:
    disclaimer: str
    pregnancy_not_covered: str  # said for a drug whose reference has nothing on pregnancy
    pregnancy_not_covered_plain: str  # the same for the patient
    sources: dict[str, str]
    drug: tuple[Alternative, ...]

    def __post_init__(self) -> None:
        bad = [key for key in self.sources if not SOURCE_KEY.match(key)]
        if bad:
            raise ValueError(f"not a source key of alternatives.md: {', '.join(bad)}")
        cited = {key for drug in self.drug for key in _cited(drug)}
        unknown = sorted(cited - set(self.sources))
        if unknown:
            raise ValueError(f"source keys not in [sources]: {', '.join(unknown)}")
        spellings: dict[str, str] = {}
        for drug in self.drug:
            for spelling in (drug.name, *drug.aliases):
                if spellings.setdefault(normalize_name(spelling), drug.name) != drug.name:
                    raise ValueError(f"{spelling!r} names two drugs")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(drug.name for drug in self.drug)

    def find(self, text: str) -> Alternative | None:
        key = normalize_name(text)
        for drug in self.drug:
            if key in {normalize_name(s) for s in (drug.name, *drug.aliases)}:
                return drug
        return None


def _cited(drug: Alternative) -> list[str]:
    facts: list[Fact | Rule | KidneyRule | LiverRule | MedicineRule] = [
        drug.labelled_for, drug.mechanism, drug.start, drug.max_daily,
        *drug.always, *drug.kidney, *drug.liver, *drug.pregnancy, *drug.medicines,
    ]  # fmt: skip
    return [key for fact in facts for key in fact.sources]


# ---------------------------------------------------------------------------------------------
# The comparison


@dataclass(frozen=True, slots=True, kw_only=True)
class Situation:
    """What the patient's record says (what is not known is None / "none" / empty)."""

    crcl_ml_min: float | None = None
    dialysis: bool = False  # on dialysis (a plan made for dialysis stores no CrCl)
    liver: LiverRecord = "none"  # "not_known": no liver rule is applied (nothing to apply it to)
    pregnant: bool = False
    medicines: "tuple[NameMatch, ...]" = ()

    def __post_init__(self) -> None:
        if self.liver not in LIVER_RECORD:
            raise InputError(f"liver disease must be one of {', '.join(LIVER_RECORD)}", field="liver")
        if self.dialysis and self.crcl_ml_min is not None:
            raise InputError("give a creatinine clearance or dialysis, not both", field="dialysis")


@dataclass(frozen=True, slots=True, kw_only=True)
class WithBaclofen:
    """What the baclofen monograph's interaction table says about a treatment taken with
    baclofen: its grade, effect and advice, with the monograph's source keys (PMS, OZO ...) and
    their citations (the caller reads them; this module does not load the monograph)."""

    severity: Literal["major", "moderate", "minor"]
    effect: str
    advice: str  # the monograph's advice, written for the patient
    sources: tuple[str, ...]
    citations: tuple[tuple[str, str], ...]  # (key, citation) of ``sources``

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError("an interaction needs the monograph's source keys")


# the baclofen monograph's grades (baclofen.md section 6) on this file's levels: major "may be
# life-threatening or needs a change of therapy" is a warning, moderate "monitor closely or adjust
# doses" a caution, minor "worth knowing" information
BACLOFEN_LEVELS: dict[str, Level] = {"major": "warning", "moderate": "caution", "minor": "info"}
BACLOFEN_GRADE_WORDS = {  # the same grades in the patient's words (baclofen.md section 6)
    "major": "a major interaction, which may be life-threatening or need a change of treatment",
    "moderate": "a moderate interaction, to be watched closely or the doses adjusted",
    "minor": "a minor interaction, worth knowing",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Caution:
    level: Level
    topic: Topic
    text: str  # the label's wording (the report, the API, the clinician)
    plain: str  # the same in words a patient understands (the page)
    sources: tuple[str, ...]
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparedDrug:
    drug: Alternative
    cautions: tuple[Caution, ...]  # most serious first


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    drugs: tuple[ComparedDrug, ...]
    situation: Situation
    citations: Mapping[str, str]  # every key a fact may cite: alternatives.md's and the baclofen monograph's

    @property
    def source_keys(self) -> tuple[str, ...]:
        """Every source key cited, first mention first."""
        seen: dict[str, None] = {}
        for item in self.drugs:
            drug = item.drug
            for fact in (drug.labelled_for, drug.mechanism, drug.start, drug.max_daily):
                seen.update(dict.fromkeys(fact.sources))
            for caution in item.cautions:
                seen.update(dict.fromkeys(caution.sources))
        return tuple(seen)


def select_alternatives(reference: AlternativesReference, names: Sequence[str]) -> tuple[Alternative, ...]:
    """The drugs named (all of them when none is named); InputError names the unknown ones and
    lists the known ones."""
    if not names:
        return reference.drug
    found: dict[str, Alternative] = {}
    unknown: list[str] = []
    for text in names:
        drug = reference.find(text)
        if drug is None:
            unknown.append(text)
        else:
            found.setdefault(drug.name, drug)
    if unknown:
        raise InputError(
            f"unknown treatment {', '.join(map(repr, unknown))}: Dosewise compares "
            f"{', '.join(reference.names)}",
            field="drug",
        )
    return tuple(found.values())


def compare_alternatives(
    reference: AlternativesReference,
    drugs: Sequence[Alternative],
    situation: Situation,
    *,
    with_baclofen: Mapping[str, WithBaclofen] | None = None,
) -> Comparison:
    """Each drug with what the reference says about this patient's situation. ``with_baclofen``
    (drug name -> the baclofen monograph's interaction): said for the drugs it names."""
    with_baclofen = with_baclofen or {}
    compared = tuple(
        ComparedDrug(
            drug=d,
            cautions=_ordered(
                _cautions(reference, d, situation) + _baclofen_cautions(with_baclofen.get(d.name))
            ),
        )
        for d in drugs
    )
    citations = dict(reference.sources)
    for item in compared:
        found = with_baclofen.get(item.drug.name)
        if found is not None:
            citations.update(found.citations)
    return Comparison(drugs=compared, situation=situation, citations=citations)


def _ordered(cautions: list[Caution]) -> tuple[Caution, ...]:
    """Most serious first; within a level, what this record brings before what everyone is told
    (then data order)."""
    return tuple(sorted(cautions, key=lambda c: (LEVELS.index(c.level), c.topic not in RECORD_FIRST)))


# a row of the baclofen monograph's table that no label grades (source DOSEWISE only): its effect
# ends with a remark saying so, which the comparison's own wording replaces
_OWN_REMARK = re.compile(r"\s*\(a Dosewise caution[^)]*\)")


def _baclofen_cautions(found: WithBaclofen | None) -> list[Caution]:
    if found is None:
        return []
    advice = found.advice.rstrip(".")
    if set(found.sources) == {"DOSEWISE"}:  # not in the labels: not a graded interaction
        effect = _OWN_REMARK.sub("", found.effect)
        return [
            Caution(
                level="caution",
                topic="baclofen",
                text=f"Dosewise caution (not in the labels): with the baclofen you take, {effect}. {advice}.",
                plain=(
                    f"Dosewise caution (not in the medicine labels): with the baclofen you take, {effect}. "
                    f"{advice}."
                ),
                sources=found.sources,
            )
        ]
    return [
        Caution(
            level=BACLOFEN_LEVELS[found.severity],
            topic="baclofen",
            text=f"With the baclofen you take: {found.severity} interaction, {found.effect}. {advice}.",
            plain=(
                f"With the baclofen you take: {BACLOFEN_GRADE_WORDS[found.severity]}: {found.effect}. "
                f"{advice}."
            ),
            sources=found.sources,
        )
    ]


def _cautions(reference: AlternativesReference, drug: Alternative, situation: Situation) -> list[Caution]:
    found = [_caution(rule, "safety" if rule.level != "info" else "use") for rule in drug.always]
    if not drug.labelled_for_spasticity:
        label = drug.labelled_for
        found.append(
            Caution(
                level="info",
                topic="use",
                text=f"Not labelled for spasticity: {label.text}",
                plain=f"Not approved for spasticity: {label.plain[:1].lower()}{label.plain[1:]}",
                sources=label.sources,
                unconfirmed=label.unconfirmed,
            )
        )
    crcl = situation.crcl_ml_min
    if situation.dialysis:
        found.extend(
            _caution(
                rule,
                "kidney",
                prefix="Kidney function (on dialysis; the rules for the lowest CrCl): ",
                plain_prefix="Your kidneys (on dialysis): ",
            )
            for rule in drug.kidney
            if rule.holds_on_dialysis()
        )
    elif crcl is not None:
        prefix = f"Kidney function (CrCl {crcl:g} mL/min): "
        plain = f"Your kidney function (CrCl {crcl:g} mL/min): "
        found.extend(
            _caution(rule, "kidney", prefix=prefix, plain_prefix=plain)
            for rule in drug.kidney
            if rule.holds(crcl)
        )
    liver = situation.liver
    if liver not in ("none", "not_known"):
        prefix = f"Liver disease ({liver}): "
        found.extend(_caution(rule, "liver", prefix=prefix) for rule in drug.liver if liver in rule.disease)
    if situation.pregnant:
        found.extend(_pregnancy_cautions(reference, drug))
    for match in situation.medicines:
        found.extend(_medicine_cautions(drug, match))
    return found


def _pregnancy_cautions(reference: AlternativesReference, drug: Alternative) -> list[Caution]:
    if drug.pregnancy:
        return [_caution(rule, "pregnancy", prefix="Pregnancy: ") for rule in drug.pregnancy]
    return [
        Caution(
            level="info",
            topic="pregnancy",
            text=f"Pregnancy: {reference.pregnancy_not_covered}",
            plain=f"Pregnancy: {reference.pregnancy_not_covered_plain}",
            sources=(),
            unconfirmed=True,
        )
    ]


def _medicine_cautions(drug: Alternative, match: "NameMatch") -> list[Caution]:
    names = {medicine.name for medicine in match.medicines}
    classes = {medicine.drug_class for medicine in match.medicines}
    if drug.name in names:
        text = f"{match.display}: already among the patient's medicines."
        plain = f"{match.display}: you already take it."
        return [Caution(level="info", topic="medicine", text=text, plain=plain, sources=())]
    return [
        _caution(rule, "medicine", prefix=f"With {match.display}: ")
        for rule in drug.medicines
        if names & set(rule.medicines) or classes & set(rule.classes)
    ]


def _caution(
    rule: Rule | KidneyRule | LiverRule | MedicineRule,
    topic: Topic,
    *,
    prefix: str = "",
    plain_prefix: str | None = None,
) -> Caution:
    return Caution(
        level=rule.level,
        topic=topic,
        text=prefix + rule.text,
        plain=(prefix if plain_prefix is None else plain_prefix) + rule.plain,
        sources=rule.sources,
        unconfirmed=rule.unconfirmed,
    )
