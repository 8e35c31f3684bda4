"""The shared page reader (services/page_text.py) and pasted text for the pharmacy check."""

from __future__ import annotations

import pytest

from dosewise.errors import InputError
from dosewise.services.page_text import html_to_text, read_page_text
from dosewise.services.pharmacy_checks import check_pharmacy_file, check_pharmacy_text


def test_html_becomes_the_text_a_reader_sees_one_line_per_block():
    html = (
        "<html><head><title>t</title><style>a{}</style></head><body><h1>Baclofen&nbsp;10 mg</h1>"
        "<p>Order <b>now</b>.</p><ul><li>one</li><li>two</li></ul><script>hidden()</script>"
        "<noscript>also hidden</noscript>Tail</body></html>"
    )
    assert html_to_text(html) == "t\nBaclofen 10 mg\nOrder now.\none\ntwo\nTail"


def test_an_older_windows_1252_page_is_read(tmp_path):
    page = tmp_path / "old.txt"
    page.write_bytes("Caf\u00e9 pharmacy \u2013 no prescription needed".encode("cp1252"))
    assert read_page_text(str(page)) == "Caf\u00e9 pharmacy \u2013 no prescription needed"


def test_a_file_just_over_the_limit_is_refused_and_one_at_the_limit_is_read(tmp_path):
    page = tmp_path / "page.txt"
    page.write_bytes(b"a" * 100)
    assert read_page_text(str(page), max_bytes=100) == "a" * 100
    page.write_bytes(b"a" * 101)
    with pytest.raises(InputError, match="larger than") as error:
        read_page_text(str(page), max_bytes=100)
    assert error.value.field == "file"


def test_pasted_text_is_checked_and_empty_or_too_long_text_is_refused():
    assert check_pharmacy_text("No prescription needed!").verdict == "warning_signs"
    with pytest.raises(InputError, match="paste") as error:
        check_pharmacy_text("   ")
    assert error.value.field == "text"
    with pytest.raises(InputError, match="longer than 10"):
        check_pharmacy_text("x" * 11, max_chars=10)


def test_malformed_html_is_read_without_a_traceback():
    # the standard library's parser raises on an unknown marked section: the fallback reads it
    assert html_to_text("<html><![x>hello <b>world</b>") == "hello world"


def test_a_page_of_unfinished_tags_is_read_by_the_fallback_and_keeps_the_text_before():
    page = "<html><body><p>Baclofen 10 mg.</p>" + '<p a="x' * 60_000
    text = html_to_text(page)
    assert text.startswith("Baclofen 10 mg.")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_text_file_with_a_byte_order_mark_is_read(tmp_path, encoding):
    # Windows Notepad's "Unicode" save: UTF-16 with a byte order mark
    page = tmp_path / "notepad.txt"
    text = "No prescription needed. Buy Valium now. Caf\u00e9 \u2013 10 mg"
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    page.write_bytes(bom + text.encode(encoding))
    assert read_page_text(str(page)) == text
    assert check_pharmacy_file(str(page)).verdict == "warning_signs"


def test_utf16_without_a_byte_order_mark_or_with_nul_characters_is_still_binary(tmp_path):
    page = tmp_path / "page.txt"
    page.write_bytes("No prescription needed.".encode("utf-16-le"))  # no BOM: NUL bytes
    with pytest.raises(InputError, match="binary"):
        read_page_text(str(page))
    page.write_bytes(b"\xff\xfe" + "ab\x00\x00\x00cd".encode("utf-16-le"))
    with pytest.raises(InputError, match="binary"):
        read_page_text(str(page))


@pytest.mark.parametrize("tag", ["svg", "iframe", "object"])
def test_an_unclosed_svg_iframe_or_object_does_not_hide_the_rest_of_the_page(tag):
    html = (
        f'<html><body><p>Buy Valium.</p><{tag} width="10"><p>No prescription needed for Valium.</p>'
        "</body></html>"
    )
    assert html_to_text(html) == "Buy Valium.\nNo prescription needed for Valium."


def test_an_unclosed_noscript_or_template_does_not_hide_the_rest_but_a_closed_one_is_hidden():
    for tag in ("noscript", "template"):
        html = f"<p>Buy Valium.</p><{tag}><p>No prescription needed.</p></body></html>"
        assert html_to_text(html) == "Buy Valium.\nNo prescription needed.", tag
        closed = f"<p>Buy Valium.</p><{tag}><p>hidden</p></{tag}><p>Tail</p>"
        assert html_to_text(closed) == "Buy Valium.\nTail", tag


def test_the_text_of_a_closed_svg_is_read():
    assert html_to_text("<p>A</p><svg><text>Order now</text></svg><p>B</p>") == "A\nOrder now\nB"
