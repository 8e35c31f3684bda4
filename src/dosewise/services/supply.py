"""Supply and refills: the stock of each of the patient's products, when it runs out, warnings.

- Record a count ("I have 37 tablets now"), a refill ("collected 100") or an adjustment (lost
  or found, with a note): :func:`record_stock`. Patient and caregivers record; clinicians read.
  Every line is audited like other diary writes.
- The stock is derived on every read from the ledger and the doses taken since (through their
  slots and the plan's recipes), so a corrected dose changes it at once.
- :func:`supply_status` (one patient) and :func:`supply_statuses` (many at once, for the
  notification engine's daily pass) give the level at the thresholds of baclofen.md section 10
  (product defaults, passed in by the caller), the days left, the run-out moment, a stable
  episode id (an alert once per threshold per refill) and one plain sentence.
- :func:`supply_overview` is what the supply page, the CLI, the API and the report show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import cache, lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, Connection, Engine, Select, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from dosewise.domain.missed_dose import too_late_to_take
from dosewise.domain.products import Product, parse_product_spec
from dosewise.domain.supply import (
    STOCK_EVENT_KINDS,
    SUPPLY_SOURCES,
    WHY_IT_MATTERS,
    DoseUse,
    ProductForecast,
    StockEvent,
    StockEventKind,
    SupplyForecast,
    SupplyLevel,
    SupplyThresholds,
    calculate_uses,
    describe_moment,
    forecast_supply,
    format_quantity,
    label_of,
    parse_quantity,
)
from dosewise.errors import InputError, NotFound
from dosewise.monographs import DEFAULT_DRUG, load_monograph
from dosewise.services.audit import audit
from dosewise.services.clock import from_utc, to_utc
from dosewise.services.doses import EARLY_LIMIT
from dosewise.store.database import read_connection, unit_of_work
from dosewise.store.models import (
    DoseEventRow,
    DoseSlotRow,
    PatientRow,
    PlanRow,
    ProductRow,
    StockEventRow,
    UserRow,
)
from dosewise.store.plan_codec import decode_plan, decode_recipes

__all__ = [
    "SupplyLevel",
    "SupplyStatus",
    "SupplyThresholds",
    "record_stock",
    "supply_overview",
    "supply_status",
    "supply_statuses",
]

# How far ahead the forecast walks the coming doses (the plan's slots are made 60 days ahead;
# an open-ended plan's later doses are read from its record). A setting, not clinical.
FORECAST_DAYS = 60
DUE_LOOKBACK = timedelta(days=1)  # a dose due longer ago is missed whatever the advice (3-4 a day)
MAX_NOTE_CHARS = 500
CHUNK = 900  # patients per query in a batch (well under SQLite's bound-parameter limit)
KIND_WORDS = {"counted": "Counted", "collected": "Collected", "adjusted": "Adjusted"}

Reader = Session | Connection


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplyStatus:
    """A patient's supply as the notification engine needs it.

    ``level``: ok, warning (tell the patient), caregivers (tell caregivers too), urgent, out
    (the next dose cannot be made in full). ``days_left``: to the first dose that cannot be made
    in full (``inf`` when the stock covers every coming dose). ``runs_out_at``: that dose's time
    (aware, on the patient's clock). ``episode``: changes only when the stock is raised (a
    refill, a higher count): send each threshold's alert once per episode."""

    patient_id: int
    level: SupplyLevel
    days_left: float
    runs_out_at: datetime | None
    episode: str
    message: str
    sources: tuple[str, ...]
    product: str | None  # the spec of the product that runs out first
    thresholds: SupplyThresholds
    thresholds_are_defaults: bool
    not_counted: tuple[str, ...] = ()  # products the coming doses use that were never counted
    explanation: str = WHY_IT_MATTERS


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedStock:
    event_id: int
    product: str
    label: str
    kind: StockEventKind
    quantity: str  # "37.5 tablets"
    stock_now: str | None  # the stock after it, as the forecast reads it


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    event_id: int
    at: datetime  # on the patient's clock
    kind: StockEventKind
    product: str
    label: str
    quantity: str  # "+100 tablets", "37 tablets", "-2 tablets"
    recorded_by: str  # a name ("Ann (caregiver)") or "cli"
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductChoice:
    spec: str
    label: str
    unit: str
    step: str  # what a count may be divided into: "whole", "halves", "0.1 mL"


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplyOverview:
    patient_id: int
    now: datetime  # on the patient's clock
    time_zone: str
    forecast: SupplyForecast
    status: SupplyStatus | None  # None: no stock recorded yet
    products: tuple[ProductChoice, ...]
    log: tuple[LogLine, ...]  # newest first
    explanation: str = WHY_IT_MATTERS


# --- recording ---------------------------------------------------------------------------------


def record_stock(
    engine: Engine,
    *,
    patient_id: int,
    kind: str,
    product: str,
    quantity: str | float | int,
    now: datetime,
    actor: str,
    note: str = "",
) -> RecordedStock:
    """One line of the ledger: ``counted`` (the amount there is now), ``collected`` (a refill)
    or ``adjusted`` (a change with a note: ``-2``, two dropped). ``product``: the product's spec
    as the CLI spells it (``tablet:10mg:halves``), or enough of it to name one of the patient's
    products (``10mg``)."""
    if kind not in STOCK_EVENT_KINDS:
        raise InputError("say whether you counted, collected or adjusted the stock", field="kind")
    stock_kind = kind
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"a note is at most {MAX_NOTE_CHARS} characters", field="note")
    if stock_kind == "adjusted" and not note:
        raise InputError("say why the stock changed (e.g. 'dropped two down the sink')", field="note")
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        rows = session.execute(
            select(ProductRow.id, ProductRow.spec)
            .where(ProductRow.patient_id == patient_id)
            .order_by(ProductRow.id)
        ).all()
        spec = find_product([spec for _, spec in rows], product)
        product_id = next(row_id for row_id, row_spec in rows if row_spec == spec)
        item = product_of(spec)
        milli = parse_quantity(quantity, item, kind=stock_kind)
        row = StockEventRow(
            patient_id=patient_id,
            product_id=product_id,
            kind=stock_kind,
            quantity_milli=milli,
            recorded_at=to_utc(now),
            recorded_by=actor[:200],
            note=note,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            now,
            actor,
            patient_id,
            f"supply_{stock_kind}",
            "stock_event",
            row.id,
            {"product": spec, "quantity": milli / 1000, "unit": "mL" if item.is_liquid else item.unit_name},
        )
        event_id = row.id
    overview = supply_overview(engine, patient_id=patient_id, now=now)
    after = next((f for f in overview.forecast.products if f.product == spec), None)
    return RecordedStock(
        event_id=event_id,
        product=spec,
        label=label_of(item),
        kind=stock_kind,
        quantity=format_quantity(milli, item),
        stock_now=None
        if after is None or after.stock is None
        else format_quantity(after.stock.quantity_milli, item),
    )


def find_product(specs: Sequence[str], typed: str) -> str:
    """The one of the patient's products ``typed`` names: its spec (``tablet:10mg:halves``), a
    spec of the same product (``tablet:10mg``), its strength alone when only one product has
    it (``10mg``, ``10``), or its form when it is the only one of that form (``solution``)."""
    text = (typed or "").strip().lower()
    if not specs:
        raise InputError(
            "no products in this diary yet: start a plan first (its products are the ones counted)",
            field="product",
        )
    if not text:
        raise InputError("say which product: " + ", ".join(specs), field="product")
    if text in specs:
        return text
    known = {spec: product_of(spec) for spec in specs}
    try:
        wanted = parse_product_spec(text, load_monograph(DEFAULT_DRUG))
    except InputError:
        wanted = None
    if wanted is not None:
        same = [s for s, p in known.items() if (p.form, p.strength_ug) == (wanted.form, wanted.strength_ug)]
        if len(same) == 1:
            return same[0]
    bare = text.replace(" ", "").removesuffix("mg").removesuffix("/ml").removesuffix("mg")
    matches = [s for s, p in known.items() if f"{p.strength_ug / 1000:g}" == bare]
    if len(matches) == 1:
        return matches[0]
    forms = [s for s, p in known.items() if text.removesuffix("s") in (p.form.removesuffix("s"), p.unit_name)]
    if len(forms) == 1:  # "solution", "tablets": the only one of its form
        return forms[0]
    if len(matches) > 1 or len(forms) > 1:
        raise InputError(
            f"{typed.strip()!r} could be more than one product: name one of " + ", ".join(specs),
            field="product",
        )
    raise InputError(
        f"no product {typed.strip()!r} in this diary: name one of " + ", ".join(specs), field="product"
    )


@lru_cache(maxsize=256)
def product_of(spec: str) -> Product:
    return parse_product_spec(spec, load_monograph(DEFAULT_DRUG))


# --- reading -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Patient:
    """What one patient's forecast is made from; times naive UTC (converted once, at the end)."""

    patient_id: int
    zone: tzinfo
    specs: list[str]
    events: list[StockEvent]
    taken: list[DoseUse]
    coming: list[DoseUse]
    # (times naive UTC, as stored) an open-ended plan whose slots end before the horizon:
    # (record, its zone, last slot, horizon),
    # read only when the stock outlasts the slots made
    later: tuple[str, tzinfo, datetime, datetime] | None = None


def supply_status(
    session_or_connection: Reader, *, patient_id: int, now: datetime, thresholds: SupplyThresholds
) -> SupplyStatus | None:
    """The patient's supply level now (None when no stock was ever recorded), the forecast
    walked :data:`FORECAST_DAYS` ahead (``days_left`` exact up to then)."""
    return supply_statuses(
        session_or_connection,
        patient_ids=[patient_id],
        now=now,
        thresholds=thresholds,
        horizon_days=FORECAST_DAYS,
    ).get(patient_id)


def patient_thresholds(reader: Reader, patient_ids: Iterable[int]) -> dict[int, SupplyThresholds]:
    """The thresholds a clinician set for these patients (``alert_settings``); the others use
    the product defaults."""
    from dosewise.store.models import AlertSettingRow

    found: dict[int, SupplyThresholds] = {}
    ids = sorted(set(patient_ids))
    for chunk in _chunks(ids):
        for row in reader.execute(
            select(
                AlertSettingRow.patient_id,
                AlertSettingRow.supply_warn_days,
                AlertSettingRow.supply_caregivers_days,
                AlertSettingRow.supply_urgent_days,
            ).where(AlertSettingRow.patient_id.in_(chunk))
        ):
            found[row[0]] = SupplyThresholds(warn_days=row[1], caregivers_days=row[2], urgent_days=row[3])
    return found


def every_patients_thresholds(reader: Reader) -> dict[int, SupplyThresholds]:
    from dosewise.store.models import AlertSettingRow

    return patient_thresholds(reader, reader.execute(select(AlertSettingRow.patient_id)).scalars())


def patient_supply(
    engine: Engine, *, patient_id: int, now: datetime, thresholds: SupplyThresholds | None = None
) -> SupplyStatus | None:
    """:func:`supply_status` in its own read transaction (Today's line); the patient's own
    thresholds unless ``thresholds`` are given."""
    with read_connection(engine) as connection:
        chosen = thresholds or patient_thresholds(connection, [patient_id]).get(
            patient_id, SupplyThresholds()
        )
        return supply_status(connection, patient_id=patient_id, now=now, thresholds=chosen)


def supply_statuses(
    session_or_connection: Reader,
    *,
    patient_ids: Iterable[int] | None,
    now: datetime,
    thresholds: SupplyThresholds | Mapping[int, SupplyThresholds],
    horizon_days: float | None = None,
) -> dict[int, SupplyStatus]:
    """:func:`supply_status` for many patients with a few queries per :data:`CHUNK` of them
    (``patient_ids`` None: every patient with stock recorded). ``thresholds``: one for all, or
    per patient (the product defaults for a patient not in the mapping).

    ``horizon_days``: how far ahead to walk the doses. By default just past the largest
    ``warn_days`` (what the levels need, and a few times faster for a daily pass over every
    patient): a status whose stock lasts beyond it is ``ok`` with ``days_left`` that horizon, a
    lower bound, and says "more than N days". :data:`FORECAST_DAYS` gives exact days further out.
    """
    if horizon_days is None:
        chosen_ones = thresholds.values() if isinstance(thresholds, Mapping) else [thresholds]
        horizon_days = max([t.warn_days for t in chosen_ones] + [SupplyThresholds().warn_days]) + 1
    short = horizon_days < FORECAST_DAYS
    found: dict[int, SupplyStatus] = {}
    for patient in _load(session_or_connection, patient_ids, now, horizon_days=horizon_days):
        chosen = (
            thresholds.get(patient.patient_id, SupplyThresholds())
            if isinstance(thresholds, Mapping)
            else thresholds
        )
        forecast = _forecast(patient, now, chosen)
        found[patient.patient_id] = _status(patient.patient_id, forecast, horizon_days if short else None)
    return found


def supply_overview(
    engine: Engine, *, patient_id: int, now: datetime, thresholds: SupplyThresholds | None = None
) -> SupplyOverview:
    """Stock per product, the forecast, the refill log: what the pages, CLI, API and report show
    (at the patient's own thresholds unless ``thresholds`` are given)."""
    with read_connection(engine) as connection:
        chosen = thresholds or patient_thresholds(connection, [patient_id]).get(
            patient_id, SupplyThresholds()
        )
        zone_name = connection.scalar(select(PatientRow.time_zone).where(PatientRow.id == patient_id))
        if zone_name is None:
            raise NotFound(f"no patient {patient_id}")
        zone = ZoneInfo(zone_name)
        loaded = next(iter(_load(connection, [patient_id], now, every_patient=True)))
        names = _actor_names(connection, {e.recorded_by for e in loaded.events})
    forecast = _forecast(loaded, now, chosen)
    products = {spec: product_of(spec) for spec in loaded.specs}
    log = tuple(
        LogLine(
            event_id=event.event_id,
            at=from_utc(event.at, zone),
            kind=event.kind,
            product=event.product,
            label=label_of(products[event.product]),
            quantity=(
                "+"
                if event.kind == "collected" or (event.kind == "adjusted" and event.quantity_milli > 0)
                else ""
            )
            + format_quantity(event.quantity_milli, products[event.product]),
            recorded_by=names.get(event.recorded_by, event.recorded_by),
            note=event.note,
        )
        for event in sorted(loaded.events, key=lambda e: (e.at, e.event_id), reverse=True)
    )
    return SupplyOverview(
        patient_id=patient_id,
        now=now.astimezone(zone),
        time_zone=zone_name,
        forecast=forecast,
        status=_status(patient_id, forecast) if loaded.events else None,
        products=tuple(_choice(spec, products[spec]) for spec in loaded.specs),
        log=log,
    )


def _choice(spec: str, product: Product) -> ProductChoice:
    if product.is_liquid:
        step = "0.1 mL"
    elif product.form == "tablet":
        step = {1: "whole tablets", 2: "halves", 4: "quarters"}[product.split]
    else:
        step = "whole packets"
    return ProductChoice(
        spec=spec, label=label_of(product), unit="mL" if product.is_liquid else product.unit_name, step=step
    )


def _status(patient_id: int, forecast: SupplyForecast, horizon_days: float | None = None) -> SupplyStatus:
    """The status of a forecast; ``horizon_days``: the forecast looked only that far (its
    ``ok`` is "more than that many days")."""
    limiting = forecast.limiting
    days_left, message = forecast.days_left, forecast.message
    if horizon_days is not None and limiting is not None and limiting.covers_all:
        days_left = horizon_days
        message = f"More than {horizon_days:g} days of {limiting.label} left."
    return SupplyStatus(
        patient_id=patient_id,
        level=forecast.level,
        days_left=days_left,
        runs_out_at=forecast.runs_out_at,
        episode=forecast.episode,
        message=message,
        sources=forecast.sources,
        product=None if limiting is None else limiting.product,
        thresholds=forecast.thresholds,
        thresholds_are_defaults=forecast.thresholds.are_defaults,
        not_counted=forecast.not_counted,
    )


def _forecast(patient: _Patient, now: datetime, thresholds: SupplyThresholds) -> SupplyForecast:
    def forecast() -> SupplyForecast:
        return forecast_supply(
            products=[product_of(spec) for spec in patient.specs],
            events=patient.events,
            taken=patient.taken,
            coming=patient.coming,
            now=to_utc(now),
            thresholds=thresholds,
            zone=patient.zone,
        )

    found = forecast()
    if patient.later is not None and (found.limiting is None or found.limiting.runs_out_at is None):
        patient.coming.extend(_later_doses(*patient.later))  # the stock outlasts the slots made
        patient.later = None
        found = forecast()
    return found


def _actor_names(reader: Reader, actors: set[str]) -> dict[str, str]:
    ids = {int(a.removeprefix("user:")) for a in actors if a.startswith("user:") and a[5:].isdigit()}
    if not ids:
        return {}
    rows = reader.execute(select(UserRow.id, UserRow.display_name, UserRow.role).where(UserRow.id.in_(ids)))
    return {f"user:{user_id}": f"{name} ({role})" for user_id, name, role in rows}


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _load(
    reader: Reader,
    patient_ids: Iterable[int] | None,
    now: datetime,
    *,
    every_patient: bool = False,
    horizon_days: float = FORECAST_DAYS,
) -> Iterator[_Patient]:
    """The patients' ledgers, the doses taken since their last count, and the coming doses, each
    with what it uses of each product. Only patients with a ledger, unless ``every_patient``.
    The statements are built once and bound per call (Today reads one patient per request)."""
    if patient_ids is None:
        wanted = list(reader.scalars(_statements().ledger_patients))
    else:
        wanted = sorted(set(patient_ids))
    now_utc = to_utc(now)
    until_utc = now_utc + timedelta(days=horizon_days)
    recipes = _Recipes(reader)
    statements = _statements()
    for ids in _chunks(wanted):
        zones: dict[int, str] = dict(reader.execute(statements.zones, {"ids": ids}).all())
        specs: dict[int, list[str]] = defaultdict(list)
        for patient_id, spec in reader.execute(statements.products, {"ids": ids}):
            specs[patient_id].append(spec)
        events: dict[int, list[StockEvent]] = defaultdict(list)
        for event_id, patient_id, spec, kind, milli, at, by, note in reader.execute(
            statements.events, {"ids": ids}
        ):
            events[patient_id].append(
                StockEvent(
                    event_id=event_id,
                    product=spec,
                    kind=cast(StockEventKind, kind),
                    quantity_milli=milli,
                    at=at,  # naive UTC, as stored (the forecast converts its results once)
                    recorded_by=by,
                    note=note,
                )
            )
        active = [p for p in ids if p in zones and (every_patient or p in events)]
        if not active:
            continue
        earliest = min((_since(events[p]) for p in active if events.get(p)), default=None)
        due_from = now_utc - timedelta(days=36_500) if earliest is None else earliest - EARLY_LIMIT
        taken_rows = reader.execute(statements.taken, {"ids": active, "due_from": due_from}).all()
        coming_rows = reader.execute(
            statements.coming, {"ids": active, "since": now_utc - DUE_LOOKBACK, "until": until_utc}
        ).all()
        recipes.load({row[1] for row in taken_rows} | {row[1] for row in coming_rows})
        taken: dict[int, list[DoseUse]] = defaultdict(list)
        for owner, plan_id, step_number, dose_ug, at, count in taken_rows:
            uses = recipes.uses(plan_id, step_number, dose_ug)
            taken[owner].append(DoseUse(at=at, dose_ug=dose_ug, uses=uses, count=count))
        coming: dict[int, list[DoseUse]] = defaultdict(list)
        for owner, plan_id, step_number, dose_ug, at in coming_rows:
            coming[owner].append(
                DoseUse(at=at, dose_ug=dose_ug, uses=recipes.uses(plan_id, step_number, dose_ug))
            )
        for owner, doses in coming.items():
            coming[owner] = _still_to_take(doses, now_utc)
        later = {
            patient_id: (record, ZoneInfo(zone_name), max(after or now_utc, now_utc), until_utc)
            for patient_id, zone_name, record, after in reader.execute(
                statements.later, {"ids": active, "until": until_utc}
            )
        }
        for patient_id in active:
            yield _Patient(
                patient_id=patient_id,
                zone=ZoneInfo(zones[patient_id]),
                specs=specs.get(patient_id, []),
                events=events.get(patient_id, []),
                taken=taken.get(patient_id, []),
                coming=coming.get(patient_id, []),
                later=later.get(patient_id),
            )


def _still_to_take(doses: list[DoseUse], now_utc: datetime) -> list[DoseUse]:
    """The doses after now, and those due before now with nothing recorded that the missed-dose
    advice still says to take (it is "due": the next dose is not within the window [NHS]): the
    patient takes them from the same stock."""
    doses.sort(key=lambda dose: dose.at)
    window = timedelta(hours=load_monograph(DEFAULT_DRUG).missed_dose.window_h)
    following = [*(dose.at for dose in doses[1:]), None]
    return [
        dose
        for dose, after in zip(doses, following, strict=True)
        if dose.at > now_utc or (after is not None and not too_late_to_take(after, now_utc, window))
    ]


def _since(events: Sequence[StockEvent]) -> datetime:
    """The earliest of each product's last count (or first line, never counted): doses taken
    before it change nothing (:func:`_taken_statement` computes the same in SQL)."""
    found: dict[str, datetime] = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.kind == "counted" or event.product not in found:
            found[event.product] = event.at
    return min(found.values())


@dataclass(frozen=True, slots=True)
class _Statements:
    ledger_patients: Select[*tuple[Any, ...]]
    zones: Select[*tuple[Any, ...]]
    products: Select[*tuple[Any, ...]]
    events: Select[*tuple[Any, ...]]
    taken: Select[*tuple[Any, ...]]
    coming: Select[*tuple[Any, ...]]
    later: Select[*tuple[Any, ...]]


@cache
def _statements() -> _Statements:
    """The reads of :func:`_load`, with ``ids`` (expanding), ``now``, ``until`` and ``due_from``
    bound at each call."""
    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    return _Statements(
        ledger_patients=select(StockEventRow.patient_id).distinct().order_by(StockEventRow.patient_id),
        zones=select(PatientRow.id, PatientRow.time_zone).where(PatientRow.id.in_(ids)),
        products=select(ProductRow.patient_id, ProductRow.spec)
        .where(ProductRow.patient_id.in_(ids))
        .order_by(ProductRow.patient_id, ProductRow.id),
        events=select(
            StockEventRow.id,
            StockEventRow.patient_id,
            ProductRow.spec,
            StockEventRow.kind,
            StockEventRow.quantity_milli,
            StockEventRow.recorded_at,
            StockEventRow.recorded_by,
            StockEventRow.note,
        )
        .join(ProductRow, StockEventRow.product_id == ProductRow.id)
        .where(StockEventRow.patient_id.in_(ids)),
        taken=_taken_statement(ids),
        coming=select(
            DoseSlotRow.patient_id,
            DoseSlotRow.plan_id,
            DoseSlotRow.step_number,
            DoseSlotRow.dose_ug,
            DoseSlotRow.due_at,
        ).where(
            DoseSlotRow.patient_id.in_(ids),
            DoseSlotRow.due_at > bindparam("since"),
            DoseSlotRow.due_at <= bindparam("until"),
            DoseSlotRow.recorded.is_(None),
        ),
        later=select(PlanRow.patient_id, PlanRow.time_zone, PlanRow.record, PlanRow.slots_until).where(
            PlanRow.patient_id.in_(ids),
            PlanRow.superseded_at.is_(None),
            PlanRow.slots_until.is_not(None),
            PlanRow.slots_until < bindparam("until"),
        ),
    )


def _taken_statement(ids: BindParameter[Any]) -> Select[*tuple[Any, ...]]:
    """The doses taken since each patient's earliest "last count" (a count replaces what came
    before it, so older doses change nothing), added up per kind of dose between two lines of
    the ledger: (patient, plan, step, dose, the last taken, how many). ``line`` is how many
    lines came before the dose; a dose at the moment of a count is in the count. ``due_from``
    (bound): :data:`EARLY_LIMIT` before the earliest "since" of the patients read (a dose is
    never taken earlier than that before its time): an index range, not every slot."""
    per_product = (
        select(
            StockEventRow.patient_id,
            func.coalesce(
                func.max(case((StockEventRow.kind == "counted", StockEventRow.recorded_at))),
                func.min(StockEventRow.recorded_at),
            ).label("since"),
        )
        .where(StockEventRow.patient_id.in_(ids))
        .group_by(StockEventRow.patient_id, StockEventRow.product_id)
        .subquery()
    )
    first = (
        select(per_product.c.patient_id, func.min(per_product.c.since).label("since"))
        .group_by(per_product.c.patient_id)
        .subquery()
    )
    when = func.coalesce(DoseEventRow.taken_at, DoseSlotRow.due_at)
    ledger = aliased(StockEventRow)
    line = (
        select(func.count())
        .where(ledger.patient_id == DoseSlotRow.patient_id, ledger.recorded_at < when)
        .scalar_subquery()
    )
    each = (
        select(
            DoseSlotRow.patient_id,
            DoseSlotRow.plan_id,
            DoseSlotRow.step_number,
            DoseSlotRow.dose_ug,
            when.label("at"),
            line.label("line"),
        )
        .join(DoseEventRow, DoseEventRow.slot_id == DoseSlotRow.id)
        .join(first, first.c.patient_id == DoseSlotRow.patient_id)
        .where(
            DoseEventRow.status.in_(("taken", "late")),
            when > first.c.since,
            DoseSlotRow.due_at > bindparam("due_from"),
        )
        .subquery()
    )
    return select(
        each.c.patient_id,
        each.c.plan_id,
        each.c.step_number,
        each.c.dose_ug,
        func.max(each.c.at),
        func.count(),
    ).group_by(each.c.patient_id, each.c.plan_id, each.c.step_number, each.c.dose_ug, each.c.line)


def _later_doses(record: str, plan_zone: tzinfo, after_utc: datetime, until_utc: datetime) -> list[DoseUse]:
    """An open-ended plan's doses after its last slot made (``after_utc``), from its record."""
    from dosewise.domain.schedule import build_dose_events

    decoded = decode_plan(record)
    events = build_dose_events(
        decoded.plan,
        decoded.times,
        plan_zone,
        since=from_utc(after_utc, plan_zone).date(),
        until=from_utc(until_utc, plan_zone).date(),
    )
    return [
        DoseUse(at=to_utc(event.at), dose_ug=event.dose_ug, uses=calculate_uses(event.recipe))
        for event in events
        if after_utc < to_utc(event.at) <= until_utc
    ]


class _Recipes:
    """What a slot's dose uses of each product, from its plan's record (each plan read once)."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self._plans: dict[int, dict[tuple[int, int], dict[str, int]]] = {}
        self._found: dict[tuple[int, int, int], dict[str, int]] = {}

    def load(self, plan_ids: set[int]) -> None:
        missing = sorted(plan_ids - self._plans.keys())
        for start in range(0, len(missing), CHUNK):
            for plan_id, record in self._reader.execute(
                select(PlanRow.id, PlanRow.record).where(PlanRow.id.in_(missing[start : start + CHUNK]))
            ):
                self._plans[plan_id] = _plan_uses(record)

    def uses(self, plan_id: int, step_number: int, dose_ug: int) -> dict[str, int]:
        key = (plan_id, step_number, dose_ug)
        found = self._found.get(key)
        if found is None:
            found = self._found[key] = self._look_up(plan_id, step_number, dose_ug)
        return found

    def _look_up(self, plan_id: int, step_number: int, dose_ug: int) -> dict[str, int]:
        table = self._plans.get(plan_id, {})
        found = table.get((step_number, dose_ug))
        if found is None:  # a step number the record does not have: the same dose elsewhere
            found = next((uses for (_, dose), uses in table.items() if dose == dose_ug), {})
        return found


def _plan_uses(record: str) -> dict[tuple[int, int], dict[str, int]]:
    table: dict[tuple[int, int], dict[str, int]] = {}
    for number, dose_ug, recipe in decode_recipes(record):
        if (number, dose_ug) not in table:
            table[number, dose_ug] = calculate_uses(recipe)
    return table


# --- views -------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _days(value: float | None) -> float | None:
    return None if value is None or value == float("inf") else round(value, 2)


def product_view(forecast: ProductForecast) -> dict[str, Any]:
    product = product_of(forecast.product)
    stock = forecast.stock
    return {
        "product": forecast.product,
        "label": forecast.label,
        "unit": forecast.unit,
        "counted": stock is not None,
        "quantity": None if stock is None else stock.quantity_milli / 1000,
        "stock": None if stock is None else format_quantity(stock.quantity_milli, product),
        "since": None if stock is None else _iso(stock.since),
        "overdrawn": False if stock is None else stock.overdrawn,
        "used_by_plan": forecast.used_by_plan,
        "days_left": _days(forecast.days_left),
        "covers_all": forecast.covers_all,
        "runs_out_at": _iso(forecast.runs_out_at),
        "doses_covered": forecast.doses_covered,
        "level": forecast.level,
    }


def supply_view(overview: SupplyOverview) -> dict[str, Any]:
    """The supply as the API and ``--json`` show it (free to change: a view)."""
    forecast = overview.forecast
    return {
        "now": overview.now.isoformat(),
        "time_zone": overview.time_zone,
        "recorded": overview.status is not None,
        "level": forecast.level,
        "days_left": _days(forecast.days_left),
        "runs_out_at": _iso(forecast.runs_out_at),
        "forecast_through": _iso(forecast.last_dose_at),
        "episode": forecast.episode if overview.status is not None else None,
        "message": forecast.message,
        "products": [product_view(p) for p in forecast.products],
        "not_counted": list(forecast.not_counted),
        "thresholds": {
            "warn_days": forecast.thresholds.warn_days,
            "caregivers_days": forecast.thresholds.caregivers_days,
            "urgent_days": forecast.thresholds.urgent_days,
            "product_defaults": forecast.thresholds.are_defaults,
            "source": "DOSEWISE",
        },
        "log": [
            {
                "id": line.event_id,
                "at": line.at.isoformat(),
                "kind": line.kind,
                "product": line.product,
                "quantity": line.quantity,
                "recorded_by": line.recorded_by,
                "note": line.note,
            }
            for line in overview.log
        ],
        "explanation": overview.explanation,
        "sources": list(SUPPLY_SOURCES),
    }


def source_citations() -> tuple[tuple[str, str], ...]:
    """The supply's sources as (key, citation), from the monograph."""
    sources = load_monograph(DEFAULT_DRUG).sources
    return tuple((key, sources[key]) for key in SUPPLY_SOURCES if key in sources)


def describe_when(moment: datetime, now: datetime) -> str:
    """``"Tue 8 Dec at 20:00"`` relative to now (``today``, ``tomorrow``)."""
    return describe_moment(moment, now)


def kind_word(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)
