"""Cold-start time of `dosewise plan` and `dosewise kidney` as a ratio to `python -c pass`.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 30]
Each command runs in a fresh process, interleaved with the baseline so machine noise hits
both alike; the ratio uses medians. Target (issue 2): at most 10x. Also reports whether any
heavy module (numpy, SQLAlchemy, FastAPI, matplotlib, pydantic) was imported on the path.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("numpy", "sqlalchemy", "fastapi", "matplotlib", "pydantic")
SCRIPT = Path(sys.executable).with_name("dosewise")
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "dosewise plan": [str(SCRIPT), "plan", "baclofen", "--target-mg-day", "60", "--start",
                      "2026-12-01", "--tz", "Europe/London"],
    "dosewise plan --json": [str(SCRIPT), "plan", "baclofen", "--target-mg-day", "60",
                             "--start", "2026-12-01", "--json"],
    "dosewise kidney": [str(SCRIPT), "kidney", "--age", "70", "--sex", "female",
                        "--weight-kg", "60", "--scr-mg-dl", "1.4"],
}  # fmt: skip
TARGET_RATIO = 10.0


def time_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def heavy_imports(command: list[str]) -> list[str]:
    """Modules from HEAVY that the command's process imported (via -X importtime)."""
    if command[0] == sys.executable:
        return []
    probe = [sys.executable, "-X", "importtime", "-m", "dosewise", *command[1:]]
    result = subprocess.run(probe, capture_output=True, text=True, check=True)
    names = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    return [name for name in HEAVY if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    # Measure start-up as installed: with bytecode compiled (pip compiles installed packages;
    # an editable install writes it on first run unless PYTHONDONTWRITEBYTECODE is set).
    compileall.compile_dir(str(Path(__file__).parents[1] / "src"), quiet=1)
    for command in COMMANDS.values():  # warm the OS file cache once
        time_once(command)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            samples[name].append(time_once(command))
    baseline = statistics.median(samples["python -c pass"])
    print(f"{'command':24} {'median ms':>10} {'min ms':>8} {'ratio':>7}  heavy imports")
    worst = 0.0
    for name, values in samples.items():
        median = statistics.median(values)
        ratio = median / baseline
        if name != "python -c pass":
            worst = max(worst, ratio)
        heavy = ", ".join(heavy_imports(COMMANDS[name])) or "none"
        print(f"{name:24} {median * 1000:10.1f} {min(values) * 1000:8.1f} {ratio:6.1f}x  {heavy}")
    verdict = "meets" if worst <= TARGET_RATIO else "MISSES"
    print(f"worst ratio {worst:.1f}x: {verdict} the target of at most {TARGET_RATIO:.0f}x ({runs} runs)")


if __name__ == "__main__":
    main()
