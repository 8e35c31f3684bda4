"""``dosewise how-to-take``: how to take baclofen, each statement with its source, and each
product's own storage text. Plain text (no Rich): nothing heavy is imported to print it."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings
    from dosewise.domain.guidance import ConditionAdvice, Guidance, Statement

DEFAULT_MARK = " (Dosewise wording, not a label's)"


def add_commands(commands: Any) -> None:
    how = add_command(
        commands, "how-to-take", help="how to take baclofen: food, effect, dose range, dependence, driving, "
        "alcohol, storage, missed doses (with sources)",
        description="How to take baclofen, from the labels and leaflets, each statement with its source key. "
        "Storage is each product's own label text: name your products with --product (default: all).",
    )  # fmt: skip
    how.add_argument(
        "--product", action="append", default=[],
        help="a product you have, repeatable: tablet:10mg, solution:1mg/ml, suspension:5mg/ml, granules:10mg",
    )  # fmt: skip
    add_json(how)
    how.set_defaults(run=run_how_to_take)


def _line(statement: Statement) -> str:
    return f"  - {statement.text} [{statement.source}]{DEFAULT_MARK if statement.product_default else ''}"


def print_advice(advice: Sequence[ConditionAdvice]) -> None:
    for item in advice:
        print(f"\n{item.title}:")
        for statement in item.statements:
            print(_line(statement))


def print_sources(guidance: Guidance, keys: Iterable[str]) -> None:
    cited = guidance.cited(keys)
    if not cited:
        return
    print("\nSources:")
    for key, source in cited:
        print(f"  [{key}] {source.citation}{''.join(' ' + url for url in source.urls)}")


def run_how_to_take(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.patients import how_to_take

    guide = how_to_take(args.product)
    guidance = guide.guidance
    if args.as_json:
        from dosewise.exporters.guidance_json import how_to_take_to_dict

        print_json(how_to_take_to_dict(guidance, guide.storage))
        return
    print(f"How to take {guidance.drug}")
    for topic in guidance.topics:
        print(f"\n{topic.title}:")
        for statement in topic.statements:
            print(_line(statement))
    print("\nStorage (each product's own label):")
    for item in guide.storage:
        if item.text is not None:
            note = f" {item.note}" if item.note else ""
            print(f"  - {item.product}: {item.text} [{item.source}]{note}")
        else:
            text = item.note or guidance.storage_unverified.text
            print(f"  - {item.product}: {text} [{item.source}]{DEFAULT_MARK}")
    keys = [key for topic in guidance.topics for s in topic.statements for key in s.keys]
    print_sources(guidance, [*keys, *(item.source for item in guide.storage)])
    print("\nDecision support: agree every change with your prescriber.")
