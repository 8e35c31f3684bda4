"""Concentration-time pictures (matplotlib, PNG or SVG by the file's extension)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dosewise.domain.pk.simulate import DoseHistory, PopulationSummary, Vector

FORMATS = (".png", ".svg")


def draw_levels(
    path: str,
    *,
    grid_h: Vector,
    typical_mg_l: Vector,
    history: DoseHistory,
    population: PopulationSummary | None = None,
    threshold_mg_l: float | None = None,
    title: str,
) -> None:
    """Typical patient's curve, the population's 5-95% band and median, doses, threshold."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    if not path.lower().endswith(FORMATS):
        raise ValueError(f"the plot file must end in {' or '.join(FORMATS)}")
    days = grid_h / 24
    figure, axes = pyplot.subplots(figsize=(9, 4.5), dpi=110)
    try:
        if population is not None:
            low, median, high = population.percentiles.T
            axes.fill_between(days, low, high, color="#9ecae1", alpha=0.6, label="5th-95th percentile")
            axes.plot(days, median, color="#3182bd", linewidth=1.2, label="population median")
        axes.plot(days, typical_mg_l, color="#08306b", linewidth=1.4, label="typical patient")
        dose_days = [t / 24 for t in history.times_h]
        axes.plot(dose_days, [0] * len(dose_days), "|", color="#636363", markersize=10, label="doses")
        if threshold_mg_l is not None:
            axes.axhline(threshold_mg_l, color="#de2d26", linestyle="--", linewidth=1.2,
                         label=f"threshold {threshold_mg_l:g} mg/L")  # fmt: skip
        axes.set_xlabel("days since the first dose")
        axes.set_ylabel("baclofen in plasma (mg/L)")
        axes.set_title(title)
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        figure.savefig(path)
    finally:
        pyplot.close(figure)
