"""The FHIR download is built a month of the diary at a time (issue 15): a long diary comes out
in pieces, never as one string, and the pieces join to one valid R4 Bundle."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from fhir.resources.R4B.bundle import Bundle

from dosewise.services import fhir, patients
from long_diary import fill_diary

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def test_a_long_diary_is_streamed_a_month_at_a_time(engine) -> None:
    patient = patients.create_patient(engine, name="Stream", time_zone="UTC", now=NOW, actor="t")
    fill_diary(engine, patient, date(2026, 6, 1), 180)
    pieces = list(fhir.stream_fhir(engine, patient_id=patient, now=NOW))
    months = 6
    assert len(pieces) >= months + 3  # the head, the Patient, a piece a month, the end
    assert max(len(piece) for piece in pieces) < sum(len(piece) for piece in pieces) / (months - 1)
    bundle = Bundle.model_validate(json.loads("".join(pieces)))
    assert bundle.type == "collection" and len(bundle.entry) > 180 * 4
    # a range keeps the days asked for
    june = json.loads(
        "".join(
            fhir.stream_fhir(
                engine, patient_id=patient, now=NOW, first_day=date(2026, 6, 1), last_day=date(2026, 6, 30)
            )
        )
    )
    resources = [e["resource"] for e in june["entry"][1:]]
    days = {(r.get("effectiveDateTime") or r["authoredOn"])[:7] for r in resources}
    assert days == {"2026-06"}


def test_a_page_token_or_a_range_cannot_make_one_page_read_the_whole_diary(engine) -> None:
    """Found in review: ``_page=DAY.99999999`` made one page read and hold every entry from that
    day on, and ``date=ge2000-01-01&date=le2200-12-31`` walked two centuries of days. A page now
    reads only from its position until it has its entries, within the diary's own days."""
    from sqlalchemy import event

    patient = patients.create_patient(engine, name="Pager", time_zone="UTC", now=NOW, actor="t")
    fill_diary(engine, patient, date(2025, 12, 1), 365)
    statements: list[str] = []

    def count(*_: object) -> None:
        statements.append("x")

    def page(**params: list[str]) -> tuple[dict[str, object], int]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            text = fhir.fhir_page(
                engine,
                patient_id=patient,
                now=NOW,
                query=fhir.parse_fhir_query(params),
                link=lambda t: t or "",
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return json.loads(text), len(statements)

    normal, normal_reads = page(_count=["5"])
    skipped, skipped_reads = page(_count=["5"], _page=["2025-12-01.99999999"])
    assert len(normal["entry"]) == 1 + 5 and len(skipped["entry"]) == 1 + 5  # the Patient and 5
    first_day = {e["resource"].get("effectiveDateTime", e["resource"].get("authoredOn", ""))[:10]
                 for e in skipped["entry"][1:]}  # fmt: skip
    assert first_day - {""} == {"2025-12-02"}  # the day after: nothing of the first day is left
    assert skipped_reads <= 2 * normal_reads  # a day more, not a read per week of the year
    centuries, centuries_reads = page(_count=["5"], date=["ge2000-01-01", "le2200-12-31"])
    assert centuries["entry"] == normal["entry"] and centuries_reads <= 2 * normal_reads
