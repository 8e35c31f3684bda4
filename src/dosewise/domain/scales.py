"""The diary's clinical scales, in words a patient understands [PSFS]."""

from __future__ import annotations

SOURCE = "PSFS"
PENN_FREQUENCY: tuple[tuple[int, str], ...] = (
    (0, "no spasms"),
    (1, "spasms only when moved or touched"),
    (2, "spasms less than once an hour"),
    (3, "spasms more than once an hour"),
    (4, "spasms more than ten times an hour"),
)
PENN_SEVERITY: tuple[tuple[int, str], ...] = ((1, "mild"), (2, "moderate"), (3, "severe"))
SPASTICITY_NRS_ANCHORS = "0 means no stiffness at all, 10 the worst stiffness you can imagine"
SIDE_EFFECT_SEVERITY: tuple[tuple[int, str], ...] = ((1, "mild"), (2, "moderate"), (3, "severe"))
