"""User errors as values: each has a location and a Swedish message ending with the fix."""

from __future__ import annotations

import errno
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in the user's input, with where it is."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InputError(Exception):
    """The input is not usable: a workbook, template or setting problem (exit status 2)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        """Pickled with its problems (a worker process hands it back whole)."""
        return type(self), (self.problems,)

    def report_lines(self) -> list[str]:
        """The messages as ``processor validate`` prints them and the hot folder's reports hold them."""
        return [f"{self.subject()} kan inte användas: {len(self.problems)} fel att rätta.", *(f"  {p}" for p in self.problems)]

    def subject(self) -> str:
        """What cannot be used, as the heading of ``report_lines`` names it; a subclass names its own input."""
        return "Arbetsboken"


_OS_REASONS = {
    errno.EACCES: ("behörighet saknas", "Kontrollera att du får läsa och skriva där, eller välj en annan mapp."),
    errno.EPERM: ("behörighet saknas", "Kontrollera att du får läsa och skriva där, eller välj en annan mapp."),
    errno.ENOSPC: ("disken är full", "Frigör utrymme och kör igen."),
    errno.EDQUOT: ("diskkvoten är slut", "Frigör utrymme och kör igen."),
    errno.ENOENT: ("filen eller mappen finns inte", "Kontrollera sökvägen."),
    errno.ENOTDIR: ("en del av sökvägen är en fil, inte en mapp", "Kontrollera sökvägen."),
    errno.EISDIR: ("är en mapp, inte en fil", "Ange en fil."),
    errno.EEXIST: ("finns redan", "Välj ett annat namn, eller flytta undan det som finns."),
    errno.EROFS: ("disken är skrivskyddad", "Välj en mapp på en disk du kan skriva på."),
    errno.EBUSY: ("används av ett annat program", "Stäng programmet och försök igen."),
    errno.ETXTBSY: ("används av ett annat program", "Stäng programmet och försök igen."),
    errno.ENAMETOOLONG: ("namnet är för långt", "Välj en kortare sökväg."),
    errno.EIO: ("läs- eller skrivfel på disken", "Kontrollera disken eller nätverksanslutningen och försök igen."),
}


def os_reason(error: OSError) -> str:
    """What went wrong in the operating system, in Swedish (``disken är full``), never its English text."""
    known = _OS_REASONS.get(error.errno)
    return known[0] if known else f"ett fel i operativsystemet ({errno.errorcode.get(error.errno, error.errno)})"


def os_error_message(error: OSError) -> str:
    """A whole Swedish sentence for a system error: where, what and how to mend it."""
    reason = os_reason(error)
    fix = _OS_REASONS.get(error.errno, ("", "Försök igen; om felet står kvar, kontakta it-stödet."))[1]
    if error.filename:
        return f"{error.filename}: {reason}. {fix}"
    return f"{reason[0].upper()}{reason[1:]}. {fix}"


class TemplateInputError(InputError):
    """A template is not usable (exit status 2): the heading names the templates at fault, not the workbook.

    Each problem's ``where`` is the template as messages name it (``mallar/brev.docx``).
    """

    def subject(self) -> str:
        templates = list(dict.fromkeys(p.where for p in self.problems))
        if len(templates) == 1:
            return f"Mallen {templates[0]}"
        return f"Mallarna {', '.join(templates[:-1])} och {templates[-1]}"
