"""CLI contract of `dosewise compare`: the issue 16 JSON, the worked examples, bad input.

Expected results written by hand from ../shared/clinical/alternatives.md."""

from __future__ import annotations

import pytest

from conftest import run_cli as run
from conftest import run_cli_json as run_json


def _cautions(drug: dict) -> list[dict]:
    return drug["cautions"]


def test_compare_json_contract_and_the_worked_examples(capsys):
    data = run_json(
        capsys, "compare", "tizanidine", "dantrolene", "diazepam", "cyclobenzaprine",
        "--crcl", "20", "--liver", "mild", "--medicine", "Cipro", "--medicine", "oxycodone",
    )  # fmt: skip
    assert set(data) >= {"drugs", "sources", "disclaimer"}
    drugs = {d["name"]: d for d in data["drugs"]}
    assert list(drugs) == ["tizanidine", "dantrolene", "diazepam", "cyclobenzaprine"]
    for drug in drugs.values():
        assert set(drug) >= {"name", "labelled_for", "route", "max_daily", "cautions"}
        for caution in drug["cautions"]:
            assert set(caution) >= {"level", "text", "sources"}
    tizanidine = drugs["tizanidine"]
    assert tizanidine["max_daily"]["text"].startswith("36 mg/day") and tizanidine["max_daily"]["sources"] == [
        "S3"
    ]
    first = tizanidine["cautions"][0]  # the most serious first: ciprofloxacin [S6]
    assert (first["level"], first["sources"]) == ("contraindicated", ["S6"])
    assert "Cipro (ciprofloxacin)" in first["text"]
    kidney = [c for c in _cautions(tizanidine) if c["topic"] == "kidney"]
    assert [c["sources"] for c in kidney] == [["S3"]] and "more than 50%" in kidney[0]["text"]
    dantrolene_liver = [c for c in _cautions(drugs["dantrolene"]) if c["topic"] == "liver"]
    assert [c["level"] for c in dantrolene_liver] == ["contraindicated"]
    diazepam_opioid = [c for c in _cautions(drugs["diazepam"]) if c["topic"] == "medicine"]
    assert [(c["level"], c["sources"]) for c in diazepam_opioid] == [("warning", ["S13"])]
    cyclobenzaprine = drugs["cyclobenzaprine"]
    assert cyclobenzaprine["labelled_for_spasticity"] is False
    assert cyclobenzaprine["category"] == "short_term_msk_spasm"
    assert any(c["text"].startswith("Not labelled for spasticity") for c in _cautions(cyclobenzaprine))
    keys = {s["key"] for s in data["sources"]}
    assert {"S3", "S6", "S9", "S13", "S23"} <= keys
    assert all(s["citation"] for s in data["sources"])
    assert "not advice to start, stop or switch" in data["disclaimer"]
    assert data["unrecognised_medicines"] == []


def test_compare_all_by_default_and_unconfirmed_marked(capsys):
    data = run_json(capsys, "compare", "--pregnant")
    assert len(data["drugs"]) == 9
    gabapentin = next(d for d in data["drugs"] if d["name"] == "gabapentin")
    assert gabapentin["mechanism"]["unconfirmed"] is True
    pregnancy = [c for c in gabapentin["cautions"] if c["topic"] == "pregnancy"]
    assert [(c["unconfirmed"], c["sources"]) for c in pregnancy] == [(True, [])]


def test_compare_text_shows_sources_and_reports_unknown_medicines(capsys):
    code, out, err = run(capsys, "compare", "cyclobenzaprine", "--medicine", "zzqx")
    assert code == 0
    assert "Cyclobenzaprine (Flexeril; Amrix ER)" in out
    assert "Not labelled for spasticity" in out and "[S23]" in out
    assert "[S23] neurologyadvisor.com/drug/amrix/" in out
    assert "medicine not recognised, not considered: zzqx" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "aspirin"], "unknown treatment 'aspirin': Dosewise compares tizanidine, dantrolene"),
        (["compare", "--crcl", "-5"], "--crcl:"),
        (["compare", "--crcl", "many"], "--crcl: invalid float value"),
        (["compare", "--liver", "bad"], "--liver: invalid choice"),
        (["compare", "--medicine", " "], "--medicine: a medicine name is empty"),
    ],
)
def test_compare_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_liver_choices_match_the_domain():
    from dosewise.cli.compare import LIVER_CHOICES
    from dosewise.domain.alternatives import LIVER_DISEASE

    assert LIVER_CHOICES == LIVER_DISEASE


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("mexiletine", "mexiletine"),
        ("Zyflo", "zileuton"),
        ("propafenone", "propafenone"),
        ("Ticlid", "ticlopidine"),
    ],
)
def test_the_cyp1a2_inhibitors_the_tizanidine_label_names_are_recognised(capsys, typed, read_as):
    # alternatives.md section 2, tizanidine: "Avoid other CYP1A2 inhibitors (zileuton, other
    # fluoroquinolones, amiodarone, mexiletine, propafenone, verapamil, cimetidine, famotidine,
    # acyclovir, ticlopidine) ... start at 2 mg and go up by 2-4 mg a day [S6]"
    data = run_json(capsys, "compare", "tizanidine", "--medicine", typed)
    assert data["unrecognised_medicines"] == []
    assert read_as in data["situation"]["medicines"][0]["read_as"]
    (caution,) = [c for c in data["drugs"][0]["cautions"] if c["topic"] == "medicine"]
    assert (caution["level"], caution["sources"]) == ("warning", ["S6"])
    assert "avoid (a CYP1A2 inhibitor named in the label)" in caution["text"]


def test_compare_on_dialysis(capsys):
    # alternatives.md section 1, gabapentin Kidney: "<15: 100-300 once daily. Extra dose of
    # 125-350 mg after each haemodialysis [S17]"
    data = run_json(capsys, "compare", "gabapentin", "--dialysis")
    assert data["situation"]["dialysis"] is True and data["situation"]["crcl_ml_min"] is None
    kidney = [c for c in _cautions(data["drugs"][0]) if c["topic"] == "kidney"]
    assert [c["sources"] for c in kidney] == [["S17"], ["S17"]]
    assert "extra dose of 125-350 mg after each haemodialysis" in kidney[1]["text"]
    # with the baclofen you take: gabapentinoids, moderate [OZO] (baclofen.md section 6)
    (baclofen,) = [c for c in _cautions(data["drugs"][0]) if c["topic"] == "baclofen"]
    assert (baclofen["level"], baclofen["sources"]) == ("caution", ["OZO"])
    ozobax = "Ozobax (baclofen oral solution 5 mg/5 mL) US label, 2021"
    assert {"key": "OZO", "citation": ozobax} in data["sources"]
    code, out, err = run(capsys, "compare", "gabapentin", "--dialysis", "--crcl", "10")
    assert code == 2 and out == "" and "not allowed with argument" in err and err.count("\n") == 1
