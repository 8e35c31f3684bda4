"""Is this online pharmacy safe? The page checker against the criteria of the clinical reference
(alternatives.md section 3: BeSafeRx [P2], NABP [P4]-[P7], LegitScript [P10]-[P12]).

Expected results are written by hand from the pages below and the five seed pages
(tests/data/seeds, copies of ../shared/seeds), after reading each one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosewise.domain.pharmacy_check import (
    CANNOT_CONFIRM,
    NOT_FOUND,
    POSITIVE_SIGNS,
    WARNING_SIGNS,
    _lines_up,
    _matches_by_lowered,
    check_pharmacy_page,
)

SEEDS = Path(__file__).parent.parent / "data" / "seeds"
POSITIVE = {
    "requires_prescription",
    "us_street_address",
    "us_phone",
    "licence_number",
    "licensed_pharmacist",
    "pharmacy_domain",
    "privacy_policy",
}
MISSING = {f"missing_{code}" for code in POSITIVE}

LEGITIMATE = """Main Street Pharmacy - mainstreet.pharmacy
Licensed pharmacy, 1200 Oak Avenue, Suite 4, Springfield, IL 62701. Phone (217) 555-0134.
Illinois pharmacy license number 054.012345.
A valid prescription is required for all prescription medicines; we contact your doctor to verify it.
Talk to a licensed pharmacist Monday to Saturday, 9am to 6pm.
Read our Privacy Policy (HIPAA Notice of Privacy Practices).
"""

ROGUE = """MegaMeds Online - Cheapest Baclofen! No prescription needed.
Buy Valium and Soma too, all at 80% off this week.
We ship worldwide from our overseas warehouse. Contact us by email only: sales@megameds.example
FREE bonus pills with every order. Limited time offer!
"""


def _codes(result: object, kind: str) -> set[str]:
    return {flag.code for flag in result.flags if flag.kind == kind}  # type: ignore[attr-defined]


def _flag(result: object, code: str) -> object:
    return next(flag for flag in result.flags if flag.code == code)  # type: ignore[attr-defined]


def test_a_legitimate_pharmacy_shows_every_sign_and_no_warning() -> None:
    result = check_pharmacy_page(LEGITIMATE)
    assert result.verdict == "no_warning_signs_found"
    assert result.flags == ()
    assert {flag.code for flag in result.found_positive} == POSITIVE
    evidence = {flag.code: flag.evidence for flag in result.found_positive}
    assert "1200 Oak Avenue" in evidence["us_street_address"]
    assert "(217) 555-0134" in evidence["us_phone"]
    assert evidence["licence_number"] == "Illinois pharmacy license number 054.012345."
    assert "Talk to a licensed pharmacist" in evidence["licensed_pharmacist"]
    assert "mainstreet.pharmacy" in evidence["pharmacy_domain"]
    assert "Privacy Policy" in evidence["privacy_policy"]
    assert "A valid prescription is required" in evidence["requires_prescription"]
    # every positive sign shown: still never called safe, and what to check by hand is listed
    assert "safe" not in result.summary.replace("does not prove a pharmacy is safe", "")
    assert CANNOT_CONFIRM not in result.summary
    assert any("state board of pharmacy" in check.text for check in result.to_check)
    assert any(".pharmacy" in check.text for check in result.to_check)


def test_a_rogue_pharmacy_shows_its_warning_signs_with_the_words_that_show_them() -> None:
    result = check_pharmacy_page(ROGUE)
    assert result.verdict == "warning_signs"
    assert CANNOT_CONFIRM in result.summary
    assert _codes(result, "warning") == {
        "no_prescription",
        "deep_discount",
        "controlled_without_prescription",
        "ships_worldwide_or_from_abroad",
        "email_only_contact",
        "spam_offers",
    }
    assert _flag(result, "no_prescription").evidence == "No prescription needed."
    assert _flag(result, "no_prescription").sources == ("P2", "P6", "P12")
    assert "Cheapest Baclofen" in _flag(result, "deep_discount").evidence
    assert "ship worldwide" in _flag(result, "ships_worldwide_or_from_abroad").evidence
    assert "email only" in _flag(result, "email_only_contact").evidence
    assert "Valium and Soma" in _flag(result, "controlled_without_prescription").evidence
    # "No prescription needed" is not "a prescription is needed"; nothing else is on the page
    assert _codes(result, "missing") == MISSING
    assert all(flag.evidence == NOT_FOUND for flag in result.flags if flag.kind == "missing")


def test_a_po_box_alone_is_a_warning_but_not_beside_a_street_address() -> None:
    alone = check_pharmacy_page("Write to us: PO Box 1234, Miami, FL 33101. A prescription is required.")
    assert alone.verdict == "warning_signs"
    assert "PO Box 1234" in _flag(alone, "po_box_only").evidence
    both = check_pharmacy_page("200 Main Street, Miami, FL 33101 (mail: PO Box 1234).")
    assert "po_box_only" not in _codes(both, "warning")


def test_advice_that_names_a_warning_sign_does_not_show_it() -> None:
    result = check_pharmacy_page(
        "Never buy baclofen without a prescription. Avoid sites that ship worldwide. "
        "Look for pharmacies that require a valid prescription and have a licensed pharmacist."
    )
    assert result.verdict == "no_warning_signs_found"
    assert CANNOT_CONFIRM in result.summary
    assert "missing_requires_prescription" in _codes(result, "missing")


def test_a_pharmacy_refusing_to_sell_without_a_prescription_is_not_flagged() -> None:
    result = check_pharmacy_page("We will not fill any order without a valid prescription.")
    assert result.verdict == "no_warning_signs_found"


def test_a_licence_number_with_letters_is_found_but_not_the_words_licence_number() -> None:
    found = check_pharmacy_page("Ships from our store. License # PHY 57162. Privacy Notice.")
    assert (
        next(f for f in found.found_positive if f.code == "licence_number").evidence == "License # PHY 57162."
    )
    advice = check_pharmacy_page("Look for a pharmacy license number and secure https connections.")
    assert "missing_licence_number" in _codes(advice, "missing")


def test_medical_advice_wording_is_not_a_warning_sign() -> None:
    result = check_pharmacy_page(
        "Use the lowest effective dose. Do not take extra tablets to make up for a missed dose. "
        "Ask your doctor before you stop."
    )
    assert result.verdict == "no_warning_signs_found"


def test_nabp_own_domain_named_on_a_page_is_not_the_pharmacy_domain() -> None:
    result = check_pharmacy_page("Check any site on safe.pharmacy or nabp.pharmacy before you buy.")
    assert "missing_pharmacy_domain" in _codes(result, "missing")


def test_an_online_questionnaire_in_place_of_a_prescription_is_a_warning() -> None:
    result = check_pharmacy_page(
        "Fill in our short online questionnaire and our doctor writes the prescription."
    )
    assert result.verdict == "warning_signs"
    assert _flag(result, "questionnaire_prescription").sources == ("P6", "P7", "P10")


def test_the_unconfirmed_nabp_indicators_are_shown_as_unconfirmed() -> None:
    result = check_pharmacy_page(ROGUE)
    unconfirmed = [check for check in result.to_check if check.unconfirmed]
    assert len(unconfirmed) == 1
    assert "UNCONFIRMED" in unconfirmed[0].text
    assert "eight" in unconfirmed[0].text


def test_every_cited_source_key_is_listed() -> None:
    result = check_pharmacy_page(ROGUE)
    cited = {key for flag in result.flags for key in flag.sources}
    cited |= {key for check in result.to_check for key in check.sources}
    assert cited == set(result.sources)


# The seed pages, read by hand:
# 000 a patient guide (blog) that sells nothing: no warning sign, no sign of a pharmacy.
# 001 a shop page ("$0,51 per pill", "Order Now") selling baclofen that never says a prescription
#     is needed ("commonly prescribed" is not a requirement), nor gives an address, a phone, a
#     licence or a pharmacist; "affordable" and "save you money" are link titles, not deep
#     discounts: one warning sign, selling a prescription medicine without mentioning a
#     prescription (BeSafeRx: a safe pharmacy always requires one [P2]), every sign of a
#     legitimate pharmacy missing (see the test after this one).
# 002 a guide whose advice names the signs ("stick to licensed pharmacies that require a valid
#     prescription", "avoid any shop that offers the drug without proof of a doctor's order"):
#     advice is not evidence, so nothing found either way.
# 003 a patient guide: nothing about buying.
# 004 a telehealth advert ("get prescriptions without leaving home", "video visits under $40"):
#     no warning sign (a video visit is not a questionnaire), no sign of a pharmacy.
@pytest.mark.parametrize(
    "seed",
    [
        "000_aa13ce382722ea64.txt",
        "002_6babfae627dde4aa.txt",
        "003_2eaf8a0a3837b4d3.txt",
        "004_1d4ee5f83b4883c2.txt",
    ],
)
def test_the_seed_pages_show_no_warning_sign_and_none_of_a_legitimate_pharmacy(seed: str) -> None:
    result = check_pharmacy_page((SEEDS / seed).read_text(encoding="utf-8"))
    assert result.verdict == "no_warning_signs_found"
    assert result.found_positive == ()
    assert _codes(result, "missing") == MISSING
    assert f"7 of the 7 signs of a legitimate pharmacy are not on the page: Dosewise {CANNOT_CONFIRM}" in (
        result.summary
    )


def test_the_shop_seed_sells_baclofen_without_mentioning_a_prescription() -> None:
    result = check_pharmacy_page((SEEDS / "001_707be3bd6e6d2ed7.txt").read_text(encoding="utf-8"))
    assert result.verdict == "warning_signs"
    assert _codes(result, "warning") == {"sells_without_mentioning_prescription"}
    flag = _flag(result, "sells_without_mentioning_prescription")
    assert flag.evidence == "$0,51 per pill Order Now (Baclofen)"  # type: ignore[attr-defined]
    assert flag.sources == ("P2", "P4", "P6", "P12")  # type: ignore[attr-defined]
    assert "always requires a valid prescription" in flag.text  # type: ignore[attr-defined]
    assert result.found_positive == ()
    assert _codes(result, "missing") == MISSING
    assert result.summary.startswith("Warning signs found") and CANNOT_CONFIRM in result.summary


SHOP = """Baclofen 10 mg - 30 tablets
$24.99
Add to cart
Fast delivery to your door.
"""


def test_a_shop_selling_a_prescription_medicine_and_never_mentioning_a_prescription_is_a_warning() -> None:
    result = check_pharmacy_page(SHOP)
    assert result.verdict == "warning_signs"
    assert _flag(result, "sells_without_mentioning_prescription").evidence == (  # type: ignore[attr-defined]
        "$24.99 Add to cart (Baclofen)"
    )
    # the same shop saying a prescription is needed: no warning (it is still not shown to be safe)
    with_rx = check_pharmacy_page(SHOP + "A valid prescription is required before we ship.\n")
    assert with_rx.verdict == "no_warning_signs_found"
    assert "requires_prescription" in {flag.code for flag in with_rx.found_positive}


def test_only_an_offer_of_a_prescription_medicine_without_a_prescription_is_that_warning() -> None:
    # the legitimate pharmacy sells with an order button and requires a prescription
    legitimate = check_pharmacy_page(LEGITIMATE + "Baclofen 10 mg, 30 tablets: $12.00. Add to cart.\n")
    assert legitimate.verdict == "no_warning_signs_found"
    # advice naming a price and ordering, and saying a prescription is needed
    advice = check_pharmacy_page(
        "Before you order baclofen online at $1 a pill, check out the shop: stick to pharmacies that "
        "require a valid prescription. Order now only from a licensed pharmacy."
    )
    assert "sells_without_mentioning_prescription" not in _codes(advice, "warning")
    # no price, no order words, or no prescription medicine: not an offer
    for page in (
        "Baclofen 10 mg tablets. Order now.",
        "Baclofen 10 mg tablets, $0.51 per pill.",
        "Vitamin D 1000 IU, $4.99. Add to cart.",
    ):
        assert "sells_without_mentioning_prescription" not in _codes(check_pharmacy_page(page), "warning")
    # a page already saying "no prescription needed" has that warning, not this one
    rogue = _codes(
        check_pharmacy_page("Baclofen $0.51 per pill. Order now, no prescription needed."), "warning"
    )
    assert "no_prescription" in rogue and "sells_without_mentioning_prescription" not in rogue


# Each piece of a page with what it shows, written by hand: (warning signs, signs of a
# legitimate pharmacy). Two rules join pieces: an offer of baclofen is
# "sells_without_mentioning_prescription" only when no piece says anything about a prescription
# being needed or not; an email address is email-only contact only with no US phone and no street.
PIECE_SIGNS: dict[str, tuple[set[str], set[str]]] = {
    "No prescription needed.": ({"no_prescription"}, set()),
    "Don't wait for a doctor: no prescription needed.": ({"no_prescription"}, set()),
    "A valid prescription is required.": (set(), {"requires_prescription"}),
    "1200 Oak Avenue, Springfield, IL 62701.": (set(), {"us_street_address"}),
    "Phone (217) 555-0134.": (set(), {"us_phone"}),
    "Pharmacy license number 054.012345.": (set(), {"licence_number"}),
    "Talk to a licensed pharmacist.": (set(), {"licensed_pharmacist"}),
    "mainstreet.pharmacy": (set(), {"pharmacy_domain"}),
    "Privacy Policy.": (set(), {"privacy_policy"}),
    "We ship worldwide.": ({"ships_worldwide_or_from_abroad"}, set()),
    "Never buy from sites that ship worldwide.": (set(), set()),
    "Our pharmacy is located in Vanuatu.": ({"located_outside_us"}, set()),
    "Cheapest prices!": ({"deep_discount"}, set()),
    "Write to sales@shop.example.": (set(), set()),
    "Baclofen 10 mg, $0.51 per pill. Order now.": (set(), set()),
}
PIECES = list(PIECE_SIGNS)


def _expected_signs(pieces: list[str]) -> tuple[set[str], set[str]]:
    warnings = {code for piece in pieces for code in PIECE_SIGNS[piece][0]}
    positive = {code for piece in pieces for code in PIECE_SIGNS[piece][1]}
    says_rx = any("prescription" in piece for piece in pieces)
    if "Baclofen 10 mg, $0.51 per pill. Order now." in pieces and not says_rx:
        warnings.add("sells_without_mentioning_prescription")
    if "Write to sales@shop.example." in pieces and not positive & {"us_phone", "us_street_address"}:
        warnings.add("email_only_contact")
    return warnings, positive


@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_the_verdict_never_calls_a_page_safe(pieces: list[str]) -> None:
    """Property, against signs written by hand for each piece: the warnings and positive signs
    found are those expected; the summary says "cannot confirm it is safe" unless there is no
    warning and every sign of a legitimate pharmacy is on the page, and then says a page alone
    "does not prove a pharmacy is safe"; it never says a pharmacy is safe otherwise."""
    result = check_pharmacy_page("\n".join(pieces))
    warnings, positive = _expected_signs(pieces)
    assert _codes(result, "warning") == warnings
    assert {flag.code for flag in result.found_positive} == positive
    assert _codes(result, "missing") == {f"missing_{code}" for code in POSITIVE - positive}
    assert result.verdict == ("warning_signs" if warnings else "no_warning_signs_found")
    assert result.summary.startswith("Warning signs found") == bool(warnings)
    everything_shown = not warnings and positive == POSITIVE
    assert (CANNOT_CONFIRM in result.summary) != everything_shown
    assert ("does not prove a pharmacy is safe" in result.summary) == everything_shown
    said = result.summary.replace(CANNOT_CONFIRM, "").replace("does not prove a pharmacy is safe", "")
    assert "safe" not in said.lower()


_ADDRESS_PIECES = [
    "a",
    "b-",
    "-",
    ".",
    "..",
    "pharmacy",
    "nabp",
    "safe",
    "www",
    "_",
    " ",
    "Pharmacy",
    "1",
    "\n",
]


@given(st.lists(st.sampled_from(_ADDRESS_PIECES), max_size=20))
def test_the_pharmacy_address_finder_matches_as_its_regular_expression(pieces: list[str]) -> None:
    """The finder (linear time, bounded memory) finds what the pattern finds on the whole text."""
    text = "".join(pieces)
    finder = next(sign for sign in POSITIVE_SIGNS if sign.code == "pharmacy_domain").patterns[0]
    pattern = re.compile(finder.pattern.pattern, re.IGNORECASE)  # type: ignore[attr-defined]
    assert [m.span() for m in finder.finditer(text)] == [m.span() for m in pattern.finditer(text)]


def test_a_web_address_in_a_long_run_of_labels_is_still_found() -> None:
    found = check_pharmacy_page("Visit " + "a." * 5000 + "shop.pharmacy today.").found_positive
    assert "a.a.a." in next(flag.evidence for flag in found if flag.code == "pharmacy_domain")


_WORDING = [
    *PIECES,
    "no prescription",
    "NO PRESCRIPTION",
    "Prescriptions are not required",
    "xno prescription",
    "licensed Pharmacist",
    "PO Box 12",
    "\u212a",
    " ",
    "\n",
    "-",
    "invalid prescription is required",
    "\u00e9",
    "Forget the prescription",
    "don't forget the prescription",
    "no prescription transfer fees",
    "Soma pills, no questions asked",
    "only dispense medicines with a prescription",
]


@given(st.lists(st.sampled_from(_WORDING), max_size=10))
def test_the_fast_search_finds_what_each_pattern_finds(pieces: list[str]) -> None:
    """Patterns starting with \\b are searched on the lower-cased page without it: the same
    matches as the pattern on the page."""
    text = " ".join(pieces)
    lowered = text.lower()
    assert _lines_up(text, lowered)
    for sign in (*POSITIVE_SIGNS, *WARNING_SIGNS):
        for pattern in sign.patterns:
            fast = [m.span() for m in _matches_by_lowered(pattern, text, lowered)]
            assert fast == [m.span() for m in pattern.finditer(text)]


# Rogue sales wording with "don't"/"never" is not advice (review of issue 16, reproduced by hand).
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (
            "Don't wait for a doctor: order Valium without a prescription and get it in 3 days.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Never pay full price again: buy Soma with no prescription needed.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "You don't need a doctor's note: no prescription required for baclofen, diazepam or "
            "carisoprodol.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Avoid the hassle and buy Soma without a prescription.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Unlike other sites that make you wait, we sell baclofen without a prescription.",
            {"no_prescription"},
        ),
        ("You can't beat our prices: baclofen without a prescription.", {"no_prescription"}),
    ],
)
def test_sales_wording_with_a_negation_is_still_a_warning(page: str, expected: set[str]) -> None:
    result = check_pharmacy_page(page)
    assert result.verdict == "warning_signs"
    assert _codes(result, "warning") == expected


@pytest.mark.parametrize(
    "page",
    [
        "Never buy baclofen without a prescription.",
        "Avoid sites that sell without a prescription.",
        "Avoid any shop that offers Valium with no prescription needed.",
        "Never buy from a pharmacy that ships worldwide.",
        "Be wary of pharmacies that sell without a prescription.",
        "If a site sells baclofen without a prescription, walk away.",
        "Red flags: no prescription required, prices too good to be true.",
        "We will not fill any order without a valid prescription.",
        "We never fill an order without a prescription.",
        "We do not sell without a prescription.",
        "Avoid pharmacies located in Mexico or based in India.",
    ],
)
def test_advice_about_pharmacies_in_general_and_refusals_are_not_warnings(page: str) -> None:
    assert _codes(check_pharmacy_page(page), "warning") == set()


def test_a_pharmacy_located_outside_the_us_is_a_warning_and_shipping_to_other_countries_is_not() -> None:
    for page, evidence in (
        ("Our pharmacy is located in Vanuatu.", "located in Vanuatu"),
        ("We are based in Belize and send your parcel by courier.", "based in Belize"),
        ("Order from our Canadian pharmacy.", "our Canadian pharmacy"),
        ("Our office is located in Toronto, Canada.", "Toronto, Canada"),
    ):
        result = check_pharmacy_page(page)
        assert _codes(result, "warning") == {"located_outside_us"}, page
        flag = _flag(result, "located_outside_us")
        assert evidence in flag.evidence  # type: ignore[attr-defined]
        assert flag.sources == ("P2", "P2b")  # type: ignore[attr-defined]
    shipped = check_pharmacy_page("All orders are shipped from our Canadian warehouse.")
    assert "ships_worldwide_or_from_abroad" in _codes(shipped, "warning")
    for page in (
        "We ship to Canada and Mexico.",
        "We serve customers in the UK and Ireland.",
        "Our pharmacy is located in New Mexico.",
        "Our pharmacy is located in Lebanon, Ohio.",
        "Visit our store, located in Springfield, IL.",
    ):
        assert _codes(check_pharmacy_page(page), "warning") == set(), page


def test_an_email_address_without_a_us_phone_or_street_address_is_email_only_contact() -> None:
    page = "Questions? Write to help@pills-online.example and we reply within a day."
    result = check_pharmacy_page(page)
    assert _codes(result, "warning") == {"email_only_contact"}
    assert "help@pills-online.example" in _flag(result, "email_only_contact").evidence  # type: ignore[attr-defined]
    for other in ("Call (217) 555-0134.", "Visit us at 1200 Oak Avenue, Springfield, IL."):
        assert "email_only_contact" not in _codes(check_pharmacy_page(f"{page}\n{other}"), "warning")
    assert "email_only_contact" not in _codes(check_pharmacy_page("Write to us at our office."), "warning")


@pytest.mark.parametrize(
    "page",
    [
        "Buy Soma online. Prescription: not needed for orders under 90 pills.",
        "Baclofen 10 mg. Rx: not required.",
        "Baclofen 10 mg. Prescription - not required.",
        "Baclofen 10 mg. Prescription required: no.",
    ],
)
def test_a_prescription_not_needed_with_punctuation_is_a_warning(page: str) -> None:
    result = check_pharmacy_page(page)
    assert "no_prescription" in _codes(result, "warning")
    assert "missing_requires_prescription" in _codes(result, "missing")


def test_a_legitimate_looking_page_selling_without_a_prescription_is_still_flagged() -> None:
    page = LEGITIMATE + "Buy Valium online: prescription not required for returning customers!\n"
    assert _codes(check_pharmacy_page(page), "warning") == {
        "no_prescription",
        "controlled_without_prescription",
    }


@pytest.mark.parametrize(
    "page",
    [
        "Be careful: some sites sell baclofen without a prescription.",
        "Many online pharmacies are based in India and ship worldwide.",
        "Do not buy baclofen, diazepam or Soma without a prescription.",
        "Warning signs of a rogue pharmacy: no prescription needed, ships from overseas.",
    ],
)
def test_sentences_about_pharmacies_in_general_are_advice(page: str) -> None:
    assert _codes(check_pharmacy_page(page), "warning") == set()


# Review of issue 16 (second round), reproduced by hand: ways a pharmacy says a prescription is
# needed; each one is the sign of a legitimate pharmacy [P2][P4], never a warning.
@pytest.mark.parametrize(
    "sentence",
    [
        "A valid prescription from your doctor is required for all prescription medicines.",
        "All prescription medicines need a valid prescription.",
        "We only dispense medicines with a valid prescription.",
        "We never sell prescription medicines without a prescription.",
        "You will need a prescription from your doctor.",
        "Your doctor must send us a prescription.",
        "A prescription is always required.",
    ],
)
def test_each_way_of_saying_a_prescription_is_needed_is_the_positive_sign(sentence: str) -> None:
    result = check_pharmacy_page(sentence)
    assert _codes(result, "warning") == set()
    assert "requires_prescription" in {flag.code for flag in result.found_positive}
    # beside a shop's price and cart: still no warning
    shop = check_pharmacy_page(f"{sentence}\nBaclofen 10 mg, 90 tablets: $12.99. Add to cart.")
    assert _codes(shop, "warning") == set()
    assert "missing_requires_prescription" not in _codes(shop, "missing")


def test_saying_a_prescription_is_not_needed_is_not_the_positive_sign() -> None:
    for page in (
        "You don't need a prescription. Baclofen 10 mg, $12.99. Add to cart.",
        "We do not require a prescription. Baclofen 10 mg, $12.99. Add to cart.",
    ):
        result = check_pharmacy_page(page)
        assert "missing_requires_prescription" in _codes(result, "missing"), page
        assert result.verdict == "warning_signs", page


US_PHARMACY = """Riverside Family Pharmacy
Home | Refills | Transfer a Prescription | Contact
Riverside Family Pharmacy has served Columbus since 1987. Ohio pharmacy license number 02-1234567.
We never sell prescription medicines without a prescription. A valid prescription from your doctor is
required for all prescription medicines; your doctor must send us a prescription.
Our licensed pharmacists answer your questions Monday to Friday 9am-7pm.
We do not ship internationally or worldwide.
Customer service: call (614) 555-0142 or email help@riversidefamilyrx.com.
Visit us at 455 West Broad Street, Columbus, OH 43215.
Privacy policy | Terms
Baclofen 10 mg, 90 tablets: $12.99. Add to cart.
"""


def test_a_legitimate_us_pharmacy_page_with_a_cart_has_no_warning_sign() -> None:
    result = check_pharmacy_page(US_PHARMACY)
    assert result.flags == (next(flag for flag in result.flags if flag.code == "missing_pharmacy_domain"),)
    assert result.verdict == "no_warning_signs_found"
    assert {flag.code for flag in result.found_positive} == POSITIVE - {"pharmacy_domain"}
    evidence = {flag.code: flag.evidence for flag in result.found_positive}
    assert "We never sell prescription medicines without a prescription." in evidence["requires_prescription"]


# Rogue wording: selling without a prescription (BeSafeRx [P2]; NABP "no prescription required"
# [P6]; LegitScript rogue: sells without a valid prescription [P12]).
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("We never ask for a prescription.", {"no_prescription"}),
        ("Prescription: optional.", {"no_prescription"}),
        ("Forget the prescription.", {"no_prescription"}),
        ("Skip the doctor and order today.", {"no_prescription"}),
        ("Get baclofen with no questions asked.", {"no_prescription"}),
        (
            "We never ask for a prescription. Order Valium today.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Soma 350 mg also available. Prescription: optional.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Forget the prescription: diazepam delivered in 3 days.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        (
            "Need carisoprodol? Skip the doctor and order today.",
            {"no_prescription", "controlled_without_prescription"},
        ),
        ("Get Valium with no questions asked.", {"no_prescription", "controlled_without_prescription"}),
    ],
)
def test_more_rogue_wording_is_selling_without_a_prescription(page: str, expected: set[str]) -> None:
    result = check_pharmacy_page(page)
    assert _codes(result, "warning") == expected
    assert _flag(result, "no_prescription").sources == ("P2", "P6", "P12")


@pytest.mark.parametrize(
    "page",
    [
        "We do not ship internationally or worldwide.",
        "We don't offer international shipping.",
        "Our customer service team is based in Toronto, Canada; all orders are filled in Ohio.",
        "No prescription? We can't fill your order without one.",
        "Without a prescription you cannot buy prescription medicines here.",
        "Transfers: no prescription transfer fees.",
        "Don't forget your prescription when you visit the store.",
        "Returns accepted within 30 days, no questions asked.",
    ],
)
def test_negated_or_unrelated_wording_is_not_a_warning(page: str) -> None:
    assert _codes(check_pharmacy_page(page), "warning") == set()


def test_a_location_or_shipping_sign_without_a_denial_is_still_a_warning() -> None:
    assert _codes(check_pharmacy_page("Our pharmacy is based in Toronto, Canada."), "warning") == {
        "located_outside_us"
    }
    assert _codes(check_pharmacy_page("We offer international shipping."), "warning") == {
        "ships_worldwide_or_from_abroad"
    }
    assert _codes(check_pharmacy_page("No prescription? No problem."), "warning") == {"no_prescription"}


def test_asking_whether_a_prescription_is_needed_does_not_say_it_is() -> None:
    page = "Do you need a prescription? Baclofen 10 mg, 90 tablets: $12.99. Add to cart."
    assert "sells_without_mentioning_prescription" in _codes(check_pharmacy_page(page), "warning")
