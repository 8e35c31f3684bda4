"""The report for the prescriber: HTML (Jinja2) and PDF (WeasyPrint) from one template, with
SVG charts (matplotlib) inlined so the HTML is one self-contained file.

The data arrives already gathered (``services.reports``): this module only draws and lays out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from statistics import fmean
from typing import TYPE_CHECKING, Any

from dosewise.domain.adherence import Adherence, Slot
from dosewise.domain.interactions import InteractionReport
from dosewise.domain.plan import Plan
from dosewise.domain.triage import TriageResult
from dosewise.domain.units import format_mg

if TYPE_CHECKING:
    from jinja2 import Environment

LISTED_DOSES = 60  # missed, late and skipped doses listed one by one; the rest are counted


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPlan:
    plan_id: int
    kind: str
    created_at: datetime
    superseded_at: datetime | None
    plan: Plan  # the typed plan as it was saved
    times: tuple[time, ...]  # its dose times
    data: dict[str, Any]  # its view (plan_to_dict), with its sources, for the template


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSymptoms:
    entry_id: int
    at: datetime
    penn_frequency: int
    penn_severity: int | None
    spasticity: int
    side_effects: tuple[tuple[str, int], ...]  # (label, severity 1-3)
    note: str
    triage: TriageResult | None  # of the side effects, with the context of that moment


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportNote:
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSeries:
    """Estimated plasma levels of a typical patient from the doses recorded as taken."""

    times: tuple[datetime, ...]
    mg_l: tuple[float, ...]
    crcl_ml_min: float | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    patient_name: str
    time_zone: str
    first_day: date
    last_day: date
    generated_at: datetime
    plans: tuple[ReportPlan, ...]
    slots: tuple[Slot, ...]
    adherence: Adherence
    symptoms: tuple[ReportSymptoms, ...]
    notes: tuple[ReportNote, ...]
    medicines: tuple[str, ...]
    interactions: InteractionReport | None
    levels: LevelSeries | None
    sources: tuple[tuple[str, str], ...]  # (key, citation)
    disclaimer: str
    settings: tuple[str, ...] = field(default=())  # Dosewise defaults used, said in the report


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyPoint:
    day: date
    planned_mg: float
    taken_mg: float
    penn_frequency: float | None  # mean of the day's entries
    spasticity: float | None


def daily_series(data: ReportData) -> list[DailyPoint]:
    """Per day of the range: dose planned and taken, mean symptom scores."""
    planned: dict[date, int] = {}
    taken: dict[date, int] = {}
    for slot in data.slots:
        day = slot.due_at.date()
        planned[day] = planned.get(day, 0) + slot.dose_ug
        if slot.state in ("on_time", "late"):
            taken[day] = taken.get(day, 0) + slot.dose_ug
    penn: dict[date, list[int]] = {}
    nrs: dict[date, list[int]] = {}
    for entry in data.symptoms:
        penn.setdefault(entry.at.date(), []).append(entry.penn_frequency)
        nrs.setdefault(entry.at.date(), []).append(entry.spasticity)
    days = sorted({*planned, *penn})
    return [
        DailyPoint(
            day=day,
            planned_mg=planned.get(day, 0) / 1000,
            taken_mg=taken.get(day, 0) / 1000,
            penn_frequency=fmean(penn[day]) if day in penn else None,
            spasticity=fmean(nrs[day]) if day in nrs else None,
        )
        for day in days
    ]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # real text: smaller, searchable, readable aloud
    matplotlib.rcParams["svg.hashsalt"] = "dosewise"  # stable ids: the same data, the same file
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    from matplotlib import pyplot

    return pyplot


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def symptom_chart_svg(points: Sequence[DailyPoint], title: str) -> str | None:
    """Spasm frequency and spasticity (left axis) against the daily dose taken (right axis)."""
    if not points:
        return None
    pyplot = _pyplot()
    days = [point.day for point in points]
    figure, scores = pyplot.subplots(figsize=(7.2, 3.4), dpi=100)
    try:
        doses = scores.twinx()
        doses.bar(days, [p.taken_mg for p in points], width=0.9, color="#c6dbef", label="dose taken (mg/day)")
        doses.step(days, [p.planned_mg for p in points], where="mid", color="#6baed6", linewidth=1.2,
                   label="dose planned (mg/day)")  # fmt: skip
        doses.set_ylabel("baclofen (mg/day)")
        doses.set_ylim(bottom=0)
        scored = [p for p in points if p.spasticity is not None]
        scores.plot([p.day for p in scored], [p.spasticity for p in scored], color="#a50f15", marker="o",
                    markersize=2.5, linewidth=1.2, label="spasticity 0-10 (day's mean)")  # fmt: skip
        scores.plot([p.day for p in scored], [p.penn_frequency for p in scored], color="#31a354", marker="s",
                    markersize=2.5, linewidth=1.2, label="Penn spasm frequency 0-4 (day's mean)")  # fmt: skip
        scores.set_ylim(0, 10.5)
        scores.set_ylabel("score")
        scores.set_zorder(doses.get_zorder() + 1)
        scores.patch.set_visible(False)
        handles = [*scores.get_legend_handles_labels()[0], *doses.get_legend_handles_labels()[0]]
        labels = [*scores.get_legend_handles_labels()[1], *doses.get_legend_handles_labels()[1]]
        scores.legend(handles, labels, loc="upper left", fontsize=7, ncol=2, framealpha=0.9)
        scores.set_title(title, fontsize=10)
        scores.grid(alpha=0.3)
        _date_axis(scores, None)
        figure.tight_layout()
        return _svg(figure)
    finally:
        pyplot.close(figure)


def _date_axis(axes: Any, zone: Any) -> None:
    """Dates on the x axis in the patient's zone (matplotlib would show UTC)."""
    from matplotlib import dates

    locator = dates.AutoDateLocator(tz=zone, maxticks=10)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator, tz=zone))  # type: ignore[no-untyped-call]


def levels_chart_svg(levels: LevelSeries, title: str) -> str:
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(figsize=(7.2, 3.0), dpi=100)
    try:
        axes.plot(levels.times, levels.mg_l, color="#08306b", linewidth=0.9, label="estimated level")
        axes.set_ylabel("baclofen in plasma (mg/L)")
        axes.set_ylim(bottom=0)
        axes.set_title(title, fontsize=10)
        axes.grid(alpha=0.3)
        _date_axis(axes, levels.times[0].tzinfo)
        figure.tight_layout()
        return _svg(figure)
    finally:
        pyplot.close(figure)


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=PackageLoader("dosewise.exporters", "templates"),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["mg"] = lambda ug: format_mg(int(ug))
    environment.filters["css_string"] = _css_string
    environment.filters["num"] = lambda value: f"{value:g}"
    environment.filters["pct"] = lambda share: "-" if share is None else f"{share * 100:.0f}%"
    return environment


def _css_string(text: str) -> Any:
    """A CSS string literal: every character that is not a plain letter, digit or space is a hex
    escape, so nothing in it can end the string or the ``<style>`` element."""
    from markupsafe import Markup

    body = "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{body}"')  # noqa: S704 (escaped above)


def render_report_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (charts inline)."""
    from markupsafe import Markup

    points = daily_series(data)
    symptom_svg = symptom_chart_svg(points, "Symptoms against the daily dose")
    levels_svg = (
        levels_chart_svg(data.levels, "Estimated plasma level from the doses recorded as taken")
        if data.levels is not None
        else None
    )
    problems = [slot for slot in data.slots if slot.state in ("missed", "late", "skipped")]
    side_effects: dict[str, list[ReportSymptoms]] = {}
    for entry in data.symptoms:
        for label, _severity in entry.side_effects:
            side_effects.setdefault(label, []).append(entry)
    triage_events = [
        entry for entry in data.symptoms if entry.triage is not None and entry.triage.level != "routine"
    ]
    scored = data.symptoms
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            symptom_svg=Markup(symptom_svg) if symptom_svg else None,  # noqa: S704 (matplotlib's own SVG)
            levels_svg=Markup(levels_svg) if levels_svg else None,  # noqa: S704
            problems=problems[:LISTED_DOSES],
            more_problems=max(0, len(problems) - LISTED_DOSES),
            side_effects=sorted(side_effects.items(), key=lambda item: (-len(item[1]), item[0])),
            triage_events=sorted(
                triage_events, key=lambda e: (e.triage.level != "emergency" if e.triage else True, e.at)
            ),
            mean_penn=fmean(e.penn_frequency for e in scored) if scored else None,
            mean_spasticity=fmean(e.spasticity for e in scored) if scored else None,
            state_words={"missed": "missed", "late": "taken late", "skipped": "skipped"},
        )
    )


def render_report_pdf(data: ReportData, html: str | None = None) -> bytes:
    """The same report as PDF (WeasyPrint), A4, page numbers in the footer."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = HTML(string=html or render_report_html(data)).write_pdf()
    if pdf is None:  # pragma: no cover - only None when a target file is given
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)
