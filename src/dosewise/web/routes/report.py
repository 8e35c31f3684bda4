"""The prescriber's report on screen and as PDF; FHIR, CSV and calendar downloads."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from dosewise.errors import InputError
from dosewise.exporters.report import ReportData, render_report_html, render_report_pdf
from dosewise.services.access import PatientAccess
from dosewise.services.clock import parse_date
from dosewise.services.fhir import stream_fhir
from dosewise.services.reports import (
    REPORT_DEFAULT_DAYS,
    SUMMARIZED_AFTER_DAYS,
    default_report_range,
    diary_span,
    export_calendar,
    gather_report,
)
from dosewise.services.storage import export_tables
from dosewise.web.context import AppContext, Ctx, Patient, render

router = APIRouter(tags=["pages"], include_in_schema=False)
# The standalone report is a document with its own inline styles and inline SVG charts, and no
# scripts at all: its policy allows inline styles and nothing else.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
)


def _range(context: AppContext, request: Request, patient: PatientAccess) -> tuple[date, date]:
    """The days asked for; by default the last 12 months of the diary (issue 15)."""
    first_text = request.query_params.get("first", "")
    last_text = request.query_params.get("last", "")
    first, last = default_report_range(context.engine, patient_id=patient.patient_id, now=context.now())
    if last_text:
        last = parse_date(last_text, "the last day")
        if not first_text:
            first = last - timedelta(days=REPORT_DEFAULT_DAYS - 1)
    if first_text:
        first = parse_date(first_text, "the first day")
    return first, last


def _query(first: date, last: date) -> str:
    return f"first={first.isoformat()}&last={last.isoformat()}"


def _file_name(patient: PatientAccess, what: str) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in patient.name).strip("-")[:40] or "patient"
    return f"dosewise-{safe}-{what}"


@router.get("/patients/{patient_id}/report")
def report(request: Request, context: Ctx, patient: Patient) -> Response:
    try:
        first, last = _range(context, request, patient)
        data = gather_report(
            context.engine,
            patient_id=patient.patient_id,
            first_day=first,
            last_day=last,
            now=context.now(),
            levels=False,
        )
    except InputError as error:
        first, last = default_report_range(context.engine, patient_id=patient.patient_id, now=context.now())
        return render(
            context,
            request,
            "report.html.j2",
            status=400,
            patient=patient,
            first=first,
            last=last,
            query=_query(first, last),
            summary=None,
            summarized=None,
            error=str(error),
            **_choices(context, patient),
        )
    return render(
        context,
        request,
        "report.html.j2",
        patient=patient,
        first=first,
        last=last,
        query=_query(first, last),
        summary=data.range_total,
        entries=data.range_entries,
        summarized=data.summary,
        detail_first=data.first_day,
        **_choices(context, patient),
    )


def _choices(context: AppContext, patient: PatientAccess) -> dict[str, Any]:
    """What the page offers besides the range shown: the whole diary, the last 12 months."""
    diary_first, diary_last = diary_span(context.engine, patient_id=patient.patient_id, now=context.now())
    default_first, default_last = default_report_range(
        context.engine, patient_id=patient.patient_id, now=context.now()
    )
    return {
        "diary_first": diary_first,
        "diary_last": diary_last,
        "whole_query": _query(diary_first, diary_last),
        "default_query": _query(default_first, default_last),
        "summarized_after_years": SUMMARIZED_AFTER_DAYS // 366,
    }


def _report_data(context: AppContext, request: Request, patient: PatientAccess) -> ReportData:
    first, last = _range(context, request, patient)
    return gather_report(
        context.engine, patient_id=patient.patient_id, first_day=first, last_day=last, now=context.now()
    )


@router.get("/patients/{patient_id}/report/view")
def report_view(request: Request, context: Ctx, patient: Patient) -> Response:
    html = render_report_html(_report_data(context, request, patient))
    return Response(html, media_type="text/html", headers={"content-security-policy": REPORT_CSP})


@router.get("/patients/{patient_id}/report.pdf")
def report_pdf(request: Request, context: Ctx, patient: Patient) -> Response:
    pdf = render_report_pdf(_report_data(context, request, patient))
    return _download(pdf, "application/pdf", _file_name(patient, "report.pdf"))


@router.get("/patients/{patient_id}/export/fhir.json")
def fhir(request: Request, context: Ctx, patient: Patient) -> Response:
    """The whole diary as one FHIR Bundle, streamed (a month of the diary at a time)."""
    patient.require("export")
    chunks = stream_fhir(context.engine, patient_id=patient.patient_id, now=context.now())
    return _streamed(
        (chunk.encode() for chunk in chunks), "application/fhir+json", _file_name(patient, "fhir.json")
    )


@router.get("/patients/{patient_id}/export/calendar.ics")
def calendar(request: Request, context: Ctx, patient: Patient) -> Response:
    content = export_calendar(context.engine, patient_id=patient.patient_id, now=context.now())
    return _download(content, "text/calendar; charset=utf-8", _file_name(patient, "doses.ics"))


@router.get("/patients/{patient_id}/export/csv.zip")
def csv_zip(request: Request, context: Ctx, patient: Patient) -> Response:
    """Everything stored about the patient, one CSV per table, with a manifest."""
    patient.require("export")
    return _streamed(
        everything_zip(context, patient, fhir_too=False), "application/zip", _file_name(patient, "csv.zip")
    )


ZIP_CHUNK_BYTES = 256 * 1024  # the zip is sent in pieces of about this size


class _Pipe(io.RawIOBase):
    """What the zip is written to: a buffer emptied each time a piece is sent (not seekable,
    so ``zipfile`` writes sizes after each file's data)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        piece = bytes(data)
        self.pieces.append(piece)
        self.size += len(piece)
        return len(piece)

    def take(self) -> bytes:
        taken, self.pieces, self.size = b"".join(self.pieces), [], 0
        return taken


def everything_zip(context: AppContext, patient: PatientAccess, *, fhir_too: bool) -> Iterator[bytes]:
    """The zip of the CSV tables (and the FHIR Bundle), written as it is sent: the CSV files
    from a temporary folder, the Bundle as it is built, so memory does not grow with the diary."""
    pipe = _Pipe()
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
            target = os.path.join(folder, "csv")
            export_tables(context.engine, target, patient_id=patient.patient_id, now=context.now())
            for name in sorted(os.listdir(target)):
                with (
                    open(os.path.join(target, name), "rb") as source,
                    archive.open(f"csv/{name}", "w") as member,
                ):
                    while block := source.read(ZIP_CHUNK_BYTES):
                        member.write(block)
                        if pipe.size >= ZIP_CHUNK_BYTES:
                            yield pipe.take()
            if fhir_too:
                with archive.open("fhir-bundle.json", "w") as member:
                    for chunk in stream_fhir(
                        context.engine, patient_id=patient.patient_id, now=context.now()
                    ):
                        member.write(chunk.encode())
                        if pipe.size >= ZIP_CHUNK_BYTES:
                            yield pipe.take()
        yield pipe.take()


def _streamed(chunks: Iterator[bytes], media_type: str, name: str) -> Response:
    return StreamingResponse(
        chunks, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'}
    )


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'}
    )
