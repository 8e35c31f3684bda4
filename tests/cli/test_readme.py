"""The README's CLI tour runs as written (exit 0), so it stays true."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dosewise.cli.app import main

README = (Path(__file__).parents[2] / "README.md").read_text()
SEEDS = Path(__file__).parents[1] / "data" / "seeds"
TOUR = README[README.index("## CLI tour") : README.index("## Python API")]
COMMANDS = [
    shlex.split(block.replace("\\\n", " "))
    for block in re.findall(r"^dosewise .*?(?<!\\)$", TOUR, flags=re.M | re.S)
]


def test_readme_tour_runs_in_order(tmp_path, monkeypatch, capsys):
    """Every command of the tour, in order (the diary commands build on each other)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOSEWISE_DATABASE_URL", f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    monkeypatch.setenv("DOSEWISE_NOW", "2026-11-20T07:30+00:00")  # when the README says it ran
    # the saved pages the checks read: two of the seed pages the project started from
    (tmp_path / "pharmacy-page.html").write_bytes((SEEDS / "001_707be3bd6e6d2ed7.txt").read_bytes())
    (tmp_path / "article.html").write_bytes((SEEDS / "002_6babfae627dde4aa.txt").read_bytes())
    for argv in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            main(argv[1:])
        assert exit_info.value.code == 0, (argv, capsys.readouterr().err)


def test_tour_has_the_commands():
    assert len(COMMANDS) >= 6
    expected = {"kidney", "plan", "taper", "maintain", "schedule", "interactions", "missed", "triage"}
    expected |= {"simulate", "diary", "how-to-take", "compare", "check-pharmacy", "check-article"}
    assert {argv[1] for argv in COMMANDS} == expected


def test_python_api_example_runs():
    code = README[
        README.index("```python") + len("```python") : README.index("```", README.index("```python") + 3)
    ]
    exec(compile(code, "README.md", "exec"), {})
