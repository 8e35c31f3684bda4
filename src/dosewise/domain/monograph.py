"""The drug as data: products, titration steps, kidney bands, taper rules, advice, sources.

These records mirror ``monographs/<drug>.toml``; the loader in :mod:`dosewise.monographs`
fills them and reports the path of any malformed, missing or unknown field. The checks here
are the ones a type cannot express (ranges, ordering, known source keys); they raise
``ValueError`` and the loader adds the path.

No ``from __future__ import annotations`` here: the loader reads these annotations at run
time, and real objects are cheaper to read than strings to evaluate (CLI start-up budget).
"""

import itertools
import re
from dataclasses import dataclass, field, fields, is_dataclass
from fractions import Fraction
from typing import Literal

ProductForm = Literal["tablet", "solution", "suspension", "granules"]
LIQUID_FORMS: frozenset[str] = frozenset({"solution", "suspension"})
PlanKind = Literal["titration", "taper", "maintenance", "clinician"]
Severity = Literal["warning", "caution", "info"]

_FRACTION = re.compile(r"^\s*(\d+)\s*(?:/\s*(\d+))?\s*$")
_SOURCE_KEY = re.compile(r"[A-Z][A-Z0-9-]*")


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be greater than 0, got {value}")


def _range(name: str, pair: tuple[float, float]) -> None:
    low, high = pair
    if not low < high:
        raise ValueError(f"{name} must be [low, high] with low < high, got {list(pair)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductDefinition:
    """A marketed form and strength (mg per tablet/packet, mg per mL for a liquid)."""

    form: ProductForm
    strength_mg: float
    max_split: int
    default_split: int
    markets: tuple[str, ...]
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        _positive("strength_mg", self.strength_mg)
        if self.max_split not in (1, 2, 4):
            raise ValueError(f"max_split must be 1, 2 or 4, got {self.max_split}")
        if self.default_split not in (1, 2, 4) or self.default_split > self.max_split:
            raise ValueError("default_split must be 1, 2 or 4 and not above max_split")
        if self.form != "tablet" and self.max_split != 1:
            raise ValueError(f"only tablets can be split, not {self.form}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiquidMeasure:
    default_step_ml: float
    min_step_ml: float
    source: str
    product_default: bool = False

    def __post_init__(self) -> None:
        _positive("min_step_ml", self.min_step_ml)
        if self.default_step_ml < self.min_step_ml:
            raise ValueError("default_step_ml must not be below min_step_ml")


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultProducts:
    specs: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        if not self.specs:
            raise ValueError("specs must name at least one product")


@dataclass(frozen=True, slots=True, kw_only=True)
class BeyondLabelled:
    max_increase_mg: float
    min_step_days: int
    source: str
    product_default: bool = False

    def __post_init__(self) -> None:
        _positive("max_increase_mg", self.max_increase_mg)
        _positive("min_step_days", self.min_step_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class OlderAdults:
    min_age_years: int
    step_days: int
    source: str
    product_default: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Children:
    min_age_automatic_years: int
    source: str
    start_mg_per_kg_day: float
    max_mg_per_kg_day: float
    step_source: str
    max_daily_mg_under_8: float
    max_daily_mg_from_8: float
    limits_source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TitrationRules:
    steps_daily_mg: tuple[float, ...]
    step_days: int
    source: str
    doses_per_day: tuple[int, ...]
    doses_per_day_source: str
    usual_range_mg_day: tuple[float, float]
    usual_range_source: str
    max_daily_mg: float
    max_daily_source: str
    override_max_daily_mg: float
    override_max_daily_source: str
    beyond_labelled: BeyondLabelled
    older_adults: OlderAdults
    children: Children
    # the label's maximum is written as 20 mg four times daily: a larger single dose is warned
    # (the warning is a Dosewise default; the number is the label's)
    max_single_dose_mg: float | None = None
    max_single_dose_source: str = ""

    def __post_init__(self) -> None:
        steps = self.steps_daily_mg
        if not steps or any(b <= a for a, b in itertools.pairwise(steps)):
            raise ValueError("steps_daily_mg must be a non-empty, strictly rising list")
        _positive("step_days", self.step_days)
        _range("usual_range_mg_day", self.usual_range_mg_day)
        if steps[-1] > self.max_daily_mg or self.max_daily_mg > self.override_max_daily_mg:
            raise ValueError("need last step <= max_daily_mg <= override_max_daily_mg")
        if not self.doses_per_day or min(self.doses_per_day) < 1:
            raise ValueError("doses_per_day must list positive counts")


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyBand:
    name: Literal["normal", "mild", "moderate", "severe"]
    lower_ml_min: float
    lower_inclusive: bool
    dose_factor: str
    requires_clinician: bool
    source: str
    start_max_daily_mg: float | None = None
    start_source: str = ""

    def __post_init__(self) -> None:
        match = _FRACTION.match(self.dose_factor)
        if match is None or Fraction(self.dose_factor) <= 0 or Fraction(self.dose_factor) > 1:
            raise ValueError(
                f"dose_factor must be a fraction in (0, 1] such as '2/3', got {self.dose_factor!r}"
            )

    @property
    def factor(self) -> Fraction:
        return Fraction(self.dose_factor)

    def holds(self, crcl_ml_min: float) -> bool:
        """True when this band's lower edge admits ``crcl_ml_min``."""
        if self.lower_inclusive:
            return crcl_ml_min >= self.lower_ml_min
        return crcl_ml_min > self.lower_ml_min


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialysis:
    requires_clinician: bool
    max_daily_mg: float
    max_source: str
    start_daily_mg: float
    start_source: str
    source: str

    def __post_init__(self) -> None:
        if not 0 < self.start_daily_mg <= self.max_daily_mg:
            raise ValueError("need 0 < start_daily_mg <= max_daily_mg")


@dataclass(frozen=True, slots=True, kw_only=True)
class KidneyRules:
    bands_source: str
    formula_source: str
    egfr_source: str
    umol_per_mg_dl: float
    age_years: tuple[float, float]
    weight_kg: tuple[float, float]
    scr_mg_dl: tuple[float, float]
    scr_umol_l: tuple[float, float]
    crcl_ml_min: tuple[float, float]
    crcl_limits_source: str
    bands: tuple[KidneyBand, ...]
    dialysis: Dialysis

    def __post_init__(self) -> None:
        for name in ("age_years", "weight_kg", "scr_mg_dl", "scr_umol_l", "crcl_ml_min"):
            _range(name, getattr(self, name))
        lows = [band.lower_ml_min for band in self.bands]
        if not self.bands or lows != sorted(lows, reverse=True) or lows[-1] != 0:
            raise ValueError("bands must run from highest to lowest CrCl and end at 0")
        if [b.factor for b in self.bands] != sorted((b.factor for b in self.bands), reverse=True):
            raise ValueError("bands' dose_factor must not rise as CrCl falls")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaperRules:
    max_step_decrease_mg: float
    max_step_decrease_source: str
    low_start_threshold_mg: float
    low_start_step_decrease_mg: float
    low_start_source: str
    min_step_days: int
    min_step_days_source: str
    min_total_days: int
    min_total_days_source: str
    max_last_step_mg: float
    max_last_step_source: str
    max_total_days: int
    max_total_days_source: str

    def __post_init__(self) -> None:
        _positive("max_step_decrease_mg", self.max_step_decrease_mg)
        if not 0 < self.low_start_step_decrease_mg <= self.max_step_decrease_mg:
            raise ValueError("low_start_step_decrease_mg must be in (0, max_step_decrease_mg]")
        _positive("min_step_days", self.min_step_days)
        _positive("max_last_step_mg", self.max_last_step_mg)
        if not self.min_step_days <= self.min_total_days <= self.max_total_days:
            raise ValueError("need min_step_days <= min_total_days <= max_total_days")


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    code: str
    applies_to: tuple[PlanKind, ...]
    severity: Severity
    message: str
    source: str
    when_kidney_impaired: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MissedDoseRules:
    window_h: float
    window_source: str
    window_is_setting: bool
    long_gap_h: float
    long_gap_source: str
    message_source: str

    def __post_init__(self) -> None:
        _positive("window_h", self.window_h)
        _positive("long_gap_h", self.long_gap_h)


InteractionSeverity = Literal["major", "moderate", "minor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionRule:
    """How baclofen interacts with medicines of ``classes`` (keys of medicines.toml).

    ``effect`` is the row as the reference words it (it may name one member: "tizanidine also
    lowers blood pressure"); ``effect_of`` says the effect of one named medicine, by its name or,
    for the others, its class key, so that no medicine is told of another's effect."""

    classes: tuple[str, ...]
    severity: InteractionSeverity
    effect: str
    advice: str
    source: str
    sedating: bool
    major_below_crcl_ml_min: float | None = None
    effect_of: dict[str, str] = field(default_factory=dict)

    def effect_of_medicine(self, name: str, drug_class: str) -> str:
        """The effect said of the medicine ``name`` (of ``drug_class``)."""
        return self.effect_of.get(name) or self.effect_of.get(drug_class) or self.effect


@dataclass(frozen=True, slots=True, kw_only=True)
class SameDrug:
    names: tuple[str, ...]
    message: str
    source: str
    misspellings: tuple[str, ...] = ()  # matched as the drug itself, reported as assumed


@dataclass(frozen=True, slots=True, kw_only=True)
class CombinedSedation:
    severity: InteractionSeverity
    min_sedating: int
    message: str
    source: str


SymptomKind = Literal[
    "emergency", "alarming", "withdrawal", "urgent", "rebound", "common", "overdose", "stopped", "pregnancy",
    "kidney", "sedative", "reassurance", "mention",
]  # fmt: skip
_PATTERN_PART = re.compile(r"^[a-z0-9]+\*?( [a-z0-9]+\*?)*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Symptom:
    """A symptom (or a fact such as "took too many" or "stopped baclofen") triage recognises.

    ``synonyms`` are phrases read word for word; ``patterns`` read words in any order within
    one clause: ``"breath* + slow|shallow"`` is a word starting with "breath" and one of "slow"
    or "shallow", in either order ("breathing slow", "slow shallow breathing"). ``includes``:
    narrower symptoms this one replaces where both are read from the same words ("severe
    weakness" is not also "weakness")."""

    key: str
    label: str
    kind: SymptomKind
    synonyms: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    withdrawal: bool = False  # an emergency within the withdrawal window
    withdrawal_urgent: bool = False  # urgent within the withdrawal window (UK: anxiety, fast heartbeat)
    accumulation: bool = False  # urgent with CrCl below the accumulation threshold
    overdose_sign: bool = False  # with taking too much: an emergency (section 10)
    sedation: bool = False  # urgent with a medicine whose interaction is major (opioids, benzodiazepines)
    with_levodopa: bool = False  # named beside levodopa (confusion, hallucinations, agitation [PMS])
    common_in_label: bool = False  # the label lists it among common effects, whatever its triage kind
    source: str = ""  # where the rule for this symptom comes from, when not the [triage] sources
    note: str = ""  # what to do, shown with the reason

    def __post_init__(self) -> None:
        for pattern in self.patterns:
            for group in pattern.split(" + "):
                for part in group.split("|"):
                    if not _PATTERN_PART.match(part):
                        raise ValueError(
                            f"pattern {pattern!r}: {part!r} is not lower-case words (a final * allowed)"
                        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageQuestion:
    """A question of the guided triage, asked before the free text. ``symptoms``: what a "yes"
    means; ``amount``/``hours``: the answer also asks how much was taken / how long ago."""

    key: str
    text: str
    hint: str = ""
    symptoms: tuple[str, ...] = ()
    danger: bool = True  # asked again whenever something typed was not recognised


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageRules:
    withdrawal_window_h: float
    accumulation_below_crcl_ml_min: float
    source: str
    accumulation_source: str
    common_source: str
    overdose_ratio: float  # more than this times the usual single dose: an emergency
    overdose_source: str
    unrecognised_source: str
    severity_words: tuple[str, ...]  # "severe headache": a common effect that is not mild
    severity_source: str
    negation_words: tuple[str, ...]
    filler_words: tuple[str, ...]
    scope_breakers: tuple[str, ...]
    spellings: dict[str, str]  # common misspellings -> the word meant


@dataclass(frozen=True, slots=True, kw_only=True)
class PkRules:
    """Section 8: the population model the simulator uses."""

    model_source: str
    bioavailability: float
    bioavailability_source: str
    cl_per_crcl_l_h: float
    cl_crcl_offset_ml_min: float
    cl_source: str
    v_l: float
    v_source: str
    ka_per_h: float
    ka_source: str
    reference_crcl_ml_min: float
    reference_source: str
    cv_cl: float
    cv_v: float
    cv_ka: float
    bsv_source: str
    steady_state_fraction: float

    def __post_init__(self) -> None:
        for name in ("cl_per_crcl_l_h", "v_l", "ka_per_h", "reference_crcl_ml_min"):
            _positive(name, getattr(self, name))
        if not 0 < self.steady_state_fraction < 1:
            raise ValueError("steady_state_fraction must be between 0 and 1")

    def clearance_l_h(self, crcl_ml_min: float) -> float:
        """Apparent clearance CL/F at a creatinine clearance [cl_source]."""
        return self.cl_per_crcl_l_h * (crcl_ml_min + self.cl_crcl_offset_ml_min)

    @property
    def sources(self) -> str:
        return ", ".join((self.model_source, self.cl_source, self.v_source, self.ka_source, self.bsv_source))


@dataclass(frozen=True, slots=True, kw_only=True)
class Monograph:
    name: str
    display_name: str
    disclaimer: str
    sources: dict[str, str]
    products: tuple[ProductDefinition, ...]
    liquid_measure: LiquidMeasure
    default_products: DefaultProducts
    titration: TitrationRules
    kidney: KidneyRules
    taper: TaperRules
    missed_dose: MissedDoseRules
    interactions: tuple[InteractionRule, ...]
    combined_sedation: CombinedSedation
    same_drug: SameDrug
    triage: TriageRules
    symptoms: tuple[Symptom, ...]
    triage_questions: tuple[TriageQuestion, ...]
    pk: PkRules
    advice: tuple[Advice, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(
            {key for text in _source_texts(self) for key in _SOURCE_KEY.findall(text)} - set(self.sources)
        )
        if unknown:
            raise ValueError(f"source keys not in [sources]: {', '.join(unknown)}")
        classes = [key for rule in self.interactions for key in rule.classes]
        if len(classes) != len(set(classes)):
            raise ValueError("a medicine class appears in two [[interactions]] entries")
        keys = [symptom.key for symptom in self.symptoms]
        if len(keys) != len(set(keys)):
            raise ValueError("two [[symptoms]] share a key")
        named = {key for symptom in self.symptoms for key in symptom.includes}
        named |= {key for question in self.triage_questions for key in question.symptoms}
        if named - set(keys):
            raise ValueError(f"unknown symptom keys: {', '.join(sorted(named - set(keys)))}")

    def product_definition(self, form: str, strength_mg: float) -> ProductDefinition | None:
        for definition in self.products:
            if definition.form == form and definition.strength_mg == strength_mg:
                return definition
        return None


def cite_sources(*texts: str) -> tuple[str, ...]:
    """The source keys named in ``source`` fields (``"US-TAB, OZO"``), first mention first."""
    seen: dict[str, None] = {}
    for text in texts:
        for key in _SOURCE_KEY.findall(text):
            seen.setdefault(key, None)
    return tuple(seen)


def _source_texts(record: object) -> list[str]:
    """Every ``...source`` string field anywhere in ``record`` (for key checking)."""
    texts: list[str] = []
    if is_dataclass(record) and not isinstance(record, type):
        for item in fields(record):
            name, value = item.name, getattr(record, item.name)
            if name.endswith("source") and isinstance(value, str):
                texts.append(value)
            elif isinstance(value, tuple):
                for element in value:
                    texts.extend(_source_texts(element))
            else:
                texts.extend(_source_texts(value))
    return texts
