"""The article check as a JSON-ready dict: the same shape for the CLI's ``--json`` and, later,
the API: ``{"claims": [{"text", "topic", "verdict", "reference", "sources"}], "sources",
"disclaimer"}`` (``sources``: each cited key and what it is)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.services.articles import ArticleReport


def article_to_dict(report: ArticleReport) -> dict[str, Any]:
    return {
        "claims": [
            {
                "text": claim.text,
                "topic": claim.topic,
                "verdict": claim.verdict,
                "reference": claim.reference,
                "sources": list(claim.sources),
            }
            for claim in report.check.claims
        ],
        "sources": dict(report.citations),
        "disclaimer": report.disclaimer,
    }
