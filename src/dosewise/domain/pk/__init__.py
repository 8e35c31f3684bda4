"""Pharmacokinetics (clinical reference section 8).

``analytic`` is standard library only (plans use it on the CLI's fast path); ``simulate``
uses NumPy for concentration curves of one patient or a virtual population.
"""
