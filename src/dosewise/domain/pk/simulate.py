"""Blood levels over time for one patient or a virtual population (NumPy).

The model is solved exactly, not by a step-size ODE solver: between two events (grid points
or doses) the amounts in the gut (A_g) and in the body (A_c) follow

    A_g(t + d) = A_g(t) e^(-ka d)
    A_c(t + d) = A_c(t) e^(-ke d) + A_g(t) ka / (ka - ke) (e^(-ke d) - e^(-ka d))

and a dose adds to A_g at its exact time; the level is A_c / V. The result does not depend on
the grid (the grid only chooses where levels are reported). Patients are a vector dimension;
time is processed in blocks, so a run that keeps only summaries needs memory for one block,
not for the whole N x T output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dosewise.domain.monograph import PkRules
from dosewise.domain.pk.analytic import PkParameters
from dosewise.errors import InputError

Vector = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseHistory:
    """Doses in mg at times in hours from the start (any order; sorted on use)."""

    times_h: tuple[float, ...]
    doses_mg: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.times_h) != len(self.doses_mg):
            raise InputError("each dose needs a time")
        if not self.times_h:
            raise InputError("the dose history is empty")
        if any(not np.isfinite(t) or t < 0 for t in self.times_h):
            raise InputError("dose times must be 0 h or later")
        if any(not np.isfinite(d) or d <= 0 for d in self.doses_mg):
            raise InputError("doses must be above 0 mg")

    @property
    def end_h(self) -> float:
        return max(self.times_h)


def build_regular_history(dose_mg: float, every_h: float, days: float) -> DoseHistory:
    """``dose_mg`` every ``every_h`` hours for ``days`` days, the first at time 0."""
    if not (np.isfinite(every_h) and 0.5 <= every_h <= 48):
        raise InputError("the hours between doses must be between 0.5 and 48", field="every_h")
    if not (np.isfinite(days) and 0 < days <= 366):
        raise InputError("the days of dosing must be between 0 and 366", field="days")
    count = int(np.floor(days * 24 / every_h - 1e-9)) + 1
    return DoseHistory(times_h=tuple(i * every_h for i in range(count)), doses_mg=(dose_mg,) * count)


def build_time_grid(end_h: float, step_h: float) -> Vector:
    """Report times 0, step, 2 step, ... up to ``end_h`` inclusive."""
    count = int(np.floor(end_h / step_h + 1e-9)) + 1
    return np.arange(count, dtype=np.float64) * step_h


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """Per-patient apparent parameters (vectors of length N)."""

    cl_l_h: Vector
    v_l: Vector
    ka_per_h: Vector

    @property
    def size(self) -> int:
        return int(self.cl_l_h.shape[0])


def build_population(rules: PkRules, crcl_ml_min: float | None, size: int, seed: int) -> Population:
    """``size`` virtual patients: log-normal between-subject variability around the typical
    values at this CrCl, with the reference CVs [SIMON18]; reproducible with ``seed``."""
    if not 1 <= size <= 1_000_000:
        raise InputError("the population must be between 1 and 1,000,000 patients")
    crcl = rules.reference_crcl_ml_min if crcl_ml_min is None else crcl_ml_min
    generator = np.random.default_rng(seed)

    def draw(typical: float, cv: float) -> Vector:
        omega = np.sqrt(np.log1p(cv * cv))  # log-normal with this coefficient of variation
        return typical * np.exp(generator.normal(0.0, omega, size))

    return Population(
        cl_l_h=draw(rules.clearance_l_h(crcl), rules.cv_cl),
        v_l=draw(rules.v_l, rules.cv_v),
        ka_per_h=draw(rules.ka_per_h, rules.cv_ka),
    )


def population_of_one(params: PkParameters) -> Population:
    return Population(
        cl_l_h=np.array([params.cl_l_h]), v_l=np.array([params.v_l]), ka_per_h=np.array([params.ka_per_h])
    )


def iterate_levels(
    population: Population,
    history: DoseHistory,
    grid_h: Vector,
    *,
    block_rows: int = 96,
    out: NDArray[np.float64] | None = None,
) -> Iterator[tuple[int, NDArray[np.float64]]]:
    """Blocks ``(first_row, levels)`` of levels in mg/L, shape (rows, N), in time order;
    written into ``out`` (T, N) when given, else into a fresh block each time."""
    ka = population.ka_per_h
    ke = population.cl_l_h / population.v_l
    inverse_v = 1.0 / population.v_l
    close = np.abs(ka - ke) < 1e-9
    safe_gap = np.where(close, 1.0, ka - ke)
    ratio = ka / safe_gap
    factors: dict[float, tuple[Vector, Vector, Vector]] = {}

    def factor(step_h: float) -> tuple[Vector, Vector, Vector]:
        key = round(step_h, 12)
        if key not in factors:
            if len(factors) >= 8:  # doses off the grid make many odd steps: keep memory O(N)
                factors.clear()
            decay_a = np.exp(-ka * step_h)
            decay_e = np.exp(-ke * step_h)
            transfer = np.where(close, ka * step_h * decay_e, ratio * (decay_e - decay_a))
            factors[key] = (decay_a, decay_e, transfer)
        return factors[key]

    order = np.argsort(history.times_h, kind="stable")
    dose_times = np.asarray(history.times_h)[order]
    dose_amounts = np.asarray(history.doses_mg)[order]
    gut = np.zeros(population.size)
    body = np.zeros(population.size)
    scratch = np.empty(population.size)
    now = 0.0
    next_dose = 0
    for first in range(0, grid_h.shape[0], block_rows):
        rows = grid_h[first : first + block_rows]
        block = (
            np.empty((rows.shape[0], population.size)) if out is None else out[first : first + rows.shape[0]]
        )
        for index, report_h in enumerate(rows):
            while next_dose < dose_times.shape[0] and dose_times[next_dose] <= report_h:
                gut, body = _advance(gut, body, float(dose_times[next_dose]) - now, factor, scratch)
                now = float(dose_times[next_dose])
                gut += dose_amounts[next_dose]
                next_dose += 1
            gut, body = _advance(gut, body, float(report_h) - now, factor, scratch)
            now = float(report_h)
            np.multiply(body, inverse_v, out=block[index])
        yield first, block


def _advance(
    gut: Vector,
    body: Vector,
    step_h: float,
    factor: Callable[[float], tuple[Vector, Vector, Vector]],
    scratch: Vector,
) -> tuple[Vector, Vector]:
    if step_h <= 0:
        return gut, body
    decay_a, decay_e, transfer = factor(step_h)
    np.multiply(gut, transfer, out=scratch)
    body *= decay_e
    body += scratch
    gut *= decay_a
    return gut, body


def simulate_levels(population: Population, history: DoseHistory, grid_h: Vector) -> NDArray[np.float64]:
    """All levels in mg/L, shape (T, N)."""
    out = np.empty((grid_h.shape[0], population.size))
    for _ in iterate_levels(population, history, grid_h, out=out):
        pass
    return out


def calculate_auc(params: PkParameters, history: DoseHistory, end_h: float) -> float:
    """Exact area under the curve from 0 to ``end_h`` in mg*h/L (sum over doses)."""
    ka, ke, v = params.ka_per_h, params.ke_per_h, params.v_l
    total = 0.0
    for time_h, dose_mg in zip(history.times_h, history.doses_mg, strict=True):
        span = end_h - time_h
        if span > 0:
            total += (
                dose_mg
                * ka
                / (v * (ka - ke))
                * ((1 - np.exp(-ke * span)) / ke - (1 - np.exp(-ka * span)) / ka)
            )
    return float(total)


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationSummary:
    grid_h: Vector
    percentiles: NDArray[np.float64]  # (T, 3): 5th, 50th, 95th
    peak_per_patient: Vector  # each patient's highest level (mg/L)
    fraction_above_threshold: float | None  # share of patients whose peak exceeds it


def summarize_population(
    population: Population,
    history: DoseHistory,
    grid_h: Vector,
    *,
    threshold_mg_l: float | None = None,
    block_rows: int = 96,
    on_block: Callable[[int, int], None] | None = None,
) -> PopulationSummary:
    """Percentile bands and peaks, streaming time blocks (memory: one block, not N x T)."""
    percentiles = np.empty((grid_h.shape[0], 3))
    peaks = np.zeros(population.size)
    for first, block in iterate_levels(population, history, grid_h, block_rows=block_rows):
        percentiles[first : first + block.shape[0]] = np.percentile(block, [5, 50, 95], axis=1).T
        np.maximum(peaks, block.max(axis=0), out=peaks)
        if on_block is not None:
            on_block(first + block.shape[0], grid_h.shape[0])
    fraction = None if threshold_mg_l is None else float(np.mean(peaks > threshold_mg_l))
    return PopulationSummary(
        grid_h=grid_h, percentiles=percentiles, peak_per_patient=peaks, fraction_above_threshold=fraction
    )


def histories_from_schedule(
    days: Sequence[tuple[float, Sequence[float]]], clock_hours: Sequence[float]
) -> DoseHistory:
    """A dose history from (day offset, doses per clock time) rows, e.g. a plan's steps."""
    times: list[float] = []
    doses: list[float] = []
    for day, doses_mg in days:
        for hour, dose in zip(clock_hours, doses_mg, strict=True):
            if dose > 0:
                times.append(day * 24 + hour)
                doses.append(dose)
    first = min(times)
    return DoseHistory(times_h=tuple(t - first for t in times), doses_mg=tuple(doses))
