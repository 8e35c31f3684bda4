"""`dosewise check-article FILE [--json]`: the JSON contract, the text output, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json

SEEDS = Path(__file__).parent.parent / "data" / "seeds"


def test_check_article_json_contract(capsys):
    (seed,) = SEEDS.glob("001_*.txt")
    data = run_json(capsys, "check-article", str(seed))
    assert set(data) == {"claims", "counts", "truncated", "sources", "disclaimer"}
    assert data["claims"] and data["truncated"] is False
    assert data["counts"] == {v: [c["verdict"] for c in data["claims"]].count(v) for v in data["counts"]}
    for claim in data["claims"]:
        assert set(claim) == {"text", "topic", "verdict", "reference", "sources"}
        assert claim["verdict"] in {"agrees", "contradicts", "not_covered"}
        assert claim["reference"] and claim["sources"]
        assert set(claim["sources"]) <= set(data["sources"])
    weight = [
        c for c in data["claims"] if c["text"].startswith("Patients with a higher body weight may require")
    ]
    assert [c["verdict"] for c in weight] == ["contradicts"]
    assert data["sources"]["UK"] == "UK SmPC for baclofen / Lioresal tablets"
    assert "Decision support only" in data["disclaimer"]


def test_check_article_text_output(capsys, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("The maximum dose is 120 mg per day.\nNever stop baclofen suddenly.\n", encoding="utf-8")
    code, out, err = run(capsys, "check-article", str(page))
    assert (code, err) == (0, "")
    assert out.startswith("2 checkable claims: 1 agree, 1 contradict the label, 0 not covered.")
    assert "[CONTRADICTS] The maximum dose is 120 mg per day." in out
    assert "label: The labelled maximum is 80 mg/day; up to 120 mg/day only in carefully monitored" in out
    assert "hospital settings. [US-TAB, FR]" in out
    assert "[agrees] Never stop baclofen suddenly." in out
    assert "  [US-TAB] US baclofen tablet labels" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\x00\x01\x02binary", "is a binary file")],
)
def test_check_article_bad_input_one_line_exit_2(capsys, tmp_path, content, message):
    page = tmp_path / "page.html"
    page.write_bytes(content)
    code, out, err = run(capsys, "check-article", str(page))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err and err.startswith("dosewise: error: ")


def test_check_article_50_mb_page(capsys, tmp_path):
    page = tmp_path / "huge.html"
    with open(page, "wb") as file:
        file.truncate(50 * 1024 * 1024)
    code, out, err = run(capsys, "check-article", str(page))
    assert (code, out) == (2, "")
    limit = "is 50 MB: larger than the 5 MB limit for a page (save only the page itself)"
    assert err == f"dosewise: error: {page} {limit}\n"
