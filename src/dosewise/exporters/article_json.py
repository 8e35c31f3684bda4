"""The article check as a JSON-ready dict: the same shape for the CLI's ``--json`` and the API:
``{"claims": [{"text", "topic", "verdict", "reference", "sources"}], "counts": {verdict: n},
"truncated", "sources", "disclaimer"}`` (``sources``: each cited key and what it is).

``counts`` are always whole; ``claims`` lists every claim (the CLI) or, with ``claims_listed``
(the API and the page), at most that many of each verdict, in page order, ``truncated`` saying
whether some were left out: a 5 MB page can hold 150,000 claim sentences, a 50 MB answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dosewise.domain.article_check import VERDICTS

if TYPE_CHECKING:
    from dosewise.services.articles import ArticleReport

CLAIMS_LISTED = 100  # of each verdict, by the API and on the page (the counts stay whole)


def article_to_dict(report: ArticleReport, *, claims_listed: int | None = None) -> dict[str, Any]:
    counts = {verdict: 0 for verdict in VERDICTS}
    listed: list[dict[str, Any]] = []
    for claim in report.check.claims:
        counts[claim.verdict] += 1
        if claims_listed is None or counts[claim.verdict] <= claims_listed:
            listed.append(
                {
                    "text": claim.text,
                    "topic": claim.topic,
                    "verdict": claim.verdict,
                    "reference": claim.reference,
                    "sources": list(claim.sources),
                }
            )
    return {
        "claims": listed,
        "counts": counts,
        "truncated": len(listed) < len(report.check.claims),
        "sources": dict(report.citations),
        "disclaimer": report.disclaimer,
    }
