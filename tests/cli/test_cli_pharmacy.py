"""``dosewise check-pharmacy FILE [--json]`` (issue 16, point 3): the JSON contract, HTML pages,
and bad input (empty, binary, over the size limit): one line on stderr, exit 2."""

from __future__ import annotations

import json
import tracemalloc

from conftest import run_cli as run
from conftest import run_cli_json as run_json

ROGUE_HTML = """<!DOCTYPE html>
<html><head><title>MegaMeds</title><style>p { color: red }</style>
<script>var offer = "licensed pharmacist, 1 Main Street";</script></head>
<body><h1>Cheapest Baclofen &amp; Valium!</h1>
<p>No prescription needed.</p><div>We ship worldwide.</div>
</body></html>
"""

LEGITIMATE_TEXT = """Main Street Pharmacy - mainstreet.pharmacy
1200 Oak Avenue, Springfield, IL 62701. Phone (217) 555-0134. Pharmacy license number 054.012345.
A valid prescription is required. Talk to a licensed pharmacist 9am to 6pm. Privacy Policy.
"""


def test_json_contract_of_a_rogue_html_page(tmp_path, capsys):
    page = tmp_path / "megameds.html"
    page.write_text(ROGUE_HTML, encoding="utf-8")
    data = run_json(capsys, "check-pharmacy", str(page))
    assert set(data) == {"verdict", "flags", "to_check", "sources", "disclaimer"}
    assert data["verdict"] == "warning_signs"
    for flag in data["flags"]:
        assert set(flag) == {"code", "text", "evidence", "sources"}
    by_code = {flag["code"]: flag for flag in data["flags"]}
    # the words a reader sees, the entity decoded; the script's words are not on the page
    assert by_code["no_prescription"]["evidence"] == "No prescription needed."
    assert by_code["deep_discount"]["evidence"] == "Cheapest Baclofen & Valium!"
    assert by_code["controlled_without_prescription"]["evidence"] == "Cheapest Baclofen & Valium!"
    assert by_code["ships_worldwide_or_from_abroad"]["evidence"] == "We ship worldwide."
    assert by_code["missing_licensed_pharmacist"]["evidence"] == "not found"
    assert by_code["missing_us_street_address"]["evidence"] == "not found"
    assert by_code["missing_us_street_address"]["text"].startswith("Not found on the page: a physical street")
    assert {"P2", "P2b", "P12"} <= {source["key"] for source in data["sources"]}
    assert all(set(source) == {"key", "citation"} for source in data["sources"])
    assert all(set(check) == {"text", "sources"} for check in data["to_check"])
    assert "cannot confirm it is safe" in data["disclaimer"]
    assert "does not replace your prescriber, pharmacist or emergency services" in data["disclaimer"]


def test_a_legitimate_text_page_has_no_flags_and_is_not_called_safe(tmp_path, capsys):
    page = tmp_path / "pharmacy.txt"
    page.write_text(LEGITIMATE_TEXT, encoding="utf-8")
    data = run_json(capsys, "check-pharmacy", str(page))
    assert data["verdict"] == "no_warning_signs_found"
    assert data["flags"] == []
    assert "does not prove a pharmacy is safe" in data["disclaimer"]
    code, out, err = run(capsys, "check-pharmacy", str(page))
    assert (code, err) == (0, "")
    for text in ("Verdict: no warning signs found", "1200 Oak Avenue", "Check by hand:", "UNCONFIRMED"):
        assert text in out


def test_the_table_names_the_evidence_and_the_sources(tmp_path, capsys):
    page = tmp_path / "megameds.html"
    page.write_text(ROGUE_HTML, encoding="utf-8")
    code, out, err = run(capsys, "check-pharmacy", str(page))
    assert (code, err) == (0, "")
    for text in ("Verdict: warning signs", 'found: "No prescription needed."', "[P2][P6][P12]",
                 "cannot confirm it is safe", "state board of pharmacy"):  # fmt: skip
        assert text in out


def _fails(capsys, *argv: str) -> str:
    code, out, err = run(capsys, "check-pharmacy", *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_an_empty_file_is_refused(tmp_path, capsys):
    page = tmp_path / "empty.html"
    page.write_bytes(b"")
    assert "empty" in _fails(capsys, str(page))
    page.write_bytes(b"  \n\t\n")
    assert "empty" in _fails(capsys, str(page))


def test_a_page_without_text_is_refused(tmp_path, capsys):
    page = tmp_path / "blank.html"
    page.write_text("<html><head><script>x=1</script></head><body></body></html>")
    assert "no text" in _fails(capsys, str(page))


def test_a_binary_file_is_refused(tmp_path, capsys):
    page = tmp_path / "photo.png"
    page.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert "binary" in _fails(capsys, str(page))


def test_a_missing_file_and_a_folder_are_refused(tmp_path, capsys):
    assert "no such file" in _fails(capsys, str(tmp_path / "nowhere.html"))
    assert "folder" in _fails(capsys, str(tmp_path))


def test_a_50_mb_page_is_refused_reading_at_most_the_limit(tmp_path, capsys):
    page = tmp_path / "huge.html"
    with page.open("wb") as file:
        chunk = b"<p>No prescription needed. " + b"x" * 1000 + b"</p>\n"
        for _ in range(50 * 1024 * 1024 // len(chunk) + 1):
            file.write(chunk)
    assert page.stat().st_size >= 50 * 1024 * 1024
    tracemalloc.start()
    try:
        err = _fails(capsys, str(page))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than the 5 MB limit" in err
    assert peak < 12 * 1024 * 1024  # the 5 MB read (+1 byte), never the 50 MB file


def test_standard_input_is_read_with_a_dash(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Buy now, no prescription needed!")))
    data = run_json(capsys, "check-pharmacy", "-")
    assert data["verdict"] == "warning_signs"
    assert json.dumps(data)  # plain JSON
