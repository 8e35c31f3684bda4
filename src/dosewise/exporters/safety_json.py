"""Safety advice as JSON-ready dicts (the CLI ``--json`` contract of issue 3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dosewise.domain.monograph import cite_sources
from dosewise.exporters.plan_json import describe_sources, finding_to_dict

if TYPE_CHECKING:
    from dosewise.domain.emergency import EmergencyNumber
    from dosewise.domain.interactions import InteractionReport, NameMatch, NameMiss
    from dosewise.domain.missed_dose import MissedDoseAdvice
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.triage import TriageResult

NOT_A_REPLACEMENT = "This does not replace your prescriber, pharmacist or emergency services."


def interactions_to_dict(report: InteractionReport, monograph: Monograph) -> dict[str, Any]:
    """The issue 3 contract; fields added later are only added, never renamed: per finding
    ``read_as`` (medicine, product or class), ``assumed``, ``read_note``, ``note``,
    ``in_some_forms`` and ``classes``; ``names`` (every name as it was read) and
    ``listed_twice``."""
    return {
        "drug": monograph.name,
        "findings": [
            {
                "input": f.text,
                "matched": f.matched,
                "medicine": f.medicine,
                "class": f.class_label,
                "severity": f.severity,
                "effect": f.effect,
                "advice": f.advice,
                "source": ", ".join(cite_sources(f.source)),
                "read_as": f.read_as,
                "assumed": f.assumed,
                "read_note": f.read_note,
                "note": f.note,
                "in_some_forms": f.in_some_forms,
                "classes": list(f.drug_classes or (f.drug_class,)),
            }
            for f in report.findings
        ],
        "combined": [finding_to_dict(f) for f in report.combined],
        "no_listed_interaction": [
            {
                "input": m.text,
                "matched": m.display,
                "note": "recognised; no interaction listed in the sources",
                "read_as": m.kind,
                "assumed": m.assumed,
                "read_note": m.read_note,
                "about": m.note,
            }
            for m in report.no_listed_interaction
        ],
        "names": [name_to_dict(name) for name in report.names],
        "listed_twice": [
            {"medicine": t.medicine, "inputs": list(t.texts), "message": t.message}
            for t in report.listed_twice
        ],
        "unrecognised": [miss.text for miss in report.unrecognised],
        "suggestions": [
            {"input": miss.text, "did_you_mean": list(miss.suggestions)}
            for miss in report.unrecognised
            if miss.suggestions
        ]
        + [{"input": m.text, "assumed": m.display} for m in report.assumed],
        "sources": describe_sources(monograph, report.sources),
        "disclaimer": f"{monograph.disclaimer} {NOT_A_REPLACEMENT}",
    }


def name_to_dict(name: NameMatch | NameMiss) -> dict[str, Any]:
    """How one typed name was read: a medicine, a product by its ingredients, a class, the
    drug itself, or not recognised (never called safe)."""
    from dosewise.domain.interactions import NameMiss

    if isinstance(name, NameMiss):
        return {
            "input": name.text,
            "status": "not_recognised",
            "read_as": None,
            "matched": None,
            "assumed": False,
            "read_note": "",
            "note": "not recognised: no interaction data, so this is not a safety check",
            "ingredients": [],
            "in_some_forms": [],
            "did_you_mean": list(name.suggestions),
        }
    return {
        "input": name.text,
        "status": "same_drug" if name.kind == "same_drug" else "recognised",
        "read_as": name.kind,
        "matched": name.display,
        "assumed": name.assumed,
        "read_note": name.read_note,
        "note": name.note,
        "ingredients": [] if name.kind == "class" else [m.name for m in name.medicines],
        "in_some_forms": [m.name for m in name.sometimes],
        "classes": list(dict.fromkeys(m.drug_class for m in (*name.medicines, *name.sometimes))),
        "did_you_mean": [],
    }


def missed_dose_to_dict(advice: MissedDoseAdvice, monograph: Monograph) -> dict[str, Any]:
    return {
        "action": advice.action,
        "missed_dose": advice.missed_at.isoformat(),
        "next_dose": advice.next_dose.isoformat() if advice.next_dose is not None else None,
        "window_h": advice.window_h,
        "message": advice.message,
        "source": advice.source,
        "warnings": [finding_to_dict(f) for f in advice.warnings],
        "sources": describe_sources(
            monograph, cite_sources(advice.source, *(f.source for f in advice.warnings))
        ),
        "disclaimer": f"{monograph.disclaimer} {NOT_A_REPLACEMENT}",
    }


def triage_to_dict(
    result: TriageResult,
    monograph: Monograph,
    *,
    unrecognised_medicines: Sequence[str] = (),
    emergency: EmergencyNumber | None = None,
) -> dict[str, Any]:
    """``unrecognised_medicines``: names, as typed, that were not counted (never called safe);
    ``emergency``: the patient's number to call, when known (a diary's triage)."""
    data: dict[str, Any] = {
        "level": result.level,
        "symptoms": [s.key for s in result.symptoms],
        "unrecognised": list(result.unrecognised),
        "unrecognised_medicines": list(unrecognised_medicines),
        "reasons": list(result.reasons),
        "advice": result.advice,
        "sources": describe_sources(monograph, result.sources),
        "disclaimer": f"{monograph.disclaimer} {NOT_A_REPLACEMENT}",
        # issue 13: the guided questions and how the words were read
        "answers": {key: ("yes" if value else "no") for key, value in result.answers.items()},
        "denied": [s.key for s in result.denied],
        "unread": list(result.unread),
        "corrections": [{"typed": typed, "read_as": read} for typed, read in result.corrections],
        "needs_answers": bool(result.questions),
        "questions": [{"key": q.key, "text": q.text, "hint": q.hint} for q in result.questions],
        "withdrawal_context": result.withdrawal_context,
        "overdose_mg": result.overdose_mg,
    }
    if emergency is not None:
        data["emergency_number"] = {
            "number": emergency.number,
            "label": emergency.label,
            "tel": emergency.tel_uri,
            "country": emergency.country,
            "note": emergency.note,
        }
    return data
