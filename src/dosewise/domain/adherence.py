"""Adherence: what became of each scheduled dose, counted per day and per plan step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from dosewise.domain.missed_dose import too_late_to_take

DoseStatus = Literal["taken", "late", "skipped"]
SlotState = Literal["on_time", "late", "skipped", "missed", "due", "upcoming"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """A scheduled dose with what was recorded for it and what that means now."""

    slot_id: int
    plan_id: int
    step_number: int
    due_at: datetime  # aware, in the patient's zone
    dose_ug: int
    how: str
    recorded: DoseStatus | None
    taken_at: datetime | None  # aware, in the patient's zone
    state: SlotState
    # when the dose after this one is due (aware): the next slot, or after the plan's last dose
    # the usual gap later; the missed-dose rule compares with it (None: not read)
    following: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Counts of one day or one plan step."""

    planned: int = 0
    on_time: int = 0
    late: int = 0
    skipped: int = 0
    missed: int = 0
    pending: int = 0  # due now or still to come

    @property
    def taken(self) -> int:
        return self.on_time + self.late

    @property
    def settled(self) -> int:
        return self.planned - self.pending

    @property
    def taken_share(self) -> float | None:
        """Doses taken among those whose time has passed (None before any)."""
        return self.taken / self.settled if self.settled else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Adherence:
    first_day: date
    last_day: date
    total: Tally
    by_day: tuple[tuple[date, Tally], ...]
    by_step: tuple[tuple[int, int, Tally], ...]  # (plan id, step number, tally)
    on_time_window_h: float  # a Dosewise default, shown with the figures
    sources: tuple[str, ...] = ("DOSEWISE", "NHS")


def slot_state(
    recorded: DoseStatus | None, due: datetime, following: datetime, now: datetime, window: timedelta
) -> SlotState:
    """What a slot is at ``now``: an unrecorded dose is "due" while the missed-dose advice
    would still say "take it now", then "missed" (a later dose time has come, or the next is
    due within the window) [NHS]. Times are naive UTC."""
    if recorded == "taken":
        return "on_time"
    if recorded is not None:
        return recorded
    if due > now:
        return "upcoming"
    if too_late_to_take(following, now, window):
        return "missed"  # the advice now says: skip it
    return "due"


def summarize_adherence(
    slots: Sequence[Slot], first_day: date, last_day: date, *, on_time_window_h: float
) -> Adherence:
    by_day: dict[date, Counter[str]] = {}
    by_step: dict[tuple[int, int], Counter[str]] = {}
    for slot in slots:
        bucket = "pending" if slot.state in ("due", "upcoming") else slot.state
        by_day.setdefault(slot.due_at.date(), Counter())[bucket] += 1
        by_step.setdefault((slot.plan_id, slot.step_number), Counter())[bucket] += 1
    return Adherence(
        first_day=first_day,
        last_day=last_day,
        total=_tally(sum(by_day.values(), Counter())),
        by_day=tuple((day, _tally(counts)) for day, counts in sorted(by_day.items())),
        by_step=tuple((plan, step, _tally(counts)) for (plan, step), counts in sorted(by_step.items())),
        on_time_window_h=on_time_window_h,
    )


def _tally(counts: Counter[str]) -> Tally:
    return Tally(
        planned=sum(counts.values()),
        on_time=counts["on_time"],
        late=counts["late"],
        skipped=counts["skipped"],
        missed=counts["missed"],
        pending=counts["pending"],
    )
