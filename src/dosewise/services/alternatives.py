"""Other treatments compared for a patient's situation: one use case for every interface.

:func:`compare_treatments` reads the typed medicine names with the project's vocabulary (the
same matching as ``dosewise interactions``: brands, salts, small typos, class words such as
"opioids"), then asks the pure comparison in :mod:`dosewise.domain.alternatives`. A medicine
name that is not recognised is reported, never taken as "nothing to say". It informs; it never
proposes a switch.
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

    from dosewise.domain.alternatives import AlternativesReference, Comparison
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
    liver: str = "none",
    pregnant: bool = False,
    medicines: Sequence[str] = (),
) -> TreatmentComparison:
    """The named treatments (all of them when none is named) for this situation; InputError
    names an unknown treatment (with the known ones) or an impossible value, by field."""
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
    matches, unrecognised = _read_medicines(medicines)
    situation = Situation(
        crcl_ml_min=crcl_ml_min,
        liver=liver,  # checked against LIVER_RECORD above
        pregnant=pregnant,
        medicines=matches,
    )
    return TreatmentComparison(
        comparison=compare_alternatives(reference, chosen, situation),
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
    """The comparison from the patient's record: the kidney function of the current plan, the
    medicines taken now and About me (pregnancy, liver disease). ``liver``: a "what if" over
    About me's answer (None: About me's), never stored; the result says which was used."""
    from dataclasses import replace

    from dosewise.services.patients import patient_profile
    from dosewise.services.triage import diary_context

    context = diary_context(engine, patient_id=patient_id, now=now)
    profile = patient_profile(engine, patient_id=patient_id)
    what_if = liver is not None and liver != profile.liver
    result = compare_treatments(
        drugs,
        crcl_ml_min=context.crcl_ml_min,
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
