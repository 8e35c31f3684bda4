"""Supply: how much of each product the patient has, and when it runs out.

Stock is a ledger, never a counter someone overwrites: events say "I counted 37 tablets now"
(``counted``, an absolute amount), "I collected 100 tablets" (``collected``, a refill) or "I
dropped 2" (``adjusted``, with a note). The stock now is the last count, plus what was collected
or adjusted since, minus what the doses *taken* since used of that product. It is derived on
every read, so correcting a dose (undo, taken, skipped) changes it at once.

The forecast walks the plan's coming doses one by one (the daily amount changes at each
titration step): the first dose a product cannot make in full is when it runs out.

Quantities are whole thousandths of the product's unit (``_milli``): a tablet or packet is
1000, half a tablet 500, a quarter 250; for a liquid the unit is the mL, so ``_milli`` is µL.

Running out means an abrupt stop, which can cause hallucinations and seizures [US-TAB, OZO,
LYV]; the warning thresholds are product defaults [DOSEWISE] (baclofen.md section 10, "Supply").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Literal

from dosewise.domain.products import Portion, Product, Recipe
from dosewise.domain.units import UL_PER_ML
from dosewise.errors import InputError

StockEventKind = Literal["counted", "collected", "adjusted"]
SupplyLevel = Literal["ok", "warning", "caregivers", "urgent", "out"]
STOCK_EVENT_KINDS: tuple[StockEventKind, ...] = ("counted", "collected", "adjusted")
LEVEL_ORDER: tuple[SupplyLevel, ...] = ("ok", "warning", "caregivers", "urgent", "out")

MILLI = 1000  # thousandths of a unit (a tablet, a packet, a mL)
MAX_UNITS = 10_000  # a count or refill above this many tablets, packets or mL is a typo (setting)
LIQUID_RESOLUTION_MILLI = 100  # liquids are counted to 0.1 mL (what a bottle's marks allow)

THRESHOLD_SOURCE = "DOSEWISE"  # the supply thresholds are product defaults [baclofen.md 10]
WITHDRAWAL_SOURCES = ("US-TAB", "OZO", "LYV")  # stopping suddenly [baclofen.md 4]
SUPPLY_SOURCES = (*WITHDRAWAL_SOURCES, THRESHOLD_SOURCE)
WHY_IT_MATTERS = (
    "Running out means stopping baclofen suddenly. Stopping suddenly can cause hallucinations, "
    "seizures, high fever, confusion, returning spasms and muscle stiffness, rarely worse "
    f"[{', '.join(WITHDRAWAL_SOURCES)}]. Arrange a refill before it runs out; if you cannot get one "
    "in time, contact your prescriber or pharmacist before the last dose, never stop on your own."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplyThresholds:
    """When to warn, in days of supply left: the patient at ``warn_days``, caregivers too at
    ``caregivers_days``, urgently at ``urgent_days``. The defaults are product defaults
    [DOSEWISE] (baclofen.md section 10); a clinician may set others per patient."""

    warn_days: float = 7
    caregivers_days: float = 3
    urgent_days: float = 1

    def __post_init__(self) -> None:
        values = (self.warn_days, self.caregivers_days, self.urgent_days)
        if not all(math.isfinite(v) and 0 <= v <= 90 for v in values):
            raise InputError("supply thresholds must be between 0 and 90 days")
        if not self.warn_days >= self.caregivers_days >= self.urgent_days:
            raise InputError("supply thresholds must fall: warn >= caregivers >= urgent days")

    @property
    def are_defaults(self) -> bool:
        return self == SupplyThresholds()

    def describe(self) -> str:
        """``"warn at 7 days left, caregivers too at 3, urgent at 1 (product defaults)"``."""
        kind = "product defaults" if self.are_defaults else "set for this patient"
        return (
            f"warn at {self.warn_days:g} days left, caregivers too at {self.caregivers_days:g}, "
            f"urgent at {self.urgent_days:g} ({kind}) [{THRESHOLD_SOURCE}]"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StockEvent:
    """One line of the ledger. ``quantity_milli``: the amount counted (``counted``, >= 0), the
    amount collected (``collected``, > 0) or the change (``adjusted``, not 0, either sign)."""

    event_id: int
    product: str  # the product's spec (``tablet:10mg:halves``)
    kind: StockEventKind
    quantity_milli: int
    at: datetime
    recorded_by: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseUse:
    """A dose (taken, or coming) and what it uses of each product (spec -> thousandths).

    ``count`` > 1: that many doses taken alike with no ledger line between them, the last at
    ``at`` (the store adds them up: between two lines of the ledger only the total matters)."""

    at: datetime
    dose_ug: int
    uses: Mapping[str, int]
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StockNow:
    """A product's stock now, from its ledger and the doses taken since its first line."""

    product: str
    quantity_milli: int  # never below 0
    since: datetime  # the ledger's last line
    episode: int  # the event that last raised the stock (a refill, a higher count): alerts once per episode
    overdrawn: bool = False  # doses taken since used more than the stock: count again
    used_milli: int = 0  # used by the doses taken since the last count


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductForecast:
    product: str
    label: str  # "baclofen 10 mg tablets"
    unit: str  # "tablet", "packet", "mL"
    stock: StockNow | None  # None: never counted
    used_by_plan: bool  # the coming doses use it
    runs_out_at: datetime | None  # the first coming dose it cannot make in full
    covered_until: datetime | None  # the last coming dose it makes in full
    doses_covered: int
    days_left: float | None  # None: never counted, or not used by the plan
    covers_all: bool  # enough for every coming dose known
    level: SupplyLevel


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplyForecast:
    """The supply of every product, and overall: the product that runs out first decides."""

    products: tuple[ProductForecast, ...]
    level: SupplyLevel
    limiting: ProductForecast | None  # the counted product used by the plan that runs out first
    days_left: float  # to the first dose that cannot be made in full; inf: nothing runs out
    runs_out_at: datetime | None
    last_dose_at: datetime | None  # the last coming dose known (the forecast's horizon)
    episode: str
    message: str
    thresholds: SupplyThresholds
    not_counted: tuple[str, ...] = field(default=())  # labels of products the plan uses, never counted
    sources: tuple[str, ...] = SUPPLY_SOURCES


# --- quantities --------------------------------------------------------------------------------

_FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75}
_QUANTITY = re.compile(r"^([+-]?)\s*(\d+(?:\.\d+)?)?\s*(?:(½|¼|¾)|(\d)\s*/\s*(\d))?$")


def unit_of(product: Product) -> str:
    return "mL" if product.is_liquid else product.unit_name


def label_of(product: Product, drug: str = "baclofen") -> str:
    """``"baclofen 10 mg tablets"``, ``"baclofen 1 mg/mL oral solution"``."""
    if product.is_liquid:
        return f"{drug} {product.strength_label} {product.unit_name}"
    return f"{drug} {product.strength_label} {product.unit_name}s"


def smallest_milli(product: Product) -> int:
    """The finest amount a count of this product may name: a piece a tablet splits into, a
    whole packet, 0.1 mL of a liquid."""
    if product.is_liquid:
        return LIQUID_RESOLUTION_MILLI
    return MILLI // (product.split if product.form == "tablet" else 1)


def parse_quantity(text: str | float | int, product: Product, *, kind: StockEventKind) -> int:
    """A typed amount of ``product`` in thousandths: ``"37"``, ``"37.5"``, ``"37,5"``, ``"37½"``,
    ``"37 1/2"`` (tablets), ``"143.5"`` (mL). A count is 0 or more, a refill more than 0, an
    adjustment not 0 (``-2``: two lost); each a multiple of what the product can be divided into."""
    unit = unit_of(product)
    plural = unit if unit == "mL" else f"{unit}s"
    value = _read_number(text, plural)
    milli = round(value * MILLI)
    step = smallest_milli(product)
    if abs(value * MILLI - milli) > 1e-6:
        raise InputError(_divisible(product, step, plural), field="quantity")
    if kind == "counted" and value < 0:
        raise InputError(f"a count must be 0 or more {plural}", field="quantity")
    if kind == "collected" and value <= 0:
        raise InputError(f"the amount collected must be more than 0 {plural}", field="quantity")
    if kind == "adjusted" and milli == 0:
        raise InputError(
            f"an adjustment must change the stock: say how many {plural} (e.g. -2 for two lost)",
            field="quantity",
        )
    if abs(value) > MAX_UNITS:
        raise InputError(
            f"at most {MAX_UNITS:,} {plural} at once (a larger amount is a typo)", field="quantity"
        )
    if milli % step:
        raise InputError(_divisible(product, step, plural), field="quantity")
    return milli


def _read_number(text: str | float | int, plural: str) -> float:
    if isinstance(text, bool):
        raise InputError("the amount must be a number", field="quantity")
    if isinstance(text, int | float):
        if not math.isfinite(text):
            raise InputError("the amount must be a number", field="quantity")
        return float(text)
    typed = text.strip().replace(",", ".").lower()
    for word in ("tablets", "tablet", "packets", "packet", "ml"):
        typed = typed.removesuffix(word).strip()
    match = _QUANTITY.match(typed)
    if not typed or match is None or not (match[2] or match[3] or match[4]) or match[5] == "0":
        raise InputError(f"the amount must be a number of {plural}, not {text!r}", field="quantity")
    sign, whole, symbol, numerator, denominator = match.groups()
    value = float(whole or 0)
    if symbol:
        value += _FRACTIONS[symbol]
    if numerator:
        value += int(numerator) / int(denominator)
    return -value if sign == "-" else value


def _divisible(product: Product, step: int, plural: str) -> str:
    if product.is_liquid:
        return f"count {plural} to 0.1 mL at most"
    if step == MILLI:
        return f"{label_of(product)} are counted whole (they are not split)"
    words = {500: "halves (0.5)", 250: "quarters (0.25)"}
    return f"{label_of(product)} are counted in whole tablets and {words[step]}"


def format_quantity(quantity_milli: int, product: Product) -> str:
    """``"37.5 tablets"``, ``"1 tablet"``, ``"143 mL"``."""
    number = f"{quantity_milli / MILLI:.3f}".rstrip("0").rstrip(".")
    unit = unit_of(product)
    if unit == "mL" or number == "1":
        return f"{number} {unit}"
    return f"{number} {unit}s"


def calculate_uses(recipe: Recipe) -> dict[str, int]:
    """What one dose made by ``recipe`` uses of each product (spec -> thousandths)."""
    uses: dict[str, int] = {}
    for portion in recipe.portions:
        spec = spec_of(portion.product)
        uses[spec] = uses.get(spec, 0) + _portion_milli(portion)
    return uses


@lru_cache(maxsize=64)
def spec_of(product: Product) -> str:
    """``product.spec``, remembered (a daily pass asks it for every recipe of thousands of plans)."""
    return product.spec


def _portion_milli(portion: Portion) -> int:
    if portion.product.is_liquid:
        return portion.volume_ul * MILLI // UL_PER_ML
    return portion.count * MILLI // portion.fraction


# --- the ledger --------------------------------------------------------------------------------


def calculate_stock(events: Sequence[StockEvent], taken: Iterable[DoseUse], product: str) -> StockNow | None:
    """The stock of ``product`` now: its ledger in time order (a dose taken at the moment of a
    count is in the count), each dose taken after the ledger's first line subtracting what it
    used. None when the product was never counted or collected."""
    own = sorted((e for e in events if e.product == product), key=lambda e: (e.at, e.event_id))
    if not own:
        return None
    doses = sorted(
        (d.at, d.uses[product] * d.count) for d in taken if d.uses.get(product) and d.at > own[0].at
    )
    stock, used, overdrawn, episode = 0, 0, False, own[0].event_id
    index = 0
    for number, event in enumerate(own):
        while index < len(doses) and doses[index][0] <= event.at:
            stock, short = _use(stock, doses[index][1])
            used += doses[index][1]
            overdrawn = overdrawn or short
            index += 1
        before = stock
        if event.kind == "counted":
            stock, used, overdrawn = event.quantity_milli, 0, False
        else:
            stock = max(0, stock + event.quantity_milli)
            overdrawn = overdrawn and event.quantity_milli < 0
        if number and stock > before:
            episode = event.event_id
    for _, amount in doses[index:]:
        stock, short = _use(stock, amount)
        used += amount
        overdrawn = overdrawn or short
    return StockNow(
        product=product,
        quantity_milli=stock,
        since=own[-1].at,
        episode=episode,
        overdrawn=overdrawn,
        used_milli=used,
    )


def _use(stock: int, amount: int) -> tuple[int, bool]:
    return max(0, stock - amount), amount > stock


# --- the forecast ------------------------------------------------------------------------------


def forecast_supply(
    *,
    products: Sequence[Product],
    events: Sequence[StockEvent],
    taken: Sequence[DoseUse],
    coming: Sequence[DoseUse],
    now: datetime,
    thresholds: SupplyThresholds,
    drug: str = "baclofen",
    zone: tzinfo | None = None,
) -> SupplyForecast:
    """Stock and run-out of each product and overall. ``coming``: the plan's doses after
    ``now`` (in any order), each with what it uses. Times are all aware, or all naive UTC (as
    the store keeps them: no conversion per dose); the result's times and message are on the
    clock of ``zone`` (default: as given)."""

    def local(moment: datetime | None) -> datetime | None:
        if moment is None or zone is None:
            return moment
        return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)

    ordered = sorted(coming, key=lambda d: d.at)
    last_dose_at = ordered[-1].at if ordered else None
    forecasts = []
    for product in products:
        spec = product.spec
        stock = calculate_stock(events, taken, spec)
        if stock is not None and zone is not None:
            stock = replace(stock, since=local(stock.since) or stock.since)
        needs = [(dose.at, dose.uses[spec]) for dose in ordered if dose.uses.get(spec)]
        runs_out_at = covered_until = None
        covered = 0
        if stock is not None:
            left = stock.quantity_milli
            for at, amount in needs:
                if amount > left:
                    runs_out_at = at
                    break
                left -= amount
                covered_until = at
                covered += 1
        days_left = None if stock is None or not needs else _days(runs_out_at, last_dose_at, now)
        product_level: SupplyLevel = "ok"
        if stock is not None and needs and runs_out_at is not None:
            product_level = "out" if covered == 0 else _level(days_left or 0.0, thresholds)
        forecasts.append(
            ProductForecast(
                product=spec,
                label=label_of(product, drug),
                unit=unit_of(product),
                stock=stock,
                used_by_plan=bool(needs),
                runs_out_at=local(runs_out_at),
                covered_until=local(covered_until),
                doses_covered=covered,
                days_left=days_left,
                covers_all=stock is not None and bool(needs) and runs_out_at is None,
                level=product_level,
            )
        )
    counted = [f for f in forecasts if f.stock is not None and f.used_by_plan]
    running_out = [f for f in counted if f.runs_out_at is not None]
    limiting = (
        min(running_out, key=lambda f: (f.runs_out_at, f.product))
        if running_out
        else (min(counted, key=lambda f: f.product) if counted else None)
    )
    level: SupplyLevel = limiting.level if limiting is not None else "ok"
    days = math.inf if limiting is None or limiting.runs_out_at is None else (limiting.days_left or 0.0)
    episodes = [f.stock.episode for f in forecasts if f.stock is not None]
    episode_id = (
        limiting.stock.episode
        if limiting is not None and limiting.stock is not None
        else max(episodes, default=0)
    )
    not_counted = tuple(f.label for f in forecasts if f.stock is None and f.used_by_plan)
    return SupplyForecast(
        products=tuple(forecasts),
        level=level,
        limiting=limiting,
        days_left=days,
        runs_out_at=None if limiting is None else limiting.runs_out_at,
        last_dose_at=local(last_dose_at),
        episode=f"stock-{episode_id}",
        message=describe_supply(
            limiting, level, local(now) or now, local(last_dose_at), has_plan=bool(ordered)
        ),
        thresholds=thresholds,
        not_counted=not_counted,
    )


def _days(runs_out_at: datetime | None, last_dose_at: datetime | None, now: datetime) -> float:
    """Days from ``now`` to the first dose that cannot be made (or to the last dose known)."""
    end = runs_out_at or last_dose_at
    return 0.0 if end is None else max(0.0, (end - now).total_seconds() / 86400)


def _level(days_left: float, thresholds: SupplyThresholds) -> SupplyLevel:
    if days_left <= thresholds.urgent_days:
        return "urgent"
    if days_left <= thresholds.caregivers_days:
        return "caregivers"
    if days_left <= thresholds.warn_days:
        return "warning"
    return "ok"


def describe_days(days_left: float) -> str:
    """``"about 6 days"`` (rounded down: never more than there is), ``"less than a day"``."""
    if days_left < 1:
        return "less than a day"
    whole = math.floor(days_left)
    return "about 1 day" if whole == 1 else f"about {whole} days"


def describe_moment(moment: datetime, now: datetime) -> str:
    """``"today at 20:00"``, ``"tomorrow at 08:00"``, ``"Tue 8 Dec at 20:00"``."""
    days = (moment.date() - now.date()).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"{moment:%a} {moment.day} {moment:%b}"
    return f"{day} at {moment:%H:%M}"


def describe_supply(
    limiting: ProductForecast | None,
    level: SupplyLevel,
    now: datetime,
    last_dose_at: datetime | None,
    *,
    has_plan: bool,
) -> str:
    """One plain sentence for a notification or a page."""
    if limiting is None or limiting.stock is None:
        return "No stock recorded for the medicines of the plan: count what you have to see when it runs out."
    label = limiting.label
    if limiting.runs_out_at is None:
        if not has_plan or limiting.covered_until is None:
            return f"{_capital(label)}: no doses planned."
        return (
            f"Enough {label} for every planned dose (through {describe_moment(limiting.covered_until, now)})."
        )
    when = describe_moment(limiting.runs_out_at, now)
    if level == "out":
        return (
            f"Not enough {label} left for the dose {when}: get a refill today, or contact your "
            "prescriber or pharmacist now (stopping suddenly is dangerous)."
        )
    days = describe_days(limiting.days_left or 0.0)
    if level == "ok":
        return f"{_capital(days)} of {label} left (runs out {_on(when)})."
    action = "arrange a refill today" if level == "urgent" else "arrange a refill now"
    return f"{_capital(days)} of {label} left (runs out {_on(when)}): {action}."


def _on(when: str) -> str:
    return when if when.startswith(("today", "tomorrow")) else f"on {when}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def worst_level(levels: Iterable[SupplyLevel]) -> SupplyLevel:
    return max(levels, key=LEVEL_ORDER.index, default="ok")
