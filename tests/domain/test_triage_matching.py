"""The symptom reader: built once per symptom list, reads in any word order, respects denials
without letting them reach too far, and never turns unreadable text into "routine"."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from dosewise.domain import symptom_matcher
from dosewise.domain.symptom_matcher import read_symptoms
from dosewise.domain.triage import match_symptoms, triage
from dosewise.monographs import load_monograph

_BACLOFEN = load_monograph("baclofen")


def test_the_index_is_built_once_across_triage_calls(monograph):
    symptom_matcher._index.cache_clear()
    first = triage(monograph, ["drowsiness", "I keep seeing things"])
    second = triage(monograph, ["drowsiness", "I keep seeing things"])
    match_symptoms(load_monograph("baclofen"), ["dizzy"])
    info = symptom_matcher._index.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert first == second


def test_a_different_symptom_list_gets_its_own_index(monograph):
    fewer = dataclasses.replace(
        monograph,
        symptoms=tuple(dataclasses.replace(s, includes=()) for s in monograph.symptoms if s.kind == "common"),
        triage_questions=(),
    )
    texts = ["dizzy", "hallucinations"]
    found, unrecognised = match_symptoms(fewer, texts)
    assert [s.key for s in found] == ["dizziness"]
    assert unrecognised == ["hallucinations"]
    assert all(any(symptom is own for own in fewer.symptoms) for symptom in found)
    assert {s.key for s in match_symptoms(monograph, texts)[0]} == {"dizziness", "hallucinations"}


def _keys(text: str) -> tuple[set[str], set[str]]:
    reading = read_symptoms(_BACLOFEN.symptoms, _BACLOFEN.triage, [text])
    return {s.key for s in reading.found()}, {s.key for s in reading.denied()}


def test_word_order_does_not_matter():
    for a, b in [("breathing slow", "slow breathing"), ("difficult to wake", "hard to wake him"),
                 ("swollen lips", "lips swollen"), ("stiff all over", "all over stiff")]:  # fmt: skip
        assert _keys(a)[0] and _keys(a)[0] == _keys(b)[0], (a, b)


def test_a_denial_reaches_only_its_own_words():
    assert _keys("no fever, just sleepy") == ({"drowsiness"}, {"high_fever"})
    assert _keys("no fever or rigidity") == (set(), {"high_fever", "muscle_rigidity"})
    # "and", "but" and a new subject end a denial: these are hallucinations
    for text in (
        "no sleep and now seeing things",
        "not sleeping but seeing things",
        "no fever he is hallucinating",
    ):
        assert "hallucinations" in _keys(text)[0], text
    # words that deny are part of some danger signs
    assert "breathing_trouble" in _keys("not breathing")[0]
    assert "unrousable" in _keys("won't wake up")[0]


def test_body_site_decides_swelling():
    assert "facial_swelling" in _keys("swelling of my face")[0]
    assert "facial_swelling" not in _keys("swelling of ankles")[0]
    assert {"facial_swelling", "ankle_swelling"} <= _keys("swollen ankles and lips")[0]


def test_words_left_unread_ask_the_questions():
    # one common effect read, and words about something else: never routine
    for text in ("dizzy and something odd in my chest", "feel peculiar and wobbly inside"):
        result = triage(_BACLOFEN, [text])
        assert result.level == "urgent" and result.unread and result.questions, text
    # filler around a common effect is nothing more
    for text in ("a bit sleepy today", "going to the bathroom to pee more often", "legs feel a bit weak"):
        result = triage(_BACLOFEN, [text])
        assert result.level == "routine" and not result.unread, text


def test_long_misspelt_words_are_read_and_said():
    reading = read_symptoms(_BACLOFEN.symptoms, _BACLOFEN.triage, ["halucinations and brething slow"])
    assert {s.key for s in reading.found()} == {"hallucinations", "breathing_trouble"}
    assert ("halucinations", "hallucinations") in reading.corrections
    # short real words are never "corrected" into a danger sign
    assert "seizure" not in _keys("I was sitting down")[0]


_WORDS = sorted({word for s in _BACLOFEN.symptoms for phrase in s.synonyms for word in phrase.split()})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*_WORDS, "no", "not", "and", "but", ",", "very", "xyzzy"]), max_size=12))
def test_never_routine_unless_everything_was_read(words):
    text = " ".join(words)
    if not text.strip():
        return
    result = triage(_BACLOFEN, [text])
    if result.level == "routine":
        assert not result.unrecognised and not result.unread
        assert all(
            s.kind in ("common", "rebound", "kidney", "sedative", "reassurance") for s in result.symptoms
        )
