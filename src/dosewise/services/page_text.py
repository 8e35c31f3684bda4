"""A saved web page (HTML or plain text) read as plain text, with a size limit: the input of the
page checks of issue 16 (is this online pharmacy safe?, does this article agree with the label?).

Shared: one reader for every page check, so each rejects the same bad input the same way (an
empty file, a binary file, a file over the limit) with an :class:`InputError` saying what to fix.
Memory is bounded: at most ``max_bytes + 1`` bytes are read, however large the file. HTML is
turned into text with the standard library's ``html.parser`` (no dependency in the project parses
HTML to text; scripts and styles are dropped, block elements end a line). No network.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO

from dosewise.errors import InputError

MAX_PAGE_BYTES = 5 * 1024 * 1024  # setting: a saved page larger than this is refused (5 MB)
STDIN = "-"

_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "svg"}
)  # not "head": its end tag may be missing
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
        "section", "table", "td", "th", "title", "tr", "ul",
    }
)  # fmt: skip
_LOOKS_LIKE_HTML = re.compile(
    r"<(!doctype\s+html|html|body|head|p|div|br|span|a\s|table|meta)\b", re.IGNORECASE
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


class _TextOfHtml(HTMLParser):
    """Collects the text a reader sees: no scripts or styles; block elements end a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def convert_html_to_text(html: str) -> str:
    """The text of an HTML page, one line per block, blank lines and runs of spaces removed."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def is_html(text: str, *, name: str = "") -> bool:
    """True for a .htm/.html file or text that starts like HTML (its first 4 KB has HTML tags)."""
    return name.lower().endswith((".htm", ".html", ".xhtml")) or bool(_LOOKS_LIKE_HTML.search(text[:4096]))


def decode_page(data: bytes, *, name: str) -> str:
    """``data`` as text (UTF-8, or Windows-1252 for older pages); a binary file is refused."""
    if b"\x00" in data or len(_CONTROL.findall(data[:65536])) > max(8, len(data[:65536]) // 100):
        raise InputError(f"{name} is not a text or HTML file (it looks binary)", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_page_text(path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None) -> str:
    """The plain text of the page saved at ``path`` (``-``: standard input), HTML turned into text.

    Raises :class:`InputError` (``field="file"``) when the file cannot be read, is empty, is
    binary, is larger than ``max_bytes`` or has no text. Reads at most ``max_bytes + 1`` bytes.
    """
    name = "standard input" if path == STDIN else path
    try:
        if path == STDIN:
            data = (stdin or sys.stdin.buffer).read(max_bytes + 1)
        else:
            with Path(path).open("rb") as file:
                data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", field="file") from None
    except IsADirectoryError:
        raise InputError(f"{name} is a folder, not a file", field="file") from None
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}", field="file") from None
    if len(data) > max_bytes:
        raise InputError(
            f"{name} is larger than {max_bytes / 1024 / 1024:g} MB: save only the page itself", field="file"
        )
    if not data.strip():
        raise InputError(f"{name} is empty: save the page (HTML or text) or paste its text", field="file")
    text = decode_page(data, name=name)
    if is_html(text, name=name):
        text = convert_html_to_text(text)
    if not text.strip():
        raise InputError(f"{name} has no text to check", field="file")
    return text
