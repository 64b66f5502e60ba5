"""Where templates come from: the workbook's ``Mallar`` folder, then ``templates/`` in the working
directory, then the defaults shipped in ``processor.templates``, file by file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import Template

from processor.errors import Problem, TemplateInputError
from processor.model import Case
from processor.sandbox import text_environment
from processor.template_errors import check_source, render_problem
from processor.context import context_names
from processor.vocabulary import TEMPLATES

PACKAGE = "processor.templates"
CWD_FOLDER = "templates"


@dataclass(frozen=True)
class TemplateFile:
    """One template's bytes and how a message names it (``mallar/brev.docx``)."""

    name: str
    label: str
    data: bytes


class TemplateSet:
    """A case's templates: each name from the first folder that has it, else the packaged default."""

    def __init__(self, folders: Sequence[tuple[Path, str]] = ()):
        self.folders = list(folders)
        self._text: dict[str, TextTemplate] = {}

    @classmethod
    def for_case(cls, case: Case, workbook: Path, cwd: Path | None = None) -> TemplateSet:
        """The ``Mallar`` folder (relative to the workbook), then ``./templates``, then the defaults."""
        folders = []
        if case.info.templates_dir:
            folder = Path(workbook).parent / case.info.templates_dir
            folders.append((folder, case.info.templates_dir))
        local = Path(cwd or Path.cwd()) / CWD_FOLDER
        if local.is_dir():
            folders.append((local, CWD_FOLDER))
        return cls(folders)

    @classmethod
    def for_run_folder(cls, case: Case, cwd: Path | None = None) -> TemplateSet:
        """For a command on a run folder: the ``Mallar`` folder (a run folder does not know where the workbook was:
        taken from the current directory), then ``./templates``, then the defaults."""
        cwd = Path(cwd or Path.cwd())
        folders = []
        chosen = case.info.fields.get(TEMPLATES)
        if chosen and (cwd / str(chosen)).is_dir():
            folders.append((cwd / str(chosen), str(chosen)))
        if (cwd / CWD_FOLDER).is_dir():
            folders.append((cwd / CWD_FOLDER, CWD_FOLDER))
        return cls(folders)

    def find(self, name: str) -> TemplateFile:
        """The template ``name``; an unreadable file is an InputError naming it."""
        for folder, shown in self.folders:
            path = folder / name
            if path.is_file():
                label = f"{shown.rstrip('/')}/{name}"
                try:
                    return TemplateFile(name, label, path.read_bytes())
                except OSError as error:
                    raise TemplateInputError([Problem(label, f"mallen går inte att läsa ({error.strerror}). "
                                                     "Stäng den i Word och kontrollera behörigheten.")]) from error
        return TemplateFile(name, f"{name} (standardmallen)", resources.files(PACKAGE).joinpath(name).read_bytes())

    def text_template(self, name: str, allowed: set[str] | None = None) -> TextTemplate:
        """A plain-text template (e.g. ``epost.txt``), checked and compiled once; ``allowed``: the names it may use
        (default: a letter's)."""
        if name not in self._text:
            file = self.find(name)
            try:
                source = file.data.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise TemplateInputError([Problem(file.label, "mallen är inte en textfil i UTF-8. Spara den som "
                                                      "\"Oformaterad text\" med kodningen UTF-8.")]) from error
            env = text_environment()
            check_source(env, source, file.label, allowed=context_names(letter=True) if allowed is None else allowed)
            self._text[name] = TextTemplate(env.from_string(source), file.label, source)
        return self._text[name]

    def render_text(self, name: str, context: Mapping, allowed: set[str] | None = None) -> str:
        """Render a plain-text template; any template problem is an InputError naming the file."""
        return self.text_template(name, allowed).render(context)


@dataclass(frozen=True)
class TextTemplate:
    """A compiled plain-text template and what messages need to point into it."""

    template: Template
    label: str
    source: str

    def render(self, context: Mapping) -> str:
        try:
            return self.template.render(context)
        except Exception as error:
            raise TemplateInputError([render_problem(error, self.source, self.label)]) from error
