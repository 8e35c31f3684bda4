"""How names are read (issue 13, point 7): class words, products by ingredient, misspellings
and typos that are said to be assumed, the same medicine listed twice, baclofen itself, and
low-dose aspirin read by its daily amount (not graded as an NSAID)."""

from __future__ import annotations

import re

import pytest

from conftest import load_data
from dosewise.domain.interactions import MedicineIndex, NameMatch, NameMiss, check_interactions
from dosewise.domain.kidney import assess_creatinine_clearance
from dosewise.monographs import load_medicines

DATA = load_data("interaction_readings.toml")


@pytest.fixture(scope="module")
def index(monograph):
    same = monograph.same_drug
    return MedicineIndex(load_medicines(), same_drug=same.names, same_drug_misspellings=same.misspellings)


def check(monograph, index, *names, **kwargs):
    return check_interactions(monograph, index, list(names), **kwargs)


CLASS_CASES = [(typed, case) for case in DATA["class_word"] for typed in case["typed"]]


@pytest.mark.parametrize(("typed", "case"), CLASS_CASES, ids=[typed for typed, _ in CLASS_CASES])
def test_a_class_word_is_read_as_its_class_and_graded(monograph, index, typed, case):
    report = check(monograph, index, typed)
    assert report.unrecognised == ()
    worst = report.findings[0]
    assert (worst.severity, worst.source) == (case["severity"], case["source"])
    assert case["class"] in {key for f in report.findings for key in f.drug_classes}
    assert all(f.read_as == "class" and f.matched.endswith("(a class)") for f in report.findings)


def test_opioids_is_no_longer_did_you_mean_spirits(monograph, index):
    report = check(monograph, index, "opioids")
    assert report.unrecognised == ()
    [finding] = report.findings
    assert (finding.matched, finding.severity, finding.source) == ("opioids (a class)", "major", "PMS")


def test_a_word_that_may_mean_several_classes_asks_which_kind(monograph, index):
    report = check(monograph, index, "antidepressants")
    assert {f.class_label for f in report.findings} == {
        "tricyclic antidepressant", "MAO inhibitor", "sedating antidepressant"
    }  # fmt: skip
    assert all(f.note.startswith("Which antidepressant?") for f in report.findings)
    assert "SSRIs" in report.findings[0].note  # the kinds with no interaction are named too
    # it may be an SSRI: not counted as certainly sedating
    assert check(monograph, index, "antidepressants", "oxycodone").combined == ()


def test_painkillers_like_oxycodone_names_the_medicine_inside_the_text(monograph, index):
    report = check(monograph, index, "painkillers like oxycodone")
    [finding] = report.findings
    assert (finding.medicine, finding.severity, finding.assumed) == ("oxycodone", "major", True)
    assert (
        finding.read_note
        == "read as oxycodone (from 'painkillers like oxycodone'): check that this is the medicine meant"
    )


PRODUCTS = DATA["product"]


@pytest.mark.parametrize("case", PRODUCTS, ids=[case["typed"] for case in PRODUCTS])
def test_a_product_is_read_by_its_ingredients(monograph, index, case):
    match = index.match(case["typed"])
    assert isinstance(match, NameMatch) and match.kind in ("product", "medicine"), match
    assert [m.name for m in match.medicines] == case["ingredients"]
    assert [m.name for m in match.sometimes] == case.get("some_forms", [])
    report = check(monograph, index, case["typed"])
    assert sorted(f.medicine for f in report.findings) == sorted(case["findings"])
    if not case["findings"]:
        assert [m.text for m in report.no_listed_interaction] == [case["typed"]]


def test_nyquil_says_which_ingredient_does_what_and_is_never_nytol(monograph, index):
    report = check(monograph, index, "NyQuil")
    by_medicine = {f.medicine: f for f in report.findings}
    assert (by_medicine["doxylamine"].class_label, by_medicine["doxylamine"].severity) == (
        "sedating antihistamine", "moderate"
    )  # fmt: skip
    alcohol = by_medicine["alcohol"]
    assert alcohol.in_some_forms and "alcohol is in some forms of NyQuil only" in alcohol.note
    assert report.findings[0].matched.startswith("NyQuil (doxylamine + dextromethorphan + paracetamol")
    assert report.combined == ()  # alcohol of some forms is not counted as certainly taken
    for typed in ("nyquil", "Nyquill", "Vicks NyQuil Cold & Flu", "NyQuil LiquiCaps"):
        match = index.match(typed)
        assert isinstance(match, NameMatch) and match.owner == "NyQuil", typed


SUBSTANCES = [(typed, case) for case in DATA["substance"] for typed in case["typed"]]


@pytest.mark.parametrize(("typed", "case"), SUBSTANCES, ids=[typed for typed, _ in SUBSTANCES])
def test_substances_the_review_named(monograph, index, typed, case):
    [finding] = check(monograph, index, typed).findings
    assert (finding.severity, finding.source) == (case["severity"], case["source"])
    if case["medicine"]:
        assert finding.medicine == case["medicine"]


def test_dosewise_cautions_say_they_are_not_from_the_labels(monograph, index):
    for typed in ("kratom", "dantrolene", "Botox"):
        [finding] = check(monograph, index, typed).findings
        assert "a Dosewise caution" in finding.effect and finding.source == "DOSEWISE", typed
    weakness = check(monograph, index, "Botox").findings[0]
    assert "muscle weakness" in weakness.effect


def test_antiepileptics_carry_the_epilepsy_caution(monograph, index):
    [finding] = check(monograph, index, "Keppra").findings
    assert "deterioration in seizure control has been reported" in finding.effect
    assert "seizure control should be monitored" in finding.advice


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["OxyContin", "oxycodone"], "listed twice: OxyContin and oxycodone are both oxycodone"),
        (["Percocet", "oxycodone 5 mg"], "listed twice: Percocet and oxycodone 5 mg both contain oxycodone"),
        (["Tylenol PM", "Tylenol"], "listed twice: Tylenol PM and Tylenol both contain paracetamol"),
    ],
)
def test_the_same_medicine_listed_twice_is_flagged(monograph, index, names, message):
    report = check(monograph, index, *names)
    assert [t.message for t in report.listed_twice] == [message]
    [flag] = [f for f in report.combined if f.code == "LISTED_TWICE"]
    assert flag.message.startswith(message[0].upper() + message[1:]) and flag.source == "DOSEWISE"
    assert "DOSEWISE" in report.sources


def test_two_different_medicines_are_not_listed_twice(monograph, index):
    assert check(monograph, index, "oxycodone", "morphine").listed_twice == ()


@pytest.mark.parametrize(
    "typed", ["Lioresal", "Ozobax", "baclofen 10 mg", "Gablofen", "baclofène", "Lyvispah"]
)
def test_baclofen_itself_is_the_same_drug(monograph, index, typed):
    report = check(monograph, index, typed)
    assert [f.code for f in report.combined] == ["SAME_DRUG"]
    assert report.findings == () and report.unrecognised == () and report.assumed == ()


def test_a_misspelt_baclofen_is_the_same_drug_said_to_be_assumed(monograph, index):
    report = check(monograph, index, "baclophen")
    [same] = report.combined
    assert same.code == "SAME_DRUG"
    assert "(read as baclofen (from 'baclophen'): check the spelling)" in same.message


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [("oxycodon", "oxycodone"), ("Xnaax", "Xanax (alprazolam)"), ("zanax", "alprazolam"),
     ("percoset", "Percocet (oxycodone + paracetamol)"), ("alchohol", "alcohol"),
     ("opiods", "opioids (a class)")],
)  # fmt: skip
def test_a_typo_or_misspelling_is_shown_as_assumed(monograph, index, typed, read_as):
    report = check(monograph, index, typed)
    [finding] = report.findings
    assert finding.assumed
    assert finding.read_note == f"read as {read_as} (from {typed!r}): check the spelling"
    assert [m.text for m in report.assumed] == [typed]


def test_an_exact_name_is_not_assumed(monograph, index):
    [finding] = check(monograph, index, "OxyContin 20 mg").findings
    assert not finding.assumed and finding.read_note == ""


def test_accents_are_ignored(monograph, index):
    assert [f.medicine for f in check(monograph, index, "Lévodopa").findings] == ["levodopa"]
    match = index.match("paracétamol")
    assert isinstance(match, NameMatch) and match.medicines[0].name == "paracetamol"


LOW_DOSE = ["aspirin 81", "aspirin 81 mg", "baby aspirin", "low-dose aspirin", "aspirin 75 mg",
            "Aspirin 75mg daily", "Nu-Seals 75", "aspirin 100 mg once a day", "Ecotrin Low Strength",
            "Bayer Low Dose", "ASA 81"]  # fmt: skip


@pytest.mark.parametrize("typed", LOW_DOSE)
def test_low_dose_aspirin_is_not_graded_as_an_nsaid(monograph, index, typed):
    weak = assess_creatinine_clearance(monograph.kidney, 40)
    report = check(monograph, index, typed, kidney=weak)
    assert report.findings == ()
    [match] = report.no_listed_interaction
    assert match.medicines[0].name == "low-dose aspirin" and "100 mg a day" in match.note
    assert "DOSEWISE" in report.sources


@pytest.mark.parametrize(
    "typed", ["aspirin 325", "aspirin 300 mg", "aspirin 81 mg twice daily", "Disprin", "aspirin 500mg"]
)
def test_higher_dose_aspirin_stays_an_nsaid(monograph, index, typed):
    [finding] = check(monograph, index, typed).findings
    assert (finding.medicine, finding.severity, finding.source) == ("aspirin", "moderate", "BACLON")


def test_aspirin_without_a_dose_is_an_nsaid_and_says_how_to_give_the_dose(monograph, index):
    [finding] = check(monograph, index, "aspirin").findings
    assert finding.class_label.startswith("NSAID")
    assert "add the dose" in finding.note and "100 mg a day" in finding.note
    above = check(monograph, index, "aspirin 81 mg twice daily").findings[0]
    assert "162 mg a day is above the 100 mg a day of low-dose aspirin" in above.note


def test_the_low_dose_limit_is_the_one_number_in_the_vocabulary():
    vocabulary = load_medicines()
    [reading] = vocabulary.dose_reading
    low = next(m for m in vocabulary.medicine if m.name == reading.read_as)
    limit = f"{reading.up_to_daily_mg:g} mg a day"
    assert (reading.up_to_daily_mg, reading.source, low.source) == (100, "DOSEWISE", "DOSEWISE")
    assert limit in reading.hint and limit in low.note


def test_report_methods_for_the_triage(monograph, index):
    report = check(monograph, index, "OxyContin", "benzos", "Sinemet", "gabapentin", "NyQuil", "lisinopril")
    assert report.major_sedating(monograph) == ["OxyContin (oxycodone)", "benzos (a class)"]
    assert report.with_class(monograph, "levodopa") == ["Sinemet (levodopa + carbidopa)"]
    assert report.with_class(monograph, "gabapentinoid") == ["gabapentin"]
    assert report.with_class(monograph, "z_drug") == []
    sleeping = check(monograph, index, "sleeping pills")
    assert sleeping.with_class(monograph, "z_drug") == ["sleeping pills (a class)"]
    assert sleeping.major_sedating(monograph) == ["sleeping pills (a class)"]
    assert "gabapentin" in report.sedating(monograph) and "lisinopril" not in report.sedating(monograph)
    with pytest.raises(ValueError, match="not a class"):
        report.with_class(monograph, "levadopa")


def test_kidney_major_nsaids_are_not_major_sedating(monograph, index):
    weak = assess_creatinine_clearance(monograph.kidney, 30)
    report = check(monograph, index, "ibuprofen", kidney=weak)
    assert report.findings[0].severity == "major"
    assert report.major_sedating(monograph) == []


def test_every_name_is_reported_as_read_in_input_order(monograph, index):
    report = check(monograph, index, "zzqx", "opioids", "Lioresal", "DayQuil")
    kinds = [n.kind if isinstance(n, NameMatch) else "unrecognised" for n in report.names]
    assert kinds == ["unrecognised", "class", "same_drug", "product"]
    assert isinstance(report.names[0], NameMiss)


def test_the_vocabulary_is_several_times_what_it_was(index):
    """Issue 3 shipped 1,856 spellings; every one still maps to one entry (the loader checks)."""
    assert len(index._entries) >= 3800
    vocabulary = index.vocabulary
    assert len(vocabulary.combination) >= 100 and len(vocabulary.class_word) >= 50


def test_every_class_with_an_interaction_is_in_the_vocabulary(monograph, index):
    classes = index.vocabulary.classes
    for rule in monograph.interactions:
        for key in rule.classes:
            assert key in classes, key
            assert any(m.drug_class == key for m in index.vocabulary.medicine), key
    keys = {
        key
        for text in (m.source for m in index.vocabulary.medicine)
        for key in re.findall(r"[A-Z][A-Z-]+", text)
    }
    assert keys <= set(monograph.sources)  # notes shown to the user cite the monograph's sources
