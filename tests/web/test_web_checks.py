"""Check a pharmacy or article (issue 16): the page (paste or upload) and the API, for every
signed-in role. Expected results are written by hand from the pages below and the seed pages
(tests/data/seeds, copies of ../shared/seeds; read by hand in tests/domain/test_pharmacy_check.py
and tests/domain/test_article_check.py). Bad input gives the form again with the reason; a page
over the 5 MB limit is never held in memory; nothing is stored."""

from __future__ import annotations

import asyncio
import html
import json
import re
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, func, select

from conftest import csrf_of, run_cli_json, sign_up, web_settings
from dosewise.services.page_text import MAX_PAGE_BYTES, MAX_PASTED_CHARS
from dosewise.web.app import UPLOAD_DRAIN_BYTES, create_app
from dosewise.web.routes.checks import UPLOAD_BODY_BYTES

DATA = Path(__file__).parents[1] / "data"
SEEDS = sorted((DATA / "seeds").glob("0*.txt"))
ARTICLE_SEED_001 = DATA / "seeds" / "001_707be3bd6e6d2ed7.txt"
MIB = 1024 * 1024
CANNOT_CONFIRM = "cannot confirm it is safe"

LEGITIMATE_HTML = """<!DOCTYPE html>
<html><head><title>Main Street Pharmacy</title><script>var x = "No prescription needed";</script></head>
<body><header>Main Street Pharmacy - mainstreet.pharmacy</header>
<p>Licensed pharmacy, 1200 Oak Avenue, Suite 4, Springfield, IL 62701. Phone (217) 555-0134.</p>
<p>Illinois pharmacy license number 054.012345.</p>
<p>A valid prescription is required for all prescription medicines; we contact your doctor to verify it.</p>
<p>Talk to a licensed pharmacist Monday to Saturday, 9am to 6pm.</p>
<footer><a href="/privacy">Privacy Policy</a></footer></body></html>
"""

ROGUE_HTML = """<!DOCTYPE html>
<html><head><title>MegaMeds</title><style>p { color: red }</style></head>
<body><h1>Cheapest Baclofen &amp; Valium!</h1>
<p>No prescription needed.</p><div>We ship worldwide.</div>
</body></html>
"""

ROGUE_TEXT = """MegaMeds Online - Cheapest Baclofen! No prescription needed.
Buy Valium and Soma too, all at 80% off this week.
We ship worldwide from our overseas warehouse. Contact us by email only: sales@megameds.example
FREE bonus pills with every order. Limited time offer!
"""

ARTICLE_HTML = """<!DOCTYPE html>
<html><head><title>Baclofen &amp; you</title>
<script>var claim = "You can stop baclofen abruptly at any time.";</script></head>
<body><article><h1>Baclofen dosing</h1>
<p>The maximum dose is 120&nbsp;mg per day.</p>
<p>Adults start with 5 mg three times a day.<br>If you miss a dose, take it as soon as you remember.</p>
<ul><li>Your dose depends on your body weight.</li></ul>
</article></body></html>
"""


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(web_settings(f"sqlite:///{tmp_path / 'checks.sqlite3'}"))


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "checks@example.org")
        yield web


def _token(client: TestClient) -> str:
    page = client.get("/checks")
    assert page.status_code == 200
    return csrf_of(page.text)


def _paste(client: TestClient, kind: str, text: str) -> Any:
    """The form as a browser sends it: multipart, the file input left empty."""
    return client.post(
        f"/checks/{kind}",
        data={"csrf_token": _token(client), "text": text},
        files={"file": ("", b"", "application/octet-stream")},
    )


def _upload(client: TestClient, kind: str, name: str, content: bytes, kind_of_file: str = "text/html") -> Any:
    return client.post(
        f"/checks/{kind}",
        data={"csrf_token": _token(client), "text": ""},
        files={"file": (name, content, kind_of_file)},
    )


def _words(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
    return re.sub(r" ([,.;:])", r"\1", text)


def _text(response: Any) -> str:
    return _words(response.text)


def _section(response: Any, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', response.text, re.S)
    assert found, f"no #{section_id} on the page"
    return _words(found[0])


def _refused(response: Any, message: str, *, status: int = 400, field: str | None = None) -> None:
    """The form again with the reason, and nothing else: no result."""
    assert response.status_code == status, response.text[:500]
    text = _text(response)
    assert f"Please check: {message}" in text or (message in text and "Please check:" in text), text[:600]
    assert "Check a pharmacy or article" in text and 'action="/checks/pharmacy' in response.text
    assert 'action="/checks/article' in response.text
    assert "check-result" not in response.text
    if field is not None:
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text), field


def _row_counts(app: Any) -> dict[str, int]:
    engine = app.state.context.engine
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in tables.tables.items()
        }


# --- the page, for everyone signed in ----------------------------------------------------------


def test_the_page_is_in_the_menu_and_asks_to_paste_or_upload(client: TestClient) -> None:
    account = client.get("/account")
    assert '<a href="/checks">Check a pharmacy or article</a>' in account.text
    page = client.get("/checks")
    assert page.status_code == 200
    assert 'href="/checks" aria-current="page"' in page.text
    for kind in ("pharmacy", "article"):
        assert f'action="/checks/{kind}#{kind}-result" enctype="multipart/form-data"' in page.text
        assert f'<input id="{kind}-file" name="file" type="file" accept=".html,.htm,.txt' in page.text
        assert f'<textarea id="{kind}-text" name="text"' in page.text
    assert (
        "Is this online pharmacy safe?" in page.text
        and "Does this article agree with the label?" in page.text
    )


def test_signed_out_people_are_sent_to_sign_in(app: Any) -> None:
    with TestClient(app, follow_redirects=False) as anonymous:
        page = anonymous.get("/checks")
        assert page.status_code == 303 and page.headers["location"] == "/sign-in?next=%2Fchecks"
        posted = anonymous.post("/checks/pharmacy", data={"text": ROGUE_TEXT})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/sign-in?next=")
        api = anonymous.post("/api/checks/article", json={"text": "Never stop baclofen suddenly."})
        assert api.status_code == 401


@pytest.mark.parametrize("role", ["caregiver", "clinician"])
def test_caregivers_and_clinicians_use_it_too(app: Any, role: str) -> None:
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, f"{role}@example.org", role=role)
        assert '<a href="/checks">' in web.get("/join").text
        answer = _paste(web, "pharmacy", ROGUE_TEXT)
        assert answer.status_code == 200
        assert "Result: warning signs found" in _section(answer, "pharmacy-result")
        article = _upload(web, "article", "page.html", ARTICLE_HTML.encode())
        assert "Result: 4 checkable claims" in _section(article, "article-result")


def test_the_address_of_a_result_opened_again_is_the_page(client: TestClient) -> None:
    for kind in ("pharmacy", "article"):
        again = client.get(f"/checks/{kind}")
        assert again.status_code == 303 and again.headers["location"] == "/checks"


def test_a_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    answer = client.post("/checks/pharmacy", data={"text": ROGUE_TEXT})
    assert answer.status_code == 403 and "this form has expired" in answer.text


# --- the pharmacy check -------------------------------------------------------------------------


def test_a_pasted_rogue_pharmacy_shows_each_warning_sign_with_the_pages_words(client: TestClient) -> None:
    answer = _paste(client, "pharmacy", ROGUE_TEXT)
    assert answer.status_code == 200
    result = _section(answer, "pharmacy-result")
    assert "Result: warning signs found" in result
    verdict = "Warning signs found: do not buy from this pharmacy until you have checked it; Dosewise"
    assert f"{verdict} {CANNOT_CONFIRM}" in result
    assert "Warning signs (6)" in result
    # each sign: in words, with the page's own words as evidence and the source keys
    assert (
        "Warning sign: Sells without a prescription: a safe online pharmacy always requires a valid "
        "prescription (BeSafeRx); LegitScript calls a pharmacy that sells without one rogue. [P2][P6][P12] "
        "The page says: “No prescription needed.”"
    ) in result
    assert "“We ship worldwide from our overseas warehouse.”" in result
    assert "“Contact us by email only: sales@megameds.example”" in result
    assert "“Buy Valium and Soma too, all at 80% off this week.”" in result
    assert "Signs of a legitimate pharmacy not on the page (7)" in result
    assert "Not found: A physical street address in the US" in result
    assert "Check by hand" in result and "state board of pharmacy" in result and "UNCONFIRMED" in result
    assert "[P2] FDA BeSafeRx criteria" in result and "[S13] Valium (diazepam) label" in result
    assert "Decision support only: Dosewise reads the page's own words and looks nothing up." in result
    # the form keeps what was pasted
    assert html.escape(ROGUE_TEXT.splitlines()[0], quote=False) in answer.text.split('id="pharmacy-text"')[1]


def test_an_uploaded_legitimate_pharmacy_shows_its_signs_and_is_never_called_safe(
    client: TestClient,
) -> None:
    answer = _upload(client, "pharmacy", "mainstreet.html", LEGITIMATE_HTML.encode())
    result = _section(answer, "pharmacy-result")
    assert "Result: no warning signs found" in result
    assert CANNOT_CONFIRM not in result and "does not prove a pharmacy is safe" in result
    assert "Warning sign:" not in result and "Not found:" not in result
    assert "Signs of a legitimate pharmacy on the page (7)" in result
    assert "“Illinois pharmacy license number 054.012345.”" in result
    assert "1200 Oak Avenue" in result and "(217) 555-0134" in result
    # the script's words are not the page's
    assert "No prescription needed" not in result


def test_an_uploaded_rogue_html_page_is_read_as_its_visible_text(client: TestClient) -> None:
    result = _section(_upload(client, "pharmacy", "megameds.htm", ROGUE_HTML.encode()), "pharmacy-result")
    assert "“Cheapest Baclofen & Valium!”" in result and "“No prescription needed.”" in result
    assert "color: red" not in result


def test_seed_001_a_shop_that_never_mentions_a_prescription_is_a_warning_sign(client: TestClient) -> None:
    """Seed 001 sells baclofen ("$0,51 per pill", "Order Now") and never says a prescription is
    needed: BeSafeRx [P2] and NABP [P6] list selling without a prescription as a warning sign."""
    seed = DATA / "seeds" / "001_707be3bd6e6d2ed7.txt"
    uploaded = _section(
        _upload(client, "pharmacy", seed.name, seed.read_bytes(), "text/plain"), "pharmacy-result"
    )
    assert "Result: warning signs found" in uploaded
    assert "Warning signs found: do not buy from this pharmacy until you have checked it" in uploaded
    assert CANNOT_CONFIRM in uploaded
    assert "“$0,51 per pill Order Now (Baclofen)”" in uploaded
    assert "Signs of a legitimate pharmacy not on the page (7)" in uploaded


@pytest.mark.parametrize("seed", [s for s in SEEDS if not s.name.startswith("001")], ids=lambda p: p.name[:3])
def test_the_seed_pages_show_no_warning_sign_and_none_of_a_legitimate_pharmacy(
    client: TestClient, seed: Path
) -> None:
    """As read by hand (tests/domain/test_pharmacy_check.py): the other seeds are articles that
    sell nothing, and show no sign of a legitimate pharmacy either: Dosewise cannot confirm them."""
    uploaded = _section(
        _upload(client, "pharmacy", seed.name, seed.read_bytes(), "text/plain"), "pharmacy-result"
    )
    pasted = _section(_paste(client, "pharmacy", seed.read_text(encoding="utf-8")), "pharmacy-result")
    for result in (uploaded, pasted):
        assert "Result: no warning signs found" in result
        assert (
            f"7 of the 7 signs of a legitimate pharmacy are not on the page: Dosewise {CANNOT_CONFIRM}"
            in result
        )
        assert "Signs of a legitimate pharmacy not on the page (7)" in result
        assert "Warning sign:" not in result and "on the page (7) A page can claim" not in result


# --- the article check --------------------------------------------------------------------------


def test_seed_001_uploaded_shows_the_weight_based_dosing_as_contradicting_the_label(
    client: TestClient,
) -> None:
    answer = _upload(client, "article", ARTICLE_SEED_001.name, ARTICLE_SEED_001.read_bytes(), "text/plain")
    result = _section(answer, "article-result")
    # read by hand (tests/domain/test_article_check.py): only the sentence saying the dose follows
    # body weight contradicts the adult label; age and vague weight sentences are not covered
    assert re.search(
        r"Result: \d+ checkable claims 1 contradicts the label, \d+ agree, \d+ not covered\.", result
    )
    assert "Contradicts the label (1)" in result
    contradicting = result.split("Contradicts the label (1)")[1].split("Agrees with the label")[0]
    assert (
        "✗ Contradicts the label The page says: “Patients with a higher body weight may require higher doses"
        in contradicting
    )
    assert "The label: The labelled adult schedule is in fixed amounts, not per kg" in contradicting
    not_covered_part = result.split("Not covered by the label (")[1]
    assert "Weight is another factor that can impact the effectiveness" in not_covered_part
    agreeing = result.split("Agrees with the label (")[1].split("Not covered by the label")[0]
    assert "✓ Agrees The page says: “No, Baclofen should not be stopped abruptly" in agreeing
    assert "“It is important not to take a double dose" in agreeing
    not_covered = result.split("Not covered by the label (")[1]
    assert (
        "? Not covered The page says: “It is essential for patients to communicate any changes" in not_covered
    )
    assert "[US-TAB] US baclofen tablet labels" in result and "[NHS] nhs.uk baclofen patient pages" in result
    assert "Decision support only" in result and "'not covered' means the monograph does not settle" in result


def test_a_pasted_article_and_an_uploaded_html_article(client: TestClient) -> None:
    pasted = _section(
        _paste(client, "article", "Baclofen is completely safe during pregnancy."), "article-result"
    )
    assert "Result: 1 checkable claim 0 contradict the label" not in pasted  # it does contradict
    assert "Result: 1 checkable claim 1 contradicts the label, 0 agree, 0 not covered." in pasted
    assert "✗ Contradicts the label The page says: “Baclofen is completely safe during pregnancy.”" in pasted
    uploaded = _section(_upload(client, "article", "article.html", ARTICLE_HTML.encode()), "article-result")
    assert "Result: 4 checkable claims 2 contradict the label, 2 agree, 0 not covered." in uploaded
    assert "“The maximum dose is 120 mg per day.”" in uploaded.split("Agrees with the label")[0]
    assert "“Your dose depends on your body weight.”" in uploaded.split("Agrees with the label")[0]
    assert "abruptly" not in uploaded  # the script's sentence is not on the page


def test_seed_000_pasted_contradicts_nothing(client: TestClient) -> None:
    seed = (DATA / "seeds" / "000_aa13ce382722ea64.txt").read_text(encoding="utf-8")
    result = _section(_paste(client, "article", seed), "article-result")
    assert re.search(r"checkable claims 0 contradict the label, \d+ agree", result)
    assert "Contradicts the label (" not in result
    assert "“If you have kidney problems, the dose may need tweaking" in result


def test_a_page_with_thousands_of_claims_shows_the_counts_and_the_first_hundred_of_each(
    client: TestClient,
) -> None:
    page = "Never stop baclofen suddenly. The maximum dose is 120 mg per day. " * 150
    result = _section(_paste(client, "article", page), "article-result")
    assert "Result: 300 checkable claims 150 contradict the label, 150 agree, 0 not covered." in result
    assert result.count("“The maximum dose is 120 mg per day.”") == 100
    assert result.count("And 50 more not shown here") == 2


@pytest.mark.parametrize("kind", ["pharmacy", "article"])
def test_a_paste_within_the_limit_fits_the_body_and_one_over_it_is_refused_on_the_text(
    client: TestClient, kind: str
) -> None:
    # every character as 4 bytes of UTF-8 (the most): a paste at the limit still fits the body
    at_limit = _paste(client, kind, "Never stop baclofen suddenly. " + "\U0001f48a" * (MAX_PASTED_CHARS - 30))
    assert at_limit.status_code == 200, _text(at_limit)[:300]
    # a line break is sent as CR LF by a browser: one character, as the reader counts it
    lines = _paste(client, kind, "Never stop baclofen suddenly.\r\n" * (MAX_PASTED_CHARS // 30))
    assert lines.status_code == 200, _text(lines)[:300]
    over = _paste(client, kind, "Never stop baclofen suddenly. " + "a" * MAX_PASTED_CHARS)
    _refused(over, "the pasted text is longer than 1,310,720 characters", field=f"{kind}-text")
    assert "Never stop baclofen suddenly. aaaa" in over.text  # what was pasted is kept


def test_text_without_a_checkable_claim_says_so(client: TestClient) -> None:
    result = _section(
        _paste(client, "article", "Hello there. Our opening hours are 9 to 5."), "article-result"
    )
    assert "Result: 0 checkable claims" in result
    assert "No sentence of the page makes a claim Dosewise can check" in result


# --- bad input: the form again with the reason ---------------------------------------------------


@pytest.mark.parametrize("kind", ["pharmacy", "article"])
def test_bad_input_gives_the_form_again_with_the_reason(client: TestClient, kind: str) -> None:
    _refused(
        _paste(client, kind, ""), "paste the text of the page or choose its saved file", field=f"{kind}-file"
    )
    _refused(_paste(client, kind, "  \n\t "), "paste the text of the page or choose its saved file")
    _refused(_upload(client, kind, "empty.html", b""), "empty.html is empty", field=f"{kind}-file")
    _refused(_upload(client, kind, "blank.txt", b"  \n\n"), "blank.txt is empty")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    _refused(
        _upload(client, kind, "picture.png", png, "image/png"),
        "picture.png is a binary file, not a web page or text",
    )
    _refused(
        _upload(client, kind, "script.html", b"<html><script>x()</script></html>"),
        "script.html has no text to check",
    )
    both = client.post(
        f"/checks/{kind}",
        data={"csrf_token": _token(client), "text": ROGUE_TEXT},
        files={"file": ("page.html", ROGUE_HTML.encode(), "text/html")},
    )
    _refused(both, "paste the text or choose a file, not both", field=f"{kind}-text")
    assert "MegaMeds Online" in both.text  # what was pasted is kept
    nul = _paste(client, kind, "No prescription\x00 needed")
    _refused(nul, "the text has a NUL character", field=f"{kind}-text")
    nothing = client.post(f"/checks/{kind}", data={"csrf_token": _token(client)})  # no fields at all
    _refused(nothing, "paste the text of the page or choose its saved file")


@pytest.mark.parametrize("kind", ["pharmacy", "article"])
def test_a_page_over_5_mb_gives_the_form_with_the_limit(client: TestClient, kind: str) -> None:
    # just over the page limit, within the body limit: the upload's size is checked before reading
    over = _upload(client, kind, "big.html", b"a" * (MAX_PAGE_BYTES + 1))
    _refused(over, "big.html is larger than the 5 MB limit for a page", status=413, field=f"{kind}-file")
    bigger = _upload(client, kind, "bigger.html", b"a" * (MAX_PAGE_BYTES + 60 * 1024))
    _refused(bigger, "bigger.html is 5.1 MB: larger than the 5 MB limit", status=413)
    # 50 MB: never kept (RequestLimits drops it), the form and the reason
    huge = _upload(client, kind, "huge.html", b"a" * (50 * MIB))
    _refused(huge, "the file or pasted text is larger than the 5 MB limit for a page", status=413)
    assert huge.headers.get("connection") != "close"  # read to the end: the connection is kept
    # a page at the limit is read and checked
    at_limit = _upload(
        client, kind, "limit.txt", b"Never stop baclofen suddenly. " + b"a" * (MAX_PAGE_BYTES - 30)
    )
    assert at_limit.status_code == 200, _text(at_limit)[:300]
    # pasted text over Starlette's 1 MB part default, within the paste limit, is read too
    long_text = "No prescription needed. " + "Buy now. " * ((MAX_PASTED_CHARS - 24) // 9)
    assert len(long_text.encode()) > MIB
    assert _paste(client, kind, long_text).status_code == 200


def test_every_other_route_keeps_the_1_mib_limit(client: TestClient) -> None:
    token = _token(client)
    notes = client.post("/api/session", json={"email": "a@example.org", "password": "x" * (2 * MIB)})
    assert notes.status_code == 413 and "at most 1 MiB" in notes.json()["detail"]
    account = client.post("/account/password", data={"csrf_token": token, "current": "x" * (2 * MIB)})
    assert account.status_code == 413 and "at most 1 MiB" in account.text
    assert UPLOAD_BODY_BYTES == MAX_PAGE_BYTES + 64 * 1024


def test_nothing_is_stored(app: Any, client: TestClient) -> None:
    _token(client)
    before = _row_counts(app)
    assert _paste(client, "pharmacy", ROGUE_TEXT).status_code == 200
    assert _upload(client, "article", "page.html", ARTICLE_HTML.encode()).status_code == 200
    headers = {"x-csrf-token": _token(client)}
    assert client.post("/api/checks/pharmacy", json={"text": ROGUE_TEXT}, headers=headers).status_code == 200
    assert _row_counts(app) == before


# --- the API: the CLI's JSON --------------------------------------------------------------------


def test_the_api_answers_the_same_json_as_the_cli(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = {"x-csrf-token": _token(client)}
    page = tmp_path / "megameds.html"
    page.write_text(ROGUE_HTML, encoding="utf-8")
    cli = run_cli_json(capsys, "check-pharmacy", str(page))
    uploaded = client.post(
        "/api/checks/pharmacy",
        files={"file": ("megameds.html", ROGUE_HTML.encode(), "text/html")},
        headers=headers,
    )
    assert uploaded.status_code == 200 and uploaded.json() == cli
    assert set(cli) == {"verdict", "flags", "to_check", "sources", "disclaimer"}
    assert cli["verdict"] == "warning_signs" and CANNOT_CONFIRM in cli["disclaimer"]

    cli_article = run_cli_json(capsys, "check-article", str(ARTICLE_SEED_001))
    pasted = client.post(
        "/api/checks/article", json={"text": ARTICLE_SEED_001.read_text(encoding="utf-8")}, headers=headers
    )
    assert pasted.status_code == 200 and pasted.json() == cli_article
    assert [c["verdict"] for c in cli_article["claims"]].count("contradicts") == 1
    assert set(cli_article) == {"claims", "counts", "truncated", "sources", "disclaimer"}
    assert cli_article["truncated"] is False
    assert sum(cli_article["counts"].values()) == len(cli_article["claims"])


def test_the_api_lists_at_most_100_claims_of_each_verdict_with_the_whole_counts(
    client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = "Never stop baclofen suddenly. The maximum dose is 120 mg per day. " * 150
    answer = client.post("/api/checks/article", json={"text": page}, headers={"x-csrf-token": _token(client)})
    assert answer.status_code == 200
    data = answer.json()
    assert data["counts"] == {"agrees": 150, "contradicts": 150, "not_covered": 0}
    assert data["truncated"] is True
    verdicts = [c["verdict"] for c in data["claims"]]
    assert verdicts.count("agrees") == 100 and verdicts.count("contradicts") == 100
    # the CLI lists every claim, with the same counts
    saved = tmp_path / "many.txt"
    saved.write_text(page, encoding="utf-8")
    cli = run_cli_json(capsys, "check-article", str(saved))
    assert len(cli["claims"]) == 300 and cli["truncated"] is False and cli["counts"] == data["counts"]
    assert cli["claims"][:2] == data["claims"][:2]


def test_api_bad_input_is_json_with_the_field(client: TestClient) -> None:
    headers = {"x-csrf-token": _token(client)}
    url = "/api/checks/pharmacy"
    empty = client.post(url, json={"text": "  "}, headers=headers)
    assert empty.status_code == 400
    assert empty.json() == {"detail": "text: paste the text of the pharmacy's page", "field": "/text"}
    binary = client.post(url, files={"file": ("x.png", b"\x89PNG\x00\x00\x00", "image/png")}, headers=headers)
    assert binary.status_code == 400
    assert binary.json() == {
        "detail": "file: x.png is a binary file, not a web page or text",
        "field": "/file",
    }
    empty_file = client.post(url, files={"file": ("e.txt", b"", "text/plain")}, headers=headers)
    assert empty_file.status_code == 400 and empty_file.json()["detail"].startswith("file: e.txt is empty")
    nothing = client.post(url, files={"text": (None, "")}, headers=headers)
    assert nothing.status_code == 400 and nothing.json()["field"] == "/file"
    wrong = client.post(url, json={"page": "x"}, headers=headers)  # not the schema: as FastAPI says it
    assert wrong.status_code == 422 and wrong.json()["field"] == "/text"
    not_json = client.post(url, content=b"{", headers={**headers, "content-type": "application/json"})
    assert not_json.status_code == 422
    nul = client.post(url, json={"text": "a\u0000b"}, headers=headers)
    assert nul.status_code == 422 and nul.json()["field"] == "/text"
    huge = client.post(url, files={"file": ("huge.html", b"a" * (50 * MIB), "text/html")}, headers=headers)
    assert huge.status_code == 413
    assert huge.json() == {
        "detail": "file: the file or pasted text is larger than the 5 MB limit for a page (save or paste"
        " only the page itself)",
        "field": "/file",
    }
    # JSON carries pasted text only: its body over the limit is about the text
    text = client.post(url, json={"text": "a" * (6 * MIB)}, headers=headers)
    assert text.status_code == 413 and text.json()["field"] == "/text"
    assert text.json()["detail"].startswith("text: the pasted text is larger than the 5 MB limit")
    no_token = client.post(url, json={"text": ROGUE_TEXT})
    assert no_token.status_code == 403


# --- memory: a 50 MB upload streamed in, at the ASGI level ----------------------------------------


def _scope(path: str, cookie: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }


def _stream(app: Any, scope: dict[str, Any], total: int) -> tuple[list[dict[str, Any]], int, int]:
    """Send a multipart upload of ``total`` bytes in 64 KiB chunks (one chunk object, reused, so
    the test itself holds nothing): (what the app sent, bytes it pulled, peak memory)."""
    head = b'--B\r\nContent-Disposition: form-data; name="file"; filename="huge.html"\r\n\r\n'
    chunk = b"a" * (64 * 1024)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.disconnect"}
        body = head if pulled == 0 else chunk
        pulled += len(body)
        return {"type": "http.request", "body": body, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    tracemalloc.start()
    try:
        with ThreadPoolExecutor(1) as pool:  # a loop of its own (the test client holds one)
            pool.submit(asyncio.run, app(scope, receive, send)).result(timeout=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return sent, pulled, peak


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "with-content-length"])
def test_a_50_mb_upload_is_read_and_dropped_in_bounded_memory(
    app: Any, client: TestClient, declared: bool
) -> None:
    cookie = f"dosewise_session={client.cookies.get('dosewise_session')}"
    total = 50 * 1000 * 1000
    headers = [(b"content-type", b"multipart/form-data; boundary=B")]
    if declared:
        headers.append((b"content-length", str(total).encode()))
    sent, pulled, peak = _stream(app, _scope("/checks/article", cookie, headers), total)
    start = sent[0]
    assert start["type"] == "http.response.start" and start["status"] == 413
    body = b"".join(m.get("body", b"") for m in sent[1:]).decode()
    assert "larger than the 5 MB limit" in body and 'action="/checks/article' in body
    assert pulled >= total  # read to the end (and dropped): the browser gets the answer
    assert (b"connection", b"close") not in start["headers"]
    assert peak < 2 * UPLOAD_BODY_BYTES  # at most the limit held, never the 50 MB


def test_a_body_past_the_drain_limit_is_answered_at_once_and_the_connection_closed(
    app: Any, client: TestClient
) -> None:
    cookie = f"dosewise_session={client.cookies.get('dosewise_session')}"
    total = UPLOAD_DRAIN_BYTES + 1
    headers = [
        (b"content-type", b"multipart/form-data; boundary=B"),
        (b"content-length", str(total).encode()),
        (b"x-csrf-token", _token(client).encode()),
    ]
    sent, pulled, _ = _stream(app, _scope("/api/checks/pharmacy", cookie, headers), total)
    assert sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]
    assert pulled == 0  # nothing read
    detail = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))["detail"]
    assert "larger than the 5 MB limit" in detail
