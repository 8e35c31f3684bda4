"""``dosewise compare``: other treatments for spasticity and muscle spasm, compared for the
patient's situation, every fact with its source key. Plain text (no Rich), or ``--json``.

It informs; it never proposes a switch."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, note, print_json

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings
    from dosewise.domain.alternatives import Caution, Fact

LIVER_CHOICES = (
    "none",
    "mild",
    "moderate",
    "severe",
)  # domain.alternatives.LIVER_DISEASE (a test keeps them equal)


def add_commands(commands: Any) -> None:
    compare = add_command(
        commands, "compare", help="other treatments for spasticity compared for you (with sources)",
        description="Tizanidine, dantrolene, diazepam, gabapentin, cyclobenzaprine, methocarbamol, "
        "carisoprodol, botulinum toxin and intrathecal baclofen: what each is labelled for, how it is "
        "started, its maximum, and what your kidney function, liver, pregnancy and other medicines mean "
        "for it. Information for a talk with your prescriber, not advice to switch.",
    )  # fmt: skip
    compare.add_argument("drugs", nargs="*", metavar="DRUG", help="treatments to show (default: all)")
    kidney = compare.add_mutually_exclusive_group()
    kidney.add_argument("--crcl", type=float, help="creatinine clearance in mL/min, if known")
    kidney.add_argument(
        "--dialysis", action="store_true", help="on dialysis (the rules for the lowest kidney function)"
    )
    compare.add_argument(
        "--liver", choices=LIVER_CHOICES, default="none", help="liver disease (default none)"
    )
    compare.add_argument("--pregnant", action="store_true", help="pregnant, or might be")
    compare.add_argument(
        "--medicine", action="append", default=[], help="another medicine you take (repeatable)"
    )
    add_json(compare)
    compare.set_defaults(run=run_compare)


def _keys(sources: tuple[str, ...]) -> str:
    return "".join(f"[{key}]" for key in sources)


def _fact(label: str, fact: Fact) -> str:
    mark = " (UNCONFIRMED)" if fact.unconfirmed and "UNCONFIRMED" not in fact.text else ""
    return f"  {label}: {fact.text}{mark} {_keys(fact.sources)}".rstrip()


def _caution(caution: Caution) -> str:
    mark = " (UNCONFIRMED)" if caution.unconfirmed and "UNCONFIRMED" not in caution.text else ""
    return f"    - {caution.level.upper()}: {caution.text}{mark} {_keys(caution.sources)}".rstrip()


def run_compare(args: argparse.Namespace, settings: Settings) -> None:
    from dosewise.services.alternatives import compare_treatments

    result = compare_treatments(
        args.drugs,
        crcl_ml_min=args.crcl,
        dialysis=args.dialysis,
        liver=args.liver,
        pregnant=args.pregnant,
        medicines=args.medicine,
    )
    if args.as_json:
        from dosewise.exporters.compare_json import comparison_to_dict

        print_json(comparison_to_dict(result))
        return
    if result.unrecognised_medicines:
        note(f"medicine not recognised, not considered: {', '.join(result.unrecognised_medicines)}")
    for match in result.medicines:
        if match.assumed:
            note(match.read_note)
    print("Other treatments compared (information for your prescriber; not advice to switch)")
    for item in result.comparison.drugs:
        drug = item.drug
        print(f"\n{drug.display_name}")
        print(_fact("Labelled for", drug.labelled_for))
        print(f"  Route: {drug.route}")
        print(_fact("How it is started", drug.start))
        print(_fact("Maximum", drug.max_daily))
        if item.cautions:
            print("  What matters for you:")
            for caution in item.cautions:
                print(_caution(caution))
    reference = result.reference
    print("\nSources:")
    for key in result.comparison.source_keys:
        print(f"  [{key}] {result.comparison.citations[key]}")
    print(f"\n{reference.disclaimer}")
