"""The ``processor`` command: parse arguments, call the library, print. Nothing else."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from processor import __version__
from processor.errors import InputError, os_error_message

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
ROUND_TODAY_HELP = "räkna som om det vore detta datum; omgången får det datumets namn (standard: i dag)"
"""--idag of a command writing a dated round (paminn, redovisning)."""


def build_parser() -> argparse.ArgumentParser:
    from processor.arguments import SwedishArgumentParser

    parser = SwedishArgumentParser(
        prog="processor",
        description="Fördelar stimulansmedel exakt efter en Excel-arbetsbok och skriver bilaga, "
                    "tjänsteutlåtande, brev och e-post.",
    )
    parser.add_version(f"processor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="KOMMANDO")

    run = commands.add_parser("run", help="kontrollera, fördela och skriv en körmapp",
                              description="Kontrollerar arbetsboken, fördelar medlen och skriver en ny körmapp under --out.")
    run.add_argument("workbook", metavar="ARBETSBOK", type=Path, help="arbetsboken (.xlsx)")
    run.add_argument("--out", metavar="MAPP", type=Path, default=Path("output"),
                     help="var körmappen skapas (standard: output/)")
    run.add_argument("--pdf", action="store_true",
                     help="gör också en PDF av tjänsteutlåtandet och varje brev (kräver LibreOffice)")

    validate = commands.add_parser("validate", help="visa alla fel, eller fördelningen, utan att skriva något",
                                   description="Kontrollerar arbetsboken och visar alla fel på en gång, eller fördelningen. "
                                               "Skriver inget.")
    validate.add_argument("workbook", metavar="ARBETSBOK", type=Path, help="arbetsboken (.xlsx)")

    init = commands.add_parser("init", help="skapa exempelarbetsböcker och mallar att utgå från",
                               description="Skapar exempelarbetsböcker och standardmallarna i MAPP. "
                                           "Befintliga filer skrivs aldrig över.")
    init.add_argument("folder", metavar="MAPP", type=Path, nargs="?", default=Path("."),
                      help="målmapp (standard: aktuell mapp)")

    watch = commands.add_parser("watch", help="bevaka en mapp och kör varje arbetsbok som läggs där",
                                description="Kör varje arbetsbok som läggs i MAPP en gång, när den slutat ändras, och "
                                            "flyttar den till MAPP/behandlade/ (eller MAPP/fel/ med en felrapport). "
                                            "Skickar aldrig e-post.")
    watch.add_argument("folder", metavar="MAPP", type=Path, nargs="?", default=Path("input"),
                       help="mappen att bevaka (standard: input/)")
    watch.add_argument("--out", metavar="MAPP", type=Path, default=Path("output"),
                       help="var körmapparna skapas (standard: output/)")
    watch.add_argument("--quiet", metavar="SEKUNDER", type=_seconds, default=5.0,
                       help="hur länge en arbetsbok ska vara oförändrad innan den körs (standard: 5)")
    watch.add_argument("--poll", action="store_true", help="gå igenom mappen regelbundet i stället för att vänta på filhändelser "
                                                           "(för nätverksmappar)")

    send = commands.add_parser("send", help="skicka en körmapps utskick med e-post (SMTP)",
                               description="Skickar körmappens utskick/*.eml över SMTP. Varje leverans skrivs in i "
                                           "utskick/skickat.jsonl, så en ny körning skickar inget två gånger. "
                                           "Lösenordet läses från miljövariabeln SMTP_PASSWORD; med --auth oauth2 "
                                           "loggar programmet in med en token i stället (Microsoft 365).")
    _rundir(send)
    send.add_argument("--smtp-host", metavar="SERVER", help="SMTP-servern, t.ex. smtp.office365.com (annars SMTP_HOST)")
    send.add_argument("--smtp-port", metavar="PORT", help="porten (annars SMTP_PORT; standard 587, 465 för ssl, 25 för none)")
    send.add_argument("--security", choices=["starttls", "ssl", "none"],
                      help="kryptering (annars SMTP_SECURITY; standard starttls)")
    send.add_argument("--user", metavar="ANVÄNDARE",
                      help="inloggning, oftast brevlådans adress (annars SMTP_USER); lösenordet i SMTP_PASSWORD")
    send.add_argument("--auth", choices=["password", "oauth2"],
                      help="inloggning med lösenord eller med OAuth 2.0-token (annars SMTP_AUTH; standard password)")
    send.add_argument("--token-command", metavar="KOMMANDO",
                      help="med --auth oauth2: ett kommando som skriver ut en token; körs vid varje anslutning "
                           "(annars SMTP_TOKEN_COMMAND)")
    send.add_argument("--microsoft-tenant", metavar="KATALOG-ID",
                      help="med --auth oauth2: organisationens katalog-id (tenant) i Microsoft Entra ID; token hämtas "
                           "från Microsoft, server smtp.office365.com (annars SMTP_MICROSOFT_TENANT)")
    send.add_argument("--microsoft-client-id", metavar="KLIENT-ID",
                      help="med --auth oauth2: appens klient-id i Entra ID (annars SMTP_MICROSOFT_CLIENT_ID); med "
                           "SMTP_CLIENT_SECRET hämtar appen token själv, för obevakad sändning")
    send.add_argument("--yes", action="store_true", help="skicka utan att fråga")
    send.add_argument("--bcc", metavar="ADRESS", help="en dold kopia av varje meddelande till ett arkiv")
    send.add_argument("--rate", metavar="PER_MINUT", type=float, help="högst så många meddelanden per minut (Microsoft 365: 30)")

    status = commands.add_parser("status", help="visa hur ärendet står: rekvirerat, utbetalt, avstått, försenade",
                                 description="Läser uppfoljning.xlsx och utskickens journal, skriver ut läget och skriver "
                                             "status.html i körmappen.")
    _rundir(status)
    status.add_argument("--json", action="store_true", help="skriv läget som JSON i stället för text")
    _today(status)

    faktura = commands.add_parser("faktura", help="läs in e-fakturor (Peppol BIS 3) i uppfoljning.xlsx",
                                  description="Läser e-fakturor och kreditnotor (Peppol BIS Billing 3.0, XML), känner igen "
                                              "ärendet på Fakturareferens och mottagaren på organisationsnummer eller namn, "
                                              "och för in dem i uppfoljning.xlsx. En faktura som redan är införd ändrar "
                                              "inget.")
    _rundir(faktura)
    faktura.add_argument("sources", metavar="FIL_ELLER_MAPP", type=Path, nargs="+",
                         help="fakturafiler (.xml), eller mappar vars .xml-filer läses i namnordning")
    _today(faktura)

    paminn = commands.add_parser("paminn", help="skriv påminnelser till dem som varken rekvirerat eller avstått",
                                 description="Skriver en påminnelseomgång, paminnelser/ÅÅÅÅMMDD/utskick/*.eml, till varje "
                                             "mottagare med status Väntar eller Försenad i uppfoljning.xlsx som har en "
                                             "e-postadress. Skicka omgången med processor send KÖRMAPP/paminnelser/"
                                             "ÅÅÅÅMMDD; den som rekvirerat eller avstått under tiden hoppas över.")
    _rundir(paminn)
    paminn.add_argument("--redovisning", action="store_true",
                        help="påminn i stället dem som fått medel utbetalda men inte redovisat (mallen "
                             "paminnelse-redovisning.txt); den som redovisat under tiden hoppas över vid send")
    _today(paminn, ROUND_TODAY_HELP)

    redovisning = commands.add_parser("redovisning", help="skriv redovisningsblanketter till dem som fått medel utbetalda",
                                      description="Skriver en redovisningsomgång, redovisning/ÅÅÅÅMMDD/, med en blankett "
                                                  "(blanketter/*.xlsx, mallen redovisning.xlsx) och ett e-postmeddelande "
                                                  "med blanketten (utskick/*.eml, mallen redovisning.txt) till varje "
                                                  "mottagare med Utbetalt över 0 i uppfoljning.xlsx. Skicka omgången med "
                                                  "processor send KÖRMAPP/redovisning/ÅÅÅÅMMDD.")
    _rundir(redovisning)
    _today(redovisning, ROUND_TODAY_HELP)
    omfordela = commands.add_parser("omfordela", help="fördela om medel som mottagare avstår (tilläggsbeslut och brev)",
                                    description="Fördelar om det som mottagarna med Ja i Avstår i uppfoljning.xlsx "
                                                "avstår, på de övriga i samma post efter deras andelar i den första "
                                                "fördelningen, och skriver en ny körmapp bredvid KÖRMAPP med "
                                                "tilläggsbeslut, brev och e-post till dem som får ett tillägg. "
                                                "KÖRMAPP ändras inte.")
    _rundir(omfordela)
    omfordela.add_argument("--ej-rekvirerat", dest="not_invoiced", action="store_true",
                           help="räkna också den som inte har rekvirerat något som att den avstår (bara efter Sista dag)")
    omfordela.add_argument("--till", dest="to_post", metavar="POST",
                           help="posten som får pengar från poster där ingen mottagare finns kvar (annars betalas de "
                                "tillbaka)")
    omfordela.add_argument("--out", metavar="MAPP", type=Path, default=None,
                           help="var den nya körmappen skapas (standard: bredvid KÖRMAPP)")
    _today(omfordela)

    sammanstall = commands.add_parser("sammanstall", help="sammanställ inkomna redovisningsblanketter och skriv "
                                                          "återbetalningsbrev",
                                      description="Läser de ifyllda redovisningsblanketterna i MAPP, för in Använt och "
                                                  "Redovisat i uppfoljning.xlsx och skriver sammanstallning/ÅÅÅÅMMDD/: "
                                                  "sammanstallning.xlsx, sammanstallning.docx (redovisningen till "
                                                  "bidragsgivaren) och ett återbetalningsbrev till varje mottagare som "
                                                  "använt mindre än den fått utbetalt. Ett fel i någon blankett: inget "
                                                  "ändras.")
    _rundir(sammanstall)
    sammanstall.add_argument("forms", metavar="MAPP", type=Path, help="mappen med de inkomna blanketterna (.xlsx)")
    _today(sammanstall, "räkna som om det vore detta datum: Redovisat och mappens namn (standard: i dag)")
    return parser


def _rundir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rundir", metavar="KÖRMAPP", type=Path, help="körmappen som processor run skrev")


def _today(parser: argparse.ArgumentParser, help: str = "räkna som om det vore detta datum (standard: i dag)") -> None:
    parser.add_argument("--idag", metavar="ÅÅÅÅ-MM-DD", type=_date, default=None, help=help)


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
        print(f"Fel: {os_error_message(error)}", file=sys.stderr)
        return EXIT_FAILED


def print_problems(error: InputError) -> None:
    for line in error.report_lines():
        print(line, file=sys.stderr)


def print_warnings(warnings: Iterable[object]) -> None:
    for warning in warnings:
        print(f"Varning: {warning}")


def cmd_run(args: argparse.Namespace) -> int:
    from processor.documents import ConversionError, NoOfficeError
    from processor.pipeline import run
    from processor.rundir import IncompleteRun

    try:
        with terminate_as_interrupt() as check_stop:
            def progress(line: str) -> None:
                check_stop()
                print(line)

            result = run(args.workbook, args.out, progress=progress, pdf=args.pdf)
    except NoOfficeError as error:
        print(f"Kan inte göra PDF: {error.problems[0].message}", file=sys.stderr)
        return EXIT_INPUT
    except ConversionError as error:
        print(f"Fel: {error} Ingen körmapp skrevs.", file=sys.stderr)
        return EXIT_FAILED
    except IncompleteRun as error:
        print(f"Fel: {error}", file=sys.stderr)
        return EXIT_FAILED
    print_warnings(result.case.warnings)
    print(f"Klart: {len(result.files)} filer för {len(result.case.recipients)} mottagare.")
    print(result.run_dir)
    return EXIT_OK


@contextmanager
def terminate_as_interrupt() -> Iterator[Callable[[], None]]:
    """SIGTERM (``kill``, a service stopping) cleans up like Ctrl-C: no hidden folder or worker is left.

    Yields a check to call at safe points (each progress line): an interrupt that arrived while
    Python ran a finalizer was swallowed there, so the check raises it again.
    """
    stopping = []

    def interrupt(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    def check() -> None:
        if stopping:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield check
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield check
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_validate(args: argparse.Namespace) -> int:
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


def cmd_init(args: argparse.Namespace) -> int:
    from processor.init import init

    for path, created in init(args.folder):
        print(f"{'Skapade' if created else 'Fanns redan, orörd:'} {path}")
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    from processor.watch import Watcher, stop_on_signals

    def echo(line: str) -> None:
        print(line, flush=True)

    watcher = Watcher(args.folder, args.out, quiet=args.quiet, poll=args.poll, echo=echo)
    with stop_on_signals(watcher, echo):
        watcher.run()
    return EXIT_OK


def _seconds(text: str) -> float:
    """A number of seconds as typed, ``5`` or ``0,5``."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"ogiltigt antal sekunder: {text!r}. Ange till exempel 5 eller 0,5.")
    return value


def _date(text: str) -> dt.date:
    """A date as typed after --idag: ``2020-09-01``."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"ogiltigt datum: {text!r}. Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2020-09-01.") from None


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from processor.status import case_status

    status = case_status(args.rundir, args.idag or dt.date.today())
    if args.json:  # the JSON alone on standard output, for programs; the warnings beside it for people
        for warning in status.warnings:
            print(f"Varning: {warning}", file=sys.stderr)
        print(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print_warnings(status.warnings)
    for line in status.lines():
        print(line)
    return EXIT_OK


def cmd_faktura(args: argparse.Namespace) -> int:
    from processor.faktura import import_invoices
    from processor.layout import LEDGER_FILE

    result = import_invoices(args.rundir, args.sources, args.idag or dt.date.today())
    print_warnings(result.warnings)
    for outcome in result.outcomes:
        for line in outcome.lines():
            print(line)
    recorded = len(result.written)
    print(f"{LEDGER_FILE}: {recorded} celler ändrade." if recorded else f"{LEDGER_FILE}: inget ändrat.")
    if result.over_allocation:
        print("Minst en faktura är på mer än vad som återstår av tilldelningen och fördes inte in; se ovan.",
              file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_send(args) -> int:
    from processor.send import (Interrupted, answered, check_options, interrupted_lines, messages, plan_lines,
                                read_outbox, send_outbox, skipped_lines, summary_lines)
    from processor.smtp import SendError
    from processor.smtp_settings import settings_from

    try:
        settings = settings_from(args.smtp_host, args.smtp_port, args.security, args.user, auth=args.auth,
                                 token_command=args.token_command, microsoft_tenant=args.microsoft_tenant,
                                 microsoft_client_id=args.microsoft_client_id, prompt=lambda line: print(line, flush=True))
        check_options(args.bcc, args.rate)
        outbox = read_outbox(args.rundir)
        skipped = answered(args.rundir)
        outbox = [m for m in outbox if m.name not in skipped]
    except InputError as error:
        print(f"Kan inte skicka: {len(error.problems)} fel att rätta.", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INPUT
    for line in skipped_lines(skipped):
        print(line)
    waiting = sum(1 for m in outbox if m.pending(args.bcc))
    if not waiting:
        print(f"Inget att skicka: alla {messages(len(outbox))} i utskicket är redan skickade." if outbox else
              "Inget att skicka.")
        return EXIT_OK
    for line in plan_lines(outbox, settings, args.bcc):
        print(line)
    if not args.yes:
        if not sys.stdin.isatty():
            print("Ingen terminal att fråga på. Lägg till --yes för att skicka utan att fråga.", file=sys.stderr)
            return EXIT_INPUT
        if input(f"Skicka {messages(waiting)}? [j/N] ").strip().lower() not in ("j", "ja"):
            print("Inget skickat.")
            return EXIT_FAILED  # 0 means everything is sent
    try:
        result = send_outbox(args.rundir, settings, bcc=args.bcc, rate=args.rate, skip=skipped,
                             progress=lambda line: print(line, flush=True))
    except SendError as error:
        print(f"Kan inte skicka: {error}", file=sys.stderr)
        print("Inget meddelande har skickats.", file=sys.stderr)
        return EXIT_FAILED
    except Interrupted as interrupted:
        for line in interrupted_lines(interrupted.result):
            print(line, file=sys.stderr)
        refresh_send_status(args.rundir)
        return EXIT_FAILED
    for line in summary_lines(result):
        print(line)
    refresh_send_status(args.rundir)
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_paminn(args: argparse.Namespace) -> int:
    from processor.reminders import round_lines, write_reminders

    round_ = write_reminders(args.rundir, args.idag or dt.date.today(), reporting=args.redovisning)
    print_warnings(round_.warnings)
    for line in round_lines(round_):
        print(line)
    return EXIT_OK


def cmd_redovisning(args: argparse.Namespace) -> int:
    from processor.reporting import forms_lines, write_forms

    round_ = write_forms(args.rundir, args.idag or dt.date.today())
    print_warnings(round_.warnings)
    for line in forms_lines(round_):
        print(line)
    return EXIT_OK


def cmd_omfordela(args: argparse.Namespace) -> int:
    from processor.second_round import round_lines, second_round

    result = second_round(args.rundir, args.idag or dt.date.today(), not_invoiced=args.not_invoiced,
                          to_post=args.to_post, out_dir=args.out)
    print_warnings(result.plan.warnings)
    for line in round_lines(result):
        print(line)
    return EXIT_OK


def cmd_sammanstall(args: argparse.Namespace) -> int:
    from processor.sammanstall import compilation_lines, compile_returned_forms

    result = compile_returned_forms(args.rundir, args.forms, args.idag or dt.date.today())
    print_warnings(result.warnings)
    for line in compilation_lines(result, args.rundir):
        print(line)
    return EXIT_OK


def refresh_send_status(run_dir: Path) -> None:
    """Show the deliveries in rapport.html and keep manifest.json true; a report that cannot be refreshed is a warning."""
    from processor.pipeline import refresh_run_folder

    print_warnings(refresh_run_folder(run_dir, "send"))


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "init": cmd_init, "watch": cmd_watch, "send": cmd_send,
            "status": cmd_status, "faktura": cmd_faktura, "paminn": cmd_paminn, "redovisning": cmd_redovisning,
            "omfordela": cmd_omfordela,
            "sammanstall": cmd_sammanstall}
