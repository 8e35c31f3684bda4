"""Is this online pharmacy safe? A saved page or pasted text checked against the BeSafeRx, NABP
and LegitScript criteria of the clinical reference (issue 16, point 3).

The page is read with :mod:`dosewise.services.page_text` (the size limit, binary and empty files
refused) and checked by :func:`dosewise.domain.pharmacy_check.check_pharmacy_page`. Nothing is
stored and nothing is looked up on the network: what needs a look-up is in ``to_check``.
"""

from __future__ import annotations

from typing import BinaryIO

from dosewise.domain.pharmacy_check import PharmacyCheck, check_pharmacy_page
from dosewise.errors import InputError
from dosewise.services.page_text import MAX_PAGE_BYTES, read_page_text

MAX_PASTED_CHARS = MAX_PAGE_BYTES  # setting: pasted text longer than this is refused


def check_pharmacy_file(
    path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None
) -> PharmacyCheck:
    """The check of the page saved at ``path`` (HTML or text; ``-`` reads standard input)."""
    return check_pharmacy_page(read_page_text(path, max_bytes=max_bytes, stdin=stdin))


def check_pharmacy_text(text: str, *, max_chars: int = MAX_PASTED_CHARS) -> PharmacyCheck:
    """The check of pasted text (a web form): refused when empty or longer than ``max_chars``."""
    if not text.strip():
        raise InputError("paste the text of the pharmacy's page", field="text")
    if len(text) > max_chars:
        raise InputError(f"the text is longer than {max_chars} characters: paste the page only", field="text")
    return check_pharmacy_page(text)
