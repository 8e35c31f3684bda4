"""Simulation results as JSON-ready dicts (the ``dosewise simulate --json`` contract)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dosewise.exporters.plan_json import describe_sources

if TYPE_CHECKING:
    from dosewise.domain.monograph import Monograph
    from dosewise.domain.pk.simulate import PopulationSummary


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSummary:
    cmax_mg_l: float
    tmax_h: float  # time of the peak after the dose before it
    cmax_at_h: float  # time of the peak from the first dose
    cmin_ss_mg_l: float
    cavg_ss_mg_l: float
    auc_mg_h_l: float
    auc_window_h: tuple[float, float]
    half_life_h: float
    time_to_90pct_ss_h: float
    exposure_ratio_vs_normal_kidney: float
    steady_state_basis: str
    cmax_ss_mg_l: float  # the peak at steady state (Cmax above is the highest of the run)


def simulation_to_dict(
    summary: LevelSummary,
    monograph: Monograph,
    *,
    crcl_ml_min: float | None,
    population: PopulationSummary | None,
    population_size: int | None,
    seed: int | None,
    threshold_mg_l: float | None,
    sources: tuple[str, ...],
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "drug": monograph.name,
        "crcl_ml_min": crcl_ml_min,
        "cmax_mg_l": round(summary.cmax_mg_l, 5),
        "tmax_h": round(summary.tmax_h, 3),
        "cmax_at_h": round(summary.cmax_at_h, 3),
        "cmax_ss_mg_l": round(summary.cmax_ss_mg_l, 5),
        "cmin_ss_mg_l": round(summary.cmin_ss_mg_l, 5),
        "cavg_ss_mg_l": round(summary.cavg_ss_mg_l, 5),
        "steady_state_basis": summary.steady_state_basis,
        "auc_mg_h_l": round(summary.auc_mg_h_l, 4),
        "auc_window_h": list(summary.auc_window_h),
        "half_life_h": round(summary.half_life_h, 3),
        "time_to_90pct_ss_h": round(summary.time_to_90pct_ss_h, 2),
        "exposure_ratio_vs_normal_kidney": round(summary.exposure_ratio_vs_normal_kidney, 3),
    }
    if population is not None:
        hourly = [i for i, t in enumerate(population.grid_h) if abs(t - round(t)) < 1e-9]
        data["population"] = {"size": population_size, "seed": seed}
        data["percentiles"] = [
            {
                "time_h": round(float(population.grid_h[i]), 3),
                "p5": round(float(population.percentiles[i, 0]), 5),
                "p50": round(float(population.percentiles[i, 1]), 5),
                "p95": round(float(population.percentiles[i, 2]), 5),
            }
            for i in hourly
        ]
        data["threshold_mg_l"] = threshold_mg_l
        data["fraction_above_threshold"] = population.fraction_above_threshold
    data["sources"] = describe_sources(monograph, sources)
    data["disclaimer"] = (
        f"{monograph.disclaimer} Simulated levels from a population model: an estimate for "
        "understanding, not a measurement."
    )
    return data
