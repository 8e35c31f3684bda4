"""Clinical cautions as data."""

from __future__ import annotations

from dataclasses import dataclass

from dosewise.domain.monograph import Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Something the user must know about a plan or advice, with where it comes from."""

    code: str
    severity: Severity
    message: str
    source: str
