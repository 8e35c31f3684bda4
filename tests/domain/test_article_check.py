"""Does this article agree with the label? Claims read from a page and compared with the
monograph. Expected verdicts are written by hand from baclofen.md and from reading each seed page
(tests/data/seeds, copies of ../shared/seeds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.domain.article_check import _RANGE, _TID, _has_then, check_article, split_sentences
from dosewise.monographs import load_guidance, load_monograph

SEEDS = Path(__file__).parent.parent / "data" / "seeds"


def check(text: str):
    return check_article(text, load_monograph("baclofen"), load_guidance("baclofen"))


def verdicts(text: str) -> dict[str, str]:
    return {claim.text: claim.verdict for claim in check(text).claims}


def seed(number: str) -> str:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path.read_text(encoding="utf-8")


def verdict_of(claims: dict[str, str], start: str) -> str:
    found = [verdict for text, verdict in claims.items() if text.startswith(start)]
    assert len(found) == 1, f"{start!r}: {found} in {list(claims)}"
    return found[0]


# --- the five seed pages ---------------------------------------------------------------------


def test_seed_000_patient_guide():
    claims = verdicts(seed("000"))
    # 5 mg three times daily is the labelled start, but 30-80 mg/day is not the usual 40-80 range
    assert verdict_of(claims, "Most clinicians start at a low dose") == "not_covered"
    assert verdict_of(claims, "If you have kidney problems, the dose may need tweaking") == "agrees"
    assert verdict_of(claims, "Common side effects pop up early on") == "agrees"
    # "Before you start ... (never stop abruptly)" is glued to the sentence before it on the page
    assert verdict_of(claims, "Before you start, make sure") == "agrees"
    # antihypertensives lower blood pressure; the label does not say they amplify drowsiness
    assert (
        verdict_of(claims, "Interactions with antihypertensives, antiepileptics, or alcohol") == "not_covered"
    )
    assert "contradicts" not in claims.values()


# says the dose follows body weight, with no age or child beside it: the adult label gives fixed
# amounts (5 mg three times daily upwards, at most 80 mg/day [US-TAB]); mg/kg is the UK rule for
# children only [UK]
WEIGHT_SENTENCES = ("Patients with a higher body weight may require higher doses of Baclofen",)
# not checkable against the label, so not covered (not a contradiction):
WEIGHT_NOT_COVERED = (
    # age is a real factor (careful titration in older adults [PMS, UK], weight-based dosing in
    # children [UK]); "play crucial roles" names no rule
    "When it comes to the effectiveness and dosage requirements of Baclofen, a patient's age and weight",
    # "can impact" is vague: it states no dose per weight
    "Weight is another factor that can impact the effectiveness and dosage requirements",
    # a big weight change moves creatinine clearance by Cockcroft-Gault (weight in the formula
    # [CG76]), and doses are scaled by it [VLAV14]: "adjustments may be necessary" can be true
    "If there are significant weight fluctuations, dosage adjustments may be necessary",
    # "based on age and weight": age is supported [PMS, UK], weight for children [UK]
    "To understand the specific dosage requirements based on age and weight",
)


def test_seed_001_pharmacy_page_weight_based_adult_dosing_contradicts_the_label():
    result = check(seed("001"))
    contradicting = [claim for claim in result.claims if claim.verdict == "contradicts"]
    assert [c.text for c in contradicting] == [
        next(c.text for c in contradicting if c.text.startswith(start)) for start in WEIGHT_SENTENCES
    ]
    assert len(contradicting) == len(WEIGHT_SENTENCES)
    for claim in contradicting:
        assert claim.topic == "weight"
        assert "not per kg of body weight" in claim.reference
        assert "15, 30, 45, 60 mg/day" in claim.reference
        assert "US-TAB" in claim.sources and "UK" in claim.sources
    claims = {c.text: c.verdict for c in result.claims}
    for start in WEIGHT_NOT_COVERED:
        assert verdict_of(claims, start) == "not_covered"
    # telling the prescriber about weight changes is not a dosing rule: not covered
    assert (
        verdict_of(claims, "It is essential for patients to communicate any changes in their weight")
        == "not_covered"
    )
    assert verdict_of(claims, "Abruptly stopping the medication can lead to withdrawal symptoms") == "agrees"
    assert verdict_of(claims, "No, Baclofen should not be stopped abruptly") == "agrees"
    assert (
        verdict_of(claims, "If a dose of Baclofen is missed, it should be taken as soon as possible")
        == "agrees"
    )
    assert verdict_of(claims, "It is important not to take a double dose") == "agrees"
    assert verdict_of(claims, "Headache: Headaches are a potential side effect") == "agrees"
    # gabapentin's benefit is not what the label says about it (added CNS depression): not covered
    assert verdict_of(claims, "Enhanced effectiveness: Combining Baclofen and gabapentin") == "not_covered"
    # questions are not claims
    assert not any(text.endswith("?") for text in claims)


def test_seed_002_blog_agrees_on_start_step_maximum_and_interactions():
    claims = verdicts(seed("002"))
    # 10 mg/day is below the usual effective range, 40-80 mg/day [US-TAB]: not the label's
    assert verdict_of(claims, "The response varies: some get strong relief at 10 mg per day") == "not_covered"
    assert verdict_of(claims, "A typical adult starts with 5 mg three times a day") == "agrees"
    assert verdict_of(claims, "Every few days the doctor may add 5 mg per dose") == "agrees"
    assert verdict_of(claims, "Baclofen combined with other CNS depressants") == "agrees"
    assert verdict_of(claims, "Some people develop a dependence, so stopping abruptly") == "agrees"
    # "quite debilitating" is not "quit": the piriformis paragraph has no claim about stopping
    assert not any(text.startswith("This condition, which causes pain") for text in claims)
    assert "contradicts" not in claims.values()


def test_seed_003_practical_guide():
    result = check(seed("003"))
    claims = {c.text: c.verdict for c in result.claims}
    assert verdict_of(claims, "Typical oral dosing starts low") == "agrees"
    assert verdict_of(claims, "Typical maintenance doses range from about 15 mg to 80 mg") == "not_covered"
    assert verdict_of(claims, "Mixing baclofen with alcohol, sedatives, or strong pain medicines") == "agrees"
    assert verdict_of(claims, "If you and your doctor decide to stop baclofen") == "agrees"
    assert verdict_of(claims, "Patients with kidney problems need lower doses") == "agrees"
    assert verdict_of(claims, "Pregnancy and breastfeeding: there's limited data on safety") == "agrees"
    # "take tablets with food" is not a side-effect claim
    assert not any(text.startswith("Practical tips") for text in claims)
    assert "contradicts" not in claims.values()
    pregnancy = next(c for c in result.claims if c.topic == "pregnancy" and c.verdict == "agrees")
    assert "US-TAB" in pregnancy.sources and "LIO-IT" in pregnancy.sources


def test_seed_004_telehealth_page_agrees_with_the_label():
    result = check(seed("004"))
    claims = {c.text: c.verdict for c in result.claims}
    assert (
        verdict_of(claims, "For adults, the initial dose is often 5 mg taken three times daily") == "agrees"
    )
    assert (
        verdict_of(claims, "After the initial phase, the dose may be increased gradually, usually by 5 mg")
        == "agrees"
    )
    assert verdict_of(claims, "The typical maintenance dose ranges from 40 mg to 80 mg per day") == "agrees"
    assert verdict_of(claims, "For some patients, doses up to 80 mg daily are effective") == "agrees"
    assert verdict_of(claims, "Patients with kidney impairment should use baclofen cautiously") == "agrees"
    assert verdict_of(claims, "Baclofen should only be used during pregnancy if clearly needed") == "agrees"
    assert verdict_of(claims, "If you miss a dose, take it as soon as you remember") == "agrees"
    assert verdict_of(claims, "Do not double up doses to make up for a missed one") == "agrees"
    assert verdict_of(claims, "Antihypertensives: Baclofen may lower blood pressure") == "agrees"
    assert verdict_of(claims, "Muscle Relaxants: Using multiple muscle relaxants together") == "agrees"
    # "severe muscle weakness" is not the common, mild weakness: needing care at once agrees
    assert verdict_of(claims, "Serious side effects like difficulty breathing") == "agrees"
    assert "contradicts" not in claims.values()
    maximum = next(c for c in result.claims if c.text.startswith("For some patients, doses up to 80"))
    assert "labelled maximum 80 mg/day" in maximum.reference and maximum.sources == ("US-TAB",)


# --- constructed texts, one claim class at a time ---------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "verdict"),
    [
        # start and steps: 5 mg three times daily, +5 mg per dose every 3 days [US-TAB]
        ("Adults start with 5 mg three times a day.", "agrees"),
        ("Adults start with 10 mg three times a day.", "contradicts"),
        ("The dose is increased by 5 mg every three days.", "agrees"),
        ("The dose is increased by 5 mg every day.", "contradicts"),
        ("The dose is increased by 20 mg every three days.", "contradicts"),
        # the maximum: 80 mg/day; usual range 40-80 mg/day [US-TAB]
        ("The maximum dose is 80 mg per day.", "agrees"),
        ("The maximum dose is 120 mg per day.", "contradicts"),
        ("Adults can take up to 150 mg daily.", "contradicts"),
        ("Some people need more than 100 mg a day.", "contradicts"),
        ("Most people take 40-80 mg per day.", "agrees"),
        ("Doses range from 20 to 100 mg per day.", "contradicts"),
        ("Doses range from 10 to 60 mg per day.", "not_covered"),
        # 100-120 mg/day only in monitored hospital settings [FR]: said without a setting, the
        # label neither confirms nor rules it out; as the maximum, at home or for everyone it differs
        ("Some patients take 100 mg a day.", "not_covered"),
        ("Some people need up to 120 mg a day.", "not_covered"),
        ("Doses up to 120 mg a day are sometimes used in hospital.", "agrees"),
        ("Some people take up to 120 mg a day at home.", "contradicts"),
        ("Everyone can take up to 120 mg a day.", "contradicts"),
        ("Doses of 100-120 mg per day are used only in carefully monitored hospital settings.", "agrees"),
        ("Up to 150 mg per day may be used in hospital.", "contradicts"),
        ("Never take more than 20 mg per dose.", "agrees"),
        ("You may take up to 30 mg per dose.", "contradicts"),
        # only the first amount of a start sentence is the start; 20 mg x3 = 60 mg/day is a step
        (
            "Treatment starts at 5 mg three times a day and goes up gradually to 20 mg three times a day.",
            "agrees",
        ),
        ("Many people need more than 80 mg per day to control spasms.", "contradicts"),
        # a step per dose is three times that per day: 30 and 45 mg/day, above the 15 mg step
        ("Increase by 10 mg per dose every 3 days.", "contradicts"),
        ("Increase the dose by 15 mg per dose every three days.", "contradicts"),
        # the label's first step lasts 3 days [US-TAB]; a week is slower than labelled (older
        # adults are titrated more carefully [PMS, UK]): not the label's schedule, not contrary to it
        ("Start with 5 mg three times a day for the first week.", "not_covered"),
        ("Start with 5 mg three times a day for one day.", "contradicts"),
        ("Start with 5 mg three times a day for the first 3 days.", "agrees"),
        ("Some patients take 10 mg a day.", "not_covered"),
        # "more than 100" has no top: not the hospital ceiling of 120 mg/day [FR]
        ("More than 100 mg per day may be used in hospital.", "not_covered"),
        # weight: adults' doses are fixed amounts; mg/kg is the UK rule for children only
        ("The adult dose is 1 mg/kg per day.", "contradicts"),
        ("Your dose depends on your body weight.", "contradicts"),
        ("In children the dose depends on body weight.", "not_covered"),
        ("Adults take 1 mg/kg of baclofen daily.", "contradicts"),
        ("Weight plays a role in how baclofen works for you.", "not_covered"),
        # kidney
        ("People with kidney disease need lower doses.", "agrees"),
        ("No dose adjustment is needed in kidney disease.", "contradicts"),
        # doses are scaled by creatinine clearance [VLAV14]; it builds up when the kidneys are
        # weak [WOLF17, CHEONG20]
        ("Kidney problems do not require any dose adjustment.", "contradicts"),
        ("Dose reduction is not needed in kidney disease.", "contradicts"),
        ("Baclofen is not cleared by the kidneys.", "contradicts"),
        ("People with kidney disease can take higher doses of baclofen.", "contradicts"),
        # Cockcroft-Gault uses body weight [CG76]: a dose following weight through CrCl is not
        # weight-based dosing
        (
            "Because creatinine clearance is calculated from age, weight and creatinine, the dose may "
            "need adjusting after a big weight change.",
            "not_covered",
        ),
        # stopping
        ("Never stop baclofen suddenly.", "agrees"),
        ("Baclofen should be tapered off slowly.", "agrees"),
        ("You can stop baclofen abruptly at any time.", "contradicts"),
        ("There is no need to taper baclofen.", "contradicts"),
        # never stop suddenly; a stop is a taper of at least 14 days [US-TAB, OZO, LYV, PMS, NHS, FR]
        ("Stopping baclofen abruptly does not cause withdrawal.", "contradicts"),
        ("Baclofen does not need to be tapered.", "contradicts"),
        ("Tapering is not necessary when stopping baclofen.", "contradicts"),
        ("You do not need to taper baclofen, so stopping suddenly is fine.", "contradicts"),
        ("Stopping baclofen abruptly is safe.", "contradicts"),
        ("You can stop taking it whenever you like.", "contradicts"),
        ("Stopping baclofen abruptly is not safe.", "agrees"),
        ("Stopping baclofen without tapering can cause withdrawal.", "agrees"),
        ("Stopping baclofen abruptly is not dangerous.", "contradicts"),
        ("Stopping baclofen suddenly is dangerous.", "agrees"),
        ("Stopping baclofen abruptly is unlikely to cause withdrawal.", "not_covered"),
        # a taper lasts at least 14 days [PMS, NHS, FR]: a shorter one stated is not the label's
        ("Tapering should take a couple of days.", "contradicts"),
        ("You can taper off baclofen over 3 days.", "contradicts"),
        ("Reduce the dose slowly over one week before stopping.", "contradicts"),
        ("Baclofen should be tapered over two weeks.", "agrees"),
        ("Taper baclofen slowly over at least 14 days.", "agrees"),
        ("Stopping baclofen gradually over one to two weeks reduces the risk of withdrawal.", "agrees"),
        ("Stopping suddenly can cause withdrawal within 2 days.", "agrees"),  # not a taper length
        ("If you have taken it for a week, still taper it off slowly.", "agrees"),  # nor is this
        ("Do not taper baclofen over 3 days.", "not_covered"),
        # "don't worry about" does not negate the stop; "never ever" does
        ("Don't worry about stopping baclofen suddenly.", "contradicts"),
        ("Don't worry about stopping baclofen.", "not_covered"),
        ("Never ever stop baclofen suddenly.", "agrees"),
        ("It is okay to stop baclofen abruptly.", "contradicts"),
        # a rapid stop for a serious adverse reaction is the clinician's exception [PMS, NHS, FR]
        ("Baclofen can be stopped immediately if you experience a serious allergic reaction.", "not_covered"),
        # missed dose [NHS]
        ("If you miss a dose, take it as soon as you remember.", "agrees"),
        ("If you miss a dose, double the next one.", "contradicts"),
        ("If you miss a dose, take two doses next time.", "contradicts"),
        ("Never take two doses together to make up for a missed dose.", "agrees"),
        ("If you miss a dose, it is not a problem to double the next one.", "contradicts"),
        # skip it when the next dose is due in less than 2 hours [NHS]
        (
            "If you miss a dose, take it as soon as you remember, even if your next dose is due soon.",
            "contradicts",
        ),
        # interactions
        ("Combining baclofen with opioids can slow your breathing.", "agrees"),
        ("Baclofen has no interactions with opioids.", "contradicts"),
        ("It is safe to combine baclofen with alcohol.", "contradicts"),
        ("Taking baclofen with lithium can cause drowsiness.", "not_covered"),
        # opioids and alcohol add to sedation and can slow breathing [US-TAB, OZO, PMS]
        ("Taking baclofen with alcohol does not increase drowsiness.", "contradicts"),
        ("Combining baclofen with opioids will not cause breathing problems.", "contradicts"),
        ("Baclofen can be safely combined with opioids.", "contradicts"),
        ("Do not take baclofen with alcohol, because it can increase drowsiness.", "agrees"),
        ("Baclofen is not safe to combine with opioids because it can slow breathing.", "agrees"),
        ("It is fine to drink alcohol while taking baclofen.", "contradicts"),
        # side effects
        ("Common side effects include drowsiness, nausea and headache.", "agrees"),
        ("Common side effects include drowsiness and confusion.", "agrees"),  # confusion 1-11% [US-TAB]
        ("Baclofen has no side effects.", "contradicts"),
        ("If you have trouble breathing, seek emergency help immediately.", "agrees"),
        # pregnancy and breastfeeding
        ("Baclofen is completely safe during pregnancy.", "contradicts"),
        ("If you become pregnant, stop baclofen immediately.", "contradicts"),
        ("There is limited data on baclofen in pregnancy.", "agrees"),
        ("Baclofen passes into breast milk in small amounts.", "agrees"),
        # no studies in pregnancy, used only if the benefit clearly justifies the risk [US-TAB]
        ("There is limited evidence of harm, so baclofen can be used freely in pregnancy.", "contradicts"),
        ("Baclofen is safe in pregnancy and there is no risk to the baby.", "contradicts"),
        ("Baclofen is not known to be safe in pregnancy.", "not_covered"),
        # the labels differ for breastfeeding (LIO-IT: no effect expected; CH-LIOHEM: do not use)
        ("Only a small amount passes into breast milk, so breastfeeding is fine.", "not_covered"),
        # side effects: the label's common effects, nothing about driving or a percentage checked
        ("Baclofen can cause drowsiness, so it is fine to drive.", "not_covered"),
        ("Baclofen may cause drowsiness in 90% of patients.", "not_covered"),
        # drowsiness is common (10-63% [US-TAB]): "rare" next to it differs from the label
        ("Drowsiness is a rare side effect.", "contradicts"),
        ("Baclofen rarely causes drowsiness.", "contradicts"),
        ("Dizziness is an uncommon side effect.", "contradicts"),
        ("Drowsiness is common.", "agrees"),
        ("Drowsiness is not uncommon.", "agrees"),
    ],
)
def test_constructed_claims(sentence: str, verdict: str):
    result = check(f"About baclofen\n{sentence}\n")
    assert [(c.text, c.verdict) for c in result.claims] == [(sentence, verdict)]
    (claim,) = result.claims
    assert claim.reference and claim.sources  # every verdict shows the label's text and its source


def test_references_carry_the_monographs_numbers_and_keys():
    monograph = load_monograph("baclofen")
    (missed,) = check("If you miss a dose, double the next one.").claims
    assert "less than 2 hours" in missed.reference and missed.sources == ("NHS",)
    (stop,) = check("You can stop baclofen abruptly at any time.").claims
    assert "at least 14 days" in stop.reference and {"US-TAB", "FR"} <= set(stop.sources)
    (kidney,) = check("No dose adjustment is needed in kidney disease.").claims
    assert "CrCl 30 to under 50 mL/min: x 1/2" in kidney.reference and "VLAV14" in kidney.sources
    result = check("The maximum dose is 120 mg per day. Never stop baclofen suddenly.")
    assert set(result.sources) <= set(monograph.sources)


def test_references_cite_their_own_sources():
    (kidney,) = check("Baclofen is not cleared by the kidneys.").claims
    assert "can build up" in kidney.reference and {"WOLF17", "CHEONG20"} <= set(kidney.sources)
    (breast,) = check("Only a small amount passes into breast milk, so breastfeeding is fine.").claims
    assert "Labels differ" in breast.reference and set(breast.sources) == {"LIO-IT", "CH-LIOHEM"}
    (weight,) = check(
        "Because creatinine clearance is calculated from age, weight and creatinine, the dose may need "
        "adjusting after a big weight change."
    ).claims
    assert "Cockcroft-Gault" in weight.reference and "CG76" in weight.sources
    (side,) = check("Common side effects include drowsiness, nausea and headache.").claims
    common = side.reference.split(". Get medical help at once for: ")[0]
    assert "confusion [US-TAB]" in common  # 1-11% [US-TAB]
    assert "agitation or anxiety [UK, PMS]" in common
    assert {"US-TAB", "UK", "PMS"} <= set(side.sources)


def test_new_contradictions_cite_the_rule_they_break():
    monograph = load_monograph("baclofen")
    (taper,) = check("You can taper off baclofen over 3 days.").claims
    assert f"at least {monograph.taper.min_total_days} days" in taper.reference
    assert {"PMS", "NHS", "FR"} <= set(taper.sources)  # taper.min_total_days_source
    (rare,) = check("Drowsiness is a rare side effect.").claims
    assert rare.reference.startswith("Among the label's common effects: drowsiness [US-TAB].")
    assert rare.sources[0] == "US-TAB"  # drowsiness 10-63% [US-TAB]
    (dose,) = check("Some people need up to 120 mg a day.").claims
    assert "up to 120 mg/day only in carefully monitored hospital settings" in dose.reference
    assert {"US-TAB", "FR"} <= set(dose.sources)


def test_a_long_run_of_digits_as_a_length_of_time_is_no_crash():
    digits = "9" * 5000
    assert check(f"Taper baclofen over {digits} days.").claims[0].verdict == "agrees"
    assert check(f"Start with 5 mg three times a day for {digits} days.").claims[0].verdict == "not_covered"


def test_text_without_claims_and_questions():
    assert check("Baclofen is a muscle relaxant.\nCan baclofen be stopped abruptly?\n").claims == ()
    assert check("").claims == ()


def test_split_sentences_keeps_full_sentences_only():
    text = (
        "Heading without a stop\n  \u2022 Drowsiness: it may cause drowsiness.\n"
        "One. Two words here.Next one here!"
    )
    assert split_sentences(text) == (
        "Drowsiness: it may cause drowsiness.",
        "Two words here.",
        "Next one here!",
    )


# Linear-time forms of the sentence patterns (benchmarks/page_checks.py times them): the same
# answers as the regular expressions they replace.
_HAS_THEN_WORDS = ["missed", "miss", "dose", "doses", "not", "based on", "only", "needed", "side",
                   "effect", "effects", "include", "-", " ", "\n", "x", "depends"]  # fmt: skip


@given(st.lists(st.sampled_from(_HAS_THEN_WORDS), max_size=14))
def test_has_then_answers_as_first_dot_star_then(words: list[str]) -> None:
    text = "".join(words)
    for first, then in (
        (r"\bmiss(?:ed|es|ing)?\b", r"\bdoses?\b"),
        (r"\bnot\b", r"\b(?:based on|depend\w*)\b"),
        (r"\bside[ -]effects?\b", r"\b(?:include\w*|like|such as|pop up)\b"),
    ):
        assert _has_then(first, then, text) == (re.search(first + ".*" + then, text) is not None)


_DOSE_PIECES = ["1", "5", "0", ".", " ", "mg", "-", "to ", " a day", " three times a day", "x"]
_OLD_NUMBER = r"(\d+(?:\.\d+)?)"
_OLD_TID = (
    _OLD_NUMBER
    + r"\s*(?:mg|milligrams?)\b\s+(?:\w+\s+){0,2}(?:three times|3 times)\s+"
    + (r"(?:a |per |each )?(?:day|daily)")
)
_OLD_RANGE = (
    r"(?:from\s+)?(?:about\s+)?"
    + _OLD_NUMBER
    + r"(?:\s*mg)?\s*(?:-|to)\s*"
    + _OLD_NUMBER
    + (r"\s*(?:mg|milligrams?)\b\s*(?:\w+\s+){0,1}(?:/\s*day|per day|a day|daily|each day)")
)


@given(st.lists(st.sampled_from(_DOSE_PIECES), max_size=16))
def test_a_number_is_never_read_from_the_middle_of_a_run_of_digits(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert [m.groups() for m in re.finditer(_OLD_TID, text)] == [m.groups() for m in _TID.finditer(text)]
    assert [m.span() for m in re.finditer(_OLD_RANGE, text)] == [m.span() for m in _RANGE.finditer(text)]
