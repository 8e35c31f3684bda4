"""Reading a page for the article check: HTML to text, and bad input (empty, binary, too big)
refused with one clear sentence, with memory bounded whatever the file's size."""

from __future__ import annotations

import tracemalloc

import pytest

from dosewise.errors import InputError
from dosewise.services.articles import check_article_bytes, check_article_file
from dosewise.services.page_text import MAX_PAGE_BYTES, decode_page, html_to_text, read_page_bytes

PAGE = """<!DOCTYPE html>
<html><head><title>Baclofen &amp; you</title>
<style>p { color: red } .x:before { content: "Never stop baclofen suddenly." }</style>
<script>var claim = "You can stop baclofen abruptly at any time.";</script></head>
<body><nav>Home | Shop</nav>
<article><h1>Baclofen dosing</h1>
<p>The maximum dose is 120&nbsp;mg per day.</p>
<p>Adults start with 5 mg three times a day.<br>If you miss a dose, take it as soon as you remember.</p>
<ul><li>Your dose depends on your body weight.</li></ul>
</article></body></html>
"""


def test_html_page_is_read_as_its_visible_text(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    report = check_article_file(str(path))
    assert [(c.text, c.verdict) for c in report.check.claims] == [
        ("The maximum dose is 120 mg per day.", "contradicts"),
        ("Adults start with 5 mg three times a day.", "agrees"),
        ("If you miss a dose, take it as soon as you remember.", "agrees"),
        ("Your dose depends on your body weight.", "contradicts"),
    ]
    # script and style text is never read as a claim
    assert not any("abruptly" in c.text or "suddenly" in c.text for c in report.check.claims)
    assert set(report.citations) == set(report.check.sources)
    assert report.citations["US-TAB"].startswith("US baclofen tablet labels")
    assert "Decision support only" in report.disclaimer


def test_html_to_text_one_line_per_block():
    assert html_to_text("<p>One &amp; two</p><div>Three<br/>four</div>") == "One & two\nThree\nfour"


def test_plain_text_page(tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes("\ufeffBaclofen is completely safe during pregnancy.\n".encode())
    (claim,) = check_article_file(str(path)).check.claims
    assert (claim.topic, claim.verdict) == ("pregnancy", "contradicts")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file"),
        (b"<html><body><script>x()</script></body></html>", "has no text to check"),
    ],
)
def test_bad_files_are_refused_with_one_sentence(tmp_path, content, message):
    path = tmp_path / "page.bin"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        check_article_file(str(path))
    assert "\n" not in str(error.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        check_article_file(str(tmp_path / "nope.html"))
    with pytest.raises(InputError, match="is a folder"):
        check_article_file(str(tmp_path))


def test_a_50_mb_page_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.html"
    with open(path, "wb") as file:
        file.truncate(50 * 1024 * 1024)  # 50 MB (sparse: the test does not write 50 MB)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"is 50 MB: larger than the 5 MB limit"):
            check_article_file(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024


def test_never_reads_more_than_the_limit(tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes(b"a" * 2000)
    with pytest.raises(InputError, match="larger than"):
        read_page_bytes(str(path), max_bytes=1000)
    assert read_page_bytes(str(path), max_bytes=2000) == b"a" * 2000
    assert MAX_PAGE_BYTES == 5 * 1024 * 1024


def test_uploaded_bytes_over_the_limit():
    with pytest.raises(InputError, match="larger than the 5 MB limit"):
        check_article_bytes(b"a" * (MAX_PAGE_BYTES + 1))
    assert check_article_bytes(b"Never stop baclofen suddenly.").check.count("agrees") == 1


def test_decode_page_leaves_text_that_is_not_html_alone():
    assert decode_page(b"Take 5 mg <b>three</b> times a day") == "Take 5 mg <b>three</b> times a day"
