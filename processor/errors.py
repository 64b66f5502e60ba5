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
