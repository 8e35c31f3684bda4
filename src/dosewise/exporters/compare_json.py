"""``dosewise compare --json``: the issue 16 contract ``{"drugs": [{"name", "labelled_for",
"route", "max_daily", "cautions": [{"level", "text", "sources"}]}], "sources", "disclaimer"}``;
fields added beside those are only added, never renamed. ``text`` is the label's (reference's)
wording; ``plain`` the same fact in words a patient understands, with the same sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.domain.alternatives import ComparedDrug, Fact
    from dosewise.services.alternatives import TreatmentComparison


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    return {
        "text": fact.text,
        "plain": fact.plain,
        "sources": list(fact.sources),
        "unconfirmed": fact.unconfirmed,
    }


def compared_drug_to_dict(item: ComparedDrug) -> dict[str, Any]:
    drug = item.drug
    return {
        "name": drug.name,
        "display_name": drug.display_name,
        "category": drug.category,
        "labelled_for_spasticity": drug.labelled_for_spasticity,
        "labelled_for": fact_to_dict(drug.labelled_for),
        "route": drug.route,
        "mechanism": fact_to_dict(drug.mechanism),
        "start": fact_to_dict(drug.start),
        "max_daily": fact_to_dict(drug.max_daily),
        "cautions": [
            {
                "level": caution.level,
                "topic": caution.topic,
                "text": caution.text,
                "plain": caution.plain,
                "sources": list(caution.sources),
                "unconfirmed": caution.unconfirmed,
            }
            for caution in item.cautions
        ],
    }


def comparison_to_dict(result: TreatmentComparison) -> dict[str, Any]:
    comparison, reference = result.comparison, result.reference
    situation = comparison.situation
    return {
        "drugs": [compared_drug_to_dict(item) for item in comparison.drugs],
        "situation": {
            "crcl_ml_min": situation.crcl_ml_min,
            "dialysis": situation.dialysis,  # on dialysis: no CrCl, the rules for the lowest CrCl
            "liver": situation.liver,
            # "given" (the CLI), "about_me" (the record), "what_if" (asked over About me's answer)
            "liver_from": result.liver_from,
            "liver_recorded": result.liver_recorded,
            "pregnant": situation.pregnant,
            "medicines": [
                {"input": m.text, "read_as": m.display, "assumed": m.assumed} for m in result.medicines
            ],
        },
        "unrecognised_medicines": list(result.unrecognised_medicines),
        # alternatives.md's keys (S1 ...) and the baclofen monograph's (PMS, OZO ...: "with the
        # baclofen you take")
        "sources": [{"key": key, "citation": comparison.citations[key]} for key in comparison.source_keys],
        "disclaimer": reference.disclaimer,
    }
