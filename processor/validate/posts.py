"""The ``Fördelning`` sheet: one post per row, or without it the one default post by the case's key."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from processor.model import KEY, METHODS, PER_RECIPIENT, KeyPart, Post
from processor.swedish import closest, did_you_mean, norm, parse_number
from processor.validate.case_sheet import CaseSheet, misspelt_field
from processor.validate.cells import as_kronor, as_text, blank_row, quoted, value_at
from processor.validate.checker import Checker, cell
from processor.validate.keys import parse_key
from processor.validate.recipients import RecipientTable
from processor.validate.selection import check_selection, select_recipients
from processor.validate.sheets import has_header, header, header_below
from processor.vocabulary import (
    AMOUNT_COL, AREA_COL, CASE_SHEET, DEFAULT_POST, KEY_COL, KEY_FIELD, METHOD_COL, MODEL_SHEET, POST_COL, POST_COLS,
    RECIPIENT_SHEET, REQUIRED_POST_COLS, REST_WORD, SELECTION_COL, TOTAL_ROW_NAMES,
)
from processor.workbook import Sheet

METHOD_WORDS = "fast, lika, per mottagare eller nyckel"


@dataclass
class ParsedPost:
    """A post and the cells its messages point to."""

    post: Post
    amount_where: str
    key_where: str


@dataclass(frozen=True)
class RowAmount:
    """What one post row adds to the sum of the posts: kronor, the rest, or unknown until ``blocked_by`` is mended."""

    where: str
    kronor: int = 0
    is_rest: bool = False
    blocked_by: str | None = None
    name: str = ""


@dataclass
class PostSheet:
    """The usable posts, what every row adds to their sum, every key whose recipients are known,
    and every post whose method and amount are known (``priced``, for the rounding).

    A row with a problem is left out of ``posts`` but still counts in ``amounts``,
    ``key_uses`` and ``priced`` as far as its cells are sound, so those checks run too.
    """

    posts: list[ParsedPost] = field(default_factory=list)
    amounts: list[RowAmount] = field(default_factory=list)
    key_uses: list[Post] = field(default_factory=list)
    priced: list[ParsedPost] = field(default_factory=list)


def post_label(post: Post) -> str:
    """How messages name a post; the default one is the case's key, since the user never named it."""
    return f"nyckeln i {CASE_SHEET}" if post.is_default else f'posten "{post.name}"'


def read_model_sheet(sheet: Sheet, table: RecipientTable, check: Checker) -> PostSheet:
    """The posts, each checked; a post with a problem is reported and left out."""
    result = PostSheet()
    columns = _columns(sheet, check)
    if columns is None:
        if sheet.rows:
            result.amounts.append(RowAmount(MODEL_SHEET, blocked_by=f"{MODEL_SHEET}!A1"))
        return result
    state = _PostRowState({}, [], table, result)
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if not blank_row(raw):
            _read_post(r, raw, columns, state, check)
    if not state.names:
        check.error(MODEL_SHEET, "bladet har inga poster. Skriv en post per rad under rubrikraden, eller ta bort bladet "
                                 f'så fördelas allt efter fältet "{KEY_FIELD}" i {CASE_SHEET}.')
    elif table.blocked_by is not None:
        check.postpone(table.blocked_by, f"vilka mottagare posterna i {MODEL_SHEET} går till och nycklarnas kolumner")
    return result


@dataclass
class _PostRowState:
    """What reading the rows so far has found: post names by row, ``rest`` rows, and the result."""

    names: dict[str, int]
    rest_rows: list[int]
    table: RecipientTable
    result: PostSheet


def _columns(sheet: Sheet, check: Checker) -> dict[str, int] | None:
    """The header's columns with misspelt ones standing in, or None (and an error) without the required ones."""
    if not sheet.rows:
        check.error(MODEL_SHEET, "bladet är tomt. Skriv rubrikerna Post, Belopp, Metod, Nyckel och Mottagare på rad 1 "
                                 "och en post per rad, eller ta bort bladet så fördelas allt efter fältet "
                                 f'"{KEY_FIELD}" i {CASE_SHEET}.')
        return None
    if not has_header(sheet.rows[0], REQUIRED_POST_COLS) and header_below(sheet, MODEL_SHEET, REQUIRED_POST_COLS, check):
        return None
    columns = header(sheet.rows[0], MODEL_SHEET, check)
    if columns is None:
        return None
    missing = [c for c in REQUIRED_POST_COLS if c not in columns]
    for name in missing:
        hint = did_you_mean(name, [c for c in columns if c not in POST_COLS])
        check.error(f"{MODEL_SHEET}!A1", f'kolumnen "{name}" saknas på rad 1.{hint} Rubrikerna ska vara Post, Belopp, '
                                         "Metod, Nyckel, Mottagare och eventuellt Område.")
    if missing:
        return None
    columns.update(_lookalike_post_columns(columns, check))
    return columns


def _read_post(r: int, raw: tuple, columns: dict[str, int], state: _PostRowState, check: Checker) -> None:
    """One row: a usable post, or each problem reported and what is sound kept for the sums."""
    where = {c: cell(MODEL_SHEET, i, r) for c, i in columns.items()}
    where.update({c: where[POST_COL] for c in POST_COLS if c not in where})
    name = _post_name(raw, columns, where, state, check)
    if name is None:
        return
    state.names[norm(name)] = r
    table = state.table
    method = _method(value_at(raw, columns[METHOD_COL]), where[METHOD_COL], name, check)
    amount_raw = value_at(raw, columns[AMOUNT_COL])
    is_rest = isinstance(amount_raw, str) and norm(amount_raw) == REST_WORD
    rest_ok = is_rest and _check_rest(name, method, r, state.rest_rows, where[AMOUNT_COL], check)
    amount = None if is_rest else _amount(name, amount_raw, where[AMOUNT_COL], check)
    selected = select_recipients(value_at(raw, columns.get(SELECTION_COL)), where[SELECTION_COL], table, check)
    key = _post_key(name, method, value_at(raw, columns.get(KEY_COL)), where[KEY_COL], KEY_COL in columns, table, check)
    area = as_text(value_at(raw, columns.get(AREA_COL)))
    state.result.amounts.append(replace(_row_amount(where, method, amount, (is_rest, rest_ok), selected, table), name=name))
    post = Post(name, amount, method, selected or (), key, area, r)
    if method == KEY and key and selected is not None:
        state.result.key_uses.append(post)
    elif method == KEY and key and table.blocked_by is None:
        check.postpone(where[SELECTION_COL], "underlaget för nyckeln")
    if method is not None and (amount is not None or rest_ok):
        state.result.priced.append(ParsedPost(post, where[AMOUNT_COL], where[KEY_COL]))
    if method is None or selected is None or (amount is None and not rest_ok) or (method == KEY and not key):
        return
    if check_selection(post, where[SELECTION_COL], table, check):
        state.result.posts.append(ParsedPost(post, where[AMOUNT_COL], where[KEY_COL]))


def _post_name(raw: tuple, columns: dict[str, int], where: dict[str, str], state: _PostRowState,
               check: Checker) -> str | None:
    """The post's name, or None (and an error) for a row without one, a totals row or a name used before."""
    name = as_text(value_at(raw, columns[POST_COL]))
    if name is None:
        check.error(where[POST_COL], "posten saknar namn. Skriv ett namn i kolumn Post (det blir en kolumn i bilagan), "
                                     "eller töm raden.")
    elif norm(name) in TOTAL_ROW_NAMES and value_at(raw, columns[METHOD_COL]) is None:
        check.error(where[POST_COL], f'"{name}" ser ut som en summarad, men {MODEL_SHEET} ska bara ha poster. Ta bort raden; '
                                     "summorna räknas fram och står i bilagan.")
        return None
    elif norm(name) in state.names:
        check.error(where[POST_COL], f'posten "{name}" finns redan på rad {state.names[norm(name)]}. Ge posterna olika namn.')
    else:
        return name
    if value_at(raw, columns[AMOUNT_COL]) is not None:
        state.result.amounts.append(RowAmount(where[AMOUNT_COL], blocked_by=where[POST_COL]))
    return None


def _row_amount(where: dict[str, str], method: str | None, amount: int | None, rest: tuple[bool, bool],
                selected: tuple[int, ...] | None, table: RecipientTable) -> RowAmount:
    """What the row adds to the sum of the posts, or which of its cells keeps that unknown."""
    here = where[AMOUNT_COL]
    is_rest, rest_ok = rest
    if is_rest:
        return RowAmount(here, is_rest=True) if rest_ok else RowAmount(here, blocked_by=here)
    if amount is None:
        return RowAmount(here, blocked_by=here)
    if method is None and amount:
        return RowAmount(here, blocked_by=where[METHOD_COL])
    if method != PER_RECIPIENT:
        return RowAmount(here, amount)
    if selected is None:
        return RowAmount(here, blocked_by=table.blocked_by or where[SELECTION_COL])
    unsure = next((table.rows[i].answer_where for i in selected if table.rows[i].answer_where), None)
    if unsure is not None:
        return RowAmount(here, blocked_by=unsure)
    return RowAmount(here, amount * sum(1 for i in selected if table.rows[i].participates))


def _check_rest(name: str, method: str | None, r: int, rest_rows: list[int], where: str, check: Checker) -> bool:
    """Only one ``rest`` post, and not one paid per recipient."""
    ok = False
    if rest_rows:
        check.error(where, f'bara en post får ha Belopp "{REST_WORD}", men rad {rest_rows[0]} har det redan. '
                           "Skriv ett belopp i kronor på den här raden.")
    elif method == PER_RECIPIENT:
        check.error(where, f'posten "{name}" är "per mottagare" och kan inte vara "{REST_WORD}". '
                           "Skriv beloppet per mottagare, eller välj metoden lika eller nyckel.")
    else:
        ok = True
    rest_rows.append(r)
    return ok


def _amount(name: str, amount_raw, where: str, check: Checker) -> int | None:
    """A post's amount in whole kronor, or None (and an error)."""
    if amount_raw is None:
        check.error(where, f'posten "{name}" saknar belopp. Skriv ett belopp i hela kronor eller ordet "{REST_WORD}".')
        return None
    if isinstance(amount_raw, str) and parse_number(amount_raw) is None and closest(amount_raw, [REST_WORD]):
        check.error(where, f'{quoted(amount_raw)} är inget belopp. Menade du "{REST_WORD}"? Skriv ett belopp i hela kronor '
                           f'eller ordet "{REST_WORD}" för det som blir över.')
        return None
    amount = as_kronor(amount_raw, where, check, f'beloppet för posten "{name}"')
    if amount == 0:
        check.warn(where, f'posten "{name}" är 0 kr och ger ingen mottagare något. Ta bort raden om den inte behövs.')
    return amount


def _post_key(name: str, method: str | None, key_raw, where: str, has_column: bool, table: RecipientTable,
              check: Checker) -> tuple[KeyPart, ...]:
    """A ``nyckel`` post's key; a key on another method is only a warning."""
    if method == KEY:
        if not has_column:
            check.error(where, f'posten "{name}" fördelas efter nyckel men bladet saknar kolumnen Nyckel. Lägg till rubriken '
                               f"Nyckel på rad 1 och skriv en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning.")
        elif key_raw is None:
            check.error(where, f'posten "{name}" fördelas efter nyckel men kolumn Nyckel är tom. '
                               f"Skriv en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning, "
                               "eller viktade: Befolkning 50 %, Patienter 50 %.")
        else:
            return parse_key(as_text(key_raw), where, table, check)
    elif key_raw is not None and method is not None:
        check.warn(where, f'posten "{name}" har metoden {method}, så nyckeln {quoted(key_raw)} används inte. '
                          "Töm cellen eller välj metoden nyckel.")
    return ()


def _lookalike_post_columns(columns: dict[str, int], check: Checker) -> dict[str, int]:
    """A misspelt ``Mottagare`` or ``Nyckel`` heading would silently mean "everyone" or "no key".

    It is an error; the column then stands in for the intended one, so the rows are still
    checked without a pile of follow-up errors.
    """
    stand_ins: dict[str, int] = {}
    for column, c in columns.items():
        if column in POST_COLS:
            continue
        match = closest(column, [p for p in (KEY_COL, SELECTION_COL, AREA_COL) if p not in columns], cutoff=0.75)
        if match is None:
            continue
        message = f'kolumnen "{column}" läses inte. Menade du "{match}"? Byt namn på rubriken till "{match}"'
        if match == SELECTION_COL:
            check.error(cell(MODEL_SHEET, c, 1), message + "; annars går varje post till alla mottagare.")
        elif match == KEY_COL:
            check.error(cell(MODEL_SHEET, c, 1), message + ".")
        else:
            check.warn(cell(MODEL_SHEET, c, 1), message + "; annars grupperas posterna inte under rubriker.")
            continue
        stand_ins[match] = c
    return stand_ins


def _method(value, where: str, post_name: str, check: Checker) -> str | None:
    text = as_text(value)
    if text is None:
        check.error(where, f'posten "{post_name}" saknar metod. Skriv {METHOD_WORDS}.')
        return None
    method = next((m for m in METHODS if norm(m) == norm(" ".join(text.split()))), None)
    if method is None:
        check.error(where, f'metoden {quoted(text)} finns inte.{did_you_mean(text, list(METHODS))} Skriv {METHOD_WORDS}.')
    return method


def default_posts(case: CaseSheet, table: RecipientTable, check: Checker) -> PostSheet:
    """Without ``Fördelning``: one post ``Medel``, the whole total by the case's ``Nyckel``.

    The total is checked against the rounding even when the key is wrong.
    """
    key = _default_key(case, table, check)
    post = Post(DEFAULT_POST, None, KEY, tuple(range(len(table.rows))), key, is_default=True)
    parsed = ParsedPost(post, case.grant_where, case.key_where)
    result = PostSheet(amounts=[RowAmount(case.grant_where, is_rest=True, name=DEFAULT_POST)], priced=[parsed])
    if key:
        result.key_uses.append(post)
        if check_selection(post, case.key_where, table, check):
            result.posts.append(parsed)
    return result


def _default_key(case: CaseSheet, table: RecipientTable, check: Checker) -> tuple[KeyPart, ...]:
    if case.key_text is None:
        state = "är tomt" if "!" in case.key_where else f"saknas.{misspelt_field(KEY_FIELD, case.free_names)}"
        check.error(case.key_where, f'fältet "{KEY_FIELD}" {state} Det behövs när det inte finns något blad "{MODEL_SHEET}". '
                                    f"Skriv en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning, "
                                    f'som värde för "{KEY_FIELD}", '
                                    f'eller lägg till bladet "{MODEL_SHEET}".')
        return ()
    key = parse_key(case.key_text, case.key_where, table, check)
    if table.blocked_by is not None:
        check.postpone(table.blocked_by, f'nyckeln i fältet "{KEY_FIELD}" i {CASE_SHEET}')
    return key
