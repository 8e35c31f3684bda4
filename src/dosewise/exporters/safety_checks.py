"""Stored triage results ("safety checks") as people read them, for the report, the FHIR
Bundle, the readable CSV, the pages and the API.

The results arrive already gathered (``services.safety_checks`` reads ``triage_results`` and
makes the question keys into their questions and the ticked symptom keys into their labels):
this module only says them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

LEVELS = ("emergency", "urgent", "routine")  # most serious first
SERIOUS = frozenset({"emergency", "urgent"})
# The readable CSV (safety_checks.csv): one row per stored result, times in the patient's zone
CSV_COLUMNS = (
    "id",
    "recorded_at",
    "level",
    "reasons",
    "ticked",
    "typed",
    "answers",
    "amount",
    "unrecognised",
    "sources",
    "recorded_by",
    "symptom_entry_id",
)
JOIN = " | "  # between the items of one cell (reasons hold commas and semicolons)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One guided question and what was answered."""

    key: str
    question: str  # as asked ("Is breathing slow, shallow, noisy or difficult?")
    yes: bool

    def __str__(self) -> str:
        return f"{self.question} {'yes' if self.yes else 'no'}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyCheck:
    """A triage result as it was given, with what it was given from."""

    result_id: int
    at: datetime  # aware, in the patient's zone
    level: str  # emergency, urgent or routine
    reasons: tuple[str, ...]  # each ends with its [SOURCE]
    ticked: tuple[str, ...]  # the symptoms ticked, by their label
    typed: tuple[str, ...]  # the words typed, as typed
    answers: tuple[Answer, ...]  # in the order the questions are asked
    amount: str  # "how much was taken", as typed ("" when not asked or left empty)
    unrecognised: tuple[str, ...]  # typed words triage did not recognise
    sources: tuple[str, ...]  # source keys
    recorded_by: str  # the actor as stored ("user:7", "cli")
    recorded_by_name: str  # who, as people read it ("Ana (patient)")
    symptom_entry_id: int | None = None  # the diary entry whose side effects were triaged

    @property
    def serious(self) -> bool:
        return self.level in SERIOUS

    def said(self) -> list[str]:
        """What the result was given from, one line each: "Ticked: ...", "Typed: ...",
        "Breathing ...? yes", "Amount: ...", "Not recognised: ..."."""
        lines = []
        if self.ticked:
            lines.append("Ticked: " + ", ".join(self.ticked))
        if self.typed:
            lines.append("Typed: " + ", ".join(f"“{text}”" for text in self.typed))
        lines += [str(answer) for answer in self.answers]
        if self.amount:
            lines.append(f"Amount taken: {self.amount}")
        if self.unrecognised:
            lines.append("Not recognised: " + ", ".join(self.unrecognised))
        return lines or ["nothing recorded"]


def count_levels(checks: Iterable[SafetyCheck]) -> dict[str, int]:
    """How many results of each level, every level present (0 when none)."""
    counts = dict.fromkeys(LEVELS, 0)
    for check in checks:
        counts[check.level] = counts.get(check.level, 0) + 1
    return counts


def describe_serious(checks: Sequence[SafetyCheck]) -> str:
    """``1 emergency, 2 urgent safety checks`` ("" when there is neither)."""
    counts = count_levels(checks)
    parts = [f"{counts[level]} {level}" for level in ("emergency", "urgent") if counts[level]]
    if not parts:
        return ""
    total = counts["emergency"] + counts["urgent"]
    return ", ".join(parts) + f" safety check{'s' if total != 1 else ''}"


def csv_rows(checks: Iterable[SafetyCheck]) -> list[list[str]]:
    """The rows of the readable CSV (:data:`CSV_COLUMNS`), in the order given."""
    return [
        [
            str(check.result_id),
            check.at.isoformat(),
            check.level,
            JOIN.join(check.reasons),
            JOIN.join(check.ticked),
            JOIN.join(check.typed),
            JOIN.join(str(answer) for answer in check.answers),
            check.amount,
            JOIN.join(check.unrecognised),
            ", ".join(check.sources),
            check.recorded_by,
            "" if check.symptom_entry_id is None else str(check.symptom_entry_id),
        ]
        for check in checks
    ]
