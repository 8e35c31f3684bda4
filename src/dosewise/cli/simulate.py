"""``dosewise simulate``: blood levels of a regimen or a plan, for one patient or a population.

The computation is :mod:`dosewise.services.simulation` (NumPy), imported only when the command
runs, so ``plan`` and ``kidney`` stay fast. This module reads the plan file, shows progress and
draws the table.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json
from dosewise.errors import InputError

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings
    from dosewise.domain.monograph import Monograph

PROGRESS_AFTER_S = 1.0
NOT_A_PLAN_FILE = "is not a plan written by `dosewise plan --json`"


def add_commands(commands: Any) -> None:
    simulate = add_command(
        commands, "simulate", help="simulated blood levels of a regimen or a plan",
        description="Blood levels from a population PK model (one compartment, first-order "
        "absorption), for a typical patient or a virtual population. An estimate, not a measurement.",
    )  # fmt: skip
    simulate.add_argument("drug", help="the drug, e.g. baclofen")
    simulate.add_argument("--dose-mg", type=float, help="dose in mg (with --every-h and --days)")
    simulate.add_argument("--every-h", type=float, help="hours between doses")
    simulate.add_argument("--days", type=float, help="days of dosing")
    simulate.add_argument("--plan", help="a plan written by `dosewise plan --json` (instead of --dose-mg)")
    simulate.add_argument("--crcl", type=float, help="creatinine clearance in mL/min (default: normal, 100)")
    simulate.add_argument("--population", type=int, help="simulate this many virtual patients")
    simulate.add_argument("--seed", type=int, default=1, help="random seed for the population (default 1)")
    simulate.add_argument(
        "--threshold-mg-l", type=float, help="report the share of patients above this level"
    )
    simulate.add_argument("--plot", help="draw the levels to this .png or .svg file")
    add_json(simulate)
    simulate.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.simulation import SimulationRequest, estimate_levels

    request = SimulationRequest(
        drug=args.drug,
        dose_mg=args.dose_mg,
        every_h=args.every_h,
        days=args.days,
        plan=None if args.plan is None else _read_plan(args.plan),
        crcl_ml_min=args.crcl,
        population=args.population,
        seed=args.seed,
        threshold_mg_l=args.threshold_mg_l,
        plot=args.plot,
    )
    simulation = estimate_levels(request, on_block=_Progress())
    if args.as_json:
        print_json(simulation.data)
    else:
        _render(simulation.data, simulation.monograph, args.plot)


def _read_plan(path: str) -> dict[str, Any]:
    import json

    try:
        with open(path, encoding="utf-8") as file:
            plan = json.load(file)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", field="plan") from None
    except ValueError:  # not JSON, or not UTF-8
        raise InputError(f"{path} {NOT_A_PLAN_FILE}", field="plan") from None
    if not isinstance(plan, dict):
        raise InputError(f"{path} {NOT_A_PLAN_FILE}", field="plan")
    return plan


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
