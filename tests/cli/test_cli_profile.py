"""`dosewise diary profile` and `dosewise how-to-take`: About me from the CLI, audited; how to
take baclofen with its sources; bad input exits 2 naming the flag."""

from __future__ import annotations

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json


@pytest.fixture(autouse=True)
def diary_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")


def test_about_me_is_shown_set_and_cleared(capsys) -> None:
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    code, out, _ = run(capsys, "diary", "profile")
    assert code == 0
    assert "Country: not said" in out and "In an emergency call 112 [GSM112]" in out
    assert "check your local emergency number" in out and "--country GB" in out
    code, out, _ = run(
        capsys, "diary", "profile", "--country", "gb", "--pregnant", "yes", "--epilepsy", "yes"
    )
    assert code == 0
    assert "Country: United Kingdom (GB)" in out and "In an emergency call 999 (or 112) [GB]" in out
    assert "Conditions with their own advice: pregnant, epilepsy." in out
    assert "jitteriness" in out and "[DOSEWISE] (Dosewise wording, not a label's)" in out
    assert "Sources:" in out and "[OZO]" in out
    data = run_json(capsys, "diary", "profile", "--pregnant", "no", "--json")
    assert (data["country"], data["pregnant"], data["epilepsy"]) == ("GB", False, True)
    assert data["emergency"]["tel_uri"] == "tel:999"
    assert [a["condition"] for a in data["advice"]] == ["epilepsy"]
    data = run_json(capsys, "diary", "profile", "--country", "none", "--json")
    assert data["country"] is None and data["emergency"]["number"] == "112" and data["epilepsy"] is True


def test_a_bad_profile_value_names_its_flag(capsys) -> None:
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    code, _, err = run(capsys, "diary", "profile", "--country", "Narnia")
    assert code == 2 and err.startswith("dosewise: error: --country:") and "no emergency number" in err
    code, _, err = run(capsys, "diary", "profile", "--epilepsy", "maybe")
    assert code == 2 and "--epilepsy" in err


def test_how_to_take_with_products_and_as_json(capsys) -> None:
    code, out, _ = run(capsys, "how-to-take", "--product", "tablet:10mg", "--product", "suspension:5mg/ml")
    assert code == 0
    assert "Food and how to swallow it:" in out and "If you miss a dose:" in out
    assert "Baclofen tablets, US labels (5, 10 and 20 mg): Store at 20 °C to 25 °C" in out
    assert "Fleqsuvy oral suspension 25 mg/5 mL: Dosewise could not verify" in out
    assert "Ozobax oral solution 5 mg/5 mL:" not in out  # only the products asked for
    data = run_json(capsys, "how-to-take", "--json")
    assert [t["key"] for t in data["topics"]] == [
        "food",
        "effect",
        "range",
        "dependence",
        "driving",
        "missed",
    ]
    assert {item["verified"] for item in data["storage"]} == {True, False}
    assert all(s["key"] and s["citation"] for s in data["sources"])
    code, _, err = run(capsys, "how-to-take", "--product", "tablet:13mg")
    assert code == 2 and err.startswith("dosewise: error:")


def test_liver_disease_is_set_from_the_cli(capsys) -> None:
    assert run(capsys, "diary", "init", "--name", "Sam", "--tz", "Europe/London")[0] == 0
    assert run_json(capsys, "diary", "profile", "--json")["liver"] == "not_known"
    assert run_json(capsys, "diary", "profile", "--liver", "moderate", "--json")["liver"] == "moderate"
    assert run_json(capsys, "diary", "profile", "--liver", "not-known", "--json")["liver"] == "not_known"
    code, _, err = run(capsys, "diary", "profile", "--liver", "a little")
    assert code == 2 and "--liver" in err
