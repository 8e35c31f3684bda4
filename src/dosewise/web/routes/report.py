"""The prescriber's report on screen and as PDF; FHIR, CSV and calendar downloads."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dosewise.errors import InputError
from dosewise.exporters.report import ReportData, render_report_html, render_report_pdf
from dosewise.services.access import PatientAccess
from dosewise.services.clock import parse_date
from dosewise.services.reports import diary_span, export_calendar, export_fhir, gather_report
from dosewise.services.storage import export_tables
from dosewise.web.context import AppContext, Ctx, Patient, render

router = APIRouter(tags=["pages"], include_in_schema=False)
# The standalone report is a document with its own inline styles and inline SVG charts, and no
# scripts at all: its policy allows inline styles and nothing else.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
)


def _range(context: AppContext, request: Request, patient: PatientAccess) -> tuple[date, date]:
    first_text = request.query_params.get("first", "")
    last_text = request.query_params.get("last", "")
    first, last = diary_span(context.engine, patient_id=patient.patient_id, now=context.now())
    if first_text:
        first = parse_date(first_text, "the first day")
    if last_text:
        last = parse_date(last_text, "the last day")
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
        first, last = diary_span(context.engine, patient_id=patient.patient_id, now=context.now())
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
            error=str(error),
        )
    return render(
        context,
        request,
        "report.html.j2",
        patient=patient,
        first=first,
        last=last,
        query=_query(first, last),
        summary=data.adherence.total,
        entries=len(data.symptoms),
    )


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
    patient.require("export")
    bundle = export_fhir(context.engine, patient_id=patient.patient_id, now=context.now())
    return _download(bundle.encode(), "application/fhir+json", _file_name(patient, "fhir.json"))


@router.get("/patients/{patient_id}/export/calendar.ics")
def calendar(request: Request, context: Ctx, patient: Patient) -> Response:
    content = export_calendar(context.engine, patient_id=patient.patient_id, now=context.now())
    return _download(content, "text/calendar; charset=utf-8", _file_name(patient, "doses.ics"))


@router.get("/patients/{patient_id}/export/csv.zip")
def csv_zip(request: Request, context: Ctx, patient: Patient) -> Response:
    """Everything stored about the patient, one CSV per table, with a manifest."""
    patient.require("export")
    return _download(
        everything_zip(context, patient, fhir_too=False), "application/zip", _file_name(patient, "csv.zip")
    )


def everything_zip(context: AppContext, patient: PatientAccess, *, fhir_too: bool) -> bytes:
    buffer = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        target = os.path.join(folder, "csv")
        export_tables(context.engine, target, patient_id=patient.patient_id, now=context.now())
        for name in sorted(os.listdir(target)):
            archive.write(os.path.join(target, name), f"csv/{name}")
        if fhir_too:
            bundle = export_fhir(context.engine, patient_id=patient.patient_id, now=context.now())
            archive.writestr("fhir-bundle.json", bundle)
    return buffer.getvalue()


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'}
    )
