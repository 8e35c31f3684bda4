"""The pharmacy check as JSON (``dosewise check-pharmacy --json``, issue 16):
``{"verdict", "flags": [{"code", "text", "evidence", "sources"}], "to_check", "sources",
"disclaimer"}``. The disclaimer starts with the verdict's sentence (it says "cannot confirm it
is safe" unless the page shows every sign of a legitimate pharmacy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dosewise.domain.pharmacy_check import SOURCES
from dosewise.exporters.safety_json import NOT_A_REPLACEMENT

if TYPE_CHECKING:
    from dosewise.domain.pharmacy_check import PharmacyCheck

LOOKS_NOTHING_UP = "Decision support only: Dosewise reads the page's own words and looks nothing up."


def describe_disclaimer(result: PharmacyCheck) -> str:
    return f"{result.summary} {LOOKS_NOTHING_UP} {NOT_A_REPLACEMENT}"


def pharmacy_check_to_dict(result: PharmacyCheck) -> dict[str, Any]:
    return {
        "verdict": result.verdict,
        "flags": [
            {"code": flag.code, "text": flag.text, "evidence": flag.evidence, "sources": list(flag.sources)}
            for flag in result.flags
        ],
        "to_check": [{"text": check.text, "sources": list(check.sources)} for check in result.to_check],
        "sources": [{"key": key, "citation": SOURCES[key]} for key in result.sources],
        "disclaimer": describe_disclaimer(result),
    }
