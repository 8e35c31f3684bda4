"""A saved web page or text file as plain text, read with a size limit (issue 16's checkers).

The file's size is checked before it is read, and at most ``max_bytes + 1`` bytes are ever read
(a file that grows, or a device, cannot make it hold more): a 50 MB page costs no more memory than
the limit. An empty file, a binary file (NUL bytes, or not UTF-8 text) and a file over the limit
are :class:`InputError` with one sentence saying what is wrong. HTML is turned into text with the
standard library's :mod:`html.parser` (script, style and other non-text elements dropped, block
elements ending a line). No network access: links are never followed.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

from dosewise.errors import InputError

MAX_PAGE_BYTES = 5 * 1024 * 1024  # product default: a saved article page is far smaller
_HTML_SNIFF = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|p|div|article|br|h[1-6]|li|span|meta)\b", re.I
)
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head", "title", "iframe", "object"})
_BLOCK = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table",
    "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd", "dt", "hr", "main",
})  # fmt: skip


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_page_bytes(path: str, *, max_bytes: int = MAX_PAGE_BYTES, field: str = "file") -> bytes:
    """The bytes of the file at ``path``, refused when missing, not a regular file, empty or
    larger than ``max_bytes``."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", field=field) from None
    if os.path.isdir(path):
        raise InputError(f"{path} is a folder, not a file", field=field)
    if info.st_size > max_bytes:
        raise InputError(
            f"{path} is {_megabytes(info.st_size)}: larger than the {_megabytes(max_bytes)} limit "
            "for a page (save just the article)",
            field=field,
        )
    try:
        with open(path, "rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", field=field) from None
    if len(data) > max_bytes:
        raise InputError(f"{path} is larger than the {_megabytes(max_bytes)} limit for a page", field=field)
    return data


def decode_page(data: bytes, *, name: str = "the page", field: str = "file") -> str:
    """``data`` as text: HTML turned into plain text; InputError when empty or binary."""
    if not data.strip():
        raise InputError(f"{name} is empty: save the article's page or its text", field=field)
    if b"\x00" in data:
        raise InputError(f"{name} is a binary file, not a web page or text", field=field)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"{name} is not text in UTF-8 (a binary file?): save the page as HTML or text", field=field
        ) from None
    if _HTML_SNIFF.search(data[:4096]):
        text = html_to_text(text)
    if not text.strip():
        raise InputError(f"{name} has no readable text", field=field)
    return text


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of ``html``, one line per block element."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
