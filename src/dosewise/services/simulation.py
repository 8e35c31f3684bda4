"""Simulated blood levels of a regimen or a plan, for a typical patient or a virtual population.

What ``dosewise simulate`` computes, without the command line: the request holds plain values
(a plan as ``plan --json`` writes it, already read), :func:`estimate_levels` checks them before
any long computation, simulates, summarises and (optionally) draws the levels. An estimate from
a population model, never a measurement.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from dosewise.errors import InputError
from dosewise.monographs import load_monograph

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from dosewise.domain.monograph import Monograph, PkRules
    from dosewise.domain.pk.analytic import PkParameters
    from dosewise.domain.pk.simulate import DoseHistory, PopulationSummary
    from dosewise.exporters.pk_json import LevelSummary

SUMMARY_STEP_H = 0.05  # 3 min: where the typical patient's peak is looked for
POPULATION_STEP_H = 0.25  # 15 min
MAX_PLAN_DAYS = 366  # a longer plan cannot be simulated here (setting)
PLOT_SUFFIXES = (".png", ".svg")
NOT_A_PLAN = "this is not a Dosewise plan"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationRequest:
    """A regular regimen (``dose_mg`` every ``every_h`` hours for ``days``) or a ``plan``."""

    drug: str = "baclofen"
    dose_mg: float | None = None
    every_h: float | None = None
    days: float | None = None
    plan: Mapping[str, Any] | None = None  # as `dosewise plan --json` writes it
    crcl_ml_min: float | None = None  # None: the plan's, or normal kidneys
    population: int | None = None  # simulate this many virtual patients
    seed: int = 1
    threshold_mg_l: float | None = None  # the share of the population above this level
    plot: str | None = None  # draw the levels to this .png or .svg file


@dataclass(frozen=True, slots=True, kw_only=True)
class Simulation:
    monograph: Monograph
    crcl_ml_min: float | None
    summary: LevelSummary
    population: PopulationSummary | None
    data: dict[str, Any]  # the JSON contract (exporters.pk_json)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Doses:
    history: DoseHistory
    end_h: float  # how long to simulate
    regimen: tuple[float, float] | None  # (dose, interval) of a regular regimen
    plan_crcl: float | None  # the CrCl a plan was made for


def estimate_levels(
    request: SimulationRequest, *, on_block: Callable[[int, int], None] | None = None
) -> Simulation:
    """Levels of the typical patient (and the population's percentiles), summarised;
    ``on_block(done, total)`` reports the population's progress."""
    import numpy as np

    from dosewise.domain.monograph import cite_sources
    from dosewise.domain.pk.analytic import build_pk_parameters
    from dosewise.domain.pk.simulate import (
        build_population,
        build_time_grid,
        population_of_one,
        simulate_levels,
        summarize_population,
    )
    from dosewise.exporters.pk_json import simulation_to_dict

    monograph = load_monograph(request.drug)
    rules = monograph.pk
    doses = _doses(request, monograph)
    crcl = _check(request, monograph, doses.plan_crcl)
    params = build_pk_parameters(rules, crcl)
    grid = build_time_grid(doses.end_h, SUMMARY_STEP_H)
    typical = simulate_levels(population_of_one(params), doses.history, grid)[:, 0]
    summary = _summarize(rules, params, doses, grid, typical, crcl)
    population: PopulationSummary | None = None
    if request.population is not None:
        try:
            patients = build_population(rules, crcl, request.population, request.seed)
        except InputError as error:
            error.field = error.field or "population"
            raise
        population = summarize_population(
            patients,
            doses.history,
            build_time_grid(doses.end_h, POPULATION_STEP_H),
            threshold_mg_l=request.threshold_mg_l,
            on_block=on_block,
        )
    if request.plot is not None:
        from dosewise.exporters.pk_plot import draw_levels

        title = f"{monograph.display_name}: simulated levels" + (
            f" at CrCl {crcl:g} mL/min" if crcl is not None else ""
        )
        try:
            draw_levels(
                request.plot, grid_h=population.grid_h if population else grid,
                typical_mg_l=typical if population is None else np.interp(population.grid_h, grid, typical),
                history=doses.history, population=population, threshold_mg_l=request.threshold_mg_l,
                title=title,
            )  # fmt: skip
        except OSError as error:
            raise InputError(
                f"cannot write {request.plot}: {error.strerror or error}", field="plot"
            ) from None
    data = simulation_to_dict(
        summary, monograph, crcl_ml_min=crcl, population=population, population_size=request.population,
        seed=request.seed if request.population else None, threshold_mg_l=request.threshold_mg_l,
        sources=cite_sources(rules.sources, rules.reference_source),
    )  # fmt: skip
    return Simulation(
        monograph=monograph, crcl_ml_min=crcl, summary=summary, population=population, data=data
    )


def _check(request: SimulationRequest, monograph: Monograph, plan_crcl: float | None) -> float | None:
    """Every input checked before the long work; the CrCl to simulate."""
    crcl = request.crcl_ml_min
    if plan_crcl is not None:
        if crcl is not None and abs(crcl - plan_crcl) > 0.05:
            raise InputError(
                f"the plan was made for CrCl {plan_crcl:g} mL/min: leave it out or give the same",
                field="crcl_ml_min",
            )
        crcl = plan_crcl
    if crcl is not None:
        high = monograph.kidney.crcl_ml_min[1]
        if not (math.isfinite(crcl) and 0 < crcl <= high):
            raise InputError(
                f"CrCl {crcl:g} mL/min must be above 0 and at most {high:g} mL/min", field="crcl_ml_min"
            )
    threshold = request.threshold_mg_l
    if threshold is not None:
        if not (math.isfinite(threshold) and threshold > 0):
            raise InputError("the level must be above 0 mg/L", field="threshold_mg_l")
        if request.population is None:
            raise InputError(
                "the share above a level needs a population (it is the share of patients above it)",
                field="threshold_mg_l",
            )
    if request.seed < 0:
        raise InputError("the random seed must be 0 or more", field="seed")
    if request.plot is not None:
        if not request.plot.lower().endswith(PLOT_SUFFIXES):
            raise InputError("the plot must be a .png or .svg file", field="plot")
        folder = os.path.dirname(os.path.abspath(request.plot))
        if not os.access(folder, os.W_OK):
            raise InputError(
                f"cannot write {request.plot}: the folder {folder} is missing or read-only", field="plot"
            )
    return crcl


def _doses(request: SimulationRequest, monograph: Monograph) -> _Doses:
    from dosewise.domain.pk.simulate import build_regular_history

    max_dose_mg = monograph.titration.override_max_daily_mg  # no single dose above it
    regular = {"dose_mg": request.dose_mg, "every_h": request.every_h, "days": request.days}
    if request.plan is not None:
        given = [name for name, value in regular.items() if value is not None]
        if given:
            raise InputError("give either a plan or a regular regimen, not both", field=given[0])
        return _doses_from_plan(request.plan, max_dose_mg)
    dose_mg, every_h, days = request.dose_mg, request.every_h, request.days
    if dose_mg is None or every_h is None or days is None:
        raise InputError(
            "give the dose in mg, the hours between doses and the days of dosing (or a plan)",
            field=next(name for name, value in regular.items() if value is None),
        )
    if not (math.isfinite(dose_mg) and 0 < dose_mg <= max_dose_mg):
        raise InputError(f"the dose must be above 0 and at most {max_dose_mg:g} mg", field="dose_mg")
    history = build_regular_history(dose_mg, every_h, days)
    return _Doses(history=history, end_h=days * 24, regimen=(dose_mg, every_h), plan_crcl=None)


def _doses_from_plan(plan: Mapping[str, Any], max_dose_mg: float) -> _Doses:
    """The plan's doses; it is simulated until the day after its last day would start (its
    first dose), at the CrCl the plan was made for."""
    from dosewise.domain.pk.simulate import histories_from_schedule
    from dosewise.domain.schedule import DEFAULT_CLOCK_TIMES, calculate_day_offsets, parse_clock_times

    def bad(why: str = "") -> InputError:
        return InputError(f"{NOT_A_PLAN}{': ' + why if why else ''}", field="plan")

    try:
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
            if start < previous_end or not isinstance(days, int) or not 0 < days <= MAX_PLAN_DAYS:
                raise bad(f"steps must follow each other, each 1-{MAX_PLAN_DAYS} whole days")
            if len(doses) != count or any(not math.isfinite(d) or not 0 <= d <= max_dose_mg for d in doses):
                raise bad(f"every step needs {count} doses between 0 and {max_dose_mg:g} mg")
            rows += [((start - first_day).days + offset, doses) for offset in range(days)]
            previous_end = date.fromordinal(start.toordinal() + days)
        times = plan.get("times")
        clocks = parse_clock_times(",".join(times), count) if times else DEFAULT_CLOCK_TIMES[count]
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise bad() from None
    if rows[-1][0] > MAX_PLAN_DAYS:
        raise bad("a plan of more than a year cannot be simulated here")
    if kidney is not None and kidney.get("crcl_ml_min") is None:
        raise InputError(
            "the model has no kidney function for dialysis: this plan cannot be simulated", field="plan"
        )
    # times that cross midnight (22:00, 06:00, 14:00): the doses after it are the next day's
    hours = [
        c.hour + c.minute / 60 + 24 * o for c, o in zip(clocks, calculate_day_offsets(clocks), strict=True)
    ]
    dosed = [(day, doses) for day, doses in rows if any(doses)]
    if not dosed:
        raise bad("it has no doses")
    history = histories_from_schedule(dosed, hours)
    first_dose_abs = min(
        day * 24 + h for day, doses in dosed for h, d in zip(hours, doses, strict=True) if d > 0
    )
    last_day, last_doses = rows[-1] if any(rows[-1][1]) else dosed[-1]
    morning = min(h for h, d in zip(hours, last_doses, strict=True) if d > 0)
    end_abs = (last_day + 1) * 24 + morning  # when the next day's first dose would be due
    crcl = None if kidney is None else float(kidney["crcl_ml_min"])
    return _Doses(history=history, end_h=end_abs - first_dose_abs, regimen=None, plan_crcl=crcl)


def _summarize(
    rules: PkRules,
    params: PkParameters,
    doses: _Doses,
    grid: NDArray[np.float64],
    typical: NDArray[np.float64],
    crcl: float | None,
) -> LevelSummary:
    import numpy as np

    from dosewise.domain.pk.analytic import calculate_exposure_ratio, calculate_steady_state
    from dosewise.domain.pk.simulate import calculate_auc
    from dosewise.exporters.pk_json import LevelSummary

    history = doses.history
    peak = int(np.argmax(typical))
    peak_h = float(grid[peak])
    dose_before_peak = max(t for t in history.times_h if t <= peak_h)
    end_h = float(grid[-1])
    last_day = grid >= end_h - 24
    cmax_ss: float | None = None
    if doses.regimen is not None:
        cmin, cavg, cmax_ss = calculate_steady_state(params, *doses.regimen)
        basis = "closed form for the regimen"
    else:
        cmin = float(typical[last_day].min())
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
        cmax_ss_mg_l=cmax_ss if cmax_ss is not None else float(typical[last_day].max()),
    )
