"""The sandbox templates render in: Jinja2's, with undefined values that say what is missing, Swedish filters
and Word-safe output.

A template is untrusted user content (a dropped workbook chooses its template folder), so it runs in
Jinja2's sandbox with strict undefined values: a typo or an empty field stops the run instead of
leaving a blank in an official letter. Every undefined value carries the name that is missing and
what it belongs to, so that the Swedish message is built from data (see ``template_errors``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from fractions import Fraction
from collections.abc import Iterable, MutableMapping
from itertools import islice
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from processor import formats
from processor.template_limits import (CONCAT_GUARD, LOOP_GUARD, MAX_OUTPUT, MAX_REPEAT, LimitError, bounded_concat,
                                       bounded_filters, bounded_range, charged, check_format, check_length, count,
                                       counted, guard_tree, percent_specs, string_method_args)


_XML_INVALID = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


# --- undefined and empty values -----------------------------------------------------------------

class MissingError(UndefinedError):
    """A template used a name that is not there: ``name``, and ``owner``, the value it was looked up on
    (``jinja2.utils.missing`` for a top-level variable)."""

    def __init__(self, message: str | None = None, *, name: object = None, owner: object = missing):
        super().__init__(message)
        self.name = name
        self.owner = owner

    @property
    def is_variable(self) -> bool:
        """Whether the missing name is a top-level variable rather than an attribute or item of a value."""
        return self.owner is missing


class EmptyValueError(MissingError):
    """A template printed a value the workbook leaves empty; ``what`` describes it (``fältet "Fakturaadress"
    på bladet Ärende``), ``name`` is the word a tag uses for it."""

    def __init__(self, message: str | None = None, *, name: object = None, what: str = ""):
        super().__init__(message, name=name)
        self.what = what


class UnsafeAccessError(SecurityError):
    """A template reached for an attribute the sandbox keeps from it (Python's inner parts)."""

    def __init__(self, message: str | None = None, *, attribute: str = ""):
        super().__init__(message)
        self.attribute = attribute


class Missing(StrictUndefined):
    """A name that is not there: any use but a test (``{% if %}``, ``is defined``) raises a MissingError
    that carries the name and its owner."""

    __slots__ = ()

    def __init__(self, hint: str | None = None, obj: object = missing, name: str | None = None,
                 exc: type[TemplateRuntimeError] = UndefinedError):
        if exc is UndefinedError:
            exc = functools.partial(MissingError, name=name, owner=obj)
        super().__init__(hint, obj, name, exc)


class Empty(Missing):
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
    return Empty(hint=what, name=word, exc=functools.partial(EmptyValueError, name=word, what=what))


class FilterError(TemplateRuntimeError):
    """A filter was given something it cannot format."""


# --- the environments ---------------------------------------------------------------------------

class GuardedSandbox(SandboxedEnvironment):
    """The Jinja2 sandbox, bounded in time and memory: a dropped workbook chooses its template folder.

    Every value a template builds (by an operator, ``~``, a filter or a method) is at most MAX_TEXT
    long, and one that would be far longer is refused before it is built; a rendering takes at most
    MAX_WORK steps (loop turns, calls, and the characters built) and writes at most MAX_OUTPUT
    characters. Where a step is counted, the rendering's budget lives on Jinja's per-rendering
    evaluation context.
    """

    intercepted_binops = frozenset(["**", "*", "+", "%"])  # intercepted ones are never folded at compile time

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals.update(range=bounded_range, **{LOOP_GUARD: counted, CONCAT_GUARD: bounded_concat})

    def _parse(self, source, name, filename):
        """The template tree with every ``{% for %}`` counting its turns and every ``~`` bounded."""
        tree = guard_tree(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    def concat(self, parts: Iterable[str]) -> str:
        """A rendering's pieces joined, refused once they pass MAX_OUTPUT characters (checked every 64 pieces:
        each is a template's own text or a value, and a value a template builds is at most MAX_TEXT)."""
        pieces, size, parts = [], 0, iter(parts)
        while chunk := list(islice(parts, 64)):
            pieces.append("".join(chunk))
            size += len(pieces[-1])
            if size > MAX_OUTPUT:
                raise LimitError(f"dokumentet blir längre än {count(MAX_OUTPUT)} tecken")
        return "".join(pieces)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise LimitError("exponenten är för stor")
        if operator == "*":
            for times, other in ((left, right), (right, left)):
                if isinstance(times, int) and isinstance(other, (str, list, tuple)) and times * len(other) > MAX_REPEAT:
                    raise LimitError("texten eller listan blir för lång")
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            check_length(len(left) + len(right))
        if operator == "%" and isinstance(left, str):
            check_format(percent_specs(left), right if isinstance(right, tuple) else (right,))
        return charged(context.eval_ctx, super().call_binop(context, operator, left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format in its own formatter
        if isinstance(getattr(method, "__self__", None), str):
            args = string_method_args(method.__self__, getattr(method, "__name__", ""), args, kwargs)
        return charged(context.eval_ctx, super().call(context, obj, *args, **kwargs))

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """An attribute kept from templates: an undefined value whose use raises UnsafeAccessError."""
        return self.undefined(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe.",
                              name=attribute, obj=obj, exc=functools.partial(UnsafeAccessError, attribute=attribute))


class CachingSandbox(GuardedSandbox):
    """Parses and compiles each distinct source once: the check reads a template's tree before it renders, and
    docxtpl asks for the same letter XML once per recipient."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self._compiled: dict[str, Template] = {}
        self._trees: dict[str, nodes.Template] = {}

    def _parse(self, source, name, filename):
        if name is not None or filename is not None:
            return super()._parse(source, name, filename)
        if source not in self._trees:
            self._trees[source] = super()._parse(source, name, filename)
        return self._trees[source]

    def from_string(self, source: str | nodes.Template, globals: MutableMapping[str, Any] | None = None,
                    template_class: type[Template] | None = None) -> Template:
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


def word_environment() -> CachingSandbox:
    """The sandbox Word templates render in: autoescape on (docxtpl leaves it off), strict undefined."""
    env = CachingSandbox(undefined=Missing, autoescape=True, finalize=finalize_word)
    env.filters = bounded_filters({**env.filters, **FILTERS})
    return env


def text_environment() -> GuardedSandbox:
    """The sandbox plain-text templates (``epost.txt``) render in: no escaping, strict undefined."""
    env = GuardedSandbox(undefined=Missing, autoescape=False, finalize=finalize_text, keep_trailing_newline=True)
    env.filters = bounded_filters({**env.filters, **FILTERS})
    return env


# --- what a printed value becomes ---------------------------------------------------------------

def plain_value(value: Any) -> Any:
    """Numbers with a Swedish decimal comma; other values unchanged."""
    if isinstance(value, (Decimal, Fraction, float)):
        if isinstance(value, Fraction):
            number = Decimal(value.numerator) / Decimal(value.denominator)
        else:
            number = Decimal(str(value)) if isinstance(value, float) else value
        return str(int(number)) if number == number.to_integral_value() else format(number, "f").replace(".", ",")
    return value


def finalize_word(value: Any) -> Any:
    """Text for Word: XML-invalid characters dropped, blank lines become paragraphs (docxtpl's ``\\a``)."""
    value = finalize_text(value)
    return _PARAGRAPH_BREAK.sub("\a", value.strip("\n")) if isinstance(value, str) else value


def finalize_text(value: Any) -> Any:
    """Text for plain-text templates: control characters other than tab and newline dropped."""
    value = plain_value(value)
    if isinstance(value, str):
        return _XML_INVALID.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value


# --- the Swedish filters ------------------------------------------------------------------------

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
def filter_kronor(value: Any) -> str:
    return formats.kronor(_number(value))


@_strict("mnkr", "ett belopp")
def filter_mnkr(value: Any, decimals: int = 1) -> str:
    return formats.mnkr(_number(value), int(decimals))


@_strict("tkr", "ett belopp")
def filter_tkr(value: Any, decimals: int = 0) -> str:
    return formats.tkr(_number(value), int(decimals))


@_strict("procent", "ett tal i procent")
def filter_procent(value: Any, decimals: int | None = None) -> str:
    return formats.percent(_number(value), None if decimals is None else int(decimals))


@_strict("tal", "ett tal")
def filter_tal(value: Any, decimals: int | None = None) -> str:
    return formats.number(_number(value), None if decimals is None else int(decimals))


@_strict("datum", "ett datum (ÅÅÅÅ-MM-DD)")
def filter_datum(value: Any) -> str:
    return formats.long_date(_date(value))


@_strict("versal", "en text")
def filter_versal(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text[:1].upper() + text[1:]


FILTERS = {"kronor": filter_kronor, "mnkr": filter_mnkr, "tkr": filter_tkr, "procent": filter_procent,
           "tal": filter_tal, "datum": filter_datum, "versal": filter_versal}
