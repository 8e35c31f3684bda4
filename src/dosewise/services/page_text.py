"""A saved web page (HTML or plain text) read as plain text, with a size limit: the one input
reader of the page checks (is this online pharmacy safe?, does this article agree with the label?).

One reader for every page check and every interface (CLI file or standard input, web upload,
pasted text), so each refuses the same bad input the same way with an :class:`InputError`
(``field="file"``) saying what to fix: a missing file, a folder, an empty file, a binary file, a
page over the limit, HTML without text. Memory is bounded: a file's size is checked before it is
read, and at most ``max_bytes + 1`` bytes are ever read (a growing file or a pipe cannot make it
hold more). Text is UTF-8 (with or without BOM), UTF-16 with a BOM (Windows Notepad's "Unicode")
or, for older pages, Windows-1252. HTML is turned into text with the standard library's
``html.parser``: scripts and styles dropped, noscript and template dropped when closed (an
unclosed element never hides the rest of the page), block elements end a line. No network
access: links are never followed.
"""

from __future__ import annotations

import os
import re
import sys
from html import unescape
from html.parser import HTMLParser
from typing import BinaryIO

from dosewise.errors import InputError

MAX_PAGE_BYTES = 5 * 1024 * 1024  # setting: a saved page larger than this is refused (5 MB)
# setting: pasted text longer than this is refused. A character is at most 4 bytes of UTF-8 (a
# line break, counted once, is sent as CR LF): a paste within it always fits the body the check
# routes take for a page (web/routes/checks.py), so it is checked and not dropped as too large
MAX_PASTED_CHARS = MAX_PAGE_BYTES // 4
STDIN = "-"

# Content never shown: dropped. Not "head" (its end tag may be missing), and not svg, iframe or
# object (their text can be shown; unclosed, they would hide the rest of the page).
_DROPPED = frozenset({"script", "style"})  # html.parser reads them to their end tag as raw text
# Shown only without scripts, or never: dropped when closed; when left unclosed, their text is kept
# (an unclosed one must not hide the rest of the page).
_HELD = frozenset({"noscript", "template"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
        "section", "table", "td", "th", "title", "tr", "ul",
    }
)  # fmt: skip
_LOOKS_LIKE_HTML = re.compile(
    r"<\s*(!doctype\s+html|html|body|head|p|div|article|br|h[1-6]|li|span|a\s|table|meta)\b", re.IGNORECASE
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


class _TextOfHtml(HTMLParser):
    """Collects the text a reader sees: no scripts or styles; block elements end a line. The text
    of a noscript or template is held until its end tag drops it; :meth:`text` keeps what is still
    held (an element never closed). Memory: the held text is part of the page's text, no more."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.held: list[str] = []
        self.dropping = 0  # open script/style elements
        self.holding = 0  # open noscript/template elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropping += 1
        elif tag in _HELD:
            self.holding += 1
        elif tag in _BLOCKS:
            self._add("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropping = max(0, self.dropping - 1)
        elif tag in _HELD:
            if self.holding:
                self.holding -= 1
                if not self.holding:
                    self.held.clear()
        elif tag in _BLOCKS:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self._add(data)

    def _add(self, data: str) -> None:
        (self.held if self.holding else self.parts).append(data)

    def text(self) -> str:
        """The text read so far, with what an unclosed noscript or template still holds."""
        return "".join(self.parts) + "".join(self.held)


FEED_CHARS = 64 * 1024  # the parser is fed this much at a time
HELD_CHARS = 128 * 1024  # an unfinished tag or comment longer than this is not waited for
CLOSE_CHARS = 16 * 1024  # what is left unfinished at the end, above this, is read by _strip_tags

# The fallback reader: comments, scripts and styles (to their end tag or the end of the page),
# tags and declarations, each found in one pass (possessive and lazy parts: no backtracking
# over the page). The text of other elements (noscript, template, svg ...) is kept.
_FALLBACK = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style)\b[^>]*+>.*?(?:</\1\s*>|\Z)"
    r"|</?([a-zA-Z][\w:-]*+)[^<>]*+>"
    r"|<[!?][^<>]*+>",
    re.IGNORECASE | re.DOTALL,
)


def _strip_tags(page: str) -> str:
    """Text of HTML that ``html.parser`` cannot read in linear time: tags and comments dropped,
    scripts and styles dropped, block elements end a line, character references decoded."""
    parts: list[str] = []
    at = 0
    for match in _FALLBACK.finditer(page):
        parts.append(page[at : match.start()])
        if (match.group(2) or "").lower() in _BLOCKS:
            parts.append("\n")
        at = match.end()
    parts.append(page[at:])
    return unescape("".join(parts))


def _parsed_text(page: str) -> str:
    """The text ``html.parser`` finds, fed a piece at a time. The standard library's parser (this
    Python's) reads an unfinished construct again from its start on every piece, and at the end
    tries each ``<`` of an unfinished stretch up to the end of the page: quadratic on pages such as
    ``<p<p<p...`` or ``<p a="x<p a="x...``. So what it holds unfinished is bounded (HELD_CHARS)
    and so is what it is left to finish at the end (CLOSE_CHARS); above either, the rest of the
    page is read by _strip_tags. A malformed declaration (``<![x``) makes the parser raise: the
    whole page is then read by _strip_tags."""
    parser = _TextOfHtml()
    fed = 0
    try:
        while fed < len(page) and len(parser.rawdata) <= HELD_CHARS:
            parser.feed(page[fed : fed + FEED_CHARS])
            fed += FEED_CHARS
        rest = parser.rawdata + page[fed:]
        if len(rest) <= CLOSE_CHARS:
            parser.close()
            return parser.text()
    except AssertionError:  # _markupbase: "unknown status keyword ... in marked section"
        return _strip_tags(page)
    if parser.cdata_elem:  # inside a script or style: it ends at its end tag, if any
        end = re.search(rf"</{parser.cdata_elem}\b[^>]*+>", rest, re.IGNORECASE)
        rest = rest[end.end() :] if end else ""
    return parser.text() + _strip_tags(rest)


# a "<" that starts nothing (not a tag, end tag, comment, declaration or processing instruction):
# html.parser passes it on as text one character at a time (seconds for a page of them), as
# "&lt;" it is text like the rest, decoded the same
_STRAY_LT = re.compile(r"<(?![a-zA-Z/!?])")


def html_to_text(html: str) -> str:
    """The text of an HTML page, one line per block, blank lines and runs of spaces removed."""
    lines = (" ".join(line.split()) for line in _parsed_text(_STRAY_LT.sub("&lt;", html)).splitlines())
    return "\n".join(line for line in lines if line)


def is_html(text: str, *, name: str = "") -> bool:
    """True for a .htm/.html file or text that starts like HTML (its first 4 KB has HTML tags)."""
    return name.lower().endswith((".htm", ".html", ".xhtml")) or bool(_LOOKS_LIKE_HTML.search(text[:4096]))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def too_large(
    name: str, max_bytes: int, size: int | None = None, *, advice: str = "save only the page itself"
) -> InputError:
    """The refusal of a page over ``max_bytes`` (its size when known), with what to do instead."""
    shown = None if size is None else _megabytes(size)
    said = f" is {shown}:" if shown is not None and shown != _megabytes(max_bytes) else " is"
    return InputError(
        f"{name}{said} larger than the {_megabytes(max_bytes)} limit for a page ({advice})",
        field="file",
    )


def read_page_bytes(path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None) -> bytes:
    """The bytes of the file at ``path`` (``-``: standard input), at most ``max_bytes`` of them.

    Refused (InputError) when missing, a folder, unreadable or larger than ``max_bytes``; the size
    is checked before reading, and never more than ``max_bytes + 1`` bytes are read.
    """
    name = "standard input" if path == STDIN else path
    try:
        if path == STDIN:
            data = (stdin or sys.stdin.buffer).read(max_bytes + 1)
        else:
            if os.path.isdir(path):
                raise InputError(f"{name} is a folder, not a file", field="file")
            size = os.stat(path).st_size
            if size > max_bytes:
                raise too_large(name, max_bytes, size)
            with open(path, "rb") as file:
                data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", field="file") from None
    except OSError as error:
        raise InputError(f"cannot read {name}: {error.strerror or error}", field="file") from None
    if len(data) > max_bytes:
        raise too_large(name, max_bytes)
    return data


def _utf16_text(data: bytes) -> str | None:
    """``data`` decoded as UTF-16 when it starts with a UTF-16 byte order mark (Windows Notepad's
    "Unicode" save), else None. Undecodable (an odd length, a lone surrogate): None, so the bytes
    are then tested as they are (their NUL bytes make them binary)."""
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    try:
        return data.decode("utf-16")  # the byte order mark says which order, and is dropped
    except UnicodeDecodeError:
        return None


def decode_page(data: bytes, *, name: str = "the page") -> str:
    """``data`` as plain text (HTML turned into text); InputError when empty, binary or textless.
    UTF-16 with a byte order mark is decoded first (its bytes hold NULs); then the binary test is
    on the decoded characters."""
    utf16 = _utf16_text(data)
    if not (data.strip() if utf16 is None else utf16.strip()):
        raise InputError(f"{name} is empty: save the page (HTML or text) or paste its text", field="file")
    if utf16 is None:
        head = data[:65536]
        binary = b"\x00" in data or len(_CONTROL.findall(head)) > max(8, len(head) // 100)
    else:
        head_text = utf16[:65536]
        binary = "\x00" in utf16 or len(_CONTROL_TEXT.findall(head_text)) > max(8, len(head_text) // 100)
    if binary:
        raise InputError(f"{name} is a binary file, not a web page or text", field="file")
    if utf16 is not None:
        text = utf16
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if is_html(text, name=name):
        text = html_to_text(text)
    if not text.strip():
        raise InputError(f"{name} has no text to check", field="file")
    return text


def read_page_text(path: str, *, max_bytes: int = MAX_PAGE_BYTES, stdin: BinaryIO | None = None) -> str:
    """The plain text of the page saved at ``path`` (``-``: standard input), HTML turned into text."""
    name = "standard input" if path == STDIN else path
    return decode_page(read_page_bytes(path, max_bytes=max_bytes, stdin=stdin), name=name)


def page_text_of_bytes(data: bytes, *, max_bytes: int = MAX_PAGE_BYTES, name: str = "the page") -> str:
    """The plain text of an uploaded page whose bytes the caller already read (bounded)."""
    if len(data) > max_bytes:
        raise too_large(name, max_bytes, len(data))
    return decode_page(data, name=name)


def pasted_text(text: str, *, what: str = "the page", max_chars: int = MAX_PASTED_CHARS) -> str:
    """Pasted text, checked: refused (InputError, ``field="text"``) when empty, longer than
    ``max_chars`` (a CR LF line break, as a browser sends it, counted as one) or holding a NUL
    character (nothing pasted is a binary file)."""
    if not text.strip():
        raise InputError(f"paste the text of {what}", field="text")
    if len(text) > max_chars and len(text) - text.count("\r\n") > max_chars:
        raise InputError(
            f"the pasted text is longer than {max_chars:,} characters (the limit for a page):"
            " paste the page only",
            field="text",
        )
    if "\x00" in text:
        raise InputError("the text has a NUL character (\\u0000): paste the page's text only", field="text")
    return text
