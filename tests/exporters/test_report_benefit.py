"""The report's benefit review section (baclofen.md section 10; issue 16).

The diary, by hand (Europe/London): baseline entries 28-31 Dec 2025 (Penn 3.0, stiffness 6.5
on average); a labelled titration to 60 mg/day from 5 Jan 2026 [US-TAB] (60 from 14 Jan);
entries 18-21 Feb (Penn 2.5, stiffness 6.0). On 24 Feb: 6 weeks at 60 mg/day, neither score
fell by 1 (Penn) or 2 (stiffness) (product defaults): "no clear benefit".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.services import patients, plans, symptoms
from dosewise.services.reports import gather_report
from dosewise.store.database import build_engine, upgrade_database

LONDON = ZoneInfo("Europe/London")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)


def test_the_report_shows_the_benefit_review_with_its_numbers_and_chart(tmp_path, monograph):
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    patient = patients.create_patient(engine, name="R", time_zone="Europe/London", now=at(date(2025, 12, 1)),
                                      actor="t")  # fmt: skip

    def record(day: date, penn: int, nrs: int) -> None:
        symptoms.record_symptoms(engine, patient_id=patient, now=at(day), penn_frequency=penn,
                                 penn_severity=2, spasticity_nrs=nrs, actor="t")  # fmt: skip

    for number, (penn, nrs) in enumerate([(3, 7), (3, 7), (3, 6), (3, 6)]):
        record(date(2025, 12, 28) + timedelta(days=number), penn, nrs)
    plan = build_titration(monograph, target_daily_mg=60, products=parse_product_specs([], monograph),
                           start=date(2026, 1, 5))  # fmt: skip
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3), zone=LONDON,
                     now=at(date(2026, 1, 4), 18), actor="t")  # fmt: skip
    for number, (penn, nrs) in enumerate([(3, 6), (3, 6), (2, 6), (2, 6)]):
        record(date(2026, 2, 18) + timedelta(days=number), penn, nrs)

    now = at(date(2026, 2, 24), 12)
    data = gather_report(engine, patient_id=patient, first_day=date(2026, 2, 1), last_day=date(2026, 2, 24),
                         now=now, levels=False)  # fmt: skip
    html = render_report_html(data)
    section = html[html.index('<h2 id="benefit">') : html.index('<section aria-labelledby="safety-checks">')]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split("<figure")[0]))
    assert "Benefit review (on 2026-02-24)" in text
    assert "no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal" in text
    assert "Before titration 2025-12-22 to 2026-01-04 4 3.0 6.5" in text
    assert "Now, at 60 mg/day 2026-02-11 to 2026-02-24 4 2.5 6.0" in text
    assert "Change 6 weeks at 60 mg/day since 2026-01-14 -0.5 -0.5" in text
    assert "<svg" in section  # the chart of the scores against the dose
    assert "never changes a plan" in section
    assert (
        "[US-TAB]" in section and "[UK, wording to be verified]" in section and "product default" in section
    )
    assert render_report_pdf(data, html).startswith(b"%PDF")  # the chart prints too


def test_the_report_says_no_added_benefit_after_a_rise_from_a_dose_already_taken(tmp_path, monograph):
    # 30 mg/day (maintenance) from 1 Nov 2025, entries 10-13 Dec at it (Penn 1, stiffness 3);
    # raised to 60 mg/day on 24 Dec; entries 14-17 Feb the same. 6 weeks at 60 on 3 Feb (24 Dec +
    # 41); the report on 17 Feb: 56 days, 8 weeks at 60 mg/day over 30 mg/day, no improvement.
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    patient = patients.create_patient(engine, name="M", time_zone="Europe/London", now=at(date(2025, 10, 1)),
                                      actor="t")  # fmt: skip
    products = parse_product_specs([], monograph)
    for daily_mg, start in ((30, date(2025, 11, 1)), (60, date(2025, 12, 24))):
        plan = build_maintenance(monograph, daily_mg=daily_mg, products=products, start=start, days=28)
        plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3),
                         zone=LONDON, now=at(start - timedelta(days=1), 18), actor="t",
                         confirm_rise="checked")  # fmt: skip
    for first in (date(2025, 12, 10), date(2026, 2, 14)):
        for number in range(4):
            symptoms.record_symptoms(engine, patient_id=patient, now=at(first + timedelta(days=number)),
                                     penn_frequency=1, penn_severity=1, spasticity_nrs=3,
                                     actor="t")  # fmt: skip

    data = gather_report(engine, patient_id=patient, first_day=date(2026, 2, 1), last_day=date(2026, 2, 17),
                         now=at(date(2026, 2, 17), 12), levels=False)  # fmt: skip
    html = render_report_html(data)
    section = html[html.index('<h2 id="benefit">') : html.index('<section aria-labelledby="safety-checks">')]
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.split("<figure")[0])))
    assert (
        "no added benefit after 8 weeks at 60 mg/day over 30 mg/day: consider returning to the lower dose"
        in text
    )
    assert "Before titration, already at 30 mg/day 2025-12-10 to 2025-12-23 4 1.0 3.0" in text
    assert "Dosewise's reading" in text and "baclofen.md gives no rule" in text
    assert "withdraw" not in text
