"""What a dose can be made of.

Amounts are integers in micrograms (``_ug``) and volumes in microlitres (``_ul``), so that
halves, quarters and 0.5 mL steps add up exactly. A requested amount rounds **down** to the
nearest deliverable one, never up; each dose is made with the fewest pieces (then the fewest
split pieces; solids before liquid on a tie). A dose is made of tablets/packets, or of one
liquid alone: Dosewise never mixes a measured liquid with tablets in one dose.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, combinations_with_replacement

from dosewise.domain.monograph import LIQUID_FORMS, Monograph, ProductForm
from dosewise.domain.units import UL_PER_ML, format_mg, mg_to_ug
from dosewise.errors import InputError

_FORM_NAMES: Mapping[str, ProductForm] = {
    "tablet": "tablet", "tablets": "tablet", "tab": "tablet",
    "solution": "solution", "sol": "solution", "liquid": "solution",
    "suspension": "suspension", "susp": "suspension",
    "granules": "granules", "granule": "granules", "packet": "granules", "packets": "granules",
}  # fmt: skip
_SPLIT_NAMES: Mapping[str, int] = {
    "whole": 1, "unscored": 1, "1": 1,
    "halves": 2, "half": 2, "halved": 2, "2": 2,
    "quarters": 4, "quarter": 4, "quartered": 4, "4": 4,
}  # fmt: skip
_SPLIT_WORDS = {1: "whole", 2: "halves", 4: "quarters"}
_NUMBER = r"(\d+(?:\.\d+)?)"
_SOLID_STRENGTH = re.compile(rf"^{_NUMBER}\s*(?:mg)?$")
_LIQUID_STRENGTH = re.compile(rf"^{_NUMBER}\s*(?:mg)?\s*(?:/\s*{_NUMBER}?\s*ml)?$")
_VOLUME = re.compile(rf"^{_NUMBER}\s*(?:ml)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """A product the patient has.

    ``strength_ug`` is per tablet or packet, or per mL for a liquid. ``split`` is how a
    tablet may be divided (1 whole only, 2 halves, 4 quarters); ``step_ul`` is the smallest
    volume of a liquid the patient measures.
    """

    form: ProductForm
    strength_ug: int
    split: int = 1
    step_ul: int = 0

    @property
    def is_liquid(self) -> bool:
        return self.form in LIQUID_FORMS

    @property
    def strength_label(self) -> str:
        return (
            f"{format_mg(self.strength_ug)} mg/mL" if self.is_liquid else f"{format_mg(self.strength_ug)} mg"
        )

    @property
    def unit_name(self) -> str:
        return {"tablet": "tablet", "granules": "packet"}.get(self.form, f"oral {self.form}")

    def describe(self) -> str:
        """``"10 mg tablet (halves)"``, ``"1 mg/mL oral solution (0.5 mL steps)"``."""
        if self.is_liquid:
            return f"{self.strength_label} {self.unit_name} ({format_mg(self.step_ul)} mL steps)"
        if self.form == "tablet":
            return f"{self.strength_label} tablet ({_SPLIT_WORDS[self.split]})"
        return f"{self.strength_label} packet (whole)"

    @property
    def spec(self) -> str:
        """The CLI spelling of this product (``tablet:10mg:halves``)."""
        if self.is_liquid:
            return f"{self.form}:{format_mg(self.strength_ug)}mg/ml:{format_mg(self.step_ul)}ml"
        if self.form == "tablet":
            return f"tablet:{format_mg(self.strength_ug)}mg:{_SPLIT_WORDS[self.split]}"
        return f"granules:{format_mg(self.strength_ug)}mg"


@dataclass(frozen=True, slots=True, kw_only=True)
class Portion:
    """One line of a recipe: whole tablets/packets, one split piece, or a liquid volume."""

    product: Product
    count: int = 1  # whole units, or 1 for a split piece
    fraction: int = 1  # 1 whole, 2 a half, 4 a quarter
    volume_ul: int = 0  # liquids only

    @property
    def amount_ug(self) -> int:
        if self.product.is_liquid:
            return self.product.strength_ug * self.volume_ul // UL_PER_ML
        return self.count * self.product.strength_ug // self.fraction

    def describe(self) -> str:
        product = self.product
        if product.is_liquid:
            return f"{format_mg(self.volume_ul)} mL of {product.strength_label} {product.unit_name}"
        size = str(self.count) if self.fraction == 1 else f"1/{self.fraction}"
        return f"{size} x {product.strength_label} {product.unit_name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """How to make one dose from the patient's products."""

    portions: tuple[Portion, ...]

    @property
    def dose_ug(self) -> int:
        return sum(portion.amount_ug for portion in self.portions)

    @property
    def pieces(self) -> int:
        return sum(1 if p.product.is_liquid else p.count for p in self.portions)

    @property
    def split_pieces(self) -> int:
        return sum(1 for p in self.portions if p.fraction > 1)

    def describe(self) -> str:
        """``"1 x 10 mg tablet + 1/2 x 10 mg tablet"``."""
        return " + ".join(portion.describe() for portion in self.portions)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseMenu:
    """Every single dose (up to ``cap_ug``) the products can make, each with its best recipe."""

    products: tuple[Product, ...]
    unit_ug: int  # every deliverable amount is a multiple of this
    cap_ug: int
    recipes: Mapping[int, Recipe]

    @property
    def smallest_ug(self) -> int:
        return min(self.recipes)

    def recipe(self, dose_ug: int) -> Recipe:
        return self.recipes[dose_ug]

    def is_deliverable(self, dose_ug: int) -> bool:
        return dose_ug in self.recipes

    def floor_daily_ug(self, target_ug: int, slots: int) -> int:
        """The largest daily total <= ``target_ug`` that ``slots`` doses can make (0 if none).

        A slot may stay empty, so a small total can be given in fewer doses; the total is
        never rounded up.
        """
        limit = target_ug // self.unit_ug
        if limit <= 0:
            return 0
        reach = self._reachable_daily_units(slots, limit)
        return (reach.bit_length() - 1) * self.unit_ug

    def daily_totals_ug(self, slots: int, up_to_ug: int) -> list[int]:
        """Every daily total in (0, ``up_to_ug``] that ``slots`` doses can make, ascending."""
        limit = up_to_ug // self.unit_ug
        reach = self._reachable_daily_units(slots, limit)
        return [units * self.unit_ug for units in range(1, limit + 1) if reach >> units & 1]

    def split_daily_ug(self, total_ug: int, slots: int) -> tuple[int, ...]:
        """Divide a deliverable daily total into ``slots`` doses in clock order.

        As even as possible (smallest spread, then smallest sum of squares); where it cannot
        be even, the larger doses go to the later slots (the evening). A 0 means no dose at
        that time. Raises ``ValueError`` if ``total_ug`` is not deliverable in ``slots`` doses.
        """
        amounts = (0, *sorted(self.recipes))
        mean = total_ug / slots
        radius = 4 * self.unit_ug
        while True:
            window = [a for a in amounts if abs(a - mean) <= radius and a <= total_ug]
            best = _most_even(window, slots, total_ug)
            if best is not None and best[-1] - best[0] <= radius:
                return best
            if radius > total_ug:
                if best is None:
                    raise ValueError(f"{total_ug} ug cannot be made in {slots} doses")
                return best
            radius *= 2

    def _reachable_daily_units(self, slots: int, limit_units: int) -> int:
        """Bit set of daily totals (in units) reachable with ``slots`` doses, up to the limit."""
        mask = (1 << (limit_units + 1)) - 1
        steps = [amount // self.unit_ug for amount in self.recipes if amount // self.unit_ug <= limit_units]
        reach = 1
        for _ in range(slots):
            grown = reach
            for step in steps:
                grown |= reach << step
            reach = grown & mask
        return reach


def _most_even(window: Sequence[int], slots: int, total_ug: int) -> tuple[int, ...] | None:
    best: tuple[int, ...] | None = None
    best_key: tuple[int, int] | None = None
    for combo in combinations_with_replacement(window, slots):
        if sum(combo) != total_ug:
            continue
        key = (combo[-1] - combo[0], sum(a * a for a in combo))
        if best_key is None or key < best_key:
            best, best_key = combo, key
    return best


def build_dose_menu(products: Iterable[Product], *, cap_ug: int) -> DoseMenu:
    """Every dose up to ``cap_ug`` the products can make, with the fewest-pieces recipe."""
    products = tuple(products)
    if not products:
        raise InputError("name at least one product the patient has")
    solids = [p for p in products if not p.is_liquid]
    liquids = [p for p in products if p.is_liquid]
    sizes = [p.strength_ug // f for p in solids for f in (1, 2, 4) if f <= p.split]
    sizes += [p.strength_ug * p.step_ul // UL_PER_ML for p in liquids]
    unit = math.gcd(*sizes)
    best: dict[int, tuple[tuple[int, int, int], Recipe]] = {}

    def offer(recipe: Recipe, liquid: int) -> None:
        dose = recipe.dose_ug
        key = (recipe.pieces, recipe.split_pieces, liquid)
        if 0 < dose <= cap_ug and (dose not in best or key < best[dose][0]):
            best[dose] = (key, recipe)

    for recipe in _solid_recipes(solids, unit, cap_ug):
        offer(recipe, 0)
    for product in liquids:
        step = product.step_ul
        for volume in range(step, cap_ug * UL_PER_ML // product.strength_ug + 1, step):
            offer(Recipe(portions=(Portion(product=product, volume_ul=volume),)), 1)
    if not best:
        smallest = min(sizes)
        raise InputError(
            f"these products cannot make any dose up to {format_mg(cap_ug)} mg "
            f"(the smallest piece is {format_mg(smallest)} mg)"
        )
    return DoseMenu(
        products=products,
        unit_ug=unit,
        cap_ug=cap_ug,
        recipes={dose: recipe for dose, (_, recipe) in sorted(best.items())},
    )


def _solid_recipes(solids: Sequence[Product], unit: int, cap_ug: int) -> Iterable[Recipe]:
    """For each amount, whole units by fewest count plus at most one half and one quarter per
    tablet strength (two halves are a whole)."""
    if not solids:
        return
    wholes = sorted(solids, key=lambda p: p.strength_ug, reverse=True)
    cap_units = cap_ug // unit
    # fewest whole units for each amount (ties: larger strengths first, by DP order)
    fewest: list[tuple[int, ...] | None] = [None] * (cap_units + 1)
    fewest[0] = (0,) * len(wholes)
    for units in range(1, cap_units + 1):
        for index, product in enumerate(wholes):
            size = product.strength_ug // unit
            previous = fewest[units - size] if size <= units else None
            if previous is None:
                continue
            candidate = (*previous[:index], previous[index] + 1, *previous[index + 1 :])
            current = fewest[units]
            if current is None or sum(candidate) < sum(current):
                fewest[units] = candidate
    pieces = [(p, f) for p in solids for f in (2, 4) if f <= p.split]
    for size in range(len(pieces) + 1):
        for chosen in combinations(pieces, size):
            base_units = sum(p.strength_ug // f for p, f in chosen) // unit
            split_portions = tuple(Portion(product=p, fraction=f) for p, f in chosen)
            for units in range(cap_units - base_units + 1):
                counts = fewest[units]
                if counts is None or (units == 0 and not chosen):
                    continue
                whole_portions = tuple(
                    Portion(product=p, count=n) for p, n in zip(wholes, counts, strict=True) if n
                )
                yield Recipe(portions=_ordered(whole_portions + split_portions))


def _ordered(portions: tuple[Portion, ...]) -> tuple[Portion, ...]:
    """Largest strength first; for one strength, whole tablets before a half before a quarter."""
    return tuple(sorted(portions, key=lambda p: (-p.product.strength_ug, p.fraction)))


def parse_product_spec(spec: str, monograph: Monograph) -> Product:
    """``tablet:10mg:halves``, ``tablet:5mg``, ``solution:1mg/ml:0.5ml``, ``granules:10mg``.

    The strength must be one the monograph knows; the split may not exceed what the product
    allows (an unscored tablet stays whole); the liquid step may not be finer than the
    monograph's finest.
    """
    parts = [part.strip().lower() for part in spec.split(":")]
    usage = (
        "write products as FORM:STRENGTH[:SPLIT], e.g. tablet:10mg:halves, tablet:5mg, "
        "solution:1mg/ml:0.5ml, suspension:5mg/ml, granules:10mg"
    )
    if len(parts) not in (2, 3) or parts[0] not in _FORM_NAMES:
        raise InputError(f"product {spec!r} not understood: {usage}")
    form = _FORM_NAMES[parts[0]]
    strength_mg = _parse_strength(parts[1], liquid=form in LIQUID_FORMS)
    if strength_mg is None:
        raise InputError(f"product {spec!r}: strength {parts[1]!r} not understood: {usage}")
    definition = monograph.product_definition(form, strength_mg)
    if definition is None:
        known = sorted({d.strength_mg for d in monograph.products if d.form == form})
        unit = "mg/mL" if form in LIQUID_FORMS else "mg"
        listing = ", ".join(f"{s:g}" for s in known)
        raise InputError(
            f"product {spec!r}: no {monograph.name} {form} of {strength_mg:g} {unit} is known "
            f"(known: {listing} {unit})"
        )
    extra = parts[2] if len(parts) == 3 else None
    if form in LIQUID_FORMS:
        measure = monograph.liquid_measure
        step_ml = measure.default_step_ml
        if extra is not None:
            volume = _VOLUME.match(extra)
            if volume is None:
                raise InputError(f"product {spec!r}: measuring step {extra!r} must be in mL, e.g. 0.5ml")
            step_ml = float(volume[1])
        steps = step_ml / measure.min_step_ml
        if step_ml < measure.min_step_ml or abs(steps - round(steps)) > 1e-9:
            raise InputError(
                f"product {spec!r}: the measuring step must be a multiple of {measure.min_step_ml:g} mL "
                f"(finer cannot be measured reliably at home) [{measure.source}]"
            )
        return Product(form=form, strength_ug=mg_to_ug(strength_mg), step_ul=round(step_ml * UL_PER_ML))
    split = definition.default_split
    if extra is not None:
        if extra not in _SPLIT_NAMES:
            raise InputError(f"product {spec!r}: split {extra!r} must be whole, halves or quarters")
        split = _SPLIT_NAMES[extra]
    if split > definition.max_split:
        allowed = _SPLIT_WORDS[definition.max_split]
        raise InputError(
            f"product {spec!r}: {strength_mg:g} mg {'tablets' if form == 'tablet' else form} can be used "
            f"only as {allowed} "
            f"({definition.note}) [{definition.source}]"
        )
    return Product(form=form, strength_ug=mg_to_ug(strength_mg), split=split)


def parse_product_specs(specs: Sequence[str], monograph: Monograph) -> tuple[Product, ...]:
    """The patient's products; the monograph's defaults when ``specs`` is empty."""
    chosen = list(specs) or list(monograph.default_products.specs)
    products = tuple(parse_product_spec(spec, monograph) for spec in chosen)
    seen: set[tuple[str, int]] = set()
    for product in products:
        key = (product.form, product.strength_ug)
        if key in seen:
            raise InputError(f"product {product.strength_label} {product.form} is given twice")
        seen.add(key)
    return products


def _parse_strength(text: str, *, liquid: bool) -> float | None:
    if not liquid:
        match = _SOLID_STRENGTH.match(text)
        return float(match[1]) if match else None
    match = _LIQUID_STRENGTH.match(text)
    if match is None:
        return None
    per_ml = float(match[2]) if match[2] else 1.0
    return float(match[1]) / per_ml if per_ml > 0 else None
