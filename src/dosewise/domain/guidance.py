"""What a patient reads about taking the drug: advice for their conditions (pregnancy,
breastfeeding, epilepsy), how to take it, and each product's own storage text, every statement
with its source keys.

These records mirror ``monographs/guidance.toml`` (loaded by :mod:`dosewise.monographs`). A
statement marked ``product_default`` is Dosewise's own wording, never presented as a label's; a
product whose storage text Dosewise could not verify has ``text = None`` and is shown as "follow
your pack's label", never as a generalisation from another product.

No ``from __future__ import annotations`` here: the loader reads these annotations at run time.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Condition = Literal["pregnant", "breastfeeding", "epilepsy"]
CONDITIONS: tuple[Condition, ...] = ("pregnant", "breastfeeding", "epilepsy")
_KEY = re.compile(r"[A-Z][A-Z0-9-]*")
_LIQUIDS = ("solution", "suspension")


def source_keys(source: str) -> tuple[str, ...]:
    """``"US-TAB, OZO"`` -> ``("US-TAB", "OZO")``."""
    return tuple(key.strip() for key in source.split(",") if key.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class GuidanceSource:
    citation: str
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    text: str
    source: str  # source keys, comma-separated
    product_default: bool = False  # Dosewise's own wording or rule, not a label's

    @property
    def keys(self) -> tuple[str, ...]:
        return source_keys(self.source)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionAdvice:
    condition: Condition
    title: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    key: str
    title: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageText:
    """One product's storage, from its own label (``text``), or None: not verified."""

    product: str
    form: str
    strengths_mg: tuple[float, ...]  # per tablet or packet; per mL for a liquid
    source: str
    text: str | None = None
    note: str = ""

    def covers(self, form: str, strength_mg: float) -> bool:
        return self.form == form and any(abs(s - strength_mg) < 1e-9 for s in self.strengths_mg)


@dataclass(frozen=True, slots=True, kw_only=True)
class Guidance:
    drug: str
    sources: dict[str, GuidanceSource]
    conditions: tuple[ConditionAdvice, ...]
    topics: tuple[Topic, ...]
    storage: tuple[StorageText, ...]
    storage_unverified: Statement  # what a product without a verified storage text shows
    storage_other: Statement  # a product of a form or strength no entry covers

    def __post_init__(self) -> None:
        statements = [s for advice in self.conditions for s in advice.statements]
        statements += [s for topic in self.topics for s in topic.statements]
        statements += [self.storage_unverified, self.storage_other]
        used = [key for s in statements for key in s.keys] + [
            key for item in self.storage for key in source_keys(item.source)
        ]
        for key in used:
            if not _KEY.fullmatch(key) or key not in self.sources:
                raise ValueError(f"unknown source key {key!r} (add it to [sources])")
        seen = [advice.condition for advice in self.conditions]
        if sorted(seen) != sorted(CONDITIONS):
            raise ValueError(f"conditions: one entry each for {', '.join(CONDITIONS)}")

    def advice_for(
        self, *, pregnant: bool, breastfeeding: bool, epilepsy: bool
    ) -> tuple[ConditionAdvice, ...]:
        """The advice for the conditions a patient has, in the fixed order of CONDITIONS."""
        wanted = {"pregnant": pregnant, "breastfeeding": breastfeeding, "epilepsy": epilepsy}
        return tuple(advice for advice in self.conditions if wanted[advice.condition])

    def storage_for(self, products: Sequence[tuple[str, float]]) -> tuple[StorageText, ...]:
        """The storage entries of the products (form, strength in mg or mg/mL), each once, in the
        file's order; a product no entry covers gets a "follow your pack" entry of its own."""
        found: list[StorageText] = []
        for form, strength in products:
            entries = [item for item in self.storage if item.covers(form, strength)]
            if not entries:
                entries = [
                    StorageText(
                        product=f"{form} {strength:g} mg{'/mL' if form in _LIQUIDS else ''}",
                        form=form,
                        strengths_mg=(strength,),
                        source=self.storage_other.source,
                        text=None,
                        note=self.storage_other.text,
                    )
                ]
            found.extend(item for item in entries if item not in found)
        return tuple(found)

    def cited(self, keys: Iterable[str]) -> tuple[tuple[str, GuidanceSource], ...]:
        """(key, source) for each key, each once, in first-use order."""
        unique = dict.fromkeys(keys)
        return tuple((key, self.sources[key]) for key in unique if key in self.sources)
