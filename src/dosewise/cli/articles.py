"""``dosewise check-article FILE``: does a page about baclofen agree with the label? Each
checkable claim with its verdict, the monograph's reference text and its sources."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings

_MARK = {"agrees": "agrees", "contradicts": "CONTRADICTS", "not_covered": "not covered"}


def add_commands(commands: Any) -> None:
    check = add_command(
        commands, "check-article",
        help="does a page about baclofen agree with the label? "
        "(claims marked agrees / contradicts / not covered)",
        description="Read a saved web page (HTML) or text about baclofen, find its checkable claims (doses, "
        "steps, maximum, kidney, stopping, missed dose, interactions, side effects, pregnancy) and compare "
        "each with the label data Dosewise uses, with the reference and its source. No network access.",
    )  # fmt: skip
    check.add_argument(
        "file",
        metavar="FILE",
        help="the saved page: .html, .htm or .txt (at most 5 MB); - reads standard input",
    )
    add_json(check)
    check.set_defaults(run=run_check_article)


def run_check_article(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.articles import check_article_file

    report = check_article_file(args.file)
    if args.as_json:
        from dosewise.exporters.article_json import article_to_dict

        print_json(article_to_dict(report))
        return
    check = report.check
    print(
        f"{len(check.claims)} checkable claims: {check.count('agrees')} agree, "
        f"{check.count('contradicts')} contradict the label, {check.count('not_covered')} not covered."
    )
    for claim in check.claims:
        print(f"\n[{_MARK[claim.verdict]}] {claim.text}")
        print(f"  label: {claim.reference} [{', '.join(claim.sources)}]")
    if report.citations:
        print("\nSources:")
        for key, citation in report.citations.items():
            print(f"  [{key}] {citation}")
    print(f"\n{report.disclaimer}")
