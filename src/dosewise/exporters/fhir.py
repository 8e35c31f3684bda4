"""A FHIR R4 Bundle of the diary, built and validated with the ``fhir.resources`` R4B models.

- MedicationRequest per plan, ``intent = plan`` (Dosewise proposes; the prescriber decides), one
  Dosage per plan step: ``sequence`` = the step, ``timing.repeat`` with ``boundsPeriod``, the
  dose times (``timeOfDay``) and ``frequency`` per day, ``doseAndRate.doseQuantity`` in mg (UCUM).
  A step with different doses at different times has one Dosage per dose amount, all with the
  step's ``sequence`` (FHIR: the same sequence means "at the same time").
- MedicationAdministration per recorded dose: ``completed`` when taken (at the time taken),
  ``not-done`` when skipped.
- Observation per symptom score (Penn spasm frequency and severity [PSFS], spasticity 0-10) and
  per side effect (its severity 1-3 as a component), category ``survey``.
- Observation per stored triage result ("safety check"), category ``survey``, code
  ``triage-level``: the level as ``valueCodeableConcept`` (emergency, urgent, routine), an
  emergency ``interpretation`` AA (critical) and an urgent one A, the reasons as notes (each with
  its sources), what it was given from as components (each question with its yes/no, the
  symptoms ticked and the words typed, the amount, what was not recognised), ``derivedFrom`` the
  diary entry's side effects when it triaged an entry. Not a Flag: a Flag is a warning in force
  about the patient, and a result is a record of advice given at one moment.

Identifiers are UUID 5 from the database ids, so exporting twice gives the same references.

A long diary is never held whole (issue 15): the services build the entries a few days at a
time (:func:`build_day_entries`), and either stream them as one ``collection`` Bundle
(:func:`open_bundle`, :func:`entry_json`) or return one page of them as a ``searchset`` Bundle
(:func:`build_page`) with ``next``/``previous`` links.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dosewise.domain.adherence import Slot
from dosewise.domain.units import ug_to_mg
from dosewise.exporters.report import ReportPlan, ReportSymptoms
from dosewise.exporters.safety_checks import SafetyCheck

NAMESPACE = uuid.UUID("5d2b3a3e-6c0f-4c7e-9d0b-8f1d6f1e2a10")  # Dosewise's namespace for UUID 5
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BACLOFEN_RXNORM = "1292"  # RxNorm ingredient concept for baclofen
UCUM = "http://unitsofmeasure.org"
DIARY_CODES = "urn:dosewise:codesystem:diary"  # Dosewise's own codes for diary scores
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
TRIAGE_LEVELS = "urn:dosewise:codesystem:triage-level"  # emergency, urgent, routine
TRIAGE_QUESTIONS = "urn:dosewise:codesystem:triage-question"  # the guided questions, by key
LEVEL_DISPLAY = {
    "emergency": "Emergency: call the local emergency number now",
    "urgent": "Urgent: contact the prescriber or an urgent care service today",
    "routine": "Routine: mention it at the next appointment",
}
LEVEL_INTERPRETATION = {"emergency": ("AA", "Critical abnormal"), "urgent": ("A", "Abnormal")}
SCORES = {
    "penn-spasm-frequency": "Penn Spasm Frequency Scale, frequency 0-4 [PSFS]",
    "penn-spasm-severity": "Penn Spasm Frequency Scale, severity 1-3 [PSFS]",
    "spasticity-nrs": "Spasticity numeric rating scale 0-10",
    "side-effect": "Side effect",
    "side-effect-severity": "Side-effect severity 1-3",
    "triage-level": "Safety check (triage): how urgent",
    "symptom-ticked": "Symptom ticked",
    "symptom-typed": "Words typed",
    "amount-taken": "Amount taken, as typed",
    "not-recognised": "Typed, not recognised by triage",
}


def _urn(kind: str, number: int | str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{number}')}"


def _baclofen() -> dict[str, Any]:
    return {
        "coding": [{"system": RXNORM, "code": BACLOFEN_RXNORM, "display": "baclofen"}],
        "text": "baclofen",
    }


def _mg(value_mg: float) -> dict[str, Any]:
    return {"value": round(value_mg, 3), "unit": "mg", "system": UCUM, "code": "mg"}


def patient_entry(patient_id: int, patient_name: str) -> dict[str, Any]:
    """The Patient every other resource refers to (``subject``)."""
    return {
        "fullUrl": patient_reference(patient_id),
        "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": "urn:dosewise:patient", "value": str(patient_id)}],
            "name": [{"text": patient_name}],
        },
    }


def patient_reference(patient_id: int) -> str:
    return _urn("patient", patient_id)


def build_day_entries(
    *,
    patient_ref: str,
    plans: Sequence[ReportPlan],
    slots: Sequence[Slot],
    symptoms: Sequence[ReportSymptoms],
    safety_checks: Sequence[SafetyCheck] = (),
    side_effects_of: dict[int, tuple[str, ...]] | None = None,
) -> list[dict[str, Any]]:
    """The entries of a day (or of any run of whole days), in the order the Bundle lists them:
    the plans saved, the doses recorded, the diary scores, then the safety checks, each oldest
    first. ``side_effects_of``: the side-effect labels of diary entries outside ``symptoms``
    that a safety check was triaged from (its ``derivedFrom``)."""
    entries: list[dict[str, Any]] = []
    for plan in plans:
        entries.append({"fullUrl": _urn("plan", plan.plan_id), "resource": _request(plan, patient_ref)})
    for slot in slots:
        if slot.recorded is not None:
            entries.append(
                {"fullUrl": _urn("dose", slot.slot_id), "resource": _administration(slot, patient_ref)}
            )
    # what a result triaged from a diary entry is derived from: the entry's side effects
    derived: dict[int, list[str]] = {
        entry_id: [side_effect_url(label, entry_id) for label in labels]
        for entry_id, labels in (side_effects_of or {}).items()
        if labels
    }
    for entry in symptoms:
        derived.pop(entry.entry_id, None)  # listed here: from its own observations below
        for code, resource in _observations(entry, patient_ref):
            url = _urn(f"symptoms/{code}", entry.entry_id)
            entries.append({"fullUrl": url, "resource": resource})
            if code.startswith("side-effect/"):
                derived.setdefault(entry.entry_id, []).append(url)
    for check in safety_checks:
        sources = derived.get(check.symptom_entry_id, []) if check.symptom_entry_id is not None else []
        entries.append(
            {
                "fullUrl": _urn("triage", check.result_id),
                "resource": _triage_observation(check, patient_ref, sources),
            }
        )
    return entries


def side_effect_url(label: str, entry_id: int) -> str:
    """The fullUrl of a diary entry's side-effect Observation."""
    return _urn(f"symptoms/side-effect/{label}", entry_id)


def open_bundle(generated_at: datetime) -> str:
    """The start of a streamed ``collection`` Bundle: its entries follow (:func:`entry_json`),
    separated by commas, then :data:`CLOSE_BUNDLE`."""
    head = json.dumps({"resourceType": "Bundle", "type": "collection", "timestamp": generated_at.isoformat()})
    return head[:-1] + ', "entry": [\n'


CLOSE_BUNDLE = "\n]}\n"


def entry_json(entry: dict[str, Any]) -> str:
    """One entry of a streamed Bundle as JSON, validated by the R4B models first (the JSON is
    the entry as built: the models' own serializer costs more than the validation)."""
    from fhir.resources.R4B.bundle import BundleEntry

    BundleEntry.model_validate(entry)
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


def build_page(
    *,
    generated_at: datetime,
    patient: dict[str, Any],
    entries: Sequence[dict[str, Any]],
    links: Sequence[tuple[str, str]],
) -> str:
    """One page of the diary as a ``searchset`` Bundle (JSON, validated by the R4B models): the
    page's entries (``search.mode`` match), the Patient they refer to (include) and the paging
    ``link``s as (relation, url)."""
    from fhir.resources.R4B.bundle import Bundle

    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": generated_at.isoformat(),
        "link": [{"relation": relation, "url": url} for relation, url in links],
        "entry": [
            *({**entry, "search": {"mode": "match"}} for entry in entries),
            {**patient, "search": {"mode": "include"}},
        ],
    }
    Bundle.model_validate(bundle)
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))


def _request(plan: ReportPlan, patient_ref: str) -> dict[str, Any]:
    times = [t.strftime("%H:%M") for t in plan.times]
    dosages: list[dict[str, Any]] = []
    steps = plan.plan.steps
    for number, step in enumerate(steps, start=1):
        first, last = step.start, step.end
        # an open-ended plan goes on at its last step until another plan takes over (issue 12)
        goes_on = plan.plan.open_ended and number == len(steps)
        end: str | None = last.isoformat()
        if goes_on:
            end = None if plan.superseded_at is None else plan.superseded_at.date().isoformat()
        until = (
            f"{first.isoformat()} to {end}"
            if end
            else f"from {first.isoformat()}, until a new plan or a taper"
        )
        by_amount: dict[float, list[str]] = {}
        for index, dose_ug in enumerate(step.doses_ug):
            if dose_ug:
                by_amount.setdefault(ug_to_mg(dose_ug), []).append(times[index] if index < len(times) else "")
        for amount, at in by_amount.items():
            clock = [f"{t}:00" for t in at if t]
            dosages.append(
                {
                    "sequence": number,
                    "text": (
                        f"Step {number}: {amount:g} mg at {', '.join(at)} daily, "
                        f"{until} ({ug_to_mg(step.daily_ug):g} mg/day)"
                    ),
                    "timing": {
                        "repeat": {
                            "boundsPeriod": {"start": first.isoformat(), **({"end": end} if end else {})},
                            "frequency": len(at),
                            "period": 1,
                            "periodUnit": "d",
                            **({"timeOfDay": clock} if clock else {}),
                        }
                    },
                    "route": {"text": "by mouth"},
                    "doseAndRate": [{"doseQuantity": _mg(amount)}],
                }
            )
    sources = ", ".join(plan.plan.sources)
    return {
        "resourceType": "MedicationRequest",
        "status": "stopped" if plan.superseded_at is not None else "active",
        "intent": "plan",
        "medicationCodeableConcept": _baclofen(),
        "subject": {"reference": patient_ref},
        "authoredOn": plan.created_at.isoformat(),
        "note": [{"text": f"Dosewise {plan.kind} plan. {plan.plan.disclaimer} Sources: {sources}.".strip()}],
        "dosageInstruction": dosages,
    }


def _administration(slot: Slot, patient_ref: str) -> dict[str, Any]:
    taken = slot.recorded in ("taken", "late")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "status": "completed" if taken else "not-done",
        "medicationCodeableConcept": _baclofen(),
        "subject": {"reference": patient_ref},
        "request": {"reference": _urn("plan", slot.plan_id)},
        "effectiveDateTime": (slot.taken_at if taken and slot.taken_at else slot.due_at).isoformat(),
        "dosage": {"text": slot.how, "dose": _mg(slot.dose_ug / 1000)},
        "note": [{"text": f"Due {slot.due_at.isoformat()}; recorded as {slot.recorded}."}],
    }
    if not taken:
        resource["statusReason"] = [{"text": "skipped by the patient"}]
    return resource


def _observations(entry: ReportSymptoms, patient_ref: str) -> list[tuple[str, dict[str, Any]]]:
    def observation(code: str, value: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": {
                "coding": [{"system": DIARY_CODES, "code": code, "display": SCORES[code]}],
                "text": SCORES[code],
            },
            "subject": {"reference": patient_ref},
            "effectiveDateTime": entry.at.isoformat(),
            **value,
            **(extra or {}),
        }

    found = [
        ("penn-spasm-frequency", observation("penn-spasm-frequency", {"valueInteger": entry.penn_frequency})),
        ("spasticity-nrs", observation("spasticity-nrs", {"valueInteger": entry.spasticity})),
    ]
    if entry.penn_severity is not None:
        found.append(
            ("penn-spasm-severity", observation("penn-spasm-severity", {"valueInteger": entry.penn_severity}))
        )
    for label, severity in entry.side_effects:
        severity_code = {"coding": [{"system": DIARY_CODES, "code": "side-effect-severity"}]}
        found.append(
            (
                f"side-effect/{label}",
                observation(
                    "side-effect",
                    {"valueCodeableConcept": {"text": label}},
                    {"component": [{"code": severity_code, "valueInteger": severity}]},
                ),
            )
        )
    return found


def _triage_observation(check: SafetyCheck, patient_ref: str, derived_from: Sequence[str]) -> dict[str, Any]:
    """A stored triage result: its level, why (notes), and what it was given from (components)."""

    def component(code: str, value: dict[str, Any]) -> dict[str, Any]:
        return {"code": {"coding": [{"system": DIARY_CODES, "code": code}], "text": SCORES[code]}, **value}

    components = [
        {
            "code": {
                "coding": [{"system": TRIAGE_QUESTIONS, "code": answer.key, "display": answer.question}],
                "text": answer.question,
            },
            "valueBoolean": answer.yes,
        }
        for answer in check.answers
    ]
    components += [component("symptom-ticked", {"valueString": label}) for label in check.ticked]
    components += [component("symptom-typed", {"valueString": text}) for text in check.typed]
    if check.amount:
        components.append(component("amount-taken", {"valueString": check.amount}))
    components += [component("not-recognised", {"valueString": text}) for text in check.unrecognised]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:dosewise:triage-result", "value": str(check.result_id)}],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {
            "coding": [{"system": DIARY_CODES, "code": "triage-level", "display": SCORES["triage-level"]}],
            "text": SCORES["triage-level"],
        },
        "subject": {"reference": patient_ref},
        "effectiveDateTime": check.at.isoformat(),
        "issued": check.at.isoformat(),
        "valueCodeableConcept": {
            "coding": [{"system": TRIAGE_LEVELS, "code": check.level, "display": LEVEL_DISPLAY[check.level]}],
            "text": check.level,
        },
        "note": [
            *({"text": reason} for reason in check.reasons),
            {"text": f"Sources: {', '.join(check.sources) or 'none'}. Asked by {check.recorded_by}."},
        ],
    }
    if check.level in LEVEL_INTERPRETATION:
        code, display = LEVEL_INTERPRETATION[check.level]
        coding = {"system": INTERPRETATION, "code": code, "display": display}
        resource["interpretation"] = [{"coding": [coding]}]
    if components:
        resource["component"] = components
    if derived_from:
        resource["derivedFrom"] = [{"reference": url} for url in derived_from]
    return resource
