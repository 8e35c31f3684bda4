"""Symptom matching builds its normalized phrase index once per symptom list, and the cached
matching gives exactly what the per-call matching gave (docs/benchmarks.md, "Triage matching")."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.domain import triage as triage_module
from dosewise.domain.monograph import Monograph, Symptom
from dosewise.domain.triage import match_symptoms, triage
from dosewise.monographs import load_monograph


def _uncached_match_symptoms(monograph: Monograph, texts: Sequence[str]) -> tuple[list[Symptom], list[str]]:
    """The matching as it was before the index was cached: a verbatim copy, the reference."""

    def normalize(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())

    phrases = sorted(
        (
            (normalize(phrase), symptom)
            for symptom in monograph.symptoms
            for phrase in (symptom.key, symptom.label, *symptom.synonyms)
        ),
        key=lambda item: -len(item[0]),
    )
    found: dict[str, Symptom] = {}
    unrecognised: list[str] = []
    for text in texts:
        remaining = f" {normalize(text)} "
        hit = False
        for phrase, symptom in phrases:
            if f" {phrase} " in remaining:
                found.setdefault(symptom.key, symptom)
                remaining = remaining.replace(f" {phrase} ", " ")
                hit = True
        if not hit and text.strip():
            unrecognised.append(text)
    return list(found.values()), unrecognised


def test_the_index_is_built_once_across_triage_calls(monograph, monkeypatch):
    calls: list[str] = []
    real = triage_module._normalize

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(triage_module, "_normalize", counting)
    triage_module._phrase_index.cache_clear()
    phrases = sum(2 + len(symptom.synonyms) for symptom in monograph.symptoms)
    try:
        first = triage(monograph, ["drowsiness", "I keep seeing things"])
        assert len(calls) == phrases + 2  # the index, then the two texts
        calls.clear()
        second = triage(monograph, ["drowsiness", "I keep seeing things"])
        assert calls == ["drowsiness", "I keep seeing things"]  # only the texts: the index is reused
        calls.clear()
        match_symptoms(load_monograph("baclofen"), ["dizzy"])
        assert calls == ["dizzy"]
    finally:
        triage_module._phrase_index.cache_clear()  # no index built by the counting wrapper stays
    assert first == second
    assert triage_module._phrase_index.cache_info().currsize == 0


def test_a_different_symptom_list_gets_its_own_index(monograph):
    fewer = dataclasses.replace(monograph, symptoms=monograph.symptoms[::2])
    texts = [symptom.label for symptom in monograph.symptoms]
    for candidate in (monograph, fewer, monograph):
        found, unrecognised = match_symptoms(candidate, texts)
        assert (found, unrecognised) == _uncached_match_symptoms(candidate, texts)
        assert all(any(symptom is own for own in candidate.symptoms) for symptom in found)
    assert len(match_symptoms(fewer, texts)[0]) < len(match_symptoms(monograph, texts)[0])


_BACLOFEN = load_monograph("baclofen")
_PHRASES = sorted(
    {phrase for symptom in _BACLOFEN.symptoms for phrase in (symptom.key, symptom.label, *symptom.synonyms)}
)
_NOISE = st.text(alphabet=st.sampled_from(" .,;:!?-_/'()\t\nabcxyz019ÉéÄß"), max_size=6)


@st.composite
def _noisy_phrase(draw: st.DrawFn) -> str:
    phrase = draw(st.sampled_from(_PHRASES))
    if draw(st.booleans()):
        phrase = "".join(c.upper() if draw(st.booleans()) else c for c in phrase)
    if draw(st.booleans()):  # cut it: a partial phrase must behave the same too
        start = draw(st.integers(0, len(phrase)))
        phrase = phrase[start : draw(st.integers(start, len(phrase)))]
    return draw(_NOISE) + phrase + draw(_NOISE)


_TEXT = st.one_of(
    _noisy_phrase(),
    st.lists(_noisy_phrase(), min_size=2, max_size=4).map(" ".join),
    st.lists(_noisy_phrase(), min_size=2, max_size=3).map(", ".join),
    st.text(max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(
    texts=st.lists(_TEXT, max_size=5),
    subset=st.sampled_from([slice(None), slice(None, None, 2), slice(1, None, 3)]),
)
def test_cached_matching_equals_the_uncached_matching(texts, subset):
    monograph = dataclasses.replace(_BACLOFEN, symptoms=_BACLOFEN.symptoms[subset])
    found, unrecognised = match_symptoms(monograph, texts)
    expected_found, expected_unrecognised = _uncached_match_symptoms(monograph, texts)
    assert found == expected_found  # same symptoms in the same order
    assert unrecognised == expected_unrecognised
