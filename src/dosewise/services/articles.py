"""Does this article agree with the label? (issue 16, point 4): a page about baclofen, read from
a file or pasted, checked claim by claim against the monograph (:mod:`dosewise.domain.article_check`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from dosewise.domain.article_check import ArticleCheck, check_article
from dosewise.services.page_text import (
    MAX_PAGE_BYTES,
    MAX_PASTED_CHARS,
    page_text_of_bytes,
    pasted_text,
    read_page_text,
)

CHECK_NOTE = (
    "An automatic reading of the page: only the sentences listed were checked, and 'not covered' "
    "means the monograph does not settle the claim either way."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleReport:
    check: ArticleCheck
    citations: dict[str, str]  # every cited source key -> what it is
    disclaimer: str


def check_article_file(
    path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None
) -> ArticleReport:
    """The check of the page saved at ``path`` (HTML or text); InputError for an empty, binary or
    oversized file."""
    return _check_page_text(read_page_text(path, max_bytes=max_bytes, stdin=stdin))


def check_article_bytes(
    data: bytes, *, max_bytes: int = MAX_PAGE_BYTES, name: str = "the page"
) -> ArticleReport:
    """The check of an uploaded or pasted page (the bytes already bounded by the caller)."""
    return _check_page_text(page_text_of_bytes(data, max_bytes=max_bytes, name=name))


def check_article_text(text: str, *, max_chars: int = MAX_PASTED_CHARS) -> ArticleReport:
    """The check of pasted text (a web form): refused when empty, longer than ``max_chars`` or
    holding a NUL character."""
    return _check_page_text(pasted_text(text, what="the article", max_chars=max_chars))


def _check_page_text(text: str) -> ArticleReport:
    from dosewise.monographs import DEFAULT_DRUG, load_guidance, load_monograph

    monograph = load_monograph(DEFAULT_DRUG)
    guidance = load_guidance(DEFAULT_DRUG)
    check = check_article(text, monograph, guidance)
    citations: dict[str, str] = {}
    for key in check.sources:
        if key in monograph.sources:
            citations[key] = monograph.sources[key]
        elif key in guidance.sources:
            citations[key] = guidance.sources[key].citation
    return ArticleReport(check=check, citations=citations, disclaimer=f"{monograph.disclaimer} {CHECK_NOTE}")
