"""Template problems as located Swedish messages: checking a source before it renders, and turning a
failure while rendering into a Problem that names the template file and quotes the tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jinja2 import Environment, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateAssertionError, TemplateSyntaxError

from processor.errors import InputError, Problem, TemplateInputError
from processor.sandbox import FILTERS, EmptyValueError, FilterError, MissingError, UnsafeAccessError
from processor.template_limits import LimitError
from processor.swedish import did_you_mean
from processor.context import LETTER_ONLY, attribute_names, context_names

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_XML_ELEMENT = re.compile(r"<[^>]+>")
_CONDITION = re.compile(r"\{%-?\s*(?:if|elif)\b")
CASE_VARIABLE = "arende"


def check_source(env: Environment, source: str, label: str, allowed: set[str]) -> None:
    """Syntax, filters and top-level variables of one template source, before anything renders."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateInputError([syntax_problem(error, source, label, env)]) from error
    problems = []
    for name in sorted({f.name for f in tree.find_all(nodes.Filter)} - set(env.filters)):
        problems.append(Problem(label, unknown_filter_message(name, source)))
    if problems:
        raise TemplateInputError(problems)  # the variable analysis below compiles, which needs known filters
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in sorted(meta.find_undeclared_variables(tree) - allowed - assigned - set(env.globals)):
        problems.append(Problem(label, undefined_message(name, source)))
    if problems:
        raise TemplateInputError(problems)


def unknown_filter_message(name: str, source: str) -> str:
    return (f'filtret "{name}" finns inte (i {tag_with(source, name)}).{did_you_mean(name, sorted(FILTERS))} '
            f"Tillgängliga filter: {', '.join(sorted(FILTERS))}. Rätta taggen i mallen.")


def undefined_message(name: str, source: str) -> str:
    if name in LETTER_ONLY:
        return (f'variabeln "{name}" finns bara i brev och e-post, inte i tjänsteutlåtandet (i {tag_with(source, name)}). '
                "Använd alla_mottagare för att gå igenom mottagarna.")
    return (f'variabeln "{name}" finns inte (i {tag_with(source, name)}).{did_you_mean(name, sorted(context_names(True)))} '
            "Rätta taggen; alla variabler står i mallguiden (docs/mallar.md).")


def syntax_problem(error: TemplateSyntaxError, source: str, label: str, env: Environment | None = None) -> Problem:
    """A syntax error as a Swedish message quoting the text around the broken tag.

    What is wrong with the ``{% … %}`` tags is found from the template's own tokens (``tag_fault``);
    any other mistake quotes Jinja's message as it is.
    """
    env = env or Environment()
    unknown_filters = _unknown_filters(env, source) if isinstance(error, TemplateAssertionError) else []
    if unknown_filters:
        return Problem(label, unknown_filter_message(unknown_filters[0], source))
    fault = tag_fault(env, source, error.lineno)
    what, unclosed = fault if fault else (f"en tagg är felskriven (Jinja: {error.message or error})", False)
    where = line_text(source, error.lineno)
    near = f' vid texten "{where}"' if where and not unclosed else ""
    return Problem(label, f"{what}{near}. Rätta taggen i mallen: {{{{ … }}}} för värden, {{% … %}} för if och for.")


_BLOCK_MIDDLES = {"if": ("elif", "else"), "for": ("else",), "macro": (), "call": (), "filter": (), "with": (),
                  "autoescape": (), "block": (), "set": ()}
_STATEMENTS = {"extends", "print", "include", "from", "import", "set"}


def tag_fault(env: Environment, source: str, lineno: int | None) -> tuple[str, bool] | None:
    """What is wrong with the block tags of a source Jinja could not parse, in Swedish, and whether it is a block
    left open; None where the tags are not the fault Jinja met (at ``lineno``)."""
    try:
        tokens = [token for token in env.lex(source) if token[1] != "whitespace"]
    except TemplateSyntaxError:
        return None
    known = _STATEMENTS | {tag for extension in env.extensions.values() for tag in extension.tags}
    open_blocks: list[tuple[str, tuple[str, ...]]] = []  # each open block and the tags it may still take inside
    for index, (line, kind, _) in enumerate(tokens[:-1]):
        if kind != "block_begin" or tokens[index + 1][1] != "name":
            continue
        name = tokens[index + 1][2]
        top, middles = open_blocks[-1] if open_blocks else (None, ())
        if top and name == f"end{top}":
            open_blocks.pop()
        elif name in middles:
            open_blocks[-1] = (top, middles if name == "elif" else ())
        elif name in _BLOCK_MIDDLES and not (name == "set" and _assigns(tokens, index)):
            open_blocks.append((name, _BLOCK_MIDDLES[name]))
        elif name in known:
            continue
        elif line != lineno:
            return None
        elif top and not any(name == f"end{outer}" for outer, _ in open_blocks):
            return _unclosed(top), True
        elif name.startswith(("end", "else", "elif")):
            return f"{{% {name} %}} står utan något att avsluta", False
        else:
            return f"taggen {{% {name} %}} finns inte", False
    names = [name for name, _ in open_blocks]
    if names and _parses(env, source + "".join(f"{{% end{name} %}}" for name in reversed(names))):
        return _unclosed(names[-1]), True
    return None


def _unclosed(name: str) -> str:
    return f"{{% {name} %}} saknar sitt {{% end{name} %}}"


def _assigns(tokens, index: int) -> bool:
    """Whether the ``{% set %}`` tag at ``index`` assigns (``{% set x = … %}``) rather than opening a block."""
    for _, kind, value in tokens[index + 1:]:
        if kind == "block_end":
            return False
        if kind == "operator" and value == "=":
            return True
    return False


def _parses(env, source: str) -> bool:
    try:
        env.parse(source)
    except TemplateSyntaxError:
        return False
    return True


def _unknown_filters(env, source: str) -> list[str]:
    try:
        return sorted({f.name for f in env.parse(source).find_all(nodes.Filter)} - set(env.filters))
    except TemplateSyntaxError:
        return []


def render_problem(error: Exception, source: str, label: str) -> Problem:
    """A failure while rendering, as a Swedish message naming the tag where it can be found."""
    if isinstance(error, InputError):
        return error.problems[0]
    if isinstance(error, EmptyValueError):
        tag = failing_tag(source, str(error.name), template_line(error))
        test = f"{{% if {reference(tag, str(error.name)) or '…'} %}}"
        return Problem(label, f"{error.what} är tomt i arbetsboken men skrivs ut av {shown(tag)}. Fyll i värdet i "
                              f"arbetsboken, eller skriv taggen inom {test} … {{% endif %}} så att texten bara "
                              "kommer med när värdet finns.")
    if isinstance(error, UnsafeAccessError):
        return Problem(label, f"{tag_with(source, error.attribute)} försöker nå Pythons inre delar, vilket inte är "
                              "tillåtet i en mall. Ta bort taggen; en mall får bara använda variablerna och filtren i "
                              "mallguiden (docs/mallar.md).")
    if isinstance(error, LimitError):
        where = line_text(source, template_line(error))
        near = f' vid texten "{where}"' if where else ""
        return Problem(label, f"en tagg ger ett för stort resultat ({error}){near}. Rätta eller ta bort taggen; "
                              "gränserna för vad en mall får göra står i mallguiden (docs/mallar.md).")
    if isinstance(error, SecurityError):
        return Problem(label, f"en tagg ger ett för stort resultat ({error}). Rätta eller ta bort taggen.")
    if isinstance(error, FilterError):
        return Problem(label, f"{error.message} Rätta taggen i mallen.")
    if isinstance(error, MissingError):
        name = str(error.name)
        if error.is_variable:
            return Problem(label, undefined_message(name, source))
        tag = failing_tag(source, name, template_line(error))
        field = (" eller lägg till fältet på bladet Ärende"
                 if (reference(tag, name) or "").startswith(f"{CASE_VARIABLE}.") else "")
        return Problem(label, f'"{name}" finns inte (i {shown(tag)}).{did_you_mean(name, sorted(attribute_names()))} '
                              f"Rätta taggen{field}; alla variabler står i mallguiden (docs/mallar.md).")
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
    return shown(next((tag for _, tag in tags_with(source, word)), None))


def tags_with(source: str, word: str) -> Iterator[tuple[int, str]]:
    """Each tag that mentions ``word``, with its line (docxtpl's tag prefixes ``p``, ``tr``, ``tc``, ``r`` left out)."""
    pattern = re.compile(rf"(?<![\w]){re.escape(word)}(?![\w])", re.IGNORECASE)
    text = _XML_ELEMENT.sub("", source)
    for match in _TAG.finditer(text):
        if pattern.search(match.group(0)):
            lineno = text.count("\n", 0, match.start()) + 1
            yield lineno, re.sub(r"^(\{[{%])(?:p|tr|tc|r)\s", r"\1 ", match.group(0))


def failing_tag(source: str, word: str, lineno: int | None) -> str | None:
    """The tag that used ``word`` when rendering failed: on the failing line if one there mentions it, and a tag
    that prints or loops before an ``{% if %}`` that only tests the value."""
    found = list(tags_with(source, word))
    if not found:
        return None
    return min(found, key=lambda item: (item[0] != lineno, bool(_CONDITION.match(item[1]))))[1]


def shown(tag: str | None) -> str:
    return f"taggen {tag}" if tag else "en tagg"


def reference(tag: str | None, word: str) -> str | None:
    """The name a tag reads ``word`` by (``arende.kontaktperson``, ``falt["Kontaktperson"]``), for a message's fix."""
    if not tag:
        return None
    found = re.search(rf"""\b[A-Za-z_]\w*(?:\.\w+|\[[^\]]*\])*?(?:\.{re.escape(word)}\b|\[\s*["']{re.escape(word)}["']\s*\])""",
                      tag)
    if found:
        return found.group(0)
    return word if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", tag) else None


def template_line(error: BaseException) -> int | None:
    """The template line where rendering failed, from the frames Jinja puts in the traceback."""
    line = None
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == "<template>":
            line = frame.tb_lineno
        frame = frame.tb_next
    return line
