"""``dosewise check-pharmacy FILE``: is this online pharmacy safe? The warning signs and the
missing signs of a legitimate pharmacy in a saved page, each with the words that show it and its
source keys; what to check by hand. Plain text (no Rich); one service call."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings


def add_commands(commands: Any) -> None:
    check = add_command(
        commands, "check-pharmacy", help="is this online pharmacy safe? warning signs in a saved page",
        description="Reads a saved web page (HTML or text; - for standard input) of an online pharmacy "
        "and lists the warning signs and the missing signs of a legitimate pharmacy (FDA BeSafeRx, NABP, "
        "LegitScript), each with the words found and its source. It looks nothing up and never says a "
        "pharmacy is safe: check the licence and the web address by hand. At most 5 MB.",
    )  # fmt: skip
    check.add_argument(
        "file", metavar="FILE", help="the saved page: .html, .htm or .txt; - reads standard input"
    )
    add_json(check)
    check.set_defaults(run=run_check_pharmacy)


def _keys(sources: tuple[str, ...]) -> str:
    return "".join(f"[{key}]" for key in sources)


def run_check_pharmacy(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.exporters.pharmacy_json import describe_disclaimer, pharmacy_check_to_dict
    from dosewise.services.pharmacy_checks import check_pharmacy_file

    result = check_pharmacy_file(args.file)
    if args.as_json:
        print_json(pharmacy_check_to_dict(result))
        return
    data = pharmacy_check_to_dict(result)
    print(f"Verdict: {result.verdict.replace('_', ' ')}")
    print(result.summary)
    if result.warnings:
        print("\nWarning signs:")
        for flag in result.warnings:
            print(f'  - {flag.text} {_keys(flag.sources)}\n    found: "{flag.evidence}"')
    if result.found_positive:
        print("\nSigns of a legitimate pharmacy on the page (check them by hand):")
        for flag in result.found_positive:
            print(f'  - {flag.text} {_keys(flag.sources)}\n    found: "{flag.evidence}"')
    if result.missing:
        print("\nSigns of a legitimate pharmacy not on the page:")
        for flag in result.missing:
            print(f"  - {flag.sign} {_keys(flag.sources)}")
    print("\nCheck by hand:")
    for check in result.to_check:
        print(f"  - {check.text} {_keys(check.sources)}")
    print("\nSources:")
    for source in data["sources"]:
        print(f"  [{source['key']}] {source['citation']}")
    print(f"\n{describe_disclaimer(result).removeprefix(result.summary).strip()}")
