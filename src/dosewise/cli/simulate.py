"""``dosewise simulate``: blood levels of a regimen or a plan, for one patient or a population.

Kept apart from ``cli.app`` because it needs NumPy: ``app`` imports this module only when the
command runs, so ``plan`` and ``kidney`` stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from dosewise.domain.monograph import Monograph, PkRules, cite_sources
from dosewise.domain.pk.analytic import (
    PkParameters,
    build_pk_parameters,
    calculate_exposure_ratio,
    calculate_steady_state,
)
from dosewise.domain.pk.simulate import (
    DoseHistory,
    PopulationSummary,
    build_population,
    build_regular_history,
    build_time_grid,
    calculate_auc,
    histories_from_schedule,
    population_of_one,
    simulate_levels,
    summarize_population,
)
from dosewise.domain.schedule import DEFAULT_CLOCK_TIMES, parse_clock_times
from dosewise.errors import InputError
from dosewise.exporters.pk_json import LevelSummary, simulation_to_dict

SUMMARY_STEP_H = 0.05  # 3 min: where the typical patient's peak is looked for
POPULATION_STEP_H = 0.25  # 15 min
PROGRESS_AFTER_S = 1.0


def run_simulate(args: argparse.Namespace) -> None:
    from dosewise.monographs import load_monograph

    monograph = load_monograph(args.drug)
    rules = monograph.pk
    history, end_h, regimen, plan_crcl = _history(args)
    if plan_crcl is not None:
        if args.crcl is not None and abs(args.crcl - plan_crcl) > 0.05:
            raise InputError(
                f"the plan was made for CrCl {plan_crcl:g} mL/min: leave out --crcl or give the same"
            )
        args.crcl = plan_crcl
    if args.crcl is not None:
        high = monograph.kidney.crcl_ml_min[1]
        if not (np.isfinite(args.crcl) and 0 < args.crcl <= high):
            raise InputError(f"CrCl {args.crcl:g} mL/min must be above 0 and at most {high:g} mL/min")
    if args.threshold_mg_l is not None:
        if not (np.isfinite(args.threshold_mg_l) and args.threshold_mg_l > 0):
            raise InputError("--threshold-mg-l must be above 0")
        if args.population is None:
            raise InputError("--threshold-mg-l needs --population (it is the share of patients above it)")
    if args.seed is not None and args.seed < 0:
        raise InputError("--seed must be 0 or more")
    if args.plot is not None:
        import os

        if not args.plot.lower().endswith((".png", ".svg")):
            raise InputError("--plot must name a .png or .svg file")
        folder = os.path.dirname(os.path.abspath(args.plot))
        if not os.access(folder, os.W_OK):
            raise InputError(f"cannot write {args.plot}: the folder {folder} is missing or read-only")
    params = build_pk_parameters(rules, args.crcl)
    grid = build_time_grid(end_h, SUMMARY_STEP_H)
    typical = simulate_levels(population_of_one(params), history, grid)[:, 0]
    summary = _summarize(rules, params, history, grid, typical, regimen, args.crcl)
    population: PopulationSummary | None = None
    if args.population is not None:
        patients = build_population(rules, args.crcl, args.population, args.seed)
        population_grid = build_time_grid(end_h, POPULATION_STEP_H)
        population = summarize_population(
            patients, history, population_grid, threshold_mg_l=args.threshold_mg_l, on_block=_Progress()
        )
    if args.plot is not None:
        from dosewise.exporters.pk_plot import draw_levels

        title = f"{monograph.display_name}: simulated levels" + (
            f" at CrCl {args.crcl:g} mL/min" if args.crcl is not None else ""
        )
        try:
            draw_levels(
                args.plot, grid_h=population.grid_h if population else grid,
                typical_mg_l=typical if population is None else np.interp(population.grid_h, grid, typical),
                history=history, population=population, threshold_mg_l=args.threshold_mg_l, title=title,
            )  # fmt: skip
        except OSError as error:
            raise InputError(f"cannot write {args.plot}: {error.strerror or error}") from None
    sources = cite_sources(rules.sources, rules.reference_source)
    data = simulation_to_dict(
        summary, monograph, crcl_ml_min=args.crcl, population=population, population_size=args.population,
        seed=args.seed if args.population else None, threshold_mg_l=args.threshold_mg_l, sources=sources,
    )  # fmt: skip
    if args.as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _render(data, monograph, args.plot)


def _history(
    args: argparse.Namespace,
) -> tuple[DoseHistory, float, tuple[float, float] | None, float | None]:
    """The doses, how long to simulate (h), (dose, interval) for a regular regimen, and the
    CrCl a plan was made for."""
    regular = (args.dose_mg, args.every_h, args.days)
    if args.plan is not None:
        if any(value is not None for value in regular):
            raise InputError("give either --plan or --dose-mg/--every-h/--days, not both")
        history, end_h, plan_crcl = _history_from_plan(args.plan)
        return history, end_h, None, plan_crcl
    if any(value is None for value in regular):
        raise InputError("give --dose-mg, --every-h and --days (or --plan FILE)")
    if not (np.isfinite(args.dose_mg) and 0 < args.dose_mg <= 120):
        raise InputError("--dose-mg must be above 0 and at most 120 mg")
    history = build_regular_history(args.dose_mg, args.every_h, args.days)
    return history, args.days * 24, (args.dose_mg, args.every_h), None


def _history_from_plan(path: str) -> tuple[DoseHistory, float, float | None]:
    """The plan's doses, when the day after its last day would start (its first dose), and
    the CrCl the plan was made for."""
    from datetime import date

    bad = f"{path} is not a plan written by `dosewise plan --json`"
    try:
        with open(path, encoding="utf-8") as file:
            plan = json.load(file)
        steps = plan["steps"]
        count = len(steps[0]["doses_mg"])
        kidney = plan.get("kidney")
        rows: list[tuple[int, list[float]]] = []
        first_day = date.fromisoformat(steps[0]["start"])
        previous_end = first_day
        for step in steps:
            start = date.fromisoformat(step["start"])
            days = step["days"]
            doses = [float(d) for d in step["doses_mg"]]
            if start < previous_end or not isinstance(days, int) or not 0 < days <= 366:
                raise InputError(f"{bad}: steps must follow each other, each 1-366 whole days")
            if len(doses) != count or any(not np.isfinite(d) or not 0 <= d <= 120 for d in doses):
                raise InputError(f"{bad}: every step needs {count} doses between 0 and 120 mg")
            rows += [((start - first_day).days + offset, doses) for offset in range(days)]
            previous_end = date.fromordinal(start.toordinal() + days)
        times = plan.get("times")
        clocks = parse_clock_times(",".join(times), count) if times else DEFAULT_CLOCK_TIMES[count]
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise InputError(bad) from None
    if rows[-1][0] > 366:
        raise InputError(f"{bad}: a plan of more than a year cannot be simulated here")
    if kidney is not None and kidney.get("crcl_ml_min") is None:
        raise InputError("the model has no kidney function for dialysis: this plan cannot be simulated")
    hours = [c.hour + c.minute / 60 for c in clocks]
    dosed = [(day, doses) for day, doses in rows if any(doses)]
    if not dosed:
        raise InputError(f"{bad}: it has no doses")
    history = histories_from_schedule(dosed, hours)
    first_dose_abs = min(
        day * 24 + h for day, doses in dosed for h, d in zip(hours, doses, strict=True) if d > 0
    )
    last_day, last_doses = rows[-1] if any(rows[-1][1]) else dosed[-1]
    morning = min(h for h, d in zip(hours, last_doses, strict=True) if d > 0)
    end_abs = (last_day + 1) * 24 + morning  # when the next day's first dose would be due
    crcl = None if kidney is None else float(kidney["crcl_ml_min"])
    return history, end_abs - first_dose_abs, crcl


def _summarize(
    rules: PkRules,
    params: PkParameters,
    history: DoseHistory,
    grid: np.ndarray,
    typical: np.ndarray,
    regimen: tuple[float, float] | None,
    crcl: float | None,
) -> LevelSummary:
    peak = int(np.argmax(typical))
    peak_h = float(grid[peak])
    dose_before_peak = max(t for t in history.times_h if t <= peak_h)
    end_h = float(grid[-1])
    cmax_ss: float | None = None
    if regimen is not None:
        cmin, cavg, cmax_ss = calculate_steady_state(params, *regimen)
        basis = "closed form for the regimen"
    else:
        window = grid >= end_h - 24
        cmin = float(typical[window].min())
        cavg = (calculate_auc(params, history, end_h) - calculate_auc(params, history, end_h - 24)) / 24
        basis = "the plan's last day"
    return LevelSummary(
        cmax_mg_l=float(typical[peak]),
        tmax_h=peak_h - dose_before_peak,
        cmax_at_h=peak_h,
        cmin_ss_mg_l=cmin,
        cavg_ss_mg_l=cavg,
        auc_mg_h_l=calculate_auc(params, history, end_h),
        auc_window_h=(0.0, end_h),
        half_life_h=params.half_life_h,
        time_to_90pct_ss_h=params.time_to_fraction_of_steady_state_h(rules.steady_state_fraction),
        exposure_ratio_vs_normal_kidney=calculate_exposure_ratio(rules, crcl),
        steady_state_basis=basis,
        cmax_ss_mg_l=cmax_ss if cmax_ss is not None else float(typical[grid >= end_h - 24].max()),
    )


class _Progress:
    """A Rich progress bar on stderr, shown only when the run will take over a second."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        if self.bar is None and elapsed / done * total > PROGRESS_AFTER_S and done < total:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Simulating the population", total=total)
        if self.bar is not None:
            self.bar.update(self.task, completed=done)
            if done >= total:
                self.bar.stop()


def _render(data: dict[str, Any], monograph: Monograph, plot: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{monograph.display_name}: simulated levels (typical patient)", show_header=False)
    rows = [
        (
            "Highest level in the run (Cmax)",
            f"{data['cmax_mg_l']:.3f} mg/L, {data['tmax_h']:.2f} h after a dose",
        ),
        ("Steady-state peak and trough", f"{data['cmax_ss_mg_l']:.3f} and {data['cmin_ss_mg_l']:.3f} mg/L"),
        ("Steady-state average (Cavg)", f"{data['cavg_ss_mg_l']:.3f} mg/L ({data['steady_state_basis']})"),
        ("AUC", f"{data['auc_mg_h_l']:.2f} mg*h/L over {data['auc_window_h'][1]:g} h"),
        ("Half-life", f"{data['half_life_h']:.2f} h"),
        ("Time to 90% of steady state", f"{data['time_to_90pct_ss_h']:.1f} h"),
        ("Exposure vs normal kidneys (same doses)", f"{data['exposure_ratio_vs_normal_kidney']:.2f} x"),
    ]
    if "fraction_above_threshold" in data and data["fraction_above_threshold"] is not None:
        share = data["fraction_above_threshold"]
        rows.append(
            (
                f"Patients above {data['threshold_mg_l']:g} mg/L",
                f"{share:.1%} of {data['population']['size']}",
            )
        )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if plot is not None:
        console.print(f"Plot written to {plot}")
    console.print("Sources: " + ", ".join(f"[{s['key']}]" for s in data["sources"]))
    console.print(data["disclaimer"])
