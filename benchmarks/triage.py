"""Triage of diary entries: symptom matching with the cached phrase index vs per call.

Run: .venv/bin/python benchmarks/triage.py [--entries 400] [--runs 15] [--seed 11]

--entries diary-like entries (default 400, about what the 1,000-patient clinician list
triages): each names 1-3 side effects, mostly by key as the diary stores them
("high_fever"), some by label or synonym, some as free text around one ("I keep seeing
things today", "really dizzy!!"), a few not recognised. Each is triaged as the clinician
list does (domain.triage.triage; some with missed doses or a low CrCl).

Timed in the same run, median of --runs passes over all the entries:
- before: match_symptoms as it was (a verbatim copy: every symptom key, label and synonym
  normalized with a regular expression on every call);
- cache cleared: the current code with the index cache cleared before every entry (the same
  work as before through the new path);
- after: the current code, the index built once per symptom list and reused.
Every pass is checked to give the same results as "before". Prints ms per pass, the ratios,
and how many strings were normalized in one pass.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence

from dosewise.domain import triage as triage_module
from dosewise.domain.monograph import Monograph, Symptom
from dosewise.domain.triage import TriageResult, triage
from dosewise.monographs import load_monograph

FREE_TEXT = ("I keep seeing things today", "really dizzy!!", "Feeling SICK after lunch", "a bit tired",
             "pins and needles?", "my stomach hurts", "strange taste", "slept badly")  # fmt: skip


def uncached_match_symptoms(monograph: Monograph, texts: Sequence[str]) -> tuple[list[Symptom], list[str]]:
    """domain.triage.match_symptoms before the index was cached (verbatim)."""

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


Entry = tuple[list[str], int | None, float | None]  # texts, missed doses in 24 h, CrCl


def diary_entries(monograph: Monograph, count: int, seed: int) -> list[Entry]:
    chance = random.Random(seed)
    symptoms = monograph.symptoms
    entries: list[Entry] = []
    for _ in range(count):
        texts: list[str] = []
        for _ in range(chance.choice((1, 1, 1, 2, 2, 3))):
            symptom = chance.choice(symptoms)
            roll = chance.random()
            if roll < 0.7:
                texts.append(symptom.key)
            elif roll < 0.85:
                texts.append(chance.choice((symptom.label, *symptom.synonyms)))
            else:
                texts.append(chance.choice(FREE_TEXT))
        missed = chance.choice((None, None, None, 1, 2))
        crcl = chance.choice((None, None, 90.0, 35.0))
        entries.append((texts, missed, crcl))
    return entries


def triage_all(
    monograph: Monograph, entries: list[Entry], before_each: Callable[[], None]
) -> list[TriageResult]:
    results = []
    for texts, missed, crcl in entries:
        before_each()
        results.append(triage(monograph, texts, missed_doses_24h=missed, crcl_ml_min=crcl))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    monograph = load_monograph("baclofen")
    entries = diary_entries(monograph, args.entries, args.seed)
    cached = triage_module.match_symptoms
    clear = triage_module._phrase_index.cache_clear

    def nothing() -> None:
        pass

    variants: dict[str, tuple[Callable[..., tuple[list[Symptom], list[str]]], Callable[[], None]]] = {
        "before": (uncached_match_symptoms, nothing),
        "cache cleared": (cached, clear),
        "after": (cached, nothing),
    }
    reference: list[TriageResult] | None = None
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(args.runs):
            for name, (matcher, before_each) in variants.items():
                triage_module.match_symptoms = matcher  # triage() looks it up at each call
                clear()
                start = time.perf_counter()
                results = triage_all(monograph, entries, before_each)
                times[name].append((time.perf_counter() - start) * 1000)
                if reference is None:
                    reference = results
                assert results == reference, f"{name}: results differ from before"
    finally:
        triage_module.match_symptoms = cached

    # strings normalized in one pass of the current code (the index, then the texts)
    counted = 0
    normalize = triage_module._normalize

    def counting(text: str) -> str:
        nonlocal counted
        counted += 1
        return normalize(text)

    triage_module._normalize = counting
    try:
        clear()
        triage_all(monograph, entries, nothing)
        after_count = counted
        counted = 0
        triage_all(monograph, entries, clear)
        cleared_count = counted
    finally:
        triage_module._normalize = normalize
        clear()
    texts = sum(len(texts) for texts, _, _ in entries)
    phrases = sum(2 + len(symptom.synonyms) for symptom in monograph.symptoms)

    print(f"{args.entries} diary entries ({texts} side-effect texts), baclofen: {len(monograph.symptoms)} "
          f"symptoms, {phrases} phrases; median of {args.runs} passes")  # fmt: skip
    median = {name: statistics.median(values) for name, values in times.items()}
    normalized = {"before": cleared_count, "cache cleared": cleared_count, "after": after_count}
    print(f"{'variant':<14} {'median ms':>10} {'min ms':>8} {'strings normalized':>19}")
    for name, values in times.items():
        print(f"{name:<14} {median[name]:>10.2f} {min(values):>8.2f} {normalized[name]:>19,}")
    before, cleared, after = median["before"], median["cache cleared"], median["after"]
    print(
        f"before / after = {before / after:.1f}x; cache cleared / after = {cleared / after:.1f}x; "
        "same results"
    )


if __name__ == "__main__":
    main()
