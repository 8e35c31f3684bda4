"""Load drug monographs (``<drug>.toml`` next to this file) into typed domain records, and the
reference files that are not drugs (:data:`REFERENCE_FILES`: the vocabulary of other medicines,
the emergency numbers, the patient guidance).

The TOML is converted field by field into the frozen dataclasses of
:mod:`dosewise.domain.monograph`, following their type annotations; every error names the
field (``baclofen.toml: titration.max_daily_mg: expected a number, got 'eighty'``), and unknown
or missing fields are errors too, so a misspelt field cannot pass silently. This small
converter replaces msgspec, whose import alone took an eighth of the CLI's start-up budget
(docs/adr/0002-monograph-loader.md).
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from dosewise.domain.monograph import Monograph
from dosewise.errors import InputError

if TYPE_CHECKING:
    from dosewise.domain.alternatives import AlternativesReference
    from dosewise.domain.emergency import EmergencyDirectory
    from dosewise.domain.guidance import Guidance
    from dosewise.domain.medicines import MedicineVocabulary

__all__ = [
    "REFERENCE_FILES",
    "available_drugs",
    "load_alternatives",
    "load_emergency_numbers",
    "load_guidance",
    "load_medicines",
    "load_monograph",
    "parse_monograph",
]

_Record = TypeVar("_Record")
_VOCABULARY = "medicines"  # the vocabulary of other medicines, not a drug monograph
_EMERGENCY = "emergency_numbers"
_GUIDANCE = "guidance"
_ALTERNATIVES = "alternatives"  # other treatments compared (dosewise compare)
# The *.toml files here that are reference data, not drug monographs.
REFERENCE_FILES: frozenset[str] = frozenset({_VOCABULARY, _EMERGENCY, _GUIDANCE, _ALTERNATIVES})
_FOLDER = os.path.dirname(__file__)  # the monographs ship inside the package


class _FieldError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '(top level)'}: {message}")


def available_drugs() -> tuple[str, ...]:
    """Names of the drugs that have a monograph."""
    names = (name.removesuffix(".toml") for name in os.listdir(_FOLDER) if name.endswith(".toml"))
    return tuple(sorted(name for name in names if name not in REFERENCE_FILES))


DEFAULT_DRUG = "baclofen"  # the drug of a diary with no plan yet, and of the one-off commands


@cache
def load_monograph(drug: str) -> Monograph:
    """The monograph of ``drug`` (case-insensitive); :class:`InputError` for an unknown drug."""
    name = drug.strip().lower()
    if name not in available_drugs():
        known = ", ".join(available_drugs())
        raise InputError(f"unknown drug {drug!r}: Dosewise has monographs for {known}")
    with open(os.path.join(_FOLDER, f"{name}.toml"), encoding="utf-8") as file:
        return parse_monograph(file.read(), origin=f"{name}.toml")


@cache
def load_medicines() -> MedicineVocabulary:
    """The vocabulary of medicines people name (medicines.toml)."""
    from dosewise.domain.medicines import MedicineVocabulary  # not needed on the plan path

    with open(os.path.join(_FOLDER, f"{_VOCABULARY}.toml"), encoding="utf-8") as file:
        return _parse(file.read(), MedicineVocabulary, f"{_VOCABULARY}.toml")


@cache
def load_emergency_numbers() -> EmergencyDirectory:
    """The emergency number of each country, with sources (emergency_numbers.toml)."""
    from dosewise.domain.emergency import EmergencyDirectory

    return _parse(_read(_EMERGENCY), EmergencyDirectory, f"{_EMERGENCY}.toml")


@cache
def load_guidance(drug: str = "baclofen") -> Guidance:
    """What a patient reads about taking ``drug`` (guidance.toml); InputError for a drug
    without guidance."""
    from dosewise.domain.guidance import Guidance

    guidance = _parse(_read(_GUIDANCE), Guidance, f"{_GUIDANCE}.toml")
    if guidance.drug != drug.strip().lower():
        raise InputError(f"Dosewise has patient guidance for {guidance.drug} only, not {drug!r}")
    return guidance


@cache
def load_alternatives() -> AlternativesReference:
    """The other treatments for spasticity and muscle spasm, with sources (alternatives.toml)."""
    from dosewise.domain.alternatives import AlternativesReference

    return _parse(_read(_ALTERNATIVES), AlternativesReference, f"{_ALTERNATIVES}.toml")


def _read(name: str) -> str:
    with open(os.path.join(_FOLDER, f"{name}.toml"), encoding="utf-8") as file:
        return file.read()


def parse_monograph(text: str, *, origin: str = "monograph") -> Monograph:
    """Parse and check monograph TOML; :class:`InputError` names the malformed field."""
    return _parse(text, Monograph, origin)


def _parse(text: str, record: type[_Record], origin: str) -> _Record:
    try:
        result = _convert(tomllib.loads(text), record, "")
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{origin}: not valid TOML: {error}") from None
    except _FieldError as error:
        raise InputError(f"{origin}: {error}") from None
    assert isinstance(result, record)  # _convert builds the type it is given
    return result


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}" if not isinstance(value, dict | list) else type(value).__name__


def _convert(value: object, hint: Any, path: str) -> object:
    """``value`` from TOML as the annotated type ``hint`` (the subset the monograph uses)."""
    if is_dataclass(hint):
        return _build(value, hint, path)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # only "X | None" is used
        if value is None:
            return None
        return _convert(value, next(a for a in args if a is not type(None)), path)
    if origin is Literal:
        if value not in args:
            raise _FieldError(path, f"must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin is tuple:
        return _convert_tuple(value, args, path)
    if origin is dict:
        if not isinstance(value, dict):
            raise _FieldError(path, f"expected a table, got {_describe(value)}")
        return {key: _convert(item, args[1], f"{path}.{key}") for key, item in value.items()}
    if hint in (float, int, str, bool):
        return _convert_scalar(value, hint, path)
    raise TypeError(f"the monograph loader does not handle {hint!r} at {path}")  # a schema bug


def _convert_tuple(value: object, args: tuple[Any, ...], path: str) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise _FieldError(path, f"expected a list, got {_describe(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(item, args[0], f"{path}[{i}]") for i, item in enumerate(value))
    if len(value) != len(args):
        raise _FieldError(path, f"expected a list of {len(args)}, got {len(value)}")
    return tuple(
        _convert(item, kind, f"{path}[{i}]") for i, (item, kind) in enumerate(zip(value, args, strict=True))
    )


def _convert_scalar(value: object, hint: type, path: str) -> object:
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _FieldError(path, f"expected a number, got {_describe(value)}")
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise _FieldError(path, f"expected {hint.__name__}, got {_describe(value)}")
    return value


@cache
def _schema(record: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The TOML keys of a record's fields, and their types (read once per record type)."""
    declared = {item.metadata.get("toml", item.name): item for item in fields(record)}
    return declared, typing.get_type_hints(record)


def _build(raw: object, record: Any, path: str) -> object:
    if not isinstance(raw, dict):
        raise _FieldError(path, f"expected a table, got {_describe(raw)}")
    declared, hints = _schema(record)
    for key in raw:
        if key not in declared:
            known = ", ".join(sorted(declared))
            raise _FieldError(f"{path}.{key}".lstrip("."), f"unknown field (known: {known})")
    values: dict[str, object] = {}
    for name, item in declared.items():
        where = f"{path}.{name}".lstrip(".")
        if name in raw:
            values[item.name] = _convert(raw[name], hints[item.name], where)
        elif item.default is MISSING and item.default_factory is MISSING:
            raise _FieldError(where, "missing required field")
    try:
        return record(**values)
    except ValueError as error:
        raise _FieldError(path, str(error)) from None
