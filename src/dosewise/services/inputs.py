"""The input models the pages and the JSON API share: one per use case, one conversion each.

A page form and an API body carry the same fields under the same names, are checked by the same
model and turned into the same service request, so the two cannot drift apart. Forms send text:
an empty field means "not given", a decimal comma is a decimal point, and whole numbers must be
typed whole ("2.5 days" is an error, never 2). The CLI builds the service requests itself (its
start-up budget cannot carry pydantic).

:func:`parse_input` turns a validation failure into an :class:`InputError` that names the field,
so each interface words it (the page by the field's label, the API by a JSON pointer).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dosewise.domain.scales import (
    PENN_FREQUENCY_RANGE,
    PENN_SEVERITY_RANGE,
    SIDE_EFFECT_SEVERITY_RANGE,
    SPASTICITY_NRS_RANGE,
)
from dosewise.errors import InputError
from dosewise.services.plans import DEFAULT_REVIEW_WEEKS, KidneyInput, PlanRequest

M = TypeVar("M", bound=BaseModel)
MAX_TEXT = 4000


def _decimal_comma(value: Any) -> Any:
    return value.replace(",", ".") if isinstance(value, str) else value


def _lines(value: Any) -> Any:
    """A textarea's lines (the form) or a list (the API)."""
    texts = [value] if isinstance(value, str) else value
    if isinstance(texts, list) and all(isinstance(text, str) for text in texts):
        return [line.strip() for text in texts for line in text.splitlines() if line.strip()]
    return value


Number = Annotated[float, BeforeValidator(_decimal_comma), Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1)]  # days, doses: the domain checks the clinical bounds


class InputModel(BaseModel):
    """Unknown fields are refused; empty text is "not given"; text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_not_given(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {
                key: value
                for key, value in data.items()
                if not (isinstance(value, str) and not value.strip()) and value != []
            }
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """No NUL character in any text (PostgreSQL cannot store one; nobody types one)."""
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "a NUL character (\\u0000) is not allowed; remove it")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, Mapping):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


# Service fields that PlanInput takes under another name (serum creatinine comes with its unit)
PLAN_INPUT_FIELDS = {"scr_umol_l": "scr", "scr_mg_dl": "scr"}


class PlanCommit(InputModel):
    """Save the plan a preview showed: ``POST /api/patients/{id}/plans/commit``."""

    draft: str = Field(max_length=8000, title="the preview's draft")
    confirm_rise: str | None = Field(default=None, max_length=500, title="the reason for a larger rise")
    reason: str | None = Field(default=None, max_length=500, title="why the plan changes")


class PlanInput(InputModel):
    """A plan to preview or save: the plan form and ``POST /api/patients/{id}/plans``."""

    kind: Literal["titration", "taper", "maintenance", "clinician"] = Field(
        default="titration", title="the kind of plan"
    )
    target_mg_day: Number | None = Field(
        default=None, title="the target dose", description="titration, mg/day"
    )
    mg_day: Number | None = Field(default=None, title="the daily dose", description="maintenance, mg/day")
    from_mg_day: Number | None = Field(default=None, title="the current dose", description="taper, mg/day")
    steps: Annotated[list[Annotated[str, Field(max_length=200)]], BeforeValidator(_lines)] = Field(
        default_factory=list, max_length=100, title="the steps", description="DAYS:MG,MG,MG each"
    )
    review_weeks: Count | None = Field(
        default=None,
        title="the review",
        description=f"weeks after the last step begins (default {DEFAULT_REVIEW_WEEKS}, by the clinician)",
    )
    min_days: Count | None = Field(default=None, title="the shortest taper", description="taper, days")
    doses_per_day: Count = Field(default=3, title="the doses a day")
    times: str | None = Field(default=None, max_length=100, title="the dose times", description="HH:MM,HH:MM")
    start: date | None = Field(default=None, title="the first day", description="default today")
    started_earlier: bool = Field(
        default=False,
        title="already started",
        description="a first day in the past: the plan is already under way (doses from now on)",
    )
    products: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=10, title="the products", description="e.g. tablet:10mg:halves"
    )
    kidney_way: Literal["none", "crcl", "creatinine", "dialysis"] | None = Field(
        default=None,
        title="how kidney function is given",
        description="inferred from the values when left out",
    )
    crcl_ml_min: Number | None = Field(default=None, title="the creatinine clearance", description="mL/min")
    dialysis: bool = Field(default=False, title="dialysis")
    scr: Number | None = Field(default=None, title="the serum creatinine", description="in scr_unit")
    scr_unit: Literal["umol_l", "mg_dl"] = Field(default="umol_l", title="the creatinine unit")
    age_years: Number | None = Field(default=None, title="the age")
    sex: Literal["female", "male"] | None = Field(default=None, title="the sex")
    weight_kg: Number | None = Field(default=None, title="the weight")
    clinician_override: bool = Field(
        default=False, title="the clinician override", description="clinicians only"
    )
    above_kidney_max: bool = Field(
        default=False,
        title="above the kidney-adjusted maximum",
        description="clinicians only, with the override: allow up to 120 mg/day x the kidney dose factor "
        "instead of 80 x the factor [CHEONG20: toxicity from 10 mg/day in CKD 4]",
    )
    confirm_rise: str | None = Field(
        default=None,
        max_length=500,
        title="the reason for a larger rise",
        description="saving only: why the daily dose rises more than a step may (audited)",
    )

    reason: str | None = Field(
        default=None,
        max_length=500,
        title="why the plan changes",
        description="saving only, optional: shown to the care team and in the report",
    )

    def plan_inputs(self) -> dict[str, Any]:
        """What makes the plan (not why or how saving it is confirmed): a draft's content."""
        return self.model_dump(mode="json", exclude={"confirm_rise", "reason"})

    def to_request(self) -> PlanRequest:
        kind = self.kind
        return PlanRequest(
            kind=kind,
            target_mg_day=self.target_mg_day if kind == "titration" else None,
            mg_day=self.mg_day if kind == "maintenance" else None,
            from_mg_day=self.from_mg_day if kind == "taper" else None,
            steps=tuple(self.steps) if kind == "clinician" else (),
            review_weeks=self.review_weeks,
            min_days=self.min_days if kind == "taper" else None,
            doses_per_day=self.doses_per_day,
            times=self.times,
            start=self.start,
            started_earlier=self.started_earlier,
            products=tuple(self.products),
            kidney=KidneyInput(
                way=self.kidney_way,
                crcl_ml_min=self.crcl_ml_min,
                dialysis=self.dialysis,
                scr_mg_dl=self.scr if self.scr_unit == "mg_dl" else None,
                scr_umol_l=self.scr if self.scr_unit == "umol_l" else None,
            ),
            age_years=self.age_years,
            sex=self.sex,
            weight_kg=self.weight_kg,
            clinician_override=self.clinician_override,
            above_kidney_max=self.above_kidney_max,
        )


def _severity_pairs(value: Any) -> Any:
    """Side effects as a mapping (the API) or as "key:severity" choices (the form's selects)."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        pairs: dict[str, str] = {}
        for item in value:
            key, _, level = item.partition(":")
            if key.strip():
                pairs[key.strip()] = level.strip()
        return pairs
    return value


PennFrequency = Annotated[int, Field(ge=PENN_FREQUENCY_RANGE[0], le=PENN_FREQUENCY_RANGE[1])]
PennSeverity = Annotated[int, Field(ge=PENN_SEVERITY_RANGE[0], le=PENN_SEVERITY_RANGE[1])]
Spasticity = Annotated[int, Field(ge=SPASTICITY_NRS_RANGE[0], le=SPASTICITY_NRS_RANGE[1])]
SideEffectSeverity = Annotated[int, Field(ge=SIDE_EFFECT_SEVERITY_RANGE[0], le=SIDE_EFFECT_SEVERITY_RANGE[1])]


class SymptomsInput(InputModel):
    """A diary entry of spasms, stiffness and side effects [PSFS]."""

    penn_frequency: PennFrequency = Field(
        title="how often spasms came", description="Penn Spasm Frequency 0-4"
    )
    penn_severity: PennSeverity | None = Field(
        default=None, title="how bad the spasms were", description="1-3 when frequency > 0"
    )
    spasticity: Spasticity = Field(
        title="how stiff you were", description="0 (none) to 10 (worst imaginable)"
    )
    side_effects: Annotated[dict[str, SideEffectSeverity], BeforeValidator(_severity_pairs)] = Field(
        default_factory=dict, max_length=50, title="the side effects", description="key: severity 1-3"
    )
    note: str = Field(default="", max_length=MAX_TEXT, title="the note")

    def to_entry(self) -> dict[str, Any]:
        """The keyword arguments of :func:`dosewise.services.symptoms.record_symptoms`."""
        return {
            "penn_frequency": self.penn_frequency,
            "penn_severity": self.penn_severity,
            "spasticity_nrs": self.spasticity,
            "side_effects": self.side_effects,
            "note": self.note,
        }


class DoseInput(InputModel):
    """A dose taken or skipped; ``taken_at`` as typed (HH:MM is today, or last night)."""

    status: Literal["taken", "skipped"] = Field(title="taken or skipped")
    taken_at: str | None = Field(
        default=None,
        max_length=40,
        title="when it was taken",
        description="HH:MM on the patient's clock (the latest such time not in the future), "
        "YYYY-MM-DDTHH:MM on the patient's clock, or ISO 8601 with a UTC offset",
    )


def describe_error(model: type[BaseModel], error: ValidationError) -> InputError:
    """The first problem of a validation failure, worded for a person, naming its field."""
    problem = error.errors()[0]
    location = [str(part) for part in problem["loc"]]
    field = location[0] if location else None
    info = model.model_fields.get(field) if field is not None else None
    what = info.title if info is not None and info.title else (field or "the input").replace("_", " ")
    typed = problem.get("input")
    shown = f", not {typed!r}" if isinstance(typed, str | int | float) and not isinstance(typed, bool) else ""
    kind = problem["type"]
    if kind == "missing":
        message = f"give {what}"
    elif kind in ("int_parsing", "int_from_float", "int_type"):
        message = f"{what} must be a whole number{shown}"
    elif kind in ("float_parsing", "float_type", "finite_number"):
        message = f"{what} must be a number{shown}"
    elif kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
        message = f"{what} must be a date, YYYY-MM-DD{shown}"
    elif kind == "greater_than_equal" and isinstance(problem.get("ctx", {}).get("ge"), int):
        message = f"{what} must be a whole number of {problem['ctx']['ge']} or more{shown}"
    elif kind == "nul_character":  # the typed text would show nothing useful
        message = f"{what}: {problem['msg']}"
    elif kind == "extra_forbidden":
        message = f"{field} is not a field of this request"
    else:
        message = f"{what}: {problem['msg'][0].lower()}{problem['msg'][1:]}{shown}"
    return InputError(message, field=field)


def parse_input(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` from a form's or a body's values, or InputError naming the field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        raise describe_error(model, error) from None


class NoteInput(InputModel):
    """A note for the prescriber."""

    text: str = Field(max_length=MAX_TEXT, title="the note")


class MedicineInput(InputModel):
    """Another medicine the patient takes, as they would type it."""

    name: str = Field(max_length=200, title="the medicine")


YesNo = Annotated[bool | None, Field(description="yes or no; leave out if not answered")]


class TriageInput(InputModel):
    """How do I feel? The danger questions first (yes/no, each optional), the symptoms from the
    list, and others in one's own words (comma-separated)."""

    breathing: YesNo = None
    hard_to_wake: YesNo = None
    seizure: YesNo = None
    swelling: YesNo = None
    fever_stiffness: YesNo = None
    confusion: YesNo = None
    self_harm: YesNo = None
    took_more: YesNo = None
    stopped: YesNo = None
    pregnant: YesNo = None
    amount: str = Field(
        default="", max_length=200, title="how much was taken", description='e.g. "20 tablets" or "60 mg"'
    )
    symptoms: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50, title="the symptoms"
    )
    other: str = Field(default="", max_length=MAX_TEXT, title="other symptoms", description="comma-separated")

    def answers(self) -> dict[str, bool]:
        """The questions answered, by key."""
        return {key: value for key in TRIAGE_QUESTION_KEYS if (value := getattr(self, key)) is not None}

    def texts(self) -> list[str]:
        typed = [part.strip() for part in self.other.split(",") if part.strip()]
        found = [text.strip() for text in self.symptoms if text.strip()] + typed
        if not found and not self.answers():
            raise InputError(
                "answer the questions, tick what you feel, or describe it in your own words", field="symptoms"
            )
        return found


# the monograph's [[triage_questions]] keys (a test keeps them equal)
TRIAGE_QUESTION_KEYS = (
    "breathing", "hard_to_wake", "seizure", "swelling", "fever_stiffness", "confusion", "self_harm",
    "took_more", "stopped", "pregnant",
)  # fmt: skip


class MissedInput(InputModel):
    """I missed a dose: the clock time it was due."""

    missed: str = Field(max_length=40, title="the dose time", description="HH:MM, the time the dose was due")

    def clock(self) -> time:
        from dosewise.services.clock import parse_clock

        return parse_clock(self.missed, field="missed")


class CorrectionInput(InputModel):
    """A correction of one dose's record: undo it, or say it was taken (at a time) or skipped."""

    change: Literal["undo", "taken", "skipped"] = Field(title="the correction")
    taken_at: str | None = Field(
        default=None,
        max_length=40,
        title="when it was taken",
        description="with 'taken': HH:MM on the patient's clock (the latest such time not in the future), "
        "YYYY-MM-DDTHH:MM on the patient's clock, or ISO 8601 with a UTC offset (default: now)",
    )


class ProfileInput(InputModel):
    """About me: ``PUT /api/patients/{id}/profile`` and the About me form. In the API a field
    left out is unchanged and ``"country": null`` clears the country; the form sends them all
    (an unticked box is "no")."""

    country: str | None = Field(
        default=None, max_length=40, title="the country", description="ISO 3166-1 alpha-2, e.g. GB"
    )
    pregnant: bool | None = Field(default=None, title="pregnant")
    breastfeeding: bool | None = Field(default=None, title="breastfeeding")
    epilepsy: bool | None = Field(default=None, title="epilepsy")
    liver: Literal["none", "mild", "moderate", "severe", "not_known"] | None = Field(
        default=None,
        title="liver disease",
        description="none, mild, moderate, severe or not_known (read by the comparison of other treatments)",
    )


class NotificationPreferencesInput(InputModel):
    """What a person wants sent: the preferences form and ``PUT /api/notifications/preferences``.
    On the form an unticked box is "no"."""

    push: bool = Field(default=False, title="notifications on this device's browser")
    email: bool = Field(default=False, title="email")
    dose_reminders: bool = Field(default=False, title="dose reminders")
    heads_up: bool = Field(default=False, title="the heads-up before a dose change")
    follow_up_minutes: int = Field(default=30, ge=0, le=120, title="the follow-up after a reminder")
    quiet_start: str | None = Field(default=None, max_length=5, title="the start of quiet hours")
    quiet_end: str | None = Field(default=None, max_length=5, title="the end of quiet hours")
    time_zone: str | None = Field(default=None, max_length=64, title="the time zone")


class PushKeys(InputModel):
    p256dh: str = Field(max_length=200, title="the subscription's p256dh key")
    auth: str = Field(max_length=100, title="the subscription's auth secret")


class PushSubscriptionInput(InputModel):
    """A browser's ``PushSubscription.toJSON()``: ``POST /api/push/subscriptions``."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)  # browsers add fields
    endpoint: str = Field(max_length=2000, title="the push endpoint")
    keys: PushKeys
    expirationTime: float | None = Field(default=None, title="when the subscription expires")  # noqa: N815


class PushEndpointInput(InputModel):
    endpoint: str = Field(max_length=2000, title="the push endpoint")


class NotificationActionInput(InputModel):
    """A notification's button: ``POST /api/notification-actions`` (the token is the key)."""

    token: str = Field(max_length=500, title="the reminder's token")
    action: str = Field(max_length=16, title="the action")


class AlertThresholdsInput(InputModel):
    """A clinician's withdrawal-risk and supply thresholds for one patient."""

    missed_in_row: int = Field(title="doses in a row not taken")
    late_hours: int = Field(title="hours beyond a due dose")
    no_dose_hours: int = Field(title="hours without any dose")
    supply_warn_days: int = Field(title="days of supply: warn")
    supply_caregivers_days: int = Field(title="days of supply: caregivers too")
    supply_urgent_days: int = Field(title="days of supply: urgent")


class SupplyEventInput(InputModel):
    """A line of the supply ledger: the supply page's forms and ``POST
    /api/patients/{id}/supply/events``. The amount goes to the service as typed (``37.5``,
    ``37½``, a JSON number), which checks it against the product (halves, quarters, 0.1 mL)."""

    kind: Literal["counted", "collected", "adjusted"] = Field(title="what happened")
    product: str = Field(
        max_length=64,
        title="the product",
        description="its spec, e.g. tablet:10mg:halves, or its strength, 10mg",
    )
    quantity: Annotated[str, Field(max_length=40)] | float = Field(
        title="the amount",
        description="counted: what there is now; collected: the refill; adjusted: the change, e.g. -2",
    )
    note: str = Field(default="", max_length=500, title="the note", description="why, for an adjustment")


class ReviewRequestInput(InputModel):
    """Ask the clinician: ``POST /api/patients/{id}/review-requests`` and the request form."""

    reason: Literal["side_effects", "no_benefit", "dose_question", "other"] = Field(
        title="why", description="side_effects, no_benefit, dose_question or other"
    )
    message: str = Field(
        max_length=1000, title="the message", description="a short message, 1000 characters at most"
    )


class ReviewAnswerInput(InputModel):
    """A clinician's answer: ``POST /api/patients/{id}/review-requests/{rid}/answers`` and the form."""

    message: str = Field(
        max_length=1000, title="the answer", description="a short message, 1000 characters at most"
    )
