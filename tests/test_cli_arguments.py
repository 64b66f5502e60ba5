"""The command line's own words, as a user sees them from the real program: help and argument errors, all in Swedish."""

from __future__ import annotations

import re

import pytest

# What argparse writes in English: its headings, its help for -h and --version, and its error messages.
ENGLISH = re.compile(r"usage|positional|options|optional arguments|show this help|show program|error|the following "
                     r"arguments|required|invalid|choice|choose from|unrecognized|expected|ambiguous|could match|"
                     r"not allowed|ignored explicit|maybe you meant", re.IGNORECASE)

HELP = [
    ("--help",),
    ("run", "--help"),
    ("send", "--help"),
    ("validate", "-h"),
    ("init", "--help"),
    ("watch", "--help"),
]
WRONG = {
    "no workbook": (("run",), "processor run", "ARBETSBOK"),
    "no such command": (("kör", "bok.xlsx"), "processor", "'kör'"),
    "unknown option": (("validate", "bok.xlsx", "--snabbt"), "processor", "--snabbt"),
    "a choice not offered": (("send", "körmapp", "--security", "tls"), "processor send", "starttls"),
    "a number that is none": (("send", "körmapp", "--rate", "många"), "processor send", "'många'"),
    "an option without its value": (("run", "bok.xlsx", "--out"), "processor run", "--out"),
    "an option that could be several": (("send", "körmapp", "--s", "x"), "processor send", "--smtp-host"),
    "seconds that are none": (("watch", "--quiet", "snart"), "processor watch", "'snart'"),
}


def english_words(text: str) -> list[str]:
    return ENGLISH.findall(text)


@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_is_all_swedish(run_processor, args):
    done = run_processor(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("användning: processor")
    assert "flaggor:" in done.stdout and "visa den här hjälpen och avsluta" in done.stdout
    assert english_words(done.stdout) == [], done.stdout


def test_the_main_help_names_the_commands_under_argument(run_processor):
    help_text = run_processor("--help").stdout
    assert "\nargument:\n  KOMMANDO\n" in help_text
    assert re.search(r"--version +visa programmets version och avsluta\n", help_text)  # aligned to the longest command


@pytest.mark.parametrize("case", WRONG)
def test_wrong_arguments_exit_2_with_a_swedish_message_that_ends_with_where_help_is(run_processor, case):
    args, prog, named = WRONG[case]
    done = run_processor(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    usage, message = done.stderr.rstrip("\n").split(f"\n{prog}: fel: ")
    assert usage.startswith("användning: processor")
    assert named in message
    assert message.endswith(f". Se {prog} --help.")
    assert "Traceback" not in done.stderr
    assert english_words(done.stderr) == [], done.stderr
