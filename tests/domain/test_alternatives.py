"""Other treatments compared: the data carry alternatives.md's own source keys, and the
comparison for a patient's situation gives the worked examples of issue 16.

Expected results are written by hand from ../shared/clinical/alternatives.md."""

from __future__ import annotations

import pytest

from dosewise.domain.alternatives import (
    LIVER_DISEASE,
    Fact,
    Situation,
    compare_alternatives,
    select_alternatives,
)
from dosewise.domain.interactions import MedicineIndex, NameMatch
from dosewise.errors import InputError
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
        Fact(text="36 mg/day", plain="At most 36 mg a day.")
    with pytest.raises(ValueError, match="not a source key"):
        Fact(text="36 mg/day", plain="At most 36 mg a day.", sources=("DOSEWISE",))
    with pytest.raises(ValueError, match="plain wording"):
        Fact(text="36 mg/day", plain=" ", sources=("S3",))


def test_every_fact_with_a_text_has_a_plain_text_with_the_same_numbers(reference) -> None:
    """The page speaks plainly: each fact's ``plain`` wording is present, differs from the
    label's, carries the same sources (one record), keeps the label's numbers, and says
    "unconfirmed" where the label's text says UNCONFIRMED."""
    import re

    dose = re.compile(r"(\d[\d,.]*)\s*(?:mg|g|mcg|micrograms|U|units|%)(?![a-z])")

    def doses(text: str) -> set[str]:  # the amounts with a unit: 1,500 mg, 400 U, 10-30%
        return {n.rstrip(".,").replace(",", "") for n in dose.findall(text.replace("-", " to "))}

    for drug in reference.drug:
        for fact in _facts(drug):
            assert fact.text.strip() and fact.plain.strip(), fact.text
            assert fact.plain != fact.text, fact.text
            if "UNCONFIRMED" in fact.text:
                assert "unconfirmed" in fact.plain.lower(), fact.plain
            assert doses(fact.text) <= doses(fact.plain), (fact.text, fact.plain)
    assert "unconfirmed" in reference.pregnancy_not_covered_plain


def test_the_plain_wording_of_the_worked_examples(reference, index) -> None:
    # what the page shows a patient (alternatives.md section 2, with the same sources)
    (cipro,) = _by_topic(_compare(reference, index, "tizanidine", medicines=["Cipro"]), "medicine")
    assert cipro.plain.startswith(
        "With Cipro (ciprofloxacin): tizanidine must not be used with this medicine"
    )
    assert cipro.sources == ("S6",) and "contraindicated" in cipro.text
    cyclobenzaprine = _compare(reference, index, "cyclobenzaprine")
    (use,) = [c for c in cyclobenzaprine.cautions if c.topic == "use"]
    assert use.plain.startswith("Not approved for spasticity: it is for short-term muscle spasm")
    assert use.sources == ("S23",)
    (kidney,) = _by_topic(_compare(reference, index, "tizanidine", crcl_ml_min=20), "kidney")
    assert kidney.plain.startswith("Your kidney function (CrCl 20 mL/min): weak kidneys clear tizanidine")
    (liver,) = _by_topic(_compare(reference, index, "dantrolene", liver="moderate"), "liver")
    assert "must not be used with active liver disease" in liver.plain and liver.level == "contraindicated"
    (pregnancy,) = _by_topic(_compare(reference, index, "diazepam", pregnant=True), "pregnancy")
    assert pregnancy.unconfirmed and "(unconfirmed)" in pregnancy.plain


def test_liver_disease_not_known_applies_no_liver_rule(reference, index) -> None:
    assert _by_topic(_compare(reference, index, "dantrolene", liver="not_known"), "liver") == []
    with pytest.raises(InputError, match="liver disease must be one of"):
        Situation(liver="a little")  # type: ignore[arg-type]


def test_medicines_and_classes_named_by_the_rules_are_in_the_vocabulary(reference) -> None:
    vocabulary = load_medicines()
    names = {m.name for m in vocabulary.medicine}
    for drug in reference.drug:
        for rule in drug.medicines:
            assert set(rule.medicines) <= names, rule.medicines
            assert set(rule.classes) <= set(vocabulary.classes), rule.classes


# --- the comparison: worked examples of issue 16, expected results from alternatives.md -------


@pytest.fixture(scope="module")
def index():
    return MedicineIndex(load_medicines())


def _compare(reference, index, drug, **situation):
    typed = situation.pop("medicines", ())
    matches = tuple(index.match(name) for name in typed)
    assert all(isinstance(m, NameMatch) for m in matches)
    (compared,) = compare_alternatives(
        reference, select_alternatives(reference, [drug]), Situation(medicines=matches, **situation)
    ).drugs
    return compared


def _by_topic(compared, topic):
    return [c for c in compared.cautions if c.topic == topic]


def test_tizanidine_at_crcl_20_lowers_the_individual_doses(reference, index) -> None:
    # section 1, tizanidine, Kidney: "CrCl < 25 mL/min: clearance falls by more than 50%. Lower
    # the individual doses while titrating; ... raise the dose size rather than the frequency [S3]"
    (kidney,) = _by_topic(_compare(reference, index, "tizanidine", crcl_ml_min=20), "kidney")
    assert kidney.level == "caution"
    assert kidney.sources == ("S3",)
    assert "clearance falls by more than 50%" in kidney.text
    assert "raise the dose size rather than the frequency" in kidney.text
    assert "CrCl 20 mL/min" in kidney.text
    # at CrCl 25 the label's threshold is not crossed: nothing about the kidneys
    assert _by_topic(_compare(reference, index, "tizanidine", crcl_ml_min=25), "kidney") == []


def test_dantrolene_is_contraindicated_with_liver_disease(reference, index) -> None:
    # section 1, dantrolene, Liver: "Contraindicated in active liver disease (hepatitis,
    # cirrhosis) [S9][S10]. See boxed warning" (section 2: boxed warning, hepatotoxicity [S8])
    compared = _compare(reference, index, "dantrolene", liver="mild")
    (liver,) = _by_topic(compared, "liver")
    assert liver.level == "contraindicated"
    assert "active liver disease" in liver.text and "cirrhosis" in liver.text
    assert {"S9", "S10"} <= set(liver.sources)
    assert compared.cautions[0] == liver  # the most serious first
    boxed = [c for c in compared.cautions if "hepatotoxicity" in c.text and c.topic == "safety"]
    assert boxed and boxed[0].level == "warning" and boxed[0].sources == ("S8",)
    assert _by_topic(_compare(reference, index, "dantrolene"), "liver") == []


@pytest.mark.parametrize("opioid", ["oxycodone", "OxyContin", "tramadol", "opioids"])
def test_diazepam_with_an_opioid_carries_the_boxed_warning(reference, index, opioid) -> None:
    # section 2, diazepam: "Boxed warning [S13]: opioids + benzodiazepines -> profound sedation,
    # respiratory depression, coma, death"
    (caution,) = _by_topic(_compare(reference, index, "diazepam", medicines=[opioid]), "medicine")
    assert caution.level == "warning"
    assert caution.sources == ("S13",)
    for words in ("profound sedation", "respiratory depression", "coma", "death"):
        assert words in caution.text
    # a medicine that is not an opioid: nothing about medicines
    assert _by_topic(_compare(reference, index, "diazepam", medicines=["atorvastatin"]), "medicine") == []


def test_gabapentin_with_an_opioid_and_its_kidney_band(reference, index) -> None:
    # section 2, gabapentin: FDA 12/2019, breathing problems with opioids or other CNS
    # depressants [S18]; section 1, Kidney: "15-29: 200-700 once daily [S17]"
    compared = _compare(reference, index, "gabapentin", medicines=["morphine"], crcl_ml_min=20)
    (medicine,) = _by_topic(compared, "medicine")
    assert medicine.level == "warning" and "S18" in medicine.sources
    assert "breathing problems" in medicine.text
    (kidney,) = _by_topic(compared, "kidney")
    assert "200-700 mg once daily" in kidney.text and kidney.sources == ("S17",)


@pytest.mark.parametrize("antibiotic", ["ciprofloxacin", "Cipro", "ciproflaxacin"])
def test_tizanidine_with_ciprofloxacin_is_contraindicated(reference, index, antibiotic) -> None:
    # section 2, tizanidine: "Contraindicated with fluvoxamine or ciprofloxacin (strong CYP1A2
    # inhibitors): ... significant hypotension, drowsiness and psychomotor impairment [S6]"
    compared = _compare(reference, index, "Zanaflex", medicines=[antibiotic])
    (caution,) = _by_topic(compared, "medicine")
    assert caution.level == "contraindicated"
    assert caution.sources == ("S6",)
    assert "hypotension" in caution.text and "ciprofloxacin" in caution.text
    assert compared.cautions[0] == caution
    (fluvoxamine,) = _by_topic(
        _compare(reference, index, "tizanidine", medicines=["fluvoxamine"]), "medicine"
    )
    assert fluvoxamine.level == "contraindicated"


def test_cyclobenzaprine_is_shown_as_not_labelled_for_spasticity(reference, index) -> None:
    # section 1, cyclobenzaprine: "Acute painful MSK spasm only. Not effective for spasticity from
    # brain or spinal-cord disease or in children with CP [S23]"; "Use only 2-3 weeks [S24]"
    compared = _compare(reference, index, "Flexeril")
    drug = compared.drug
    assert drug.name == "cyclobenzaprine"
    assert drug.category == "short_term_msk_spasm" and not drug.labelled_for_spasticity
    (use,) = [c for c in compared.cautions if c.text.startswith("Not labelled for spasticity")]
    assert use.sources == ("S23",)
    assert "Not effective for spasticity" in use.text
    assert "2-3 weeks" in drug.max_daily.text and drug.max_daily.sources == ("S24",)
    # the categories of the table "Short-term MSK spasm only vs spasticity"
    labelled = {d.name for d in reference.drug if d.labelled_for_spasticity}
    assert labelled == {"tizanidine", "dantrolene", "diazepam", "botulinum toxin", "intrathecal baclofen"}
    assert reference.find("gabapentin").category == "off_label_spasticity"


def test_liver_and_pregnancy_for_the_others(reference, index) -> None:
    # diazepam: "Contraindicated in severe hepatic insufficiency [S14]"
    (severe,) = _by_topic(_compare(reference, index, "Valium", liver="severe"), "liver")
    assert severe.level == "contraindicated" and severe.sources == ("S14",)
    # cyclobenzaprine: moderate/severe "not recommended" [S22]
    levels = {
        c.level for c in _by_topic(_compare(reference, index, "cyclobenzaprine", liver="moderate"), "liver")
    }
    assert "warning" in levels
    # alternatives.md has nothing on pregnancy for these medicines: shown as unconfirmed, unsourced
    (pregnancy,) = _by_topic(_compare(reference, index, "tizanidine", pregnant=True), "pregnancy")
    assert pregnancy.unconfirmed and pregnancy.sources == () and "UNCONFIRMED" in pregnancy.text


def test_it_informs_and_never_proposes_a_switch(reference, index) -> None:
    comparison = compare_alternatives(
        reference,
        reference.drug,
        Situation(crcl_ml_min=10, liver="severe", pregnant=True, medicines=(index.match("oxycodone"),)),
    )
    for item in comparison.drugs:
        for caution in item.cautions:
            for lowered in (caution.text.lower(), caution.plain.lower()):
                for words in ("switch to", "instead of baclofen", "better than", "is better", "best"):
                    assert words not in lowered, lowered
    assert "not advice to start, stop or switch" in reference.disclaimer


def test_unknown_treatments_are_named_with_the_known_ones(reference) -> None:
    with pytest.raises(InputError, match=r"unknown treatment 'aspirin'.*tizanidine.*intrathecal baclofen"):
        select_alternatives(reference, ["tizanidine", "aspirin"])
    assert [d.name for d in select_alternatives(reference, ["Botox", "ITB", "botox"])] == [
        "botulinum toxin",
        "intrathecal baclofen",
    ]
    assert LIVER_DISEASE == ("none", "mild", "moderate", "severe")


# --- what the reviewer found missing (expected results by hand from alternatives.md) -----------


def _safety(compared):
    return _by_topic(compared, "safety")


def test_diazepam_is_not_to_be_used_in_the_conditions_of_s14_even_without_liver_disease(reference, index):
    # section 2, diazepam: "Contraindicated in [S14]: myasthenia gravis; severe respiratory
    # insufficiency; severe hepatic insufficiency; sleep apnoea; acute narrow-angle glaucoma"
    compared = _compare(reference, index, "diazepam")
    (rule,) = [c for c in _safety(compared) if "myasthenia gravis" in c.text]
    assert rule.level == "contraindicated" and rule.sources == ("S14",)
    for words in ("severe respiratory insufficiency", "sleep apnoea", "acute narrow-angle glaucoma"):
        assert words in rule.text
    assert rule.plain.startswith("Not to be used with myasthenia gravis")
    assert compared.cautions[0] == rule  # the most serious first


def test_carisoprodol_contraindications_seizures_and_cyp2c19_poor_metabolisers(reference, index):
    # section 2: "Seizures have been reported. Contraindicated in acute intermittent porphyria and
    # in carbamate (e.g. meprobamate) hypersensitivity [S27]"; section 1, Liver: "CYP2C19 poor
    # metabolisers have about 4x exposure [S30]"
    safety = _safety(_compare(reference, index, "Soma"))
    (contra,) = [c for c in safety if "porphyria" in c.text]
    assert contra.level == "contraindicated" and contra.sources == ("S27",)
    assert "carbamate (e.g. meprobamate) hypersensitivity" in contra.text
    assert contra.plain.startswith("Not to be used with acute intermittent porphyria")
    (seizures,) = [c for c in safety if "Seizures" in c.text]
    assert seizures.level == "caution" and seizures.sources == ("S27",)
    (cyp,) = [c for c in safety if "CYP2C19" in c.text]
    assert cyp.sources == ("S30",) and "about 4x exposure" in cyp.text and "about 4 times" in cyp.plain
    assert "S30" in reference.sources


def test_tizanidine_warnings_and_liver_figures_show_without_liver_disease(reference, index):
    # section 2: "Warnings [S1]: hypotension (don't combine with other alpha-2 agonists); liver
    # injury; sedation; hallucinations"; "ALT rises above 3x the upper limit of normal in about 5%
    # vs 0.4% on placebo; rare fatal liver failure [S5]"; section 1: "Check ALT at baseline and 1
    # month after reaching the maximum dose [S2]"
    compared = _compare(reference, index, "tizanidine")
    assert _by_topic(compared, "liver") == []
    by_source = {c.sources: c for c in _safety(compared)}
    warnings = by_source[("S1",)]
    for words in ("hypotension", "alpha-2 agonists", "liver injury", "sedation", "hallucinations"):
        assert words in warnings.text
    assert "low blood pressure" in warnings.plain
    alt = by_source[("S5",)]
    assert "about 5% vs 0.4% on placebo" in alt.text and "rare fatal liver failure" in alt.text
    assert "Check ALT at baseline and 1 month after reaching the maximum dose" in by_source[("S2",)].text
    # with liver disease: "Ordinarily avoid or use with extreme caution [S3]", said once
    (liver,) = _by_topic(_compare(reference, index, "tizanidine", liver="mild"), "liver")
    assert liver.level == "warning" and liver.sources == ("S3",)


def test_gabapentin_label_warnings_and_the_fda_warning_for_copd_and_the_elderly(reference, index):
    # section 2: "Label warnings: DRESS, anaphylaxis/angioedema, somnolence/dizziness, seizures on
    # withdrawal, suicidal ideation [S16]"; "FDA (12/2019): serious breathing problems ... in COPD
    # and in the elderly [S18]" (the comparison gets no age or COPD: shown to everyone)
    safety = _safety(_compare(reference, index, "gabapentin"))
    (label,) = [c for c in safety if c.sources == ("S16",)]
    for words in ("DRESS", "suicidal ideation", "seizures on withdrawal"):
        assert words in label.text
    (fda,) = [c for c in safety if c.sources == ("S18",)]
    assert "COPD" in fda.text and "elderly" in fda.text and "older people" in fda.plain


def test_cyclobenzaprine_atropine_like_caution(reference, index):
    # section 2: "Has atropine-like effects, so use caution with urinary retention or angle-closure
    # glaucoma [S22b]"
    (rule,) = [c for c in _safety(_compare(reference, index, "cyclobenzaprine")) if c.sources == ("S22b",)]
    assert rule.level == "caution"
    assert "urinary retention" in rule.text and "angle-closure glaucoma" in rule.text


@pytest.mark.parametrize("other", ["clonidine", "guanfacine", "Intuniv", "methyldopa", "dexmedetomidine"])
def test_tizanidine_with_any_alpha_2_agonist(reference, index, other):
    # section 2, tizanidine: "hypotension (don't combine with other alpha-2 agonists) [S1]"
    (caution,) = _by_topic(_compare(reference, index, "tizanidine", medicines=[other]), "medicine")
    assert caution.level == "warning" and caution.sources == ("S1",)
    assert "do not combine with other alpha-2 agonists" in caution.text


def test_levels_follow_the_files_own_rule(reference, index):
    # alternatives.toml: "contraindicated | warning (boxed warning, "avoid", "not recommended")"
    for drug in reference.drug:
        for rule in (*drug.always, *drug.kidney, *drug.liver, *drug.medicines):
            if rule.text.lower().startswith("contraindicated"):
                assert rule.level == "contraindicated", rule.text
    cyclobenzaprine = _safety(_compare(reference, index, "cyclobenzaprine"))
    assert [c.level for c in cyclobenzaprine if c.sources == ("S22",)] == ["contraindicated"]
    dantrolene = _safety(_compare(reference, index, "dantrolene"))
    (posture,) = [c for c in dantrolene if "posture" in c.text]
    assert posture.level == "contraindicated"
    # Amrix ER: "not recommended in hepatic impairment or the elderly [S23]"
    (amrix,) = [
        c
        for c in _by_topic(_compare(reference, index, "cyclobenzaprine", liver="mild"), "liver")
        if c.sources == ("S23",)
    ]
    assert amrix.level == "warning"


def test_within_a_level_what_the_record_brings_comes_first(reference, index):
    compared = _compare(reference, index, "dantrolene", liver="severe")
    assert [c.topic for c in compared.cautions if c.level == "contraindicated"] == ["liver", "safety"]


# --- with the baclofen the patient takes: baclofen.md section 6, from the monograph's table ----


def test_each_treatment_with_the_baclofen_the_patient_takes():
    # baclofen.md section 6: benzodiazepines major [PMS, OZO]; gabapentinoids moderate [OZO];
    # other centrally acting muscle relaxants moderate [CH, PMS]; dantrolene and botulinum toxin:
    # the monograph's own (Dosewise) caution; intrathecal baclofen: the table says nothing
    from dosewise.services.alternatives import compare_treatments

    result = compare_treatments()
    found = {
        item.drug.name: [(c.level, c.sources) for c in item.cautions if c.topic == "baclofen"]
        for item in result.comparison.drugs
    }
    assert found == {
        "tizanidine": [("caution", ("CH", "PMS"))],
        "dantrolene": [("caution", ("DOSEWISE",))],
        "diazepam": [("warning", ("PMS", "OZO"))],
        "gabapentin": [("caution", ("OZO",))],
        "cyclobenzaprine": [("caution", ("CH", "PMS"))],
        "methocarbamol": [("caution", ("CH", "PMS"))],
        "carisoprodol": [("caution", ("CH", "PMS"))],
        "botulinum toxin": [("caution", ("DOSEWISE",))],
        "intrathecal baclofen": [],
    }
    diazepam = next(i for i in result.comparison.drugs if i.drug.name == "diazepam")
    (with_baclofen,) = [c for c in diazepam.cautions if c.topic == "baclofen"]
    assert with_baclofen.text.startswith(
        "With the baclofen you take: major interaction, added CNS and respiratory depression. Use together"
    )
    assert with_baclofen.plain.startswith(
        "With the baclofen you take: a major interaction, which may be life-threatening or need a "
        "change of treatment: added CNS and respiratory depression."
    )
    # the monograph's keys are cited with their citations, beside alternatives.md's
    assert result.comparison.citations["PMS"] == "pms-Baclofen Canadian product monograph"
    assert {"PMS", "OZO", "CH", "S13"} <= set(result.comparison.source_keys)
    for key in result.comparison.source_keys:
        assert result.comparison.citations[key]


def test_with_baclofen_each_treatment_is_told_its_own_effect_and_dosewise_cautions_say_so():
    # "tizanidine also lowers blood pressure" is said of tizanidine only; dantrolene and botulinum
    # toxin are not in baclofen.md section 6's table: the monograph's own caution, not a graded one
    from dosewise.services.alternatives import compare_treatments

    said = {
        item.drug.name: [c for c in item.cautions if c.topic == "baclofen"]
        for item in compare_treatments().comparison.drugs
    }
    for name in ("cyclobenzaprine", "methocarbamol", "carisoprodol"):
        (caution,) = said[name]
        assert caution.text.startswith("With the baclofen you take: moderate interaction, more sedation and")
        assert "tizanidine" not in caution.text and "tizanidine" not in caution.plain
    (tizanidine,) = said["tizanidine"]
    assert "tizanidine also lowers blood pressure" in tizanidine.text
    for name in ("dantrolene", "botulinum toxin"):
        (caution,) = said[name]
        assert caution.level == "caution" and caution.sources == ("DOSEWISE",)
        assert caution.text.startswith(
            "Dosewise caution (not in the labels): with the baclofen you take, added muscle weakness."
        )
        assert caution.plain.startswith("Dosewise caution (not in the medicine labels): ")
        assert "interaction" not in caution.text and "Dosewise caution:" not in caution.text


def test_tizanidine_with_the_pill_is_a_warning_and_its_wording_keeps_to_the_reference(reference, index):
    # alternatives.md section 2: "Avoid ... oral contraceptives [S6]": "avoid" is a warning
    (pill,) = _by_topic(
        _compare(reference, index, "tizanidine", medicines=["birth control pill"]), "medicine"
    )
    assert pill.level == "warning" and pill.sources == ("S6",)
    # "hypotension (don't combine with other alpha-2 agonists) [S1]": no example the file does not give
    tizanidine = next(d for d in reference.drug if d.name == "tizanidine")
    assert not [r for r in tizanidine.always if "clonidine" in r.plain]


# --- dialysis: a dialysis plan stores no CrCl; the rules for the lowest CrCl apply --------------


def test_on_dialysis_the_lowest_crcl_rules_and_the_dialysis_dose_apply(reference, index):
    # section 1, gabapentin Kidney: "<15: 100-300 once daily. Extra dose of 125-350 mg after each
    # haemodialysis [S17]"; tizanidine: "CrCl < 25 mL/min: clearance falls by more than 50% [S3]"
    gabapentin = _by_topic(_compare(reference, index, "gabapentin", dialysis=True), "kidney")
    assert [c.sources for c in gabapentin] == [("S17",), ("S17",)]
    assert "100-300 mg once daily" in gabapentin[0].text
    assert "extra dose of 125-350 mg after each haemodialysis" in gabapentin[1].text
    assert all(c.text.startswith("Kidney function (on dialysis") for c in gabapentin)
    assert gabapentin[1].plain.startswith(
        "Your kidneys (on dialysis): on haemodialysis, an extra 125 to 350 mg"
    )
    (tizanidine,) = _by_topic(_compare(reference, index, "tizanidine", dialysis=True), "kidney")
    assert "clearance falls by more than 50%" in tizanidine.text
    # CrCl 10 without dialysis: the <15 dose, no extra dose after dialysis
    (low,) = _by_topic(_compare(reference, index, "gabapentin", crcl_ml_min=10), "kidney")
    assert "haemodialysis" not in low.text
    with pytest.raises(InputError, match="not both"):
        Situation(crcl_ml_min=10, dialysis=True)
