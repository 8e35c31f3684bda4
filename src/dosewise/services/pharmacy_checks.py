"""Is this online pharmacy safe? A saved page or pasted text checked against the BeSafeRx, NABP
and LegitScript criteria of the clinical reference (issue 16, point 3).

The page is read with :mod:`dosewise.services.page_text` (the size limit, binary and empty files
refused) and checked by :func:`dosewise.domain.pharmacy_check.check_pharmacy_page`. Nothing is
stored and nothing is looked up on the network: what needs a look-up is in ``to_check``.
"""

from __future__ import annotations

from typing import BinaryIO

from dosewise.domain.pharmacy_check import PharmacyCheck, check_pharmacy_page
from dosewise.services.page_text import (
    MAX_PAGE_BYTES,
    MAX_PASTED_CHARS,
    page_text_of_bytes,
    pasted_text,
    read_page_text,
)


def check_pharmacy_file(
    path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None
) -> PharmacyCheck:
    """The check of the page saved at ``path`` (HTML or text; ``-`` reads standard input)."""
    return check_pharmacy_page(read_page_text(path, max_bytes=max_bytes, stdin=stdin))


def check_pharmacy_bytes(
    data: bytes, *, max_bytes: int = MAX_PAGE_BYTES, name: str = "the page"
) -> PharmacyCheck:
    """The check of an uploaded page (the bytes already bounded by the caller)."""
    return check_pharmacy_page(page_text_of_bytes(data, max_bytes=max_bytes, name=name))


def check_pharmacy_text(text: str, *, max_chars: int = MAX_PASTED_CHARS) -> PharmacyCheck:
    """The check of pasted text (a web form): refused when empty, longer than ``max_chars`` or
    holding a NUL character."""
    return check_pharmacy_page(pasted_text(text, what="the pharmacy's page", max_chars=max_chars))
