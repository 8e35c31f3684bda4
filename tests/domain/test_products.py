"""What a dose can be made of: deliverable amounts, rounding down, fewest pieces."""

from __future__ import annotations

import pytest

from dosewise.domain.products import build_dose_menu, parse_product_specs
from dosewise.errors import InputError


def menu_for(monograph, *specs, cap_mg=80):
    return build_dose_menu(parse_product_specs(list(specs), monograph), cap_ug=cap_mg * 1000)


def test_default_products_are_us_tablets(monograph):
    products = parse_product_specs([], monograph)
    assert [p.spec for p in products] == [
        "tablet:5mg:whole",
        "tablet:10mg:halves",
        "tablet:20mg:halves",
    ]


@pytest.mark.parametrize(
    ("specs", "dose_mg", "how"),
    [
        (["tablet:10mg:halves"], 15, "1 x 10 mg tablet + 1/2 x 10 mg tablet"),
        (["tablet:10mg:halves"], 5, "1/2 x 10 mg tablet"),
        ([], 15, "1 x 10 mg tablet + 1 x 5 mg tablet"),  # two whole tablets beat splitting
        ([], 30, "1 x 20 mg tablet + 1 x 10 mg tablet"),
        (["solution:1mg/ml"], 7.5, "7.5 mL of 1 mg/mL oral solution"),
        (["suspension:5mg/ml"], 12.5, "2.5 mL of 5 mg/mL oral suspension"),
        (["tablet:25mg:quarters"], 18.75, "1/2 x 25 mg tablet + 1/4 x 25 mg tablet"),
        (["granules:10mg", "granules:5mg"], 15, "1 x 10 mg packet + 1 x 5 mg packet"),
    ],
)
def test_how_to_make_a_dose(monograph, specs, dose_mg, how):
    menu = menu_for(monograph, *specs)
    assert menu.recipe(round(dose_mg * 1000)).describe() == how


def test_requested_dose_rounds_down_never_up(monograph):
    menu = menu_for(monograph, "tablet:10mg:halves")
    assert menu.floor_daily_ug(22_500, 3) == 20_000  # 7.5 mg doses cannot be made
    assert menu.floor_daily_ug(4_999, 3) == 0
    assert menu.split_daily_ug(20_000, 3) == (
        5_000,
        5_000,
        10_000,
    )  # the larger part in the evening


def test_unscored_tablets_stay_whole(monograph):
    with pytest.raises(InputError, match="5 mg tablets can be used only as whole"):
        parse_product_specs(["tablet:5mg:halves"], monograph)


def test_quarters_only_when_the_user_says(monograph):
    assert parse_product_specs(["tablet:25mg"], monograph)[0].split == 2
    assert parse_product_specs(["tablet:25mg:quarters"], monograph)[0].split == 4


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tablet:7mg", "no baclofen tablet of 7 mg is known"),
        ("capsule:10mg", "not understood"),
        ("tablet", "not understood"),
        ("solution:1mg/ml:0.01ml", "must be a multiple of 0.1 mL"),
        ("solution:1mg/ml:0.123456ml", "must be a multiple of 0.1 mL"),
        ("granules:10mg:halves", "10 mg granules can be used only as whole"),
        ("solution:3mg/ml", "no baclofen solution of 3 mg/mL"),
        ("tablet:10mg:thirds", "split 'thirds' must be whole, halves or quarters"),
        ("tablet:ten", "strength 'ten' not understood"),
    ],
)
def test_products_that_cannot_be_used(monograph, spec, message):
    with pytest.raises(InputError, match=message):
        parse_product_specs([spec], monograph)


def test_liquid_strength_as_on_the_bottle(monograph):
    assert parse_product_specs(["solution:5mg/5ml"], monograph)[0].strength_ug == 1000


def test_same_product_twice_is_an_error(monograph):
    with pytest.raises(InputError, match="given twice"):
        parse_product_specs(["tablet:10mg", "tablet:10mg:whole"], monograph)
