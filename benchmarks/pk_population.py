"""Population simulation speed and memory (issue 4).

Run: .venv/bin/python benchmarks/pk_population.py [--patients 10000] [--days 30] [--sample 20]

10,000 virtual patients x 30 days of 20 mg three times daily, levels on a 15-minute grid.
Reports, in one run on this machine:
- wall time of the full output (T x N levels) and of the summaries-only stream;
- ratio to solving the same patients with scipy's solve_ivp (timed on a sample, scaled to N);
- ratio to the time NumPy takes just to write an array of the output's size;
- peak traced memory (tracemalloc) of the full output and of the stream, at N and N/10.
Targets: >= 1000x faster than solve_ivp, within 5x of writing the output, and a stream whose
memory does not grow with N beyond per-patient vectors.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc

import numpy as np
from scipy.integrate import solve_ivp

from dosewise.domain.pk.simulate import (
    build_population,
    build_regular_history,
    build_time_grid,
    simulate_levels,
    summarize_population,
)
from dosewise.monographs import load_monograph


def timed(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        del result
    return statistics.median(times)


def peak_bytes(function) -> int:
    gc.collect()
    tracemalloc.start()
    result = function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak


def solve_one_with_scipy(ka: float, ke: float, v: float, times, doses, grid) -> np.ndarray:
    def rates(_t, amounts):
        return [-ka * amounts[0], ka * amounts[0] - ke * amounts[1]]

    state = np.zeros(2)
    result = np.zeros(grid.shape[0])
    edges = [*times[1:], grid[-1] + 1e-9]
    state[0] += doses[0]
    start = times[0]
    for index, edge in enumerate(edges):
        inside = (grid >= start) & (grid < edge)
        solution = solve_ivp(
            rates, (start, edge), state, rtol=1e-8, atol=1e-10, method="LSODA", dense_output=True
        )
        if inside.any():
            result[inside] = solution.sol(grid[inside])[1] / v
        state = solution.y[:, -1].copy()
        if index + 1 < len(times):
            state[0] += doses[index + 1]
        start = edge
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sample", type=int, default=20, help="patients solved with solve_ivp")
    options = parser.parse_args()
    rules = load_monograph("baclofen").pk
    population = build_population(rules, None, options.patients, seed=1)
    history = build_regular_history(20, 8, options.days)
    grid = build_time_grid(options.days * 24, 0.25)
    shape = (grid.shape[0], population.size)
    print(f"{population.size} patients x {grid.shape[0]} times ({options.days} days, 15-min grid), "
          f"{len(history.times_h)} doses each; output {np.prod(shape) * 8 / 1e6:.0f} MB")  # fmt: skip

    # alternate the two so both see the same allocator state
    ours, writes = [], []
    for _ in range(3):
        ours.append(timed(lambda: simulate_levels(population, history, grid), repeats=1))
        writes.append(timed(lambda: np.full(shape, 1.0), repeats=1))
    ours_s, write_s = statistics.median(ours), statistics.median(writes)
    stream_s = timed(lambda: summarize_population(population, history, grid, threshold_mg_l=0.4), repeats=3)

    sample = min(options.sample, population.size)
    ke = population.cl_l_h / population.v_l
    start = time.perf_counter()
    for patient in range(sample):
        solve_one_with_scipy(population.ka_per_h[patient], ke[patient], population.v_l[patient],
                             history.times_h, history.doses_mg, grid)  # fmt: skip
    scipy_s = (time.perf_counter() - start) / sample * population.size

    small = build_population(rules, None, max(population.size // 10, 1), seed=1)
    peak_full = peak_bytes(lambda: simulate_levels(population, history, grid))
    peak_stream = peak_bytes(lambda: summarize_population(population, history, grid))
    peak_stream_small = peak_bytes(lambda: summarize_population(small, history, grid))

    print(f"full output (T x N levels)      {ours_s:8.3f} s")
    print(
        f"NumPy writing an array that size {write_s:8.3f} s   ratio {ours_s / write_s:6.1f}x  (target <= 5x)"
    )
    print(f"solve_ivp, {sample} patients scaled  {scipy_s:8.1f} s   ratio {scipy_s / ours_s:6.0f}x faster"
          "  (target >= 1000x)")  # fmt: skip
    print(f"summaries only (streamed)       {stream_s:8.3f} s   (percentiles 5/50/95 per time, peaks)")
    print(f"peak memory, full output        {peak_full / 1e6:8.1f} MB")
    print(f"peak memory, stream, N={population.size:<6}  {peak_stream / 1e6:8.1f} MB")
    print(f"peak memory, stream, N={small.size:<6}  {peak_stream_small / 1e6:8.1f} MB   "
          f"(the stream grows with N only by per-patient vectors and one time block)")  # fmt: skip


if __name__ == "__main__":
    main()
