"""The decision document and the letters, rendered from Word templates; PDFs through LibreOffice.

Every template is checked, and the decision document and one letter rendered in memory, before
the run folder is made: a bad template stops the run with a message naming the file and the tag.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import os
import queue
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from lxml import etree

from processor.checksums import write_hashed
from processor.errors import InputError, Problem, TemplateInputError
from processor.fastdocx import PackageCopier, PreparedTemplate
from processor.layout import LETTER_SUFFIX, RunLayout
from processor.model import Allocation, Case
from processor.presentation import Presentation, present
from processor.sandbox import word_environment
from processor.template_errors import check_source, plain_text, render_problem
from processor.template_files import TemplateFile, TemplateSet
from processor.context import ContextBuilder, context_names

DECISION_TEMPLATE = "tjansteutlatande.docx"
LETTER_TEMPLATE = "brev.docx"
PDF_CHUNK = 200

Progress = Callable[[str], None]
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_LEFTOVER_TAG = re.compile(r"\{\{|\{%")
_TAG_GAP = "\x00"  # where a tag stood in a template's text: braces on either side of it are no tag


class ConversionError(Exception):
    """LibreOffice did not make every PDF; the run is abandoned (exit status 1)."""


class NoOfficeError(InputError):
    """``--pdf`` without LibreOffice on the machine (exit status 2, checked before the run starts)."""


# --- Word templates -----------------------------------------------------------------------------

class WordTemplate:
    """One checked ``.docx`` template, rendered with a shared sandbox that compiles each part once."""

    def __init__(self, file: TemplateFile, env):
        self.file = file
        self.env = env
        self.sources = self._sources()
        self.source = "\n".join(self.sources)

    @property
    def label(self) -> str:
        return self.file.label

    def _sources(self) -> list[str]:
        """The Jinja source of the body, headers, footers and footnotes, as docxtpl prepares them."""
        try:
            template = DocxTemplate(BytesIO(self.file.data))
            template.init_docx()
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as error:
            raise TemplateInputError([Problem(self.label, "filen är inte ett Word-dokument (.docx). Öppna mallen i Word och "
                                                  "spara den som \"Word-dokument (*.docx)\".")]) from error
        sources = [template.patch_xml(template.get_xml())]
        for uri in (template.HEADER_URI, template.FOOTER_URI):
            sources.extend(template.patch_xml(template.get_part_xml(part)) for _, part in template.get_headers_footers(uri))
        for part in template.docx.part.package.parts:
            if part.content_type.endswith("wordprocessingml.footnotes+xml"):
                sources.append(template.patch_xml(part.blob.decode("utf-8")))
        return [_PARAGRAPH_START.sub(r"\n<w:p\1", s) for s in sources]

    def check(self, letter: bool, allowed: set[str] | None = None) -> None:
        """Syntax, filters and variable names in every part, without rendering; ``allowed``: the names a template
        of a later command may use (default: the run's, a letter's with ``letter``)."""
        problems = []
        for source in self.sources:
            try:
                check_source(self.env, source, self.label, context_names(letter) if allowed is None else allowed)
            except InputError as error:
                problems.extend(p for p in error.problems if p not in problems)
        left = None if problems else leftover_tag(self.env, self.sources)
        if left:
            problems.append(Problem(self.label, f'en tagg blev inte ifylld: "{left}". Skriv taggen hel, '
                                                "som {{ namn }} eller {% if … %}, och rätta mallen."))
        if problems:
            raise TemplateInputError(problems)

    def render(self, context: dict) -> bytes:
        """One document as .docx bytes through plain docxtpl; a template problem is an InputError naming the file."""
        template = DocxTemplate(BytesIO(self.file.data))
        with self._problems():
            template.render(context, jinja_env=self.env, autoescape=True)
        title = getattr(context.get("arende"), "rubrik", None)
        if title and not template.docx.core_properties.title:
            template.docx.core_properties.title = title  # shown as the PDF's and the file's title
        out = BytesIO()
        template.save(out)
        return out.getvalue()

    def prepare(self, title: str | None) -> PreparedTemplate:
        """The template compiled once for many letters (``render_members``); what no letter varies is rendered once."""
        return PreparedTemplate(self.file.data, self.env, default_title=title, per_document="mottagare")

    def render_members(self, prepared: PreparedTemplate, context: dict) -> dict[str, bytes]:
        """The changed zip members of one document, the same XML as ``render`` gives."""
        with self._problems():
            return prepared.render(context)

    @contextmanager
    def _problems(self):
        try:
            yield
        except etree.XMLSyntaxError as error:
            raise TemplateInputError([Problem(self.label, "taggarna ger ett trasigt Word-dokument, oftast för att en "
                                                  "{%p …%}-, {%tr …%}- eller {%tc …%}-tagg inte står ensam i sitt "
                                                  "stycke, sin tabellrad eller cell. Rätta taggarna i mallen.")]) from error
        except InputError:
            raise
        except Exception as error:
            raise TemplateInputError([render_problem(error, self.source, self.label)]) from error


def leftover_tag(env, sources: Sequence[str]) -> str | None:
    """Text around a ``{{``/``{%`` in a template's own text that is no tag (Word split it so that docxtpl
    could not join it), else None. Only the template is read: values are data and may hold braces."""
    for source in sources:
        text = plain_text(_TAG_GAP.join(value for _, kind, value in env.lex(source) if kind == "data"))
        match = _LEFTOVER_TAG.search(text)
        if match:
            return text[max(0, match.start() - 30):match.end() + 30].replace(_TAG_GAP, "…")
    return None


# --- the batch ----------------------------------------------------------------------------------

def letter_indices(allocation: Allocation) -> list[int]:
    """Recipients who get a letter: those whose total is above 0, in workbook order."""
    return [i for i, total in enumerate(allocation.totals) if total > 0]


class DocumentBatch:
    """The checked templates and contexts of one run, ready to write (see ``prepare_documents``)."""

    def __init__(self, case: Case, allocation: Allocation, templates: TemplateSet, contexts: ContextBuilder,
                 decision: WordTemplate, letter: WordTemplate, rendered: dict[str | int, bytes]):
        self.case = case
        self.allocation = allocation
        self.templates = templates
        self.contexts = contexts
        self.decision_template = decision
        self.letter_template = letter
        self._rendered = rendered

    def decision(self) -> bytes:
        return self._rendered.get("decision") or self.decision_template.render(self.contexts.decision())

    def letter(self, index: int) -> bytes:
        return self._rendered.get(index) or self.letter_template.render(self.contexts.letter(index))

    def write_decision(self, layout: RunLayout) -> tuple[Path, str]:
        """Write ``tjansteutlatande.docx`` into the (hidden) run folder: its path and SHA-256."""
        path = layout.decision
        digest = write_hashed(path, [self.decision()])
        self._rendered.pop("decision", None)
        return path, digest

    def letter_writer(self, layout: RunLayout) -> LetterWriter:
        """A writer of ``brev/<mottagare>.docx`` from the letter template, compiled once for the run."""
        indices = letter_indices(self.allocation)
        package = PackageCopier(self.letter(indices[0]) if indices else self.letter_template.file.data)
        self._rendered.clear()
        return LetterWriter(self, package, self.letter_template.prepare(self.case.info.title), layout, indices)


class LetterWriter:
    """Writes one recipient's letter at a time: the changed parts rendered, the rest of the package copied."""

    def __init__(self, batch: DocumentBatch, package: PackageCopier, prepared: PreparedTemplate, layout: RunLayout,
                 indices: list[int]):
        self.batch, self.package, self.prepared, self.layout = batch, package, prepared, layout
        self.indices = indices
        layout.letters.mkdir(exist_ok=True)

    def path(self, index: int, suffix: str = LETTER_SUFFIX) -> Path:
        """Where recipient ``index``'s letter is (``.pdf``: its PDF)."""
        return self.layout.letter(index, suffix)

    def write(self, index: int) -> tuple[Path, bytes, str]:
        """Recipient ``index``'s letter, written: its path, its content (for the e-mail) and its SHA-256."""
        members = self.batch.letter_template.render_members(self.prepared, self.batch.contexts.letter(index))
        document = self.package.document(members)
        path = self.path(index)
        return path, document, write_hashed(path, [document])


def prepare_documents(case: Case, allocation: Allocation, workbook: Path, *, cwd: Path | None = None,
                      today: dt.date | None = None, text_templates: Sequence[str] = (),
                      view: Presentation | None = None) -> DocumentBatch:
    """Find and check every template, and render the decision document and one letter in memory.

    ``text_templates`` (e.g. ``("epost.txt",)``) are checked too and rendered for the first letter's
    recipient. ``view`` is the run's presentation, if already made. Raises InputError with every
    template problem found, before anything is written.
    """
    templates = TemplateSet.for_case(case, Path(workbook), cwd)
    contexts = ContextBuilder(view or present(case, allocation), today)
    problems: list[Problem] = []
    loaded = _load_word_templates(templates, problems)
    first = letter_indices(allocation)[:1]
    trials = [(DECISION_TEMPLATE, "decision", contexts.decision())]
    trials += [(LETTER_TEMPLATE, i, contexts.letter(i)) for i in first]
    rendered: dict[str | int, bytes] = {}
    for name, key, context in trials:
        document = _trial_render(loaded[name], context, problems) if name in loaded else None
        if document:
            rendered[key] = document
    for name in text_templates:
        try:
            templates.text_template(name)
            for i in first:
                templates.render_text(name, contexts.letter(i))
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise TemplateInputError(problems)
    # python-docx parts point back to their package, so a trial document's XML tree (a hundred megabytes
    # for a decision document listing 10 000 recipients) lives in reference cycles until the collector
    # runs: collect it now, before letter workers are forked and would each inherit it.
    gc.collect()
    return DocumentBatch(case, allocation, templates, contexts, loaded[DECISION_TEMPLATE], loaded[LETTER_TEMPLATE],
                         rendered)


def _load_word_templates(templates: TemplateSet, problems: list[Problem]) -> dict[str, WordTemplate]:
    """Both Word templates, each checked; what is wrong goes to ``problems``."""
    env = word_environment()
    loaded = {}
    for name, letter in ((DECISION_TEMPLATE, False), (LETTER_TEMPLATE, True)):
        try:
            template = WordTemplate(templates.find(name), env)
            template.check(letter)
        except InputError as error:
            problems.extend(error.problems)
            continue
        loaded[name] = template
    return loaded


def _trial_render(template: WordTemplate, context: dict, problems: list[Problem]) -> bytes | None:
    """One document rendered in memory; a problem goes to ``problems``."""
    try:
        document = template.render(context)
    except InputError as error:
        problems.extend(error.problems)
        return None
    return document


# --- PDF through LibreOffice --------------------------------------------------------------------

OFFICE_NAMES = ("soffice", "libreoffice")
OFFICE_PATHS = ("/Applications/LibreOffice.app/Contents/MacOS/soffice",
                r"C:\Program Files\LibreOffice\program\soffice.exe",
                r"C:\Program Files (x86)\LibreOffice\program\soffice.exe")


def find_office() -> str:
    """The LibreOffice program; an InputError (exit 2) saying how to install it where there is none."""
    for name in OFFICE_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in OFFICE_PATHS:
        if Path(path).is_file():
            return path
    raise NoOfficeError([Problem("--pdf", "LibreOffice finns inte på den här datorn, så inga PDF-filer kan göras. "
                                       "Installera LibreOffice (Debian/Ubuntu: sudo apt-get install libreoffice-writer; "
                                       "Windows och macOS: libreoffice.org), eller kör utan --pdf.")])


def convert_to_pdf(documents: Sequence[Path], office: str, *, workers: int | None = None, chunk: int = PDF_CHUNK,
                   progress: Progress = lambda message: None) -> dict[Path, Path]:
    """A PDF beside every document: few LibreOffice processes, one per core, each with its own profile.

    LibreOffice has been seen to skip files at the end of a long list and still exit 0, so the
    documents go in chunks of at most ``chunk``, every PDF is checked afterwards, and what is
    missing is tried once more. Returns document → PDF; raises ConversionError if any is missing.
    """
    documents = [Path(d) for d in documents]
    workers = max(1, min(workers or os.cpu_count() or 1, len(documents)))
    progress(f"Gör PDF av {len(documents)} dokument med LibreOffice …")
    missing = _convert_all(documents, office, workers, chunk)
    if missing:
        missing = _convert_all(missing, office, workers, chunk)
    if missing:
        names = ", ".join(p.name for p in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise ConversionError(f"LibreOffice gjorde ingen PDF av {len(missing)} dokument ({names}). "
                              "Kör igen; hjälper inte det, kör utan --pdf och gör PDF från Word.")
    progress(f"Gjorde {len(documents)} PDF-filer.")
    return {d: d.with_suffix(".pdf") for d in documents}


def pdf_chunks(documents: Sequence[Path], workers: int, chunk: int) -> list[list[Path]]:
    """Balanced chunks of at most ``chunk`` files, a multiple of ``workers`` of them, no two PDFs named alike."""
    count = math.ceil(len(documents) / chunk)
    count = max(1, min(len(documents), math.ceil(count / workers) * workers))
    chunks: list[list[Path]] = [[] for _ in range(count)]
    for i, document in enumerate(documents):
        chunks[i % count].append(document)
    result = []
    for group in chunks:
        seen: dict[str, list[Path]] = {}
        for document in group:
            seen.setdefault(document.stem.casefold(), []).append(document)
        while any(seen.values()):
            result.append([paths.pop(0) for paths in seen.values() if paths])
    return sorted(result, key=len, reverse=True)


def _convert_all(documents: list[Path], office: str, workers: int, chunk: int) -> list[Path]:
    """Convert in parallel; return the documents whose PDF is missing or empty afterwards."""
    profiles: queue.Queue[Path] = queue.Queue()
    with tempfile.TemporaryDirectory(prefix="processor-lo-") as home:
        for n in range(workers):
            profiles.put(Path(home) / f"profil{n}")

        def job(group: list[Path]) -> None:
            profile = profiles.get()
            try:
                _run_office(office, profile, group)
            finally:
                profiles.put(profile)

        with ThreadPoolExecutor(workers) as pool:
            for future in [pool.submit(job, group) for group in pdf_chunks(documents, workers, chunk)]:
                future.result()
    return [d for d in documents if not _is_pdf(d.with_suffix(".pdf"))]


def _run_office(office: str, profile: Path, documents: list[Path]) -> None:
    """One LibreOffice process converting ``documents`` into a scratch folder, then each PDF moved beside its source."""
    scratch = Path(tempfile.mkdtemp(prefix="pdf-", dir=profile.parent))
    command = [office, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
               "--convert-to", "pdf", "--outdir", str(scratch), *map(str, documents)]
    env = dict(os.environ)
    if os.name != "nt" and "utf" not in (env.get("LC_ALL") or env.get("LANG") or "").lower().replace("-", ""):
        env["LC_ALL"] = "C.UTF-8"  # so LibreOffice reads å, ä and ö in file names
    try:
        subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env, timeout=120 + 5 * len(documents), check=False)
    except subprocess.TimeoutExpired:
        pass
    for document in documents:
        made = scratch / f"{document.stem}.pdf"
        if _is_pdf(made):
            shutil.move(made, document.with_suffix(".pdf"))
    shutil.rmtree(scratch, ignore_errors=True)


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(5) == b"%PDF-"
    except OSError:
        return False
