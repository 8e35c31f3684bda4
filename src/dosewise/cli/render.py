"""Human output: Rich tables with the same content as the JSON, and the sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dosewise.domain.kidney import format_crcl
from dosewise.domain.monograph import cite_sources
from dosewise.domain.units import format_mg
from dosewise.exporters.safety_json import NOT_A_REPLACEMENT

if TYPE_CHECKING:
    from datetime import time

    from dosewise.domain.emergency import EmergencyNumber
    from dosewise.domain.findings import Finding
    from dosewise.domain.interactions import InteractionReport
    from dosewise.domain.kidney import KidneyAssessment
    from dosewise.domain.missed_dose import MissedDoseAdvice
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.plan import Plan
    from dosewise.domain.triage import TriageResult

PIPE_WIDTH = 140
_STYLE = {"warning": "bold yellow", "caution": "magenta", "info": "cyan"}


def _console() -> Console:
    # Prose lines are soft-wrapped by the terminal: Rich's own wrapping of long paragraphs
    # costs more start-up time than the whole domain (docs/benchmarks.md).
    console = Console(highlight=False, emoji=False, markup=False, soft_wrap=True)
    if not console.is_terminal:  # piped or redirected: do not squeeze the table into 80 columns
        console.width = max(console.width, PIPE_WIDTH)
    return console


def _print_sources(console: Console, monograph: Monograph, keys: tuple[str, ...]) -> None:
    console.print(Text("Sources", style="bold"))
    for key in keys:
        console.print(f"  [{key}] {monograph.sources[key]}")
    console.print(Text(monograph.disclaimer, style="italic"))


def _print_findings(console: Console, title: str, findings: tuple[Finding, ...]) -> None:
    if not findings:
        return
    console.print(Text(title, style="bold"))
    for finding in findings:
        keys = ", ".join(cite_sources(finding.source))
        line = Text("  ")
        line.append(finding.severity.upper(), style=_STYLE[finding.severity])
        line.append(f" {finding.message} [{keys}]")
        console.print(line)


def _kidney_line(kidney: KidneyAssessment, monograph: Monograph) -> str:
    if kidney.band == "dialysis":
        return "Kidney function: on dialysis"
    parts = [f"CrCl {format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)} mL/min (Cockcroft-Gault)"]
    if kidney.egfr_ckd_epi_2021 is not None:
        parts.append(f"eGFR {kidney.egfr_ckd_epi_2021:.1f} mL/min/1.73m² (CKD-EPI 2021, for information)")
    parts.append(f"band {kidney.band}, dose factor {kidney.dose_factor}")
    return "Kidney function: " + "; ".join(parts)


def _print_pk(console: Console, plan: Plan, monograph: Monograph) -> None:
    from dosewise.exporters.plan_json import pk_to_dict

    pk = pk_to_dict(plan, monograph)
    if "half_life_h" not in pk:
        return
    reached = "every step" if all(pk["steps"]) else "not every step"
    line = (
        f"Blood levels (model): half-life {pk['half_life_h']:g} h; 90% of steady state after "
        f"{pk['time_to_90pct_ss_h']:g} h, reached within {reached}"
    )
    if "exposure_ratio_vs_normal_kidney_plan" in pk:
        ratio = pk["exposure_ratio_vs_normal_kidney_plan"]
        line += f"; exposure at the target {ratio:.2f}x the normal-kidney plan"
    console.print(f"{line} [{pk['sources']}]")


def render_kidney(kidney: KidneyAssessment, monograph: Monograph) -> None:
    console = _console()
    table = Table(title="Kidney function for baclofen dosing", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row(
        "Creatinine clearance (Cockcroft-Gault)",
        f"{format_crcl(monograph.kidney, kidney.crcl_ml_min or 0)} mL/min",
    )
    if kidney.egfr_ckd_epi_2021 is not None:
        table.add_row("eGFR (CKD-EPI 2021, for information)", f"{kidney.egfr_ckd_epi_2021:.1f} mL/min/1.73m²")
    table.add_row("Dose band", kidney.band)
    table.add_row("Dose factor", str(kidney.dose_factor))
    table.add_row(
        "Automatic plan",
        "no: a clinician must decide" if kidney.requires_clinician else "yes",
    )
    console.print(table)
    _print_sources(console, monograph, kidney.sources)


def render_plan(
    plan: Plan,
    monograph: Monograph,
    times: tuple[time, ...],
    time_zone: str,
    ics: str | None,
) -> None:
    console = _console()
    title = f"{monograph.display_name} {plan.kind} plan, {plan.doses_per_day} doses a day ({time_zone})"
    table = Table(title=title)
    table.add_column("Step", justify="right", no_wrap=True)
    table.add_column("From", no_wrap=True)
    table.add_column("Days", justify="right", no_wrap=True)
    table.add_column("mg/day", justify="right", no_wrap=True)
    for clock in times:
        table.add_column(clock.strftime("%H:%M"))
    for number, step in enumerate(plan.steps, start=1):
        cells = [
            f"{format_mg(dose)} mg\n{recipe.describe()}" if recipe is not None else "-"
            for dose, recipe in zip(step.doses_ug, step.recipes, strict=True)
        ]
        table.add_row(str(number), step.start.isoformat(), str(step.days), format_mg(step.daily_ug), *cells)
    console.print(table)
    if plan.kidney is not None:
        console.print(_kidney_line(plan.kidney, monograph))
    if plan.stop_date is None:
        last = plan.steps[-1]
        console.print(
            f"After {last.end.isoformat()}: continues at {format_mg(last.daily_ug)} mg/day until a new plan "
            "or a taper replaces it (never stop baclofen suddenly)"
        )
        if plan.review_on is not None:
            from dosewise.services.plans import DEFAULT_REVIEW_WEEKS, review_is_default

            said = f" (Dosewise default: {DEFAULT_REVIEW_WEEKS} weeks after the last step begins)"
            console.print(
                f"Review with the prescriber by {plan.review_on.isoformat()}"
                + (said if review_is_default(plan) else "")
            )
        console.print(f"Maximum for this plan: {format_mg(plan.max_daily_ug)} mg/day")
    else:
        console.print(f"Tapering from {format_mg(plan.max_daily_ug)} mg/day")
        console.print(f"Stop date (first day without baclofen): {plan.stop_date.isoformat()}")
    console.print("Products: " + "; ".join(product.describe() for product in plan.products))
    _print_pk(console, plan, monograph)
    _print_findings(console, "About this plan", plan.warnings)
    _print_findings(console, "Cautions", plan.cautions)
    _print_sources(console, monograph, plan.sources)
    if ics is not None:
        console.print(f"Reminders written to {ics}")


_GRADE_STYLE = {"major": "bold red", "moderate": "yellow", "minor": "cyan"}
_LEVEL_STYLE = {"emergency": "bold white on red", "urgent": "bold yellow", "routine": "green"}


def render_interactions(report: InteractionReport, monograph: Monograph) -> None:
    from dosewise.domain.interactions import NameMatch

    console = _console()
    if report.findings:
        table = Table(title=f"Interactions with {monograph.display_name}")
        for name in ("You typed", "Taken as", "Class", "Grade", "Effect", "What to do", "Source"):
            table.add_column(name)
        for f in report.findings:
            grade = Text(f.severity, style=_GRADE_STYLE[f.severity])
            label = f"{f.class_label} (in some forms)" if f.in_some_forms else f.class_label
            table.add_row(f.text, f.matched, label, grade, f.effect, f.advice, f.source)
        console.print(table)
    elif report.no_listed_interaction:
        console.print("No interaction is listed for the recognised names (see below).")
    elif report.combined:
        console.print("No other medicine to check (see below).")
    else:
        console.print("No name was recognised, so nothing was checked.")
    labels = {"SAME_DRUG": "DUPLICATE ", "LISTED_TWICE": "LISTED TWICE "}
    for finding in report.combined:
        line = Text(labels.get(finding.code, "COMBINED RISK "), style="bold red")
        line.append(f"{finding.message} [{', '.join(cite_sources(finding.source))}]")
        console.print(line)
    for match in report.no_listed_interaction:
        console.print(f"{match.text}: recognised as {match.display}; no interaction listed in the sources.")
    for match in report.assumed:
        line = Text("CHECK ", style="bold yellow")
        line.append(f"{match.read_note}.")
        console.print(line)
    for read in report.names:
        if isinstance(read, NameMatch) and read.note:
            console.print(f"About {read.text!r}: {read.note}")
    for miss in report.unrecognised:
        hint = f" Did you mean {' or '.join(miss.suggestions)}?" if miss.suggestions else ""
        line = Text("NOT RECOGNISED ", style="bold yellow")
        line.append(f"{miss.text!r}: no interaction data, so this is not a safety check.{hint}")
        console.print(line)
    _print_sources(console, monograph, report.sources)
    console.print(NOT_A_REPLACEMENT)


def render_missed_dose(advice: MissedDoseAdvice, monograph: Monograph, time_zone: str) -> None:
    console = _console()
    action = {"take_now": "TAKE IT NOW", "skip": "SKIP IT", "contact_prescriber": "CONTACT YOUR PRESCRIBER"}
    console.print(Text(action[advice.action], style="bold"))
    console.print(advice.message)
    if advice.action != "contact_prescriber":
        console.print(f"Next dose: {advice.next_dose:%Y-%m-%d %H:%M} ({time_zone})")
    _print_findings(console, "Warnings", advice.warnings)
    _print_sources(console, monograph, cite_sources(advice.source, *(f.source for f in advice.warnings)))
    console.print(NOT_A_REPLACEMENT)


def render_triage(
    result: TriageResult, monograph: Monograph, emergency: EmergencyNumber | None = None
) -> None:
    console = _console()
    console.print(Text(f" {result.level.upper()} ", style=_LEVEL_STYLE[result.level]))
    if result.level == "emergency" and emergency is not None:
        console.print(Text(f"Call {emergency.label} now.", style="bold"))
        if emergency.note:
            console.print(emergency.note)
    console.print(result.advice)
    console.print(Text("Why", style="bold"))
    for reason in result.reasons:
        console.print(f"  - {reason}")
    for typed, read in result.corrections:
        console.print(f"  (read {typed!r} as {read!r})")
    if result.questions:
        console.print(Text("Answer these too, so that nothing is missed:", style="bold"))
        for question in result.questions:
            console.print(f"  --{question.key.replace('_', '-')} yes|no   {question.text}")
    _print_sources(console, monograph, result.sources)
    console.print(NOT_A_REPLACEMENT)
