"""Templates as untrusted user content: where they are found, the sandbox they run in, what they see.

A template is looked up file by file: the workbook's ``Mallar`` folder, then ``templates/`` in
the working directory, then the defaults shipped in ``processor.templates``. It is rendered in a
Jinja2 sandbox with strict undefined variables, so a typo stops the run instead of leaving a
blank in an official letter. The context uses stable ASCII names (``arende.rubrik``,
``mottagare.belopp``); docs/mallar.md lists every one of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

from jinja2 import StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateRuntimeError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment

from processor import formats
from processor.appendix import APPENDIX_IN_LETTER_MAX, appendix_attached, appendix_title, area_groups
from processor.describe import basis_word, footnote, key_in_words, method_in_words, per_unit_in_words, round_ore
from processor.errors import InputError, Problem
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Allocation, Case, PostResult
from processor.swedish import did_you_mean, norm
from processor.validate import CASE_FIELDS

PACKAGE = "processor.templates"
CWD_FOLDER = "templates"
DECISION_SECTIONS = ("Sammanfattning", "Bakgrund", "Ärendet", "Ärendets beredning",
                     "Förvaltningens synpunkter och förslag", "Jämställdhetsanalys")
SECTION_ALIASES = {norm("Förvaltningens synpunkter"): norm("Förvaltningens synpunkter och förslag")}
LETTER_ONLY = ("mottagare",)

_XML_INVALID = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_XML_ELEMENT = re.compile(r"<[^>]+>")
_MAX_REPEAT = 100_000


# --- where templates come from ------------------------------------------------------------------

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

    def find(self, name: str) -> TemplateFile:
        """The template ``name``; an unreadable file is an InputError naming it."""
        for folder, shown in self.folders:
            path = folder / name
            if path.is_file():
                label = f"{shown.rstrip('/')}/{name}"
                try:
                    return TemplateFile(name, label, path.read_bytes())
                except OSError as error:
                    raise InputError([Problem(label, f"mallen går inte att läsa ({error.strerror}). "
                                                     "Stäng den i Word och kontrollera behörigheten.")]) from error
        return TemplateFile(name, f"{name} (standardmallen)", resources.files(PACKAGE).joinpath(name).read_bytes())

    def text_template(self, name: str) -> TextTemplate:
        """A plain-text template (e.g. ``epost.txt``), checked and compiled once."""
        if name not in self._text:
            file = self.find(name)
            try:
                source = file.data.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise InputError([Problem(file.label, "mallen är inte en textfil i UTF-8. Spara den som "
                                                      "\"Oformaterad text\" med kodningen UTF-8.")]) from error
            env = text_environment()
            check_source(env, source, file.label, allowed=context_names(letter=True))
            self._text[name] = TextTemplate(env.from_string(source), file.label, source)
        return self._text[name]

    def render_text(self, name: str, context: Mapping) -> str:
        """Render a plain-text template; any template problem is an InputError naming the file."""
        return self.text_template(name).render(context)


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
            raise InputError([render_problem(error, self.source, self.label)]) from error


# --- the sandbox --------------------------------------------------------------------------------

class EmptyValueError(UndefinedError):
    """A template printed a value the workbook leaves empty."""

    def __init__(self, message: str, word: str = ""):
        super().__init__(message)
        self.word = word


class Empty(StrictUndefined):
    """An empty field: false in ``{% if %}`` (and ``or``, ``default``), an error when printed."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Empty)

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, Empty)

    def __hash__(self) -> int:
        return id(type(self))


def empty(what: str, word: str) -> Empty:
    """An empty value described for a message (``fältet "Fakturaadress"``) and found by ``word`` in a tag."""
    return Empty(hint=what, name=word, exc=functools.partial(EmptyValueError, word=word))


class FilterError(TemplateRuntimeError):
    """A filter was given something it cannot format."""


class GuardedSandbox(SandboxedEnvironment):
    """The Jinja2 sandbox, with ``**`` and ``*`` kept from building huge numbers or strings."""

    intercepted_binops = frozenset(["**", "*"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise SecurityError("exponenten är för stor")
        if operator == "*":
            for count, other in ((left, right), (right, left)):
                if isinstance(count, int) and isinstance(other, (str, list, tuple)) and count * len(other) > _MAX_REPEAT:
                    raise SecurityError("texten eller listan blir för lång")
        return super().call_binop(context, operator, left, right)


class CachingSandbox(GuardedSandbox):
    """Compiles each distinct source once: docxtpl asks for the same letter XML once per recipient."""

    def __init__(self, **options):
        super().__init__(**options)
        self._compiled: dict[str, Template] = {}

    def from_string(self, source, globals=None, template_class=None):
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


def _plain(value):
    """Numbers with a Swedish decimal comma; other values unchanged."""
    if isinstance(value, (Decimal, Fraction, float)):
        if isinstance(value, Fraction):
            number = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            number = Decimal(str(value)) if isinstance(value, float) else value
        return str(int(number)) if number == number.to_integral_value() else format(number, "f").replace(".", ",")
    return value


def finalize_word(value):
    """Text for Word: XML-invalid characters dropped, blank lines become paragraphs (docxtpl's ``\\a``)."""
    value = _plain(value)
    if isinstance(value, str):
        text = _XML_INVALID.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
        return _PARAGRAPH_BREAK.sub("\a", text.strip("\n"))
    return value


def finalize_text(value):
    """Text for plain-text templates: control characters other than tab and newline dropped."""
    value = _plain(value)
    if isinstance(value, str):
        return _XML_INVALID.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value


def _strict(name: str, accepts: str):
    """Wrap a formatter as a filter: an empty value is the usual error, a wrong type a FilterError."""

    def wrap(function):
        @functools.wraps(function)
        def filter_(value, *args):
            if isinstance(value, Undefined):
                str(value)
            try:
                return function(value, *args)
            except (TypeError, ValueError, ArithmeticError) as error:
                raise FilterError(f'filtret "{name}" kan inte formatera {value!r}: det behöver {accepts}.') from error
        return filter_

    return wrap


def _number(value) -> Decimal | int | Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, Fraction, float)):
        raise TypeError(type(value).__name__)
    return Decimal(str(value)) if isinstance(value, float) else value


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise TypeError(type(value).__name__)


@_strict("kronor", "ett belopp")
def filter_kronor(value) -> str:
    return formats.kronor(_number(value))


@_strict("mnkr", "ett belopp")
def filter_mnkr(value, decimals: int = 1) -> str:
    return formats.mnkr(_number(value), int(decimals))


@_strict("tkr", "ett belopp")
def filter_tkr(value, decimals: int = 0) -> str:
    return formats.tkr(_number(value), int(decimals))


@_strict("procent", "ett tal i procent")
def filter_procent(value, decimals: int | None = None) -> str:
    return formats.percent(_number(value), None if decimals is None else int(decimals))


@_strict("tal", "ett tal")
def filter_tal(value, decimals: int | None = None) -> str:
    return formats.number(_number(value), None if decimals is None else int(decimals))


@_strict("datum", "ett datum (ÅÅÅÅ-MM-DD)")
def filter_datum(value) -> str:
    return formats.long_date(_date(value))


@_strict("versal", "en text")
def filter_versal(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:1].upper() + text[1:]


FILTERS = {"kronor": filter_kronor, "mnkr": filter_mnkr, "tkr": filter_tkr, "procent": filter_procent,
           "tal": filter_tal, "datum": filter_datum, "versal": filter_versal}


def word_environment() -> CachingSandbox:
    """The sandbox Word templates render in: autoescape on (docxtpl leaves it off), strict undefined."""
    env = CachingSandbox(undefined=StrictUndefined, autoescape=True, finalize=finalize_word)
    env.filters.update(FILTERS)
    return env


def text_environment() -> GuardedSandbox:
    """The sandbox plain-text templates (``epost.txt``) render in: no escaping, strict undefined."""
    env = GuardedSandbox(undefined=StrictUndefined, autoescape=False, finalize=finalize_text,
                         keep_trailing_newline=True)
    env.filters.update(FILTERS)
    return env


# --- checking and rendering, with Swedish messages ----------------------------------------------

def check_source(env, source: str, label: str, allowed: set[str]) -> None:
    """Syntax, filters and top-level variables of one template source, before anything renders."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        raise InputError([syntax_problem(error, source, label)]) from error
    problems = []
    for name in sorted({f.name for f in tree.find_all(nodes.Filter)} - set(env.filters)):
        problems.append(Problem(label, unknown_filter_message(name, source)))
    if problems:
        raise InputError(problems)  # the variable analysis below compiles, which needs known filters
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in sorted(meta.find_undeclared_variables(tree) - allowed - assigned - set(env.globals)):
        problems.append(Problem(label, undefined_message(name, source)))
    if problems:
        raise InputError(problems)


def unknown_filter_message(name: str, source: str) -> str:
    return (f'filtret "{name}" finns inte (i {tag_with(source, name)}).{did_you_mean(name, sorted(FILTERS))} '
            f"Tillgängliga filter: {', '.join(sorted(FILTERS))}. Rätta taggen i mallen.")


def undefined_message(name: str, source: str) -> str:
    if name in LETTER_ONLY:
        return (f'variabeln "{name}" finns bara i brev och e-post, inte i tjänsteutlåtandet (i {tag_with(source, name)}). '
                "Använd alla_mottagare för att gå igenom mottagarna.")
    return (f'variabeln "{name}" finns inte (i {tag_with(source, name)}).{did_you_mean(name, sorted(context_names(True)))} '
            "Rätta taggen; alla variabler står i mallguiden (docs/mallar.md).")


def syntax_problem(error: TemplateSyntaxError, source: str, label: str) -> Problem:
    """A syntax error as a Swedish message quoting the text around the broken tag."""
    message = str(error.message or error)
    filter_name = re.match(r"No filter named '([^']+)'", message)
    if filter_name:
        return Problem(label, unknown_filter_message(filter_name.group(1), source))
    unclosed = re.search(r"looking for the following tags: '(\w+)'.*block that needs to be closed is '(\w+)'", message, re.S)
    unknown = re.match(r"Encountered unknown tag '(\w+)'", message)
    if unclosed:
        what = f"{{% {unclosed.group(2)} %}} saknar sitt {{% end{unclosed.group(2)} %}}"
    elif unknown and unknown.group(1).startswith(("end", "else", "elif")):
        what = f"{{% {unknown.group(1)} %}} står utan något att avsluta"
    elif unknown:
        what = f"taggen {{% {unknown.group(1)} %}} finns inte"
    else:
        what = f"en tagg är felskriven (Jinja: {message})"
    where = line_text(source, error.lineno)
    near = f' vid texten "{where}"' if where and not unclosed else ""
    return Problem(label, f"{what}{near}. Rätta taggen i mallen: {{{{ … }}}} för värden, {{% … %}} för if och for.")


def render_problem(error: Exception, source: str, label: str) -> Problem:
    """A failure while rendering, as a Swedish message naming the tag where it can be found."""
    if isinstance(error, InputError):
        return error.problems[0]
    if isinstance(error, EmptyValueError):
        word = error.word
        return Problem(label, f"{error.message} är tomt i arbetsboken men skrivs ut av {tag_with(source, word)}. "
                              f"Fyll i värdet, eller skriv texten inom {{% if … %}} … {{% endif %}} så att den bara "
                              "kommer med när värdet finns.")
    if isinstance(error, SecurityError):
        unsafe = re.search(r"attribute '([^']+)'", str(error))
        if not unsafe:
            return Problem(label, f"en tagg ger ett för stort resultat ({error}). Rätta eller ta bort taggen.")
        return Problem(label, f"{tag_with(source, unsafe.group(1))} försöker nå Pythons inre delar, vilket inte är "
                              "tillåtet i en mall. Ta bort taggen; en mall får bara använda variablerna och filtren i "
                              "mallguiden (docs/mallar.md).")
    if isinstance(error, FilterError):
        return Problem(label, f"{error.message} Rätta taggen i mallen.")
    if isinstance(error, UndefinedError):
        message = str(error.message or error)
        variable = re.match(r"'([^']+)' is undefined", message)
        if variable:
            return Problem(label, undefined_message(variable.group(1), source))
        attribute = re.search(r"has no (?:attribute|element) '?([^']+?)'?$", message)
        name = attribute.group(1) if attribute else message
        return Problem(label, f'"{name}" finns inte (i {tag_with(source, name)}).'
                              f"{did_you_mean(name, sorted(attribute_names()))} "
                              "Rätta taggen; alla variabler står i mallguiden (docs/mallar.md).")
    if isinstance(error, TemplateSyntaxError):
        return syntax_problem(error, source, label)
    if isinstance(error, (TemplateError, TypeError, ValueError, ArithmeticError, LookupError)):
        return Problem(label, f"en tagg kunde inte fyllas i ({error}). Rätta taggen i mallen.")
    raise error


def plain_text(xml: str) -> str:
    return re.sub(r"\s+", " ", _XML_ELEMENT.sub("", xml)).strip()


def line_text(source: str, lineno: int | None) -> str:
    """The text of a source line (one Word paragraph, as docxtpl lays the XML out), shortened."""
    lines = source.splitlines()
    if not lineno or lineno > len(lines):
        return ""
    text = plain_text(lines[lineno - 1])
    return text if len(text) <= 80 else text[:77] + "…"


def tag_with(source: str, word: str) -> str:
    """``taggen {{ mottagare.bellopp }}``: the first tag that mentions ``word``, else ``en tagg``."""
    pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])", re.IGNORECASE)
    for match in _TAG.finditer(_XML_ELEMENT.sub("", source)):
        if pattern.search(match.group(0)):
            tag = re.sub(r"^(\{[{%])(?:p|tr|tc|r)\s", r"\1 ", match.group(0))
            return f"taggen {tag}"
    return "en tagg"


# --- the context --------------------------------------------------------------------------------

def slug(name: str) -> str:
    """A field or column name as a template name: ``Sista dag`` → ``sista_dag``, ``E-post`` → ``e_post``."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")


class Fields(Mapping):
    """Values by their Swedish name, looked up as the workbook compares names (case, spaces ignored).

    ``get`` gives an empty value for a name that is not there, so ``{% if falt.get("X") %}`` works
    and printing it is an error rather than a silent blank.
    """

    def __init__(self, values: Mapping[str, object], what: str = 'fältet "{name}" på bladet Ärende'):
        self._values = {norm(k): (k, v) for k, v in values.items()}
        self._what = what

    def __getitem__(self, name):
        key = norm(name)
        if key not in self._values:
            raise KeyError(name)
        original, value = self._values[key]
        return value if value is not None else empty(self._what.replace("{name}", original), str(name))

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default if default is not None else empty(self._what.replace("{name}", str(name)), str(name))

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._values.values())

    def __len__(self) -> int:
        return len(self._values)


class Texts(Mapping):
    """The ``Texter`` sheet: ``texter.Bakgrund`` or ``texter["Ärendets beredning"]``; empty when absent."""

    def __init__(self, sections: Sequence[tuple[str, str]]):
        self._sections = {section_key(h): (h, t) for h, t in sections}
        self.avsnitt = [SimpleNamespace(rubrik=h, text=t) for h, t in sections]

    def __getitem__(self, heading):
        found = self._sections.get(section_key(str(heading)))
        return found[1] if found else empty(f'avsnittet "{heading}" på bladet Texter', str(heading))

    def __iter__(self) -> Iterator[str]:
        return (heading for heading, _ in self._sections.values())

    def __len__(self) -> int:
        return len(self._sections)


def section_key(heading: str) -> str:
    """How section headings compare: loosely, and "Förvaltningens synpunkter" as the full heading."""
    key = norm(heading)
    return SECTION_ALIASES.get(key, key)


def large_amount(amount: int) -> str:
    """``53,7 mnkr`` from a million up, else ``800 000 kr``: how decision points state sums."""
    return formats.mnkr(amount) if amount >= 1_000_000 else formats.kronor(amount)


class LazyList(Sequence):
    """A list whose items are built when a template reaches them, so that a run never holds them all at once."""

    def __init__(self, length: int, build: Callable[[int], object]):
        self._length, self._build = length, build

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(index)
        return self._build(index % self._length)


class LazyNamespace(SimpleNamespace):
    """A namespace whose costly values are made when a template first reads them (then kept).

    A decision document lists every recipient but reads few of their texts; a letter reads its own.
    """

    def __init__(self, lazy: Mapping[str, Callable[[], object]], **values):
        super().__init__(**values)
        object.__setattr__(self, "_lazy", lazy)

    def __getattr__(self, name: str):
        lazy = self.__dict__.get("_lazy", {})
        if name not in lazy:
            raise AttributeError(name)
        value = lazy[name]()
        setattr(self, name, value)
        return value


class ContextBuilder:
    """The values every template sees, built once per case; letters add their recipient."""

    def __init__(self, case: Case, allocation: Allocation, today: dt.date | None = None):
        self.case = case
        self.allocation = allocation
        self.today = today or dt.date.today()
        self._sums: dict[tuple[str, str], Decimal] = {}
        self.columns = list(dict.fromkeys(c for r in case.recipients for c in [*r.bases, *r.texts]))
        self.post_views = {r.post.name: self._post(r) for r in allocation.posts}
        self.recipients = LazyList(len(case.recipients), self._recipient)
        self.common = self._common()

    def letter(self, index: int) -> dict:
        """The context of recipient ``index``'s letter and e-mail: everything plus ``mottagare``."""
        return {**self.common, "mottagare": self._recipient(index)}

    def decision(self) -> dict:
        return dict(self.common)

    def _common(self) -> dict:
        case, allocation = self.case, self.allocation
        info = case.info
        posts = list(self.post_views.values())
        areas = [SimpleNamespace(namn=area if area else empty("området", "omrade"),
                                 belopp=sum(r.amount for r in results),
                                 poster=[self.post_views[r.post.name] for r in results])
                 for area, results in area_groups(allocation)]
        return {
            "arende": self._case_fields(),
            "falt": Fields(info.fields),
            "summa": allocation.total,
            "poster": posts,
            "omraden": areas,
            "grupper": self._groups(),
            "alla_mottagare": self.recipients,
            "antal_mottagare": len(case.recipients),
            "antal_brev": sum(1 for t in allocation.totals if t > 0),
            "avstar": [r.name for r in case.recipients if not r.participates],
            "texter": Texts(case.texts),
            "ovriga_texter": [s for s in Texts(case.texts).avsnitt
                              if section_key(s.rubrik) not in {section_key(h) for h in DECISION_SECTIONS}],
            "beslutspunkter": self._decision_points(),
            "sammanstallning": self._summary(),
            "bilaga": SimpleNamespace(rubrik=appendix_title(case), titel=appendix_title(case).removeprefix("Bilaga 1: "),
                                      i_brevet=len(case.recipients) <= APPENDIX_IN_LETTER_MAX,
                                      bifogas=appendix_attached(case),
                                      fotnot=footnote(case, allocation),
                                      underlag_rubrik=self._basis_heading()),
            "dagens_datum": self.today,
        }

    def _case_fields(self) -> SimpleNamespace:
        info = self.case.info
        values: dict[str, object] = {}
        for name, value in info.fields.items():
            key = slug(name)
            if key.isidentifier() and key not in values:
                values[key] = value if value is not None else empty(f'fältet "{name}" på bladet Ärende', key)
        values.update(rubrik=info.title, medel_att_fordela=info.grant, overfort_fran_tidigare_ar=info.carried_over,
                      avrundning=info.rounding)
        for name in CASE_FIELDS:
            values.setdefault(slug(name), empty(f'fältet "{name}" på bladet Ärende', slug(name)))
        return SimpleNamespace(**values)

    def _post(self, result: PostResult) -> SimpleNamespace:
        post = result.post
        per_unit = round_ore(result.per_unit) if result.per_unit is not None else None
        return SimpleNamespace(
            namn=post.name, belopp=result.amount, metod=post.method,
            omrade=post.area or empty(f'området för posten "{post.name}"', "omrade"),
            beskrivning=method_in_words(result, self.case),
            nyckel_i_ord=key_in_words(post) if post.method == KEY else empty(f'nyckeln för posten "{post.name}"', "nyckel_i_ord"),
            nyckel=[SimpleNamespace(kolumn=p.column, vikt=p.weight) for p in post.key],
            per_enhet=per_unit if per_unit is not None else empty(f'beloppet per enhet för posten "{post.name}"', "per_enhet"),
            per_enhet_i_ord=per_unit_in_words(result) or empty(f'beloppet per enhet för posten "{post.name}"', "per_enhet_i_ord"),
            antal_mottagare=len(result.shares),
        )

    def _recipient(self, index: int) -> LazyNamespace:
        """Recipient ``index`` as templates see it; its texts are made when a template reads them."""
        recipient = self.case.recipients[index]
        allocation = self.allocation
        return LazyNamespace(
            {"poster": lambda: [self._recipient_post(result, index) for result in allocation.posts
                                if index in result.shares],
             "underlag": lambda: self._bases_in_words(recipient, index) or "",
             "kolumner": lambda: Fields({**dict.fromkeys(self.columns), **recipient.bases, **recipient.texts},
                                        what=f'kolumnen "{{name}}" för mottagaren "{recipient.name}"'),
             "grupp": lambda: recipient.group or empty(f'gruppen för mottagaren "{recipient.name}"', "grupp"),
             "e_post": lambda: "; ".join(recipient.emails) or empty(f'e-postadressen för mottagaren "{recipient.name}"',
                                                                   "e_post")},
            namn=recipient.name, belopp=allocation.totals[index], nummer=index + 1, deltar=recipient.participates,
            adresser=list(recipient.emails),
        )

    def _recipient_post(self, result: PostResult, index: int) -> LazyNamespace:
        """One post in a recipient's letter: the post's own words (made once per post) and the recipient's part."""
        post, view = result.post, self.post_views[result.post.name]
        return LazyNamespace(
            {"underlag_i_ord": lambda: (self._share_in_words(result, index)
                                        or empty(f'underlaget för posten "{post.name}"', "underlag_i_ord")),
             "forklaring": lambda: self._explanation(result, index)},
            namn=post.name, belopp=result.shares[index], metod=post.method, omrade=view.omrade,
            beskrivning=view.beskrivning, nyckel_i_ord=view.nyckel_i_ord,
        )

    def _explanation(self, result: PostResult, index: int) -> str:
        """How the recipient's part of a post came about, for its letter: ``fast belopp``, ``… ert underlag: …``."""
        post = result.post
        count = len(result.shares)
        if post.method == FAST:
            return "fast belopp"
        if post.method == PER_RECIPIENT:
            return f"samma belopp till var och en av {count} mottagare"
        if post.method == EQUAL:
            return f"lika delar mellan {count} mottagare"
        return f"fördelas {self.post_views[post.name].nyckel_i_ord}; ert underlag: {self._share_in_words(result, index)}"

    def _share_in_words(self, result: PostResult, index: int) -> str:
        """``befolkning 48 214 av 888 837`` for each basis of a key post; empty for other methods."""
        post = result.post
        if post.method != KEY:
            return ""
        parts = []
        for part in post.key:
            mine = self.case.recipients[index].bases.get(part.column, Decimal(0))
            parts.append(f"{basis_word(part.column)} {formats.number(mine)} av {formats.number(self._whole(result, part.column))}")
        return ", ".join(parts)

    def _whole(self, result: PostResult, column: str) -> Decimal:
        """A key column's sum over a post's recipients, computed once per post (not per letter)."""
        key = (result.post.name, column)
        if key not in self._sums:
            self._sums[key] = sum((self.case.recipients[j].bases.get(column, Decimal(0)) for j in result.shares),
                                  Decimal(0))
        return self._sums[key]

    def _basis_columns(self) -> list[str]:
        seen: list[str] = []
        for post in self.case.posts:
            if post.method == KEY:
                seen.extend(p.column for p in post.key if p.column not in seen)
        return seen

    def _basis_heading(self) -> str:
        columns = self._basis_columns()
        return columns[0] if len(columns) == 1 else ("Underlag" if columns else "")

    def _bases_in_words(self, recipient, index: int) -> str:
        """The recipient's basis values: ``23 178`` for one basis column, ``Befolkning 23 178, …`` for several."""
        if not recipient.participates:
            return "avstår"
        columns = [c for c in self._basis_columns() if c in recipient.bases]
        if len(self._basis_columns()) == 1 and columns:
            return formats.number(recipient.bases[columns[0]])
        return ", ".join(f"{c} {formats.number(recipient.bases[c])}" for c in columns)

    def _groups(self) -> list[SimpleNamespace]:
        groups: dict[str, list[int]] = {}
        for i, recipient in enumerate(self.case.recipients):
            if recipient.group:
                groups.setdefault(recipient.group, []).append(i)
        return [SimpleNamespace(namn=name, antal=len(members), belopp=sum(self.allocation.totals[i] for i in members),
                                mottagare=[self.case.recipients[i].name for i in members])
                for name, members in groups.items()]

    def _decision_points(self) -> list[str]:
        """The proposed decisions: approve the distribution, delegate the payments (seeds 001, 002)."""
        info = self.case.info
        committee = info.fields.get("Nämnd") or "Nämnden"
        year = info.fields.get("År")
        year_text = f" {_plain(year)}" if year is not None else ""
        amount = large_amount(self.allocation.total)
        return [
            f"{committee} godkänner förvaltningens förslag till fördelning av stimulansmedel{year_text} "
            f"motsvarande {amount}.",
            f"{committee} beslutar att delegera till förvaltningschefen att fördela stimulansmedel om {amount} "
            "utifrån den modell som föreslås i detta ärende.",
        ]

    def _post_words(self, result: PostResult) -> str:
        """The summary's description of a post: how it is split, with the amount per unit where there is one."""
        words = method_in_words(result, self.case)
        if result.per_unit is None:
            return words
        return f"{words} ({formats.kronor(round_ore(result.per_unit))} per enhet)"

    def _summary_row(self, index: int) -> SimpleNamespace:
        recipient = self.case.recipients[index]
        return SimpleNamespace(text=recipient.name, beskrivning=self._bases_in_words(recipient, index) or "",
                               belopp=self.allocation.totals[index], varav=False, rubrik=False)

    def _summary(self) -> SimpleNamespace:
        """The decision document's table: areas with "varav" lines for their posts, or one row per recipient."""
        allocation = self.allocation
        rows = []
        if len(allocation.posts) == 1:
            return SimpleNamespace(rubriker=["Mottagare", self._basis_heading(), "Belopp, kr"],
                                   rader=LazyList(len(self.case.recipients), self._summary_row),
                                   summa=allocation.total, per_mottagare=True)
        for area, results in area_groups(allocation):
            if area is None or len(results) == 1:
                for result in results:
                    text = f"{area}: {result.post.name}" if area and area != result.post.name else result.post.name
                    rows.append(SimpleNamespace(text=text, beskrivning=self._post_words(result),
                                                belopp=result.amount, varav=False, rubrik=False))
                continue
            rows.append(SimpleNamespace(text=area, beskrivning="", belopp=sum(r.amount for r in results),
                                        varav=False, rubrik=True))
            for result in results:
                rows.append(SimpleNamespace(text=f"varav {result.post.name}", beskrivning=self._post_words(result),
                                            belopp=result.amount, varav=True, rubrik=False))
        heading = "Område och post" if any(r.post.area for r in allocation.posts) else "Post"
        return SimpleNamespace(rubriker=[heading, "Fördelning", "Belopp, kr"], rader=rows, summa=allocation.total,
                               per_mottagare=False)


def context_names(letter: bool) -> set[str]:
    """The top-level names a template may use (``mottagare`` only in letters and e-mail)."""
    names = {"arende", "falt", "summa", "poster", "omraden", "grupper", "alla_mottagare", "antal_mottagare",
             "antal_brev", "avstar", "texter", "ovriga_texter", "beslutspunkter", "sammanstallning", "bilaga",
             "dagens_datum"}
    return names | set(LETTER_ONLY) if letter else names


def attribute_names() -> set[str]:
    """Every attribute name the context's objects have, for "Menade du …?" suggestions."""
    return {"rubrik", "diarienummer", "datum", "sista_dag", "avsandare", "avdelning", "namnd", "handlaggare", "telefon",
            "e_post", "undertecknare", "undertecknarens_titel", "fakturaadress", "faktura_e_post", "fakturareferens",
            "overenskommelse", "amne", "ar", "medel_att_fordela", "overfort_fran_tidigare_ar", "avrundning", "nyckel",
            "namn", "belopp", "metod", "omrade", "beskrivning", "nyckel_i_ord", "per_enhet", "per_enhet_i_ord",
            "antal_mottagare", "nummer", "grupp", "deltar", "adresser", "poster", "underlag", "kolumner",
            "underlag_i_ord", "antal", "mottagare", "text", "varav", "rader", "rubriker", "i_brevet", "fotnot",
            "underlag_rubrik", "per_mottagare", "titel", "forklaring", "avsnitt", "kolumn", "vikt",
            "bilaga_lank", "bifogas"}
