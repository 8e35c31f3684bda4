"""Interaction checks: names as people type them (section 6 of the clinical reference)."""

from __future__ import annotations

import pytest
from rapidfuzz.distance import Levenshtein

from conftest import load_data
from dosewise.domain.interactions import (
    MedicineIndex,
    NameMatch,
    NameMiss,
    _strip_dose_words,
    check_interactions,
)
from dosewise.domain.kidney import assess_creatinine_clearance
from dosewise.domain.medicines import normalize_name
from dosewise.errors import InputError
from dosewise.monographs import load_medicines

CASES = [
    (case["class"], typed, generic, case["severity"], case["source"])
    for case in load_data("interaction_examples.toml")["case"]
    for typed, generic in case["names"]
]


@pytest.fixture(scope="module")
def index():
    return MedicineIndex(load_medicines())


def test_vocabulary_is_broad(index):
    vocabulary = index.vocabulary
    assert len(vocabulary.medicine) >= 200
    assert {"atorvastatin", "paracetamol", "omeprazole", "levothyroxine"} <= {
        m.name for m in vocabulary.medicine
    }
    with_atc = [m for m in vocabulary.medicine if m.atc]
    assert len(with_atc) >= 0.9 * len(vocabulary.medicine)


@pytest.mark.parametrize(("group", "typed", "generic", "severity", "source"), CASES, ids=str)
def test_every_class_by_generic_and_brand(monograph, index, group, typed, generic, severity, source):
    report = check_interactions(monograph, index, [typed])
    assert [f.medicine for f in report.findings] == [generic], group
    finding = report.findings[0]
    assert (finding.severity, finding.source) == (severity, source)
    assert finding.text == typed
    assert report.unrecognised == ()


def test_every_class_has_two_drugs_tested():
    from collections import Counter

    counts = Counter(group for group, *_ in CASES)
    assert len(counts) == 14 and min(counts.values()) >= 2


@pytest.mark.parametrize(
    ("typed", "generic"),
    [
        ("oxycodon", "oxycodone"), ("alchohol", "alcohol"), ("Xnaax", "alprazolam"),
        ("gabapentine", "gabapentin"),
        ("Neurotin", "gabapentin"), ("amlodipene", "amlodipine"), ("ibprofen", "ibuprofen"),
        ("tramdol", "tramadol"), ("LISINOPRIL", "lisinopril"), ("Zanaflex!", "tizanidine"),
        ("lisnoprl", "lisinopril"), ("cyclobensaprin", "cyclobenzaprine"), ("ibprofn", "ibuprofen"),
        ("amitriptylin", "amitriptyline"), ("oxycodone 10mg ER", "oxycodone"),
        ("morphine sulphate", "morphine"),
    ],
)  # fmt: skip
def test_case_punctuation_doses_and_typos(index, typed, generic):
    match = index.match(typed)
    assert isinstance(match, NameMatch), match
    assert [m.name for m in match.medicines] == [generic]


def test_typo_matches_say_what_was_assumed(monograph, index):
    report = check_interactions(monograph, index, ["alchohol", "oxycodone"])
    assert [m.text for m in report.assumed] == ["alchohol"]
    assert report.assumed[0].display == "alcohol"


def test_a_name_between_two_real_drugs_is_not_matched(index):
    """For every pair of different medicines whose spellings are 2 edits apart, a name one edit
    from each is ambiguous: it must be refused with suggestions, not matched to either."""
    import numpy as np
    from rapidfuzz import process

    keys = [key for key in index._entries if len(key.replace(" ", "")) >= 6]
    distances = process.cdist(
        keys, keys, scorer=Levenshtein.distance, score_cutoff=2, workers=-1, dtype=np.int8
    )
    checked = 0
    for i, j in zip(*np.nonzero(distances == 2), strict=True):
        a, b = keys[i], keys[j]
        if i >= j or index._owner(a) == index._owner(b):
            continue
        middle = Levenshtein.editops(a, b)[:1].apply(a, b)
        read = {normalize_name(middle), _strip_dose_words(normalize_name(middle))}
        if read & set(index._entries) or min(len(middle.strip()), len(a)) < 6:
            continue
        result = index.match(middle)
        assert isinstance(result, NameMiss), (a, b, middle, result)
        assert result.suggestions
        checked += 1
    assert checked >= 1  # the vocabulary has such pairs (e.g. brand names two letters apart)


def test_every_spelling_matches_its_own_medicine(index):
    for key, entry in index._entries.items():
        result = index.match(key)
        assert isinstance(result, NameMatch) and result.distance == 0, key
        assert result.owner == entry.owner, key
        assert result.assumed == entry.misspelling, key  # a known misspelling is said to be one


@pytest.mark.parametrize("typed", ["zzqx", "Dr Pepper", "unicornium", "abc", "kryptonite"])
def test_unknown_names_are_unrecognised_never_safe(monograph, index, typed):
    report = check_interactions(monograph, index, [typed])
    assert [m.text for m in report.unrecognised] == [typed]
    assert report.findings == () and report.no_listed_interaction == ()


def test_near_miss_gets_a_suggestion(index):
    close = index.match("oxycodine")  # 1 edit: matched, and reported as assumed
    assert isinstance(close, NameMatch)
    assert (close.medicines[0].name, close.distance) == ("oxycodone", 1)
    far = index.match("oxycdn")  # 2 edits from oxycodone's misspelling and from Oxycet: a tie
    assert isinstance(far, NameMiss)
    assert "oxycodone" in far.suggestions


def test_no_listed_interaction_is_not_called_safe(monograph, index):
    report = check_interactions(monograph, index, ["atorvastatin", "Lipitor"])
    assert [m.display for m in report.no_listed_interaction] == ["atorvastatin", "Lipitor (atorvastatin)"]
    assert report.findings == ()


def test_combination_product_checks_each_part(monograph, index):
    report = check_interactions(monograph, index, ["Percocet"])
    assert [f.medicine for f in report.findings] == ["oxycodone"]
    assert report.findings[0].matched == "Percocet (oxycodone + paracetamol)"


def test_nsaid_is_major_with_weak_kidneys(monograph, index):
    assert check_interactions(monograph, index, ["ibuprofen"]).findings[0].severity == "moderate"
    weak = assess_creatinine_clearance(monograph.kidney, 40)
    finding = check_interactions(monograph, index, ["ibuprofen"], kidney=weak).findings[0]
    assert finding.severity == "major" and "CrCl 50" in finding.effect
    ok = assess_creatinine_clearance(monograph.kidney, 50)
    assert check_interactions(monograph, index, ["ibuprofen"], kidney=ok).findings[0].severity == "moderate"


def test_a_clause_about_one_muscle_relaxant_is_said_of_that_one_only(monograph, index):
    # baclofen.md section 6: other centrally acting muscle relaxants, moderate [CH, PMS]: "more
    # sedation, weakness; tizanidine also lowers blood pressure"
    for name in ("cyclobenzaprine", "methocarbamol", "carisoprodol", "Soma"):
        (finding,) = check_interactions(monograph, index, [name]).findings
        assert (finding.severity, finding.source) == ("moderate", "CH, PMS")
        assert finding.effect == "more sedation and weakness", name
    (tizanidine,) = check_interactions(monograph, index, ["Zanaflex"]).findings
    assert (tizanidine.severity, tizanidine.source) == ("moderate", "CH, PMS")
    assert tizanidine.effect == "more sedation and weakness; tizanidine also lowers blood pressure"
    # the class named ("muscle relaxants"): the row as the reference words it
    (some,) = check_interactions(monograph, index, ["muscle relaxants"]).findings
    assert some.effect == "more sedation and weakness; tizanidine also lowers blood pressure"


def test_two_sedating_medicines_are_a_combined_risk(monograph, index):
    report = check_interactions(monograph, index, ["oxycodone", "Xanax", "lisinopril"])
    assert [f.code for f in report.combined] == ["COMBINED_SEDATION"]
    assert "oxycodone" in report.combined[0].message and "Xanax (alprazolam)" in report.combined[0].message
    assert [f.severity for f in report.findings] == ["major", "major", "moderate"]
    assert check_interactions(monograph, index, ["oxycodone", "lisinopril"]).combined == ()


def test_normalize_name():
    assert normalize_name("  Tylenol-with-Codeine #3 ") == "tylenol with codeine 3"


@pytest.mark.parametrize(("edits", "min_right"), [(1, 0.95), (2, 0.85)])
def test_typo_thresholds_over_the_whole_vocabulary(index, edits, min_right):
    """The thresholds (1 edit for 4-5 letters, 2 from 6) are chosen by this measurement:
    random typos of every spelling of 6+ letters (fixed seed) mostly find the right medicine,
    and almost never another one (which would still be reported as assumed)."""
    import random
    import string

    rng = random.Random(7)

    def typo(text):
        letters = list(text)
        for _ in range(edits):
            position = rng.randrange(len(letters))
            operation = rng.choice("sidt")
            if operation == "s":
                letters[position] = rng.choice(string.ascii_lowercase)
            elif operation == "i":
                letters.insert(position, rng.choice(string.ascii_lowercase))
            elif operation == "d" and len(letters) > 1:
                del letters[position]
            elif operation == "t" and position + 1 < len(letters):
                letters[position], letters[position + 1] = letters[position + 1], letters[position]
        return "".join(letters)

    right = wrong = total = 0
    spellings = [key for key, entry in index._entries.items() if not entry.misspelling]
    for key in rng.sample(spellings, 2000):  # a fixed sample keeps the test quick
        if len(key.replace(" ", "")) < 6:
            continue
        typed = typo(key)
        if typed == key:
            continue
        total += 1
        result = index.match(typed)
        if isinstance(result, NameMatch):
            same = result.owner == index._owner(key)
            right += same
            wrong += not same
    assert total > 1000
    assert right / total >= min_right
    assert wrong / total <= 0.01


@pytest.mark.parametrize(
    ("typed", "generics"),
    [
        ("Tylenol #2", {"codeine"}),  # a number can be part of the name: never plain paracetamol
        ("Tylenol 3", {"codeine"}),
        ("oxycodone/acetaminophen", {"oxycodone"}),
        ("hydrocodone-acetaminophen", {"hydrocodone"}),
        ("carbidopa-levodopa", {"levodopa + carbidopa", "carbidopa + levodopa"}),
        ("mirtazapine", {"mirtazapine"}),  # sedating antidepressant
        ("Sativex", {"nabiximols"}),  # cannabinoids sedate
    ],
)
def test_numbered_and_slashed_products_keep_their_interacting_part(monograph, index, typed, generics):
    report = check_interactions(monograph, index, [typed])
    assert report.findings, typed
    assert {f.medicine for f in report.findings} & generics


def test_baclofen_itself_is_a_duplicate_not_unknown(monograph, index):
    report = check_interactions(monograph, index, ["Lioresal", "Ozobax"])
    assert [f.code for f in report.combined] == ["SAME_DRUG", "SAME_DRUG"]
    assert report.unrecognised == ()


def test_empty_list_is_an_error(monograph, index):
    with pytest.raises(InputError, match="name at least one other medicine"):
        check_interactions(monograph, index, ["", "  "])


def test_tricyclic_counts_toward_combined_sedation(monograph, index):
    report = check_interactions(monograph, index, ["amitriptyline", "zolpidem"])
    assert [f.code for f in report.combined] == ["COMBINED_SEDATION"]
    assert "Combined risk (major)" in report.combined[0].message
