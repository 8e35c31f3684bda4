"""The patient's other medicines checked against baclofen: one check for every interface.

:func:`check_medicines` is the one implementation; the one-off ``dosewise interactions``, the
triage (its sedating medicines) and the diary's medicine list all go through it, so a name that
is not recognised is reported the same way everywhere. :func:`medicine_interactions` is the
diary's version: the medicines and kidney function come from what is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dosewise.monographs import load_monograph

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from dosewise.domain.interactions import InteractionReport

DEFAULT_DRUG = "baclofen"


def check_medicines(
    names: Sequence[str], crcl_ml_min: float | None, *, drug: str = DEFAULT_DRUG
) -> InteractionReport | None:
    """Interactions of the named medicines with ``drug``, with the kidney function when it is
    known (NSAIDs are major below CrCl 50 [BACLON]); None when no other medicine is named."""
    if not names:
        return None
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.kidney import assess_creatinine_clearance
    from dosewise.errors import InputError
    from dosewise.monographs import load_medicines

    monograph = load_monograph(drug)
    kidney = None
    if crcl_ml_min is not None:
        try:
            kidney = assess_creatinine_clearance(monograph.kidney, crcl_ml_min)
        except InputError as error:
            error.field = error.field or "crcl_ml_min"
            raise
    try:
        return check_interactions(monograph, MedicineIndex(load_medicines()), names, kidney=kidney)
    except InputError as error:
        error.field = error.field or "medicines"
        raise


def medicine_interactions(
    engine: Engine, *, patient_id: int, now: datetime
) -> tuple[list[tuple[int, str]], InteractionReport | None]:
    """The medicines the patient takes now, (number, name), and their interactions with the
    kidney function of the current plan."""
    from dosewise.services.diary import list_medicines
    from dosewise.services.history import history_context

    current = list_medicines(engine, patient_id=patient_id)
    crcl = history_context(engine, patient_id=patient_id, now=now).crcl_ml_min
    return current, check_medicines([name for _, name in current], crcl)


def unrecognised_names(report: InteractionReport | None) -> tuple[str, ...]:
    """The names, as typed, that matched no medicine (never counted as safe)."""
    return () if report is None else tuple(miss.text for miss in report.unrecognised)
