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
