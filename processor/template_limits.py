"""Limits on what a template may build, so that a template (which a dropped workbook chooses) cannot take the
machine's time or memory: checks made before a value is built, a step budget per rendering, and the guards
``sandbox.GuardedSandbox`` rewrites loops and ``~`` to call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined, markup_join, str_join
from markupsafe import soft_str

MAX_REPEAT = 100_000  # characters or items of one ``*`` repetition
MAX_TEXT = 1_000_000  # characters (or items) of any one value a template builds
MAX_OUTPUT = 100_000_000  # characters one template part renders (a decision document for 10 000 recipients: 9 M)
MAX_WORK = 2_000_000  # steps of one rendering (loop turns, calls, one per 100 characters built; that document: 69 000)
MAX_RANGE = 100_000  # numbers of one range()


class LimitError(SecurityError):
    """A template would build more than the sandbox allows; the message says what, in Swedish."""


LOOP_GUARD = "_processor_loop"
CONCAT_GUARD = "_processor_concat"
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_SPEC = re.compile(r"\{[^{}:]*:((?:[^{}]|\{[^{}]*\})*)\}")
_TAKES_CONTEXT = pass_context(lambda: None).jinja_pass_arg
_TAKES_EVAL_CONTEXT = pass_eval_context(lambda: None).jinja_pass_arg


def count(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def check_length(length: int) -> None:
    if length > MAX_TEXT:
        raise LimitError(f"texten eller listan blir längre än {count(MAX_TEXT)} tecken")


Value = TypeVar("Value")


def charged(eval_ctx: EvalContext, value: Value) -> Value:
    """``value``, unless it is a text or list longer than MAX_TEXT; counts one step, and one per 100 of its
    characters or items, against the rendering's MAX_WORK (kept on Jinja's per-rendering evaluation context)."""
    size = len(value) if isinstance(value, (str, list, tuple)) else 0
    check_length(size)
    spent = getattr(eval_ctx, "processor_work", 0) + 1 + size // 100
    if spent > MAX_WORK:
        raise LimitError(f"mallen kräver mer än {count(MAX_WORK)} steg, oftast för att slingorna går för många varv")
    eval_ctx.processor_work = spent
    return value


def check_format(specs: list[str], args: Iterable[Any]) -> None:
    """Widths and precisions in a format string, and the numbers a ``*`` or nested ``{}`` takes, within MAX_TEXT."""
    numbers = [int(n) for spec in specs for n in re.findall(r"\d+", spec)]
    if any("*" in spec or "{" in spec for spec in specs):
        numbers += [a for a in args if isinstance(a, int)]
    if numbers and max(numbers) > MAX_TEXT:
        raise LimitError(f"en bredd eller ett antal decimaler är större än {count(MAX_TEXT)}")


def percent_specs(text: str) -> list[str]:
    return ["".join(found) for found in _PERCENT_SPEC.findall(text)]


def _check_width(width) -> None:
    if isinstance(width, int):
        check_length(width)


def _joined(separator, items) -> list:
    """The items of a join as a list, once their joined length is known to be within MAX_TEXT."""
    items = list(items)
    text = sum(len(i) for i in items if isinstance(i, str))
    check_length(text + len(str(separator)) * max(0, len(items) - 1))
    return items


def _check_replace(value: str, old, new, count) -> None:
    if isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        times = value.count(old) if old else len(value) + 1
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        check_length(len(value) + times * (len(new) - len(old)))


def string_method_args(text: str, method: str, args: tuple, kwargs: dict) -> tuple:
    """The arguments of a string method a template calls, checked (and a join's items listed) before it runs."""
    if method in ("center", "ljust", "rjust", "zfill") and args:
        _check_width(args[0])
    elif method == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            check_length(len(text) + text.count("\t") * tabsize)
    elif method == "join" and args:
        return (_joined(text, args[0]), *args[1:])
    elif method == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
    elif method in ("format", "format_map"):
        check_format(_BRACE_SPEC.findall(text), (*args, *kwargs.values()))
    return args


_CHECKED_FILTERS = frozenset(["center", "indent", "join", "replace", "format", "wordwrap", "slice"])


def _filter_args(name: str, value, args: tuple, kwargs: dict):
    """The value of a filter that could build a huge text, checked (and a join's items listed) before it runs."""
    if name == "center":
        _check_width(args[0] if args else kwargs.get("width", 80))
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        width = width if isinstance(width, int) else len(str(width))
        check_length(len(str(value)) + (str(value).count("\n") + 1) * width)
    elif name == "join":
        return _joined(args[0] if args else kwargs.get("d", ""), value)
    elif name == "replace" and len(args) >= 2:
        _check_replace(str(value), args[0], args[1], args[2] if len(args) > 2 and args[2] is not None else -1)
    elif name == "format":
        check_format(percent_specs(str(value)), (*args, *kwargs.values()))
    elif name == "wordwrap":
        wrapstring = args[2] if len(args) > 2 else kwargs.get("wrapstring")
        if wrapstring:
            check_length(len(str(value)) * (1 + len(str(wrapstring))))
    elif name == "slice":
        bounded_range(args[0] if args and isinstance(args[0], int) else 0)
    return value


def bounded_range(*args: int) -> range:
    """``range`` of at most MAX_RANGE numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitError(f"range() ger mer än {count(MAX_RANGE)} tal")
    return numbers


class _Counted:
    """A loop's items, each turn counted against the rendering's MAX_WORK; its length is the items' own."""

    __slots__ = ("_items", "_eval_ctx")

    def __init__(self, items, eval_ctx):
        self._items, self._eval_ctx = items, eval_ctx

    def __iter__(self):
        for item in self._items:
            charged(self._eval_ctx, None)
            yield item

    def __len__(self) -> int:
        return len(self._items)


@pass_eval_context
def counted(eval_ctx: EvalContext, items: Sequence[Any]) -> _Counted:
    """What a ``{% for %}`` loops over (``GuardedSandbox._parse`` has every loop call this)."""
    return _Counted(items, eval_ctx)


@pass_eval_context
def bounded_concat(eval_ctx: EvalContext, parts: Sequence[Any]) -> str:
    """``a ~ b`` as Jinja joins it (markup_join where it escapes), refused past MAX_TEXT characters."""
    check_length(sum(len(soft_str(part)) for part in parts))
    return markup_join(parts) if eval_ctx.autoescape or eval_ctx.volatile else str_join(parts)


def guard_tree(tree: nodes.Template) -> nodes.Template:
    """A parsed template with every ``{% for %}`` counting its turns (``counted``) and every ``~`` bounded
    (``bounded_concat``)."""
    for loop in tree.find_all(nodes.For):
        loop.iter = _guarded(loop.iter, LOOP_GUARD)
    for parent in reversed(list(tree.find_all(nodes.Node))):  # inner ``~`` first
        for field, value in parent.iter_fields():
            if isinstance(value, nodes.Concat):
                setattr(parent, field, _guarded_concat(value))
            elif isinstance(value, list) and any(isinstance(item, nodes.Concat) for item in value):
                setattr(parent, field, [_guarded_concat(i) if isinstance(i, nodes.Concat) else i for i in value])
    return tree


def _guarded(node: nodes.Expr, guard: str) -> nodes.Call:
    call = nodes.Call(nodes.Name(guard, "load"), [node], [], None, None)
    call.set_lineno(node.lineno)
    return call


def _guarded_concat(node: nodes.Concat) -> nodes.Call:
    return _guarded(nodes.List(node.nodes, lineno=node.lineno), CONCAT_GUARD)


def bounded_filters(filters: dict) -> dict:
    """Every filter with its result kept within MAX_TEXT and counted against MAX_WORK; the ones that could build
    a huge text checked before they run."""
    return {name: _bounded_filter(name, function) for name, function in filters.items()}


def _bounded_filter(name: str, function):
    takes = getattr(function, "jinja_pass_arg", None)
    checked = name in _CHECKED_FILTERS

    @pass_context
    def bounded(context, value, *args, **kwargs):
        if checked and not isinstance(value, Undefined):
            value = _filter_args(name, value, args, kwargs)
        if takes is None:
            result = function(value, *args, **kwargs)
        elif takes is _TAKES_CONTEXT:
            result = function(context, value, *args, **kwargs)
        elif takes is _TAKES_EVAL_CONTEXT:
            result = function(context.eval_ctx, value, *args, **kwargs)
        else:
            result = function(context.environment, value, *args, **kwargs)
        return charged(context.eval_ctx, result)

    return functools.update_wrapper(bounded, function, updated=())
