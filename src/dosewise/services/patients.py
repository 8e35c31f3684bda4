"""Patients: the diary's owner, their time zone, the one local patient of the CLI, and "About
me": the country (for the emergency number) and the conditions the advice depends on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dosewise.errors import InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import unit_of_work

if TYPE_CHECKING:
    from dosewise.domain.emergency import EmergencyNumber
    from dosewise.domain.guidance import ConditionAdvice, Guidance, StorageText
    from dosewise.domain.monograph import Monograph

from dosewise.store.models import (
    PatientRow,
)


def drug_of(session: Session, patient_id: int) -> str:
    """The drug of the patient's newest plan (the default drug before the first plan): the
    monograph their diary is read with."""
    from dosewise.monographs import DEFAULT_DRUG
    from dosewise.store.models import PlanRow

    drug = session.scalar(
        select(PlanRow.drug).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
    )
    return drug or DEFAULT_DRUG


def monograph_of(engine: Engine, *, patient_id: int) -> Monograph:
    """The monograph of the patient's drug (their newest plan's; the default before a plan)."""
    from dosewise.monographs import load_monograph
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        return load_monograph(drug_of(session, patient_id))


def create_patient(engine: Engine, *, name: str, time_zone: str, now: datetime, actor: str) -> int:
    if not name.strip():
        raise InputError("the patient needs a name")
    with unit_of_work(engine) as session:
        patient = PatientRow(name=name.strip(), time_zone=time_zone, created_at=to_utc(now))
        session.add(patient)
        session.flush()
        audit(session, now, actor, patient.id, "create", "patient", patient.id)
        return patient.id


def find_local_patient(engine: Engine) -> tuple[int, str]:
    """The single local patient of a personal diary: (id, time zone)."""
    with unit_of_work(engine) as session:
        patient = session.scalars(select(PatientRow).order_by(PatientRow.id)).first()
        if patient is None:
            raise NotFound("no diary yet: run `dosewise diary init` first")
        return patient.id, patient.time_zone


def patient_zone(session: Session, patient_id: int) -> ZoneInfo:
    patient = session.get(PatientRow, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return ZoneInfo(patient.time_zone)


class Keep(Enum):
    """A profile field left as it is (None already means "no country")."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientProfile:
    """About me: where the patient is (the emergency number) and the conditions with their own
    advice (baclofen.md section 10)."""

    patient_id: int
    country: str | None  # ISO 3166-1 alpha-2, upper case
    pregnant: bool
    breastfeeding: bool
    epilepsy: bool
    emergency: EmergencyNumber
    # liver disease (migration 0015): none, mild, moderate, severe or not_known (the comparison
    # of other treatments reads it; domain.alternatives.LIVER_RECORD)
    liver: str = "not_known"

    def as_dict(self) -> dict[str, Any]:
        """The profile as the API and `--json` give it (the audit trail's before and after too)."""
        return {
            "country": self.country,
            "pregnant": self.pregnant,
            "breastfeeding": self.breastfeeding,
            "epilepsy": self.epilepsy,
            "liver": self.liver,
        }


def country_choices() -> tuple[tuple[str, str], ...]:
    """(code, name) of the countries Dosewise knows an emergency number for, by name."""
    from dosewise.monographs import load_emergency_numbers

    return load_emergency_numbers().country_names()


def emergency_number_of(country: str | None) -> EmergencyNumber:
    """The emergency number for a country (the 112 default, said so, when unknown or None)."""
    from dosewise.domain.emergency import emergency_number
    from dosewise.monographs import load_emergency_numbers

    return emergency_number(country, directory=load_emergency_numbers())


def _profile(patient: PatientRow) -> PatientProfile:
    return PatientProfile(
        patient_id=patient.id,
        country=patient.country,
        pregnant=bool(patient.pregnant),
        breastfeeding=bool(patient.breastfeeding),
        epilepsy=bool(patient.epilepsy),
        emergency=emergency_number_of(patient.country),
        liver=patient.liver_disease,
    )


def patient_profile(engine: Engine, *, patient_id: int) -> PatientProfile:
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        patient = session.get(PatientRow, patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id}")
        return _profile(patient)


def check_country(country: str | None) -> str | None:
    """The country as stored (upper case), None for "not said"; InputError for a code Dosewise
    has no emergency number for (the form offers those only)."""
    from dosewise.domain.emergency import normalize_country
    from dosewise.monographs import load_emergency_numbers

    code = normalize_country(country)
    if code is None:
        return None
    if code not in load_emergency_numbers().countries:
        raise InputError(
            f"Dosewise has no emergency number for the country {code!r}: choose one of the list "
            "(ISO codes such as GB, US, DE), or leave it empty",
            field="country",
        )
    return code


def set_patient_profile(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    actor: str,
    country: str | Keep | None = KEEP,
    pregnant: bool | None = None,
    breastfeeding: bool | None = None,
    epilepsy: bool | None = None,
    liver: str | None = None,
) -> PatientProfile:
    """Change About me: each value given replaces the stored one (``KEEP``/None: unchanged;
    ``country=None``: no country; ``liver``: one of ``LIVER_RECORD``). A change is audited with
    the profile before and after. Who may do it is the interface's check (``profile``)."""
    code = country if isinstance(country, Keep) else check_country(country)
    if liver is not None:
        check_liver(liver)
    with unit_of_work(engine) as session:
        patient = session.get(PatientRow, patient_id)
        if patient is None:
            raise NotFound(f"no patient {patient_id}")
        before = _profile(patient).as_dict()
        if not isinstance(code, Keep):
            patient.country = code
        for name, value in (("pregnant", pregnant), ("breastfeeding", breastfeeding), ("epilepsy", epilepsy)):
            if value is not None:
                setattr(patient, name, value)
        if liver is not None:
            patient.liver_disease = liver
        profile = _profile(patient)
        after = profile.as_dict()
        if after != before:
            audit(
                session, now, actor, patient_id, "update", "patient_profile", patient_id,
                {"before": before, "after": after},
            )  # fmt: skip
        return profile


LIVER_LABELS = (
    ("not_known", "Not known"),
    ("none", "No liver disease"),
    ("mild", "Mild liver disease"),
    ("moderate", "Moderate liver disease"),
    ("severe", "Severe liver disease"),
)  # About me's answers, as people read them (the values of domain.alternatives.LIVER_RECORD)


def check_liver(liver: str) -> str:
    """About me's liver answer; InputError names the answers."""
    from dosewise.domain.alternatives import LIVER_RECORD

    if liver not in LIVER_RECORD:
        raise InputError(
            f"liver disease must be one of {', '.join(LIVER_RECORD)}, got {liver!r}", field="liver"
        )
    return liver


def condition_advice(engine: Engine, *, patient_id: int) -> tuple[ConditionAdvice, ...]:
    """The advice for the conditions in the patient's About me (none: empty), in a fixed order."""
    profile = patient_profile(engine, patient_id=patient_id)
    return advice_for_profile(profile)


def advice_for_profile(profile: PatientProfile, drug: str | None = None) -> tuple[ConditionAdvice, ...]:
    if not (profile.pregnant or profile.breastfeeding or profile.epilepsy):
        return ()
    return patient_guidance(drug).advice_for(
        pregnant=profile.pregnant, breastfeeding=profile.breastfeeding, epilepsy=profile.epilepsy
    )


def patient_guidance(drug: str | None = None) -> Guidance:
    """What a patient reads about taking the drug (the default drug when not given)."""
    from dosewise.monographs import DEFAULT_DRUG, load_guidance

    return load_guidance(drug or DEFAULT_DRUG)


@dataclass(frozen=True, slots=True, kw_only=True)
class HowToTake:
    """How to take it: the guidance, the storage of the products in question, and the advice
    for the patient's conditions (none without a patient)."""

    guidance: Guidance
    storage: tuple[StorageText, ...]
    advice: tuple[ConditionAdvice, ...] = ()


def how_to_take(
    product_specs: list[str] | tuple[str, ...] = (), profile: PatientProfile | None = None
) -> HowToTake:
    """The guidance for ``product_specs`` (CLI spelling; none: every product's storage), with the
    advice for ``profile``'s conditions. InputError for a product spec that cannot be read."""
    from dosewise.domain.products import parse_product_spec
    from dosewise.monographs import DEFAULT_DRUG, load_monograph

    guidance = patient_guidance()
    if product_specs:
        monograph = load_monograph(DEFAULT_DRUG)
        products = [parse_product_spec(spec, monograph) for spec in product_specs]
        storage = guidance.storage_for([(p.form, p.strength_ug / 1000) for p in products])
    else:
        storage = guidance.storage
    advice = advice_for_profile(profile) if profile is not None else ()
    return HowToTake(guidance=guidance, storage=tuple(storage), advice=advice)
