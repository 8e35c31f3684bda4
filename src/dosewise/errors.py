"""One exception tree for Dosewise.

An exception means "cannot compute" (bad input: :class:`InputError`) or "will not compute"
(:class:`SafetyRefusal`). Clinical cautions are data (``Finding``), never exceptions.
Each interface maps these once: the CLI to exit codes 2 and 3, the web app to a page.
"""

from __future__ import annotations


class DosewiseError(Exception):
    """Base of every error Dosewise raises on purpose."""


class InputError(DosewiseError):
    """The input cannot be used; the message says what to fix.

    ``field`` names the input it is about, by the service's field name (``weight_kg``,
    ``min_days``); the message never names a CLI flag or a form label. Each interface words the
    field its own way: ``--weight-kg`` in the CLI, the form label on a page, ``/weight_kg`` in
    the API.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SafetyRefusal(DosewiseError):
    """Dosewise will not make this plan automatically; the message says why and what a
    clinician can do. ``overridable``: a clinician override would allow it (within caps)."""

    def __init__(self, message: str, *, overridable: bool = False) -> None:
        super().__init__(message)
        self.overridable = overridable


class NotFound(DosewiseError):
    """A named thing (drug, patient, plan) does not exist."""


class Conflict(DosewiseError):
    """The request contradicts what is already stored."""


class ExportError(DosewiseError):
    """An export could not be written."""
