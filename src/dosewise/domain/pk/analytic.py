"""Closed-form results of the one-compartment model with first-order absorption (no NumPy).

With apparent clearance CL, volume V and absorption rate ka: ke = CL / V. For a regimen of
dose D every tau hours, the steady-state average is D / (CL tau); the approach to steady
state is governed by ke, so 90% of it is reached ln(10) / ke after regular dosing starts
(absorption, ka >> ke, is over long before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dosewise.domain.monograph import PkRules


@dataclass(frozen=True, slots=True, kw_only=True)
class PkParameters:
    """Apparent parameters of one patient (divided by bioavailability)."""

    cl_l_h: float
    v_l: float
    ka_per_h: float

    @property
    def ke_per_h(self) -> float:
        return self.cl_l_h / self.v_l

    @property
    def half_life_h(self) -> float:
        return math.log(2) / self.ke_per_h

    def time_to_fraction_of_steady_state_h(self, fraction: float) -> float:
        return -math.log(1 - fraction) / self.ke_per_h


def build_pk_parameters(rules: PkRules, crcl_ml_min: float | None) -> PkParameters:
    """Typical parameters at a CrCl (the reference CrCl when ``None``)."""
    crcl = rules.reference_crcl_ml_min if crcl_ml_min is None else crcl_ml_min
    return PkParameters(cl_l_h=rules.clearance_l_h(crcl), v_l=rules.v_l, ka_per_h=rules.ka_per_h)


def calculate_exposure_ratio(rules: PkRules, crcl_ml_min: float | None) -> float:
    """AUC at this CrCl over AUC at the reference CrCl, same doses (= CL ratio)."""
    if crcl_ml_min is None:
        return 1.0
    return rules.clearance_l_h(rules.reference_crcl_ml_min) / rules.clearance_l_h(crcl_ml_min)


def calculate_steady_state(
    params: PkParameters, dose_mg: float, interval_h: float
) -> tuple[float, float, float]:
    """(Cmin, Cavg, Cmax) in mg/L at steady state on ``dose_mg`` every ``interval_h``."""
    ka, ke, v = params.ka_per_h, params.ke_per_h, params.v_l
    cavg = dose_mg / (params.cl_l_h * interval_h)
    if math.isclose(ka, ke):
        raise ValueError("ka and ke are equal: the closed form needs them apart")
    scale = dose_mg * ka / (v * (ka - ke))
    accumulate_e, accumulate_a = 1 - math.exp(-ke * interval_h), 1 - math.exp(-ka * interval_h)

    def level(t: float) -> float:
        return scale * (math.exp(-ke * t) / accumulate_e - math.exp(-ka * t) / accumulate_a)

    # the peak within an interval: d/dt = 0
    t_peak = math.log((ka * accumulate_e) / (ke * accumulate_a)) / (ka - ke)
    t_peak = min(max(t_peak, 0.0), interval_h)
    return min(level(0.0), level(interval_h)), cavg, level(t_peak)
