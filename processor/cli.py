"""The ``processor`` command: parse arguments, call the library, print. Nothing else."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from processor import __version__
from processor.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="processor",
        description="Fördelar stimulansmedel exakt efter en Excel-arbetsbok och skriver bilaga, "
                    "tjänsteutlåtande, brev och e-post.",
    )
    parser.add_argument("--version", action="version", version=f"processor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="KOMMANDO")

    run = commands.add_parser("run", help="kontrollera, fördela och skriv en körmapp",
                              description="Kontrollerar arbetsboken, fördelar medlen och skriver en ny körmapp under --out.")
    run.add_argument("workbook", metavar="ARBETSBOK", type=Path, help="arbetsboken (.xlsx)")
    run.add_argument("--out", metavar="MAPP", type=Path, default=Path("output"), help="var körmappen skapas (standard: output/)")

    validate = commands.add_parser("validate", help="visa alla fel, eller fördelningen, utan att skriva något",
                                   description="Kontrollerar arbetsboken och visar alla fel på en gång, eller fördelningen. Skriver inget.")
    validate.add_argument("workbook", metavar="ARBETSBOK", type=Path, help="arbetsboken (.xlsx)")

    init = commands.add_parser("init", help="skapa exempelarbetsböcker och mallar att utgå från",
                               description="Skapar exempelarbetsböcker och standardmallarna i MAPP. Befintliga filer skrivs aldrig över.")
    init.add_argument("folder", metavar="MAPP", type=Path, nargs="?", default=Path("."), help="målmapp (standard: aktuell mapp)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        return COMMANDS[args.command](args)
    except InputError as error:
        print_problems(error)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("Avbrutet.", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"Fel: {error.strerror or error} ({error.filename or ''}).", file=sys.stderr)
        return EXIT_FAILED


def print_problems(error: InputError) -> None:
    count = len(error.problems)
    print(f"Arbetsboken kan inte användas: {count} {'fel' if count == 1 else 'fel'} att rätta.", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)


def print_warnings(warnings) -> None:
    for warning in warnings:
        print(f"Varning: {warning}")


def cmd_run(args) -> int:
    from processor.pipeline import run

    result = run(args.workbook, args.out, progress=print)
    print_warnings(result.case.warnings)
    print(f"Klart: {len(result.files)} filer för {len(result.case.recipients)} mottagare.")
    print(result.run_dir)
    return EXIT_OK


def cmd_validate(args) -> int:
    from processor.formats import kronor
    from processor.pipeline import check

    case, allocation = check(args.workbook)
    print_warnings(case.warnings)
    print(f"{case.info.title}: {kronor(allocation.total, nbsp=False)} till {len(case.recipients)} mottagare.")
    for result in allocation.posts:
        print(f"  {result.post.name}: {kronor(result.amount, nbsp=False)} ({result.post.method})")
    width = max(len(r.name) for r in case.recipients)
    for recipient, total in zip(case.recipients, allocation.totals):
        note = "  (avstår)" if not recipient.participates else ""
        print(f"  {recipient.name:<{width}}  {kronor(total, nbsp=False):>16}{note}")
    print(f"Inga fel. Totalt {kronor(sum(allocation.totals), nbsp=False)}.")
    return EXIT_OK


def cmd_init(args) -> int:
    from processor.setup import init

    for path, created in init(args.folder):
        print(f"{'Skapade' if created else 'Fanns redan, orörd:'} {path}")
    return EXIT_OK


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "init": cmd_init}
