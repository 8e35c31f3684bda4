"""The vocabulary of medicines people name: generics, brands, salts, combinations.

Data in ``monographs/medicines.toml``; matching typed names is in :mod:`.interactions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Medicine:
    name: str
    drug_class: str = field(metadata={"toml": "class"})
    atc: str
    brands: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Combination:
    name: str
    components: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicineVocabulary:
    classes: dict[str, str]
    medicine: tuple[Medicine, ...]
    combination: tuple[Combination, ...] = ()

    def __post_init__(self) -> None:
        names = {m.name for m in self.medicine}
        for medicine in self.medicine:
            if medicine.drug_class not in self.classes:
                raise ValueError(
                    f"medicine {medicine.name!r}: class {medicine.drug_class!r} not in [classes]"
                )
        for combination in self.combination:
            missing = [c for c in combination.components if c not in names]
            if missing:
                raise ValueError(f"combination {combination.name!r}: unknown components {missing}")
        seen: dict[str, str] = {}
        for owner, spellings in self._spellings():
            for spelling in spellings:
                key = normalize_name(spelling)
                if seen.setdefault(key, owner) != owner:
                    raise ValueError(f"{spelling!r} names both {seen[key]!r} and {owner!r}")

    def _spellings(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        for m in self.medicine:
            yield m.name, (m.name, *m.brands, *m.synonyms)
        for c in self.combination:
            yield c.name, (c.name, *c.aliases)


def normalize_name(text: str) -> str:
    """Lower case, letters and digits only, single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
