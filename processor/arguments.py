"""argparse in Swedish: the help's headings and the parser's error messages, for ``processor`` and its commands.

argparse writes its own words in English. The help's words come from the formatter and the groups
made here; its error messages are matched, whole, against the English argparse writes and said
again in Swedish, ending with where to find the help.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable
from typing import NoReturn

USAGE = "användning: "
POSITIONALS = "argument"
OPTIONALS = "flaggor"
HELP = "visa den här hjälpen och avsluta"
VERSION = "visa programmets version och avsluta"
TYPE_WORDS = {"int": "heltal", "float": "tal"}


def _choices(match: re.Match) -> str:
    guess = f" (menade du {match['guess']}?)" if match["guess"] else ""
    return f"ogiltigt val: {match['value']}{guess}. Välj bland {match['choices']}"


# argparse's messages (the ids it passes to gettext, as they read once filled in) and their Swedish.
MESSAGES: tuple[tuple[re.Pattern, Callable[[re.Match], str]], ...] = (
    (re.compile(r"argument (?P<name>.+?): (?P<message>.*)", re.S),
     lambda m: f"{m['name']}: {swedish_message(m['message'])}"),
    (re.compile(r"the following arguments are required: (?P<names>.*)"),
     lambda m: f"det här saknas: {m['names']}"),
    (re.compile(r"unrecognized arguments: (?P<names>.*)"),
     lambda m: f"okända argument: {m['names']}"),
    (re.compile(r"invalid choice: (?P<value>.*?)(?:, maybe you meant (?P<guess>.*?)\?)? \(choose from (?P<choices>.*)\)"),
     _choices),
    (re.compile(r"invalid (?P<type>\w+) value: (?P<value>.*)"),
     lambda m: f"ogiltigt {TYPE_WORDS.get(m['type'], 'värde')}: {m['value']}"),
    (re.compile(r"expected one argument"), lambda m: "ett värde behövs efter flaggan"),
    (re.compile(r"expected at most one argument"), lambda m: "högst ett värde"),
    (re.compile(r"expected at least one argument"), lambda m: "minst ett värde behövs"),
    (re.compile(r"expected (?P<count>\d+) arguments?"), lambda m: f"{m['count']} värden behövs"),
    (re.compile(r"ambiguous option: (?P<option>.*) could match (?P<matches>.*)"),
     lambda m: f"{m['option']} kan betyda flera flaggor: {m['matches']}"),
    (re.compile(r"one of the arguments (?P<names>.*) is required"),
     lambda m: f"ett av argumenten {m['names']} måste anges"),
    (re.compile(r"not allowed with argument (?P<name>.*)"),
     lambda m: f"går inte att kombinera med {m['name']}"),
    (re.compile(r"ignored explicit argument (?P<value>.*)"),
     lambda m: f"flaggan tar inget värde, men fick {m['value']}"),
    (re.compile(r"unexpected option string: (?P<option>.*)"),
     lambda m: f"oväntad flagga: {m['option']}"),
    (re.compile(r"unknown parser (?P<name>.*?) \(choices: (?P<choices>.*)\)"),
     lambda m: f"okänt kommando {m['name']}. Välj bland {m['choices']}"),
)


def swedish_message(message: str) -> str:
    """argparse's English error ``message`` in Swedish; a message it does not know stays as it is."""
    for pattern, swedish in MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return swedish(match)
    return message


class SwedishHelpFormatter(argparse.HelpFormatter):
    """Help whose usage line starts with "användning:"."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, USAGE if prefix is None else prefix)


class SwedishArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks Swedish in its help and its errors; its subcommands' parsers do too.

    Errors print the usage and one line ``prog: fel: …`` on stderr and exit with status 2, as argparse does.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", SwedishHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = POSITIONALS
        self._optionals.title = OPTIONALS
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP)

    def add_version(self, version: str) -> None:
        """``--version``, which prints ``version`` and exits."""
        self.add_argument("--version", action="version", version=version, help=VERSION)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: fel: {swedish_message(message).rstrip('.')}. Se {self.prog} --help.\n")
