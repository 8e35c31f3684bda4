"""The vocabulary of medicines people name: generics, brands, salts, misspellings, products
and the class words people use ("opioids", "sleeping pills").

Data in ``monographs/medicines.toml``; matching typed names is in :mod:`.interactions`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Medicine:
    name: str
    drug_class: str = field(metadata={"toml": "class"})
    atc: str
    brands: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    # known misspellings: matched, but always reported as assumed ("check the spelling")
    misspellings: tuple[str, ...] = ()
    note: str = ""  # said wherever the medicine is shown (e.g. what "low-dose aspirin" means)
    source: str = ""  # source key(s) of the note


@dataclass(frozen=True, slots=True, kw_only=True)
class Combination:
    """A product by its ingredients (Percocet: oxycodone + paracetamol)."""

    name: str
    components: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    # ingredients of some forms only (alcohol in NyQuil liquid): shown "in some forms", never
    # counted as certainly taken
    sometimes: tuple[str, ...] = ()
    misspellings: tuple[str, ...] = ()
    note: str = ""
    source: str = ""  # where the ingredients come from (vocabulary [sources])


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassWord:
    """A class as people name it ("opioids", "water pills"): read as every class it may mean."""

    name: str  # as shown: "opioids"
    classes: tuple[str, ...]
    words: tuple[str, ...] = ()  # other spellings
    misspellings: tuple[str, ...] = ()
    ask: str = ""  # for a word that may mean several classes: which kind? (said with it)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseReading:
    """A medicine read as another entry when its daily amount is low (aspirin up to 100 mg a
    day is "low-dose aspirin", an antiplatelet, not an NSAID)."""

    medicine: str
    up_to_daily_mg: float
    read_as: str
    hint: str  # said when the amount is not given
    source: str

    def __post_init__(self) -> None:
        if not self.up_to_daily_mg > 0:
            raise ValueError(f"dose_reading {self.medicine!r}: up_to_daily_mg must be greater than 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicineVocabulary:
    classes: dict[str, str]
    medicine: tuple[Medicine, ...]
    combination: tuple[Combination, ...] = ()
    class_word: tuple[ClassWord, ...] = ()
    dose_reading: tuple[DoseReading, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = {m.name for m in self.medicine}
        for medicine in self.medicine:
            if medicine.drug_class not in self.classes:
                raise ValueError(
                    f"medicine {medicine.name!r}: class {medicine.drug_class!r} not in [classes]"
                )
        for combination in self.combination:
            missing = [c for c in (*combination.components, *combination.sometimes) if c not in names]
            if missing:
                raise ValueError(f"combination {combination.name!r}: unknown components {missing}")
            self._check_source(f"combination {combination.name!r}", combination.source)
        for word in self.class_word:
            unknown = [c for c in word.classes if c not in self.classes]
            if unknown or not word.classes:
                raise ValueError(f"class_word {word.name!r}: unknown or no classes {unknown}")
        for reading in self.dose_reading:
            if reading.medicine not in names or reading.read_as not in names:
                raise ValueError(f"dose_reading {reading.medicine!r}: unknown medicine")
        seen: dict[str, str] = {}
        for owner, spellings in self._spellings():
            for spelling in spellings:
                key = normalize_name(spelling)
                if seen.setdefault(key, owner) != owner:
                    raise ValueError(f"{spelling!r} names both {seen[key]!r} and {owner!r}")

    def _check_source(self, where: str, source: str) -> None:
        if not self.sources:
            return
        unknown = [key for key in re.findall(r"[A-Z][A-Z0-9-]*", source) if key not in self.sources]
        if unknown:
            raise ValueError(f"{where}: source keys not in [sources]: {', '.join(unknown)}")

    def _spellings(self) -> Iterable[tuple[str, tuple[str, ...]]]:
        for m in self.medicine:
            yield m.name, (m.name, *m.brands, *m.synonyms, *m.misspellings)
        for c in self.combination:
            yield c.name, (c.name, *c.aliases, *c.misspellings)
        for w in self.class_word:
            yield f"class word {w.name}", (w.name, *w.words, *w.misspellings)


def normalize_name(text: str) -> str:
    """Lower case without accents ("paracétamol" is "paracetamol"), letters and digits only,
    single spaces."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())
