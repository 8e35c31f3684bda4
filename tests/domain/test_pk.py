"""The simulator: calibration (section 8), exactness, properties, population."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from conftest import load_data
from dosewise.domain.pk.analytic import build_pk_parameters, calculate_exposure_ratio, calculate_steady_state
from dosewise.domain.pk.simulate import (
    DoseHistory,
    build_population,
    build_regular_history,
    build_time_grid,
    calculate_auc,
    population_of_one,
    simulate_levels,
    summarize_population,
)
from dosewise.errors import InputError

TARGETS = load_data("pk_calibration.toml")


def levels(params, history, grid):
    return simulate_levels(population_of_one(params), history, grid)[:, 0]


def test_half_life_at_normal_kidney_function(monograph):
    low, high = TARGETS["half_life_h"]["range"]
    assert low <= build_pk_parameters(monograph.pk, None).half_life_h <= high


def test_time_to_peak_after_one_dose(monograph):
    params = build_pk_parameters(monograph.pk, None)
    grid = build_time_grid(12, 0.01)
    curve = levels(params, DoseHistory(times_h=(0.0,), doses_mg=(20.0,)), grid)
    low, high = TARGETS["time_to_peak_h"]["range"]
    assert low <= grid[np.argmax(curve)] <= high


@pytest.mark.parametrize(
    ("crcl", "about"),
    list(zip(TARGETS["exposure_ratio"]["crcl"], TARGETS["exposure_ratio"]["about"], strict=True)),
)
def test_exposure_ratios(monograph, crcl, about):
    ratio = calculate_exposure_ratio(monograph.pk, crcl)
    assert ratio == pytest.approx(about, rel=TARGETS["exposure_ratio"]["tolerance"])
    # the same from simulated AUCs, not just the clearance ratio
    history = build_regular_history(20, 8, 10)
    auc = [
        calculate_auc(build_pk_parameters(monograph.pk, c), history, 2000) for c in (crcl, None)
    ]  # to ~inf
    assert auc[0] / auc[1] == pytest.approx(ratio, rel=0.02)


def test_average_on_20_mg_three_times_daily(monograph):
    target = TARGETS["steady_state_average"]
    params = build_pk_parameters(monograph.pk, None)
    _, cavg, _ = calculate_steady_state(params, target["dose_mg"], target["every_h"])
    assert cavg == pytest.approx(target["about_mg_l"], rel=target["tolerance"])
    history = build_regular_history(20, 8, 10)
    simulated = (calculate_auc(params, history, 240) - calculate_auc(params, history, 216)) / 24
    assert simulated == pytest.approx(cavg, rel=1e-3)


def test_steady_state_extremes_match_simulation(monograph):
    params = build_pk_parameters(monograph.pk, 40)
    cmin, _, cmax = calculate_steady_state(params, 20, 8)
    grid = build_time_grid(240, 0.01)
    curve = levels(params, build_regular_history(20, 8, 10), grid)
    last = curve[grid >= 232]
    assert last.max() == pytest.approx(cmax, rel=1e-3)
    assert curve[grid >= 224].min() == pytest.approx(cmin, rel=1e-3)


histories = st.lists(
    # dose times in whole minutes, as people take them
    st.tuples(st.integers(0, 6000).map(lambda minutes: minutes / 60), st.floats(0.5, 40, allow_nan=False)),
    min_size=1,
    max_size=12,
).map(lambda pairs: DoseHistory(times_h=tuple(p[0] for p in pairs), doses_mg=tuple(p[1] for p in pairs)))
crcls = st.one_of(st.none(), st.floats(5, 150))


@settings(max_examples=40, deadline=None)
@given(history=histories, crcl=crcls, factor=st.floats(0.1, 10))
def test_linear_in_dose_and_never_negative(monograph, history, crcl, factor):
    params = build_pk_parameters(monograph.pk, crcl)
    grid = build_time_grid(130, 0.5)
    base = levels(params, history, grid)
    scaled = DoseHistory(times_h=history.times_h, doses_mg=tuple(d * factor for d in history.doses_mg))
    assert np.all(base >= 0)
    np.testing.assert_allclose(levels(params, scaled, grid), factor * base, rtol=1e-9, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(first=histories, second=histories, crcl=crcls)
def test_superposition(monograph, first, second, crcl):
    params = build_pk_parameters(monograph.pk, crcl)
    grid = build_time_grid(130, 0.5)
    both = DoseHistory(times_h=first.times_h + second.times_h, doses_mg=first.doses_mg + second.doses_mg)
    np.testing.assert_allclose(
        levels(params, both, grid),
        levels(params, first, grid) + levels(params, second, grid),
        rtol=1e-9,
        atol=1e-14,
    )


def solve_with_scipy(params, history, grid):
    """The same model integrated numerically, dose by dose (an independent check)."""
    ka, ke = params.ka_per_h, params.ke_per_h

    def rates(_t, amounts):
        return [-ka * amounts[0], ka * amounts[0] - ke * amounts[1]]

    order = np.argsort(history.times_h, kind="stable")
    times = np.asarray(history.times_h)[order]
    doses = np.asarray(history.doses_mg)[order]
    state = np.zeros(2)
    result = np.zeros(grid.shape[0])
    edges = [*times, grid[-1] + 1]
    start = 0.0
    for index, edge in enumerate(edges):
        inside = (grid >= start) & (grid < edge)
        if edge - start > 1e-9:
            solution = solve_ivp(
                rates, (start, edge), state, rtol=1e-10, atol=1e-12, method="LSODA", dense_output=True
            )
            if inside.any():
                result[inside] = solution.sol(grid[inside])[1] / params.v_l
            state = solution.y[:, -1].copy()
        if index < len(times):
            state[0] += doses[index]
            start = edge
    return result


@settings(max_examples=12, deadline=None)
@given(history=histories, crcl=crcls)
def test_exact_solution_agrees_with_solve_ivp(monograph, history, crcl):
    params = build_pk_parameters(monograph.pk, crcl)
    grid = build_time_grid(110, 0.25)
    np.testing.assert_allclose(
        levels(params, history, grid), solve_with_scipy(params, history, grid), rtol=1e-6, atol=1e-9
    )


def test_population_is_reproducible_and_varied(monograph):
    first = build_population(monograph.pk, 40, 500, seed=3)
    again = build_population(monograph.pk, 40, 500, seed=3)
    other = build_population(monograph.pk, 40, 500, seed=4)
    np.testing.assert_array_equal(first.cl_l_h, again.cl_l_h)
    assert not np.array_equal(first.cl_l_h, other.cl_l_h)
    big = build_population(monograph.pk, None, 20000, seed=1)
    cv = np.std(np.log(big.cl_l_h))
    assert cv == pytest.approx(np.sqrt(np.log1p(0.21**2)), rel=0.05)  # SIMON18
    assert np.median(big.cl_l_h) == pytest.approx(10.8, rel=0.02)


def test_population_summary_streams_and_matches_full_output(monograph):
    population = build_population(monograph.pk, 40, 300, seed=2)
    history = build_regular_history(20, 8, 3)
    grid = build_time_grid(72, 0.25)
    full = simulate_levels(population, history, grid)
    summary = summarize_population(population, history, grid, threshold_mg_l=0.4, block_rows=17)
    np.testing.assert_allclose(summary.percentiles, np.percentile(full, [5, 50, 95], axis=1).T)
    assert summary.fraction_above_threshold == pytest.approx(np.mean(full.max(axis=0) > 0.4))
    assert 0 < summary.fraction_above_threshold < 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"times_h": (0.0,), "doses_mg": (0.0,)}, "above 0 mg"),
        ({"times_h": (-1.0,), "doses_mg": (5.0,)}, "0 h or later"),
        ({"times_h": (), "doses_mg": ()}, "empty"),
        ({"times_h": (0.0, 1.0), "doses_mg": (5.0,)}, "each dose needs a time"),
    ],
)
def test_bad_histories(kwargs, message):
    with pytest.raises(InputError, match=message):
        DoseHistory(**kwargs)
