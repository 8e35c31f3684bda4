"""The diary's clinical scales, in words [PSFS]."""

from __future__ import annotations

SOURCE = "PSFS"
PENN_FREQUENCY: dict[int, str] = {
    0: "no spasms",
    1: "spasms only when stimulated (touch, movement)",
    2: "spontaneous spasms less than once an hour",
    3: "spontaneous spasms more than once an hour",
    4: "spontaneous spasms more than ten times an hour",
}
PENN_SEVERITY: dict[int, str] = {1: "mild", 2: "moderate", 3: "severe"}
SIDE_EFFECT_SEVERITY: dict[int, str] = {1: "mild", 2: "moderate", 3: "severe"}
SPASTICITY_NRS = "spasticity numeric rating: 0 none to 10 the worst imaginable"
