"""Page forms read into the services' input models (``dosewise.services.inputs``).

A form posts text; :func:`read_form` collects it by the model's field names (every value of a
list field, the one value of the others) and checks it with the same model the API uses. The
values come back as typed so that a form with a mistake is shown again as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_origin

from fastapi import Request
from pydantic import BaseModel

from dosewise.errors import InputError
from dosewise.services.inputs import parse_input

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Submitted(Generic[M]):
    """A posted form: its values as typed, and the model or the error that names a field."""

    values: dict[str, Any]
    model: M | None
    error: InputError | None


async def read_form(
    request: Request, model: type[M], defaults: dict[str, Any] | None = None, *, ignore: tuple[str, ...] = ()
) -> Submitted[M]:
    """The form's values for ``model``'s fields (``ignore``: fields the page does not ask now).
    A list or mapping field takes every value the form sent under its name."""
    form = await request.form()
    values: dict[str, Any] = dict(defaults or {})
    for name, info in model.model_fields.items():
        if name in ignore:
            continue
        if get_origin(info.annotation) in (list, dict):
            if name in form:
                values[name] = [text for text in form.getlist(name) if isinstance(text, str)]
        elif isinstance(form.get(name), str):
            values[name] = form.get(name)
    given = {name: value for name, value in values.items() if name in form}
    try:
        return Submitted(values=values, model=parse_input(model, given), error=None)
    except InputError as error:
        return Submitted(values=values, model=None, error=error)
