"""Amounts as whole micrograms (``_ug``) and volumes as whole microlitres (``_ul``).

Halves, quarters and 0.5 mL steps add up exactly in integers; floats appear only at the
edges (input in mg, output in mg).
"""

from __future__ import annotations

UG_PER_MG = 1000
UL_PER_ML = 1000


def mg_to_ug(amount_mg: float) -> int:
    """Milligrams to whole micrograms."""
    return round(amount_mg * UG_PER_MG)


def ug_to_mg(amount_ug: int) -> float:
    return amount_ug / UG_PER_MG


def format_mg(amount_ug: int) -> str:
    """``12500`` -> ``"12.5"``: mg (or mL from µL) without trailing zeros."""
    return f"{amount_ug / UG_PER_MG:.3f}".rstrip("0").rstrip(".")
