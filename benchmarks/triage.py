"""Triage of diary entries and typed phrasings: the symptom reader with its index built once
per symptom list vs built for every entry.

Run: .venv/bin/python benchmarks/triage.py [--entries 400] [--runs 15] [--seed 11]

--entries diary-like entries (default 400, about what the 1,000-patient clinician list
triages): each names 1-3 side effects, mostly by key as the diary stores them ("high_fever"),
some by label or synonym, some as free text ("I keep seeing things today", "really dizzy!!"),
a few not recognised; each is triaged as the clinician list does (domain.triage.triage; some
with missed doses or a low CrCl). Then the 534 phrasings of tests/data/triage_corpus.toml,
typed sentences as people write them.

Timed in the same run, median of --runs passes:
- index per entry: the reader's index (phrases, patterns, vocabulary) cleared before every
  entry (the baseline: the work without the cache);
- cached: the current code, the index built once per symptom list and reused.
Every pass is checked to give the same results. Prints ms per pass and the ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from dosewise.domain import symptom_matcher
from dosewise.domain.monograph import Monograph
from dosewise.domain.triage import TriageResult, triage
from dosewise.monographs import load_monograph

FREE_TEXT = ("I keep seeing things today", "really dizzy!!", "Feeling SICK after lunch", "a bit tired",
             "pins and needles?", "my stomach hurts", "strange taste", "slept badly")  # fmt: skip
CORPUS = Path(__file__).parent.parent / "tests" / "data" / "triage_corpus.toml"

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
            elif roll < 0.85 and symptom.synonyms:
                texts.append(chance.choice((symptom.label, *symptom.synonyms)))
            else:
                texts.append(chance.choice(FREE_TEXT))
        entries.append(
            (texts, chance.choice((None, None, None, 1, 2)), chance.choice((None, None, 90.0, 35.0)))
        )
    return entries


def triage_all(
    monograph: Monograph, entries: list[Entry], before_each: Callable[[], None]
) -> list[TriageResult]:
    results = []
    for texts, missed, crcl in entries:
        before_each()
        results.append(triage(monograph, texts, missed_doses_24h=missed, crcl_ml_min=crcl))
    return results


def timed(runs: int, work: Callable[[], list[TriageResult]]) -> tuple[list[float], list[TriageResult]]:
    times, results = [], []
    for _ in range(runs):
        symptom_matcher._index.cache_clear()
        start = time.perf_counter()
        results = work()
        times.append((time.perf_counter() - start) * 1000)
    return times, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=400)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    monograph = load_monograph("baclofen")
    entries = diary_entries(monograph, args.entries, args.seed)
    phrasings: list[Entry] = [
        ([case["text"]], None, None) for case in tomllib.loads(CORPUS.read_text())["case"]
    ]
    clear = symptom_matcher._index.cache_clear

    def nothing() -> None:
        pass

    print(f"baclofen: {len(monograph.symptoms)} symptoms; median of {args.runs} passes")
    print(f"{'work':<34} {'index per entry ms':>19} {'cached ms':>10} {'ratio':>6}")
    for label, items in (
        (f"{args.entries} diary entries", entries),
        (f"{len(phrasings)} typed phrasings", phrasings),
    ):
        base_times, base = timed(args.runs, lambda items=items: triage_all(monograph, items, clear))
        cached_times, cached = timed(args.runs, lambda items=items: triage_all(monograph, items, nothing))
        assert base == cached, "the cache changed a result"
        b, c = statistics.median(base_times), statistics.median(cached_times)
        print(f"{label:<34} {b:>19.1f} {c:>10.1f} {b / c:>5.1f}x")
    print("same results with and without the cache")


if __name__ == "__main__":
    main()
