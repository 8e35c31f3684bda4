"""About me and "How to take it" as JSON-ready dicts: the same shape for the CLI's ``--json``
and the API, every statement with its source keys and whether it is Dosewise's own wording."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.domain.emergency import EmergencyNumber
    from dosewise.domain.guidance import ConditionAdvice, Guidance, Statement, StorageText


def emergency_to_dict(number: EmergencyNumber) -> dict[str, Any]:
    return {
        "number": number.number,
        "label": number.label,
        "country": number.country,
        "tel_uri": number.tel_uri,
        "source": number.source,
        "citation": number.citation,
        "url": number.url,
        "note": number.note,
    }


def statement_to_dict(statement: Statement) -> dict[str, Any]:
    return {"text": statement.text, "source": statement.source, "product_default": statement.product_default}


def advice_to_dict(advice: ConditionAdvice) -> dict[str, Any]:
    return {
        "condition": advice.condition,
        "title": advice.title,
        "statements": [statement_to_dict(s) for s in advice.statements],
    }


def storage_to_dict(item: StorageText, guidance: Guidance) -> dict[str, Any]:
    verified = item.text is not None
    return {
        "product": item.product,
        "text": item.text if verified else (item.note or guidance.storage_unverified.text),
        "note": item.note if verified and item.note else None,
        "source": item.source,
        "verified": verified,
    }


def sources_to_list(guidance: Guidance, keys: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"key": key, "citation": source.citation, "urls": list(source.urls)}
        for key, source in guidance.cited(keys)
    ]


def advice_keys(advice: Sequence[ConditionAdvice]) -> list[str]:
    return [key for item in advice for statement in item.statements for key in statement.keys]


def profile_to_dict(
    values: dict[str, Any],
    country_name: str | None,
    emergency: EmergencyNumber,
    advice: Sequence[ConditionAdvice],
    guidance: Guidance,
) -> dict[str, Any]:
    """About me: the values, the emergency number that follows from the country, and the advice
    for the conditions ticked, with their sources."""
    return {
        **values,
        "country_name": country_name,
        "emergency": emergency_to_dict(emergency),
        "advice": [advice_to_dict(item) for item in advice],
        "sources": sources_to_list(guidance, advice_keys(advice)),
    }


def how_to_take_to_dict(
    guidance: Guidance, storage: Sequence[StorageText], advice: Sequence[ConditionAdvice] = ()
) -> dict[str, Any]:
    keys = [key for topic in guidance.topics for s in topic.statements for key in s.keys]
    keys += [item.source for item in storage] + advice_keys(advice)
    return {
        "drug": guidance.drug,
        "topics": [
            {"key": t.key, "title": t.title, "statements": [statement_to_dict(s) for s in t.statements]}
            for t in guidance.topics
        ],
        "storage": [storage_to_dict(item, guidance) for item in storage],
        "advice": [advice_to_dict(item) for item in advice],
        "sources": sources_to_list(guidance, keys),
    }
