"""The page checks on 5 MB pages: "is this online pharmacy safe?" and "does this article agree
with the label?" against reading the same page, on realistic and on adversarial pages.

Run: .venv/bin/python benchmarks/page_checks.py [--runs 3] [--mb 5] [--page NAME ...]

Each page is written to a file of --mb megabytes (the reader's limit is 5 MB) and, median of
--runs passes:
- read: ``services.page_text.read_page_text`` (the file read and decoded, HTML turned into
  text): the baseline, measured in the same run;
- pharmacy: ``domain.pharmacy_check.check_pharmacy_page`` on that text;
- article: ``domain.article_check.check_article`` on that text.
Then one more pass of each under tracemalloc for its peak memory (Python allocations).

Pages: the five seed pages of tests/data/seeds repeated (as text, and as HTML with a paragraph a
line), and adversarial pages: one line without spaces or full stops; one sentence repeated; a
sentence of a few words each 5 MB / 80 long; a 5 MB run-on "sentence" of hyphenated words; a
number of 5 MB in a dose sentence; 100,000 short sentences each with a dose; a long web address
of dotted labels; deeply nested HTML; HTML of many ``<``.

Target: every check within 10x of the read of a realistic HTML page of the same size, and no
page (adversarial included) more than 3x slower to check than the realistic page of its kind:
linear time, whatever the page. Memory: the peak of a check within 10x the page's size.
"""

from __future__ import annotations

import argparse
import html
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from dosewise.domain.article_check import check_article
from dosewise.domain.pharmacy_check import check_pharmacy_page
from dosewise.monographs import DEFAULT_DRUG, load_guidance, load_monograph
from dosewise.services.page_text import read_page_text

SEEDS = Path(__file__).parent.parent / "tests" / "data" / "seeds"
MB = 1024 * 1024


def _repeat(unit: str, size: int) -> str:
    text = unit * (size // len(unit.encode()) + 1)
    return text.encode()[:size].decode("utf-8", errors="ignore")


def _seed_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("0*.txt"))]


def _as_html(text: str) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines() if line.strip())
    return (
        f"<!DOCTYPE html><html><head><title>Baclofen</title></head><body><main>{body}</main></body></html>\n"
    )


def build_pages(size: int) -> dict[str, tuple[str, str]]:
    """name -> (file name, content) of about ``size`` bytes each."""
    seeds = _seed_texts()
    words = max(1, size // 80)
    nested = max(1, size // 11 // 2)
    seeds_html = "".join(_as_html(seed) for seed in seeds)
    return {
        "seeds, text": ("seeds.txt", _repeat("\n\n".join(seeds) + "\n\n", size)),
        "seeds, HTML": ("seeds.html", seeds_html * max(1, size // len(seeds_html.encode()))),
        "one line, no space or stop": ("line.txt", _repeat("baclofen10mg-missed-dose-prescription-", size)),
        "one sentence repeated": (
            "sentence.txt",
            _repeat("Start with 5 mg three times a day and increase by 5 mg every three days. ", size),
        ),
        "80 words of 64 KB": (
            "words.txt",
            " ".join(["x" * words] * 79) + " side effects include drowsiness.",
        ),
        "hyphenated run-on": (
            "hyphens.txt",
            "You " + _repeat("missed-dose-side-effects-", size - 10) + " now.",
        ),
        "a 5 MB number + mg": ("number.txt", "Take " + _repeat("1234567890", size - 30) + " mg a day."),
        "100,000 dose sentences": (
            "doses.txt",
            "".join(f"Take {n % 90 + 1} mg three times a day. " for n in range(100_000))[:size],
        ),
        "dotted web address": ("address.txt", _repeat("a.", size - 20) + " x.pharmacy"),
        "nested HTML": ("nested.html", "<html><body>" + "<div>" * nested + "x" + "</div>" * nested),
        "HTML of many <": ("angles.html", "<html><body>" + _repeat('<p a="x', size - 12)),
    }


def timed(runs: int, work: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def peak_mib(work: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=float, default=5.0, help="page size in MB (the reader's limit: 5)")
    parser.add_argument("--page", action="append", help="only these pages (repeatable)")
    args = parser.parse_args()
    size = int(args.mb * MB)
    monograph, guidance = load_monograph(DEFAULT_DRUG), load_guidance(DEFAULT_DRUG)
    folder = Path(tempfile.mkdtemp())
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; median of {args.runs} runs")
    print(
        f"{'page':<28} {'MB':>4} {'read s':>7} {'pharmacy s':>10} {'x read':>6} {'article s':>9} "
        f"{'x read':>6} {'claims':>7} {'peak MiB read/pharm/art':>24}"
    )
    for name, (file_name, content) in build_pages(size).items():
        if args.page and name not in args.page:
            continue
        path = folder / file_name
        path.write_text(content, encoding="utf-8")
        read_s, text = timed(args.runs, lambda path=path: read_page_text(str(path)))
        assert isinstance(text, str)
        pharmacy_s, _ = timed(args.runs, lambda text=text: check_pharmacy_page(text))
        article_s, check = timed(args.runs, lambda text=text: check_article(text, monograph, guidance))
        peaks = (
            peak_mib(lambda path=path: read_page_text(str(path))),
            peak_mib(lambda text=text: check_pharmacy_page(text)),
            peak_mib(lambda text=text: check_article(text, monograph, guidance)),
        )
        claims = len(check.claims)  # type: ignore[attr-defined]
        print(
            f"{name:<28} {path.stat().st_size / MB:>4.1f} {read_s:>7.2f} {pharmacy_s:>10.2f} "
            f"{pharmacy_s / read_s:>6.0f} {article_s:>9.2f} {article_s / read_s:>6.0f} {claims:>7} "
            f"{'/'.join(f'{p:.0f}' for p in peaks):>24}",
            flush=True,
        )
        path.unlink()


if __name__ == "__main__":
    main()
