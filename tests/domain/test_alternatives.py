"""Other treatments compared: the data carry alternatives.md's own source keys, and the
comparison for a patient's situation gives the worked examples of issue 16.

Expected results are written by hand from ../shared/clinical/alternatives.md."""

from __future__ import annotations

import pytest

from dosewise.domain.alternatives import Fact
from dosewise.monographs import REFERENCE_FILES, available_drugs, load_alternatives, load_medicines

# The source list at the end of alternatives.md, copied by hand.
ALTERNATIVES_MD_KEYS = {
    "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S9t", "S8", "S9", "S10", "S11", "S12", "S13", "S14",
    "S15", "S15b", "S16", "S16c", "S17", "S18", "S19", "S20", "S20b", "S20c", "S21", "S22", "S22b",
    "S23", "S24", "S25", "S25b", "S26", "S27", "S28", "S28b", "S29", "S30", "S31", "S32", "S32b",
    "S33", "S34", "S34b", "S35", "S36", "S37", "S38", "S39", "S40", "S40b", "S41", "S42", "S43",
    "S44", "S44b", "S44c", "S45",
    "P1", "P2", "P2b", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12", "P13", "P14",
}  # fmt: skip

NINE = (
    "tizanidine", "dantrolene", "diazepam", "gabapentin", "cyclobenzaprine", "methocarbamol",
    "carisoprodol", "botulinum toxin", "intrathecal baclofen",
)  # fmt: skip


@pytest.fixture(scope="module")
def reference():
    return load_alternatives()


def _facts(drug):
    yield from (drug.labelled_for, drug.mechanism, drug.start, drug.max_daily)
    yield from (*drug.always, *drug.kidney, *drug.liver, *drug.pregnancy, *drug.medicines)


def test_the_nine_treatments_are_reference_data_not_drug_monographs(reference) -> None:
    assert reference.names == NINE
    assert "alternatives" in REFERENCE_FILES
    assert available_drugs() == ("baclofen",)


def test_every_source_key_is_in_the_source_list_of_alternatives_md(reference) -> None:
    assert set(reference.sources) <= ALTERNATIVES_MD_KEYS
    for drug in reference.drug:
        for fact in _facts(drug):
            assert set(fact.sources) <= ALTERNATIVES_MD_KEYS, fact.text
            assert fact.sources or fact.unconfirmed, fact.text


def test_unconfirmed_items_are_carried_as_unconfirmed(reference) -> None:
    gabapentin = reference.find("gabapentin")
    assert gabapentin is not None
    assert gabapentin.mechanism.unconfirmed  # alpha-2-delta ligand: UNCONFIRMED in alternatives.md
    assert all(rule.unconfirmed for rule in gabapentin.liver)
    dantrolene = reference.find("Dantrium")
    assert dantrolene is not None and all(rule.unconfirmed for rule in dantrolene.kidney)
    for drug in reference.drug:
        for fact in _facts(drug):
            if fact.unconfirmed and not fact.sources:
                assert "UNCONFIRMED" in fact.text or "not specified" in fact.text, fact.text


def test_a_fact_without_a_source_must_say_it_is_unconfirmed() -> None:
    with pytest.raises(ValueError, match="source keys, or unconfirmed"):
        Fact(text="36 mg/day")
    with pytest.raises(ValueError, match="not a source key"):
        Fact(text="36 mg/day", sources=("DOSEWISE",))


def test_medicines_and_classes_named_by_the_rules_are_in_the_vocabulary(reference) -> None:
    vocabulary = load_medicines()
    names = {m.name for m in vocabulary.medicine}
    for drug in reference.drug:
        for rule in drug.medicines:
            assert set(rule.medicines) <= names, rule.medicines
            assert set(rule.classes) <= set(vocabulary.classes), rule.classes
