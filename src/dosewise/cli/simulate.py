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

from dosewise.domain.monograph import Monograph, cite_sources
from dosewise.domain.pk.analytic import (
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
    if args.crcl is not None:
        low, high = monograph.kidney.crcl_ml_min
        if not (np.isfinite(args.crcl) and low < args.crcl <= high):
            raise InputError(f"CrCl {args.crcl:g} mL/min is outside {low:g}-{high:g} mL/min")
    if args.threshold_mg_l is not None and not (np.isfinite(args.threshold_mg_l) and args.threshold_mg_l > 0):
        raise InputError("--threshold-mg-l must be above 0")
    if args.plot is not None and not args.plot.lower().endswith((".png", ".svg")):
        raise InputError("--plot must name a .png or .svg file")
    history, end_h, regimen = _history(args)
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


def _history(args: argparse.Namespace) -> tuple[DoseHistory, float, tuple[float, float] | None]:
    """The doses, how long to simulate (h), and (dose, interval) for a regular regimen."""
    regular = (args.dose_mg, args.every_h, args.days)
    if args.plan is not None:
        if any(value is not None for value in regular):
            raise InputError("give either --plan or --dose-mg/--every-h/--days, not both")
        history, end_h = _history_from_plan(args.plan)
        return history, end_h, None
    if any(value is None for value in regular):
        raise InputError("give --dose-mg, --every-h and --days (or --plan FILE)")
    if not (np.isfinite(args.dose_mg) and 0 < args.dose_mg <= 120):
        raise InputError("--dose-mg must be above 0 and at most 120 mg")
    history = build_regular_history(args.dose_mg, args.every_h, args.days)
    return history, args.days * 24, (args.dose_mg, args.every_h)


def _history_from_plan(path: str) -> tuple[DoseHistory, float]:
    """The plan's doses, and when the day after its last day would start (its first dose)."""
    try:
        with open(path, encoding="utf-8") as file:
            plan = json.load(file)
        rows: list[tuple[float, list[float]]] = []
        first_day = None
        for step in plan["steps"]:
            from datetime import date

            start = date.fromisoformat(step["start"])
            first_day = first_day or start
            for offset in range(int(step["days"])):
                rows.append(((start - first_day).days + offset, [float(d) for d in step["doses_mg"]]))
        count = len(plan["steps"][0]["doses_mg"])
        times = plan.get("times")
        clocks = parse_clock_times(",".join(times), count) if times else DEFAULT_CLOCK_TIMES[count]
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, IndexError):
        raise InputError(f"{path} is not a plan written by `dosewise plan --json`") from None
    hours = [c.hour + c.minute / 60 for c in clocks]
    history = histories_from_schedule(rows, hours)
    first_dose_abs = min(
        day * 24 + h for day, doses in rows for h, d in zip(hours, doses, strict=True) if d > 0
    )
    last_day, last_doses = rows[-1]
    morning = min(h for h, d in zip(hours, last_doses, strict=True) if d > 0)
    end_abs = (last_day + 1) * 24 + morning  # when the next day's first dose would be due
    return history, end_abs - first_dose_abs


def _summarize(
    rules: Any,
    params: Any,
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
    if regimen is not None:
        cmin, cavg, _ = calculate_steady_state(params, *regimen)
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
        ("Peak level (Cmax)", f"{data['cmax_mg_l']:.3f} mg/L, {data['tmax_h']:.2f} h after a dose"),
        ("Steady-state trough (Cmin)", f"{data['cmin_ss_mg_l']:.3f} mg/L"),
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
