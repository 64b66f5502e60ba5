"""User errors as values: each has a location and a Swedish message ending with the fix."""

from __future__ import annotations

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
        return [f"Arbetsboken kan inte användas: {len(self.problems)} fel att rätta.", *(f"  {p}" for p in self.problems)]


class TemplateInputError(InputError):
    """A template is not usable (exit status 2): the heading names the templates at fault, not the workbook.

    Each problem's ``where`` is the template as messages name it (``mallar/brev.docx``).
    """

    def report_lines(self) -> list[str]:
        templates = list(dict.fromkeys(p.where for p in self.problems))
        if len(templates) == 1:
            heading = f"Mallen {templates[0]} kan inte användas"
        else:
            heading = f"Mallarna {', '.join(templates[:-1])} och {templates[-1]} kan inte användas"
        return [f"{heading}: {len(self.problems)} fel att rätta.", *(f"  {p}" for p in self.problems)]
