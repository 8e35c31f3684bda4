"""The public Python API: every exported name resolves, and the documented example works."""

from __future__ import annotations

from datetime import date

import dosewise


def test_every_exported_name_resolves():
    for name in dosewise.__all__:
        assert getattr(dosewise, name) is not None


def test_documented_example():
    baclofen = dosewise.load_monograph("baclofen")
    plan = dosewise.build_titration(
        baclofen,
        target_daily_mg=60,
        products=dosewise.parse_product_specs(["tablet:10mg:halves"], baclofen),
        start=date(2026, 12, 1),
    )
    assert [step.daily_ug for step in plan.steps] == [15_000, 30_000, 45_000, 60_000]
    assert plan.steps[0].recipes[0].describe() == "1/2 x 10 mg tablet"


def test_all_matches_the_export_table():
    assert sorted(dosewise.__all__) == sorted(dosewise._EXPORTS)
