"""Other treatments compared for a patient's situation: one use case for every interface.

:func:`compare_treatments` reads the typed medicine names with the project's vocabulary (the
same matching as ``dosewise interactions``: brands, salts, small typos, class words such as
"opioids"), then asks the pure comparison in :mod:`dosewise.domain.alternatives`. A medicine
name that is not recognised is reported, never taken as "nothing to say". Each treatment is also
checked against the baclofen monograph's interaction table (the same check as ``dosewise
interactions``), as the patient takes baclofen. It informs; it never proposes a switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from dosewise.errors import InputError
from dosewise.monographs import load_alternatives

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from dosewise.domain.alternatives import Alternative, AlternativesReference, Comparison, WithBaclofen
    from dosewise.domain.interactions import MedicineIndex, NameMatch

__all__ = ["TreatmentComparison", "compare_for_patient", "compare_treatments"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TreatmentComparison:
    comparison: Comparison
    reference: AlternativesReference
    medicines: tuple[NameMatch, ...]  # the names read, as read
    unrecognised_medicines: tuple[str, ...]  # typed names not recognised: not considered
    # where the liver answer comes from: given (the CLI), About me, or a "what if" chosen on the
    # page or the API over About me's answer (``liver_recorded``: About me's answer, if read)
    liver_from: Literal["given", "about_me", "what_if"] = "given"
    liver_recorded: str | None = None


def compare_treatments(
    drugs: Sequence[str] = (),
    *,
    crcl_ml_min: float | None = None,
    dialysis: bool = False,
    liver: str = "none",
    pregnant: bool = False,
    medicines: Sequence[str] = (),
) -> TreatmentComparison:
    """The named treatments (all of them when none is named) for this situation; InputError
    names an unknown treatment (with the known ones) or an impossible value, by field.
    ``dialysis``: on dialysis (then no CrCl: the rules for the lowest CrCl apply)."""
    from dosewise.domain.alternatives import (
        LIVER_RECORD,
        Situation,
        compare_alternatives,
        select_alternatives,
    )

    reference = load_alternatives()
    chosen = select_alternatives(reference, drugs)
    if liver not in LIVER_RECORD:
        raise InputError(
            f"liver disease must be one of {', '.join(LIVER_RECORD)}, got {liver!r}", field="liver"
        )
    if crcl_ml_min is not None:  # the same plausibility limits as every kidney input
        from dosewise.domain.kidney import assess_creatinine_clearance
        from dosewise.monographs import DEFAULT_DRUG, load_monograph

        try:
            assess_creatinine_clearance(load_monograph(DEFAULT_DRUG).kidney, crcl_ml_min)
        except InputError as error:
            error.field = error.field or "crcl_ml_min"
            raise
    if dialysis and crcl_ml_min is not None:
        raise InputError("give a creatinine clearance or dialysis, not both", field="dialysis")
    matches, unrecognised = _read_medicines(medicines)
    situation = Situation(
        crcl_ml_min=crcl_ml_min,
        dialysis=dialysis,
        liver=liver,  # checked against LIVER_RECORD above
        pregnant=pregnant,
        medicines=matches,
    )
    return TreatmentComparison(
        comparison=compare_alternatives(reference, chosen, situation, with_baclofen=_with_baclofen(chosen)),
        reference=reference,
        medicines=matches,
        unrecognised_medicines=unrecognised,
    )


def compare_for_patient(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    drugs: Sequence[str] = (),
    liver: str | None = None,
) -> TreatmentComparison:
    """The comparison from the patient's record: the kidney function of the current plan (its
    CrCl, or dialysis), the medicines taken now and About me (pregnancy, liver disease).
    ``liver``: a "what if" over About me's answer (None: About me's), never stored; the result
    says which was used."""
    from dataclasses import replace

    from dosewise.services.patients import patient_profile
    from dosewise.services.triage import diary_context

    context = diary_context(engine, patient_id=patient_id, now=now)
    profile = patient_profile(engine, patient_id=patient_id)
    what_if = liver is not None and liver != profile.liver
    result = compare_treatments(
        drugs,
        crcl_ml_min=None if context.kidney_band == "dialysis" else context.crcl_ml_min,
        dialysis=context.kidney_band == "dialysis",
        liver=liver if liver is not None else profile.liver,
        pregnant=profile.pregnant,
        medicines=context.medicines,
    )
    return replace(result, liver_from="what_if" if what_if else "about_me", liver_recorded=profile.liver)


def _read_medicines(names: Sequence[str]) -> tuple[tuple[NameMatch, ...], tuple[str, ...]]:
    if not names:
        return (), ()
    from dosewise.domain.interactions import NameMatch

    index = _medicine_index()
    matches: list[NameMatch] = []
    unrecognised: list[str] = []
    for name in names:
        if not name.strip():
            raise InputError("a medicine name is empty", field="medicines")
        found = index.match(name)
        if isinstance(found, NameMatch):
            matches.append(found)
        else:
            unrecognised.append(name)
    return tuple(matches), tuple(unrecognised)


@cache
def _medicine_index() -> MedicineIndex:
    """The vocabulary's index, built once per process (the page, the API and every report)."""
    from dosewise.domain.interactions import MedicineIndex
    from dosewise.monographs import load_medicines

    return MedicineIndex(load_medicines())


def _with_baclofen(chosen: Sequence[Alternative]) -> dict[str, WithBaclofen]:
    return {name: found for name, found in _baclofen_interactions() if any(d.name == name for d in chosen)}


@cache
def _baclofen_interactions() -> tuple[tuple[str, WithBaclofen], ...]:
    """What the baclofen monograph's interaction table says about each treatment (the check of
    ``dosewise interactions`` on its name): nothing for a name the vocabulary does not hold
    (intrathecal baclofen), once per process."""
    from dosewise.domain.alternatives import WithBaclofen
    from dosewise.domain.interactions import check_interactions
    from dosewise.domain.monograph import cite_sources
    from dosewise.monographs import DEFAULT_DRUG, load_monograph

    monograph = load_monograph(DEFAULT_DRUG)
    found: list[tuple[str, WithBaclofen]] = []
    for drug in load_alternatives().drug:
        report = check_interactions(monograph, _medicine_index(), [drug.name])
        if not report.findings:
            continue
        finding = report.findings[0]  # the most severe
        keys = cite_sources(finding.source)
        found.append(
            (
                drug.name,
                WithBaclofen(
                    severity=finding.severity,
                    effect=finding.effect,
                    advice=finding.advice,
                    sources=keys,
                    citations=tuple((key, monograph.sources[key]) for key in keys),
                ),
            )
        )
    return tuple(found)
