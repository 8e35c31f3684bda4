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
SPASTICITY_NRS_MAX = 10

# The bounds every interface checks against (the store's CHECK constraints say the same).
PENN_FREQUENCY_RANGE = (PENN_FREQUENCY[0][0], PENN_FREQUENCY[-1][0])  # 0-4
PENN_SEVERITY_RANGE = (PENN_SEVERITY[0][0], PENN_SEVERITY[-1][0])  # 1-3
SIDE_EFFECT_SEVERITY_RANGE = (SIDE_EFFECT_SEVERITY[0][0], SIDE_EFFECT_SEVERITY[-1][0])  # 1-3
SPASTICITY_NRS_RANGE = (0, SPASTICITY_NRS_MAX)
