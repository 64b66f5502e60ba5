"""Turn the workbook's sheets into a ``Case``, checking every rule of the format at once.

Every problem is collected with its location (``Mottagare!C7``) and a Swedish message
that ends with how to mend it; ``InputError`` carries them all. Warnings travel with the
case. The allocation engine can trust what comes out of here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from openpyxl.utils import get_column_letter

from processor import formats
from processor.allocate import participants, post_amounts
from processor.errors import InputError, Problem
from processor.model import (
    EQUAL, FAST, KEY, METHODS, PER_RECIPIENT, Case, CaseInfo, KeyPart, Post, Recipient,
)
from processor.swedish import closest, did_you_mean, norm, parse_number
from processor.workbook import UNCALCULATED, Sheet, read_workbook

CASE_SHEET, RECIPIENT_SHEET, MODEL_SHEET, TEXT_SHEET = "Ärende", "Mottagare", "Fördelning", "Texter"
SHEETS = (CASE_SHEET, RECIPIENT_SHEET, MODEL_SHEET, TEXT_SHEET)

TITLE, GRANT, CARRIED, ROUNDING, KEY_FIELD, TEMPLATES = (
    "Rubrik", "Medel att fördela", "Överfört från tidigare år", "Avrundning", "Nyckel", "Mallar")
DATE_FIELDS = ("Datum", "Sista dag")
EMAIL_FIELDS = ("E-post", "Faktura e-post")
HEADER_FIELDS = ("Ämne", "Avsändare", "E-post", "Rubrik")
CASE_FIELDS = (TITLE, GRANT, CARRIED, ROUNDING, KEY_FIELD, TEMPLATES, "År", "Diarienummer", "Datum",
               "Avsändare", "Avdelning", "Nämnd", "Handläggare", "Telefon", "E-post", "Undertecknare",
               "Undertecknarens titel", "Fakturaadress", "Faktura e-post", "Fakturareferens", "Sista dag",
               "Överenskommelse", "Ämne")
ROUNDING_UNITS = (1, 10, 100, 1000)

NAME_COL, EMAIL_COL, GROUP_COL, PARTICIPATES_COL = "Mottagare", "E-post", "Grupp", "Deltar"
RESERVED_COLUMNS = (NAME_COL, EMAIL_COL, GROUP_COL, PARTICIPATES_COL)
TOTAL_ROW_NAMES = {"summa", "summa totalt", "total", "totalt"}
YES = {"ja", "j", "1", "true", "sant"}
NO = {"nej", "n", "0", "false", "falskt"}

POST_COLS = ("Post", "Belopp", "Metod", "Nyckel", "Mottagare", "Område")
REST_WORD = "rest"
ALL_WORD = "alla"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-\u00c0-\u024f]+@[A-Za-z0-9\u00c0-\u024f\-]+(\.[A-Za-z0-9\u00c0-\u024f\-]+)+$")
_KEY_SEPARATOR = re.compile(r";|,\s+")
_KEY_PART = re.compile(r"^(?P<column>.*?)\s+(?P<weight>[0-9]+(?:[.,][0-9]+)?)\s*%$")
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")


def load_case(path: Path) -> Case:
    """Read and validate a workbook; raise ``InputError`` with every problem found."""
    sheets = read_workbook(path, wanted={norm(s) for s in SHEETS})
    return build_case(sheets, path.parent, source=path.name, all_titles=_all_titles(path))


def _all_titles(path: Path) -> list[str]:
    """All sheet titles, for suggesting a sheet when a required one is misspelt."""
    import zipfile

    with zipfile.ZipFile(path) as package:
        xml = package.read("xl/workbook.xml").decode("utf-8", "replace")
    return re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml)


def build_case(sheets: list[Sheet], base_dir: Path, source: str = "", all_titles: list[str] | None = None) -> Case:
    """The whole case from plain sheets; the rules, all at once."""
    check = Checker()
    found = {norm(s.title): s for s in sheets}
    titles = all_titles if all_titles is not None else [s.title for s in sheets]
    for sheet in sheets:
        check.uncalculated(sheet)
    case_sheet = found.get(norm(CASE_SHEET))
    recipient_sheet = found.get(norm(RECIPIENT_SHEET))
    for name, sheet in ((CASE_SHEET, case_sheet), (RECIPIENT_SHEET, recipient_sheet)):
        if sheet is None:
            check.error(name, f'bladet "{name}" saknas.{did_you_mean(name, titles)} '
                              f'Lägg till ett blad med namnet "{name}" (se "processor init" för ett exempel).')
    info, key_text, key_where = read_case_sheet(case_sheet, base_dir, check) if case_sheet else (None, None, None)
    table = read_recipient_sheet(recipient_sheet, check) if recipient_sheet else None
    model_sheet = found.get(norm(MODEL_SHEET))
    posts: list[ParsedPost] = []
    recipients: list[Recipient] = []
    if table is not None:
        if model_sheet is not None:
            posts = read_model_sheet(model_sheet, table, check)
        elif case_sheet is not None:
            posts = default_posts(info, key_text, key_where, table, check)
    texts = read_text_sheet(found[norm(TEXT_SHEET)], check) if norm(TEXT_SHEET) in found else ()
    if table is not None and posts:
        recipients = table.recipients(posts, check)
        if info is not None and not check.errors:
            check_amounts(info, recipients, posts, check)
    if check.errors:
        raise InputError(check.errors)
    return Case(info, tuple(recipients), tuple(p.post for p in posts), tuple(texts),
                tuple(str(w) for w in check.warnings), source)


class Checker:
    """Collects errors and warnings; one error per location, so a bad cell is named once."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._where: set[str] = set()

    def error(self, where: str, message: str) -> None:
        if "!" in where and where in self._where:
            return
        self._where.add(where)
        self.errors.append(Problem(where, message))

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(Problem(where, message))

    def uncalculated(self, sheet: Sheet) -> None:
        """Formula cells saved without values, wherever they are in a sheet we read."""
        canonical = _canonical_sheet(sheet.title)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if value is UNCALCULATED:
                    self.error(cell(canonical, c, r), "cellen har en formel utan beräknat värde (filen har sparats av ett "
                                                      "program som inte räknar om formler). Öppna filen i Excel och spara den igen.")


def _canonical_sheet(title: str) -> str:
    return next((s for s in SHEETS if norm(s) == norm(title)), title)


def cell(sheet: str, col: int, row: int) -> str:
    """``Mottagare!C7`` from a 0-based column and a 1-based row."""
    return f"{sheet}!{get_column_letter(col + 1)}{row}"


def value_at(row: tuple, col: int | None):
    if col is None or col >= len(row):
        return None
    value = row[col]
    return None if value is UNCALCULATED else value


def as_text(value) -> str | None:
    """Any cell as trimmed text (numbers as Excel shows them), or None when blank."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return formats.number(value, nbsp=False).replace(" ", "")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    text = str(value).strip()
    return text or None


def quoted(value) -> str:
    text = as_text(value) or ""
    return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'


def as_number(value, where: str, check: Checker, what: str) -> Decimal | None:
    """A number cell, or a text cell with a Swedish number in it (with a warning); else an error."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is not None:
            check.warn(where, f'talet är skrivet som text ({quoted(value)}) och läses som {formats.number(parsed, nbsp=False)}. '
                              "Skriv det som ett tal i Excel för att slippa varningen.")
            return parsed
    check.error(where, f"{quoted(value)} är inte ett tal ({what}). Skriv ett tal, t.ex. 15 711 504 eller 33,3.")
    return None


def as_kronor(value, where: str, check: Checker, what: str) -> int | None:
    """Whole kronor, not negative."""
    number = as_number(value, where, check, what)
    if number is None:
        return None
    if number != number.to_integral_value():
        check.error(where, f"{what} ska vara hela kronor, inte {formats.number(number, nbsp=False)}. "
                           "Avrunda beloppet till hela kronor.")
        return None
    if number < 0:
        check.error(where, f"{what} får inte vara negativt ({formats.kronor(number, nbsp=False)}). Skriv ett belopp på 0 kr eller mer.")
        return None
    return int(number)


def as_date(value, where: str, check: Checker, what: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    check.error(where, f"{quoted(value)} är inget datum ({what}). Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2020-08-30, "
                       "eller som ett datum i Excel.")
    return None


def email_addresses(value, where: str, check: Checker, whose: str) -> tuple[str, ...]:
    """One or more addresses separated by ``;`` or ``,``, each checked."""
    text = as_text(value)
    if text is None:
        return ()
    if _LINE_BREAK.search(str(value)):
        check.error(where, f"e-postadressen för {whose} innehåller en radbrytning. Skriv adresserna på en rad, åtskilda med semikolon.")
        return ()
    addresses = tuple(a.strip() for a in re.split(r"[;,]", text) if a.strip())
    for address in addresses:
        if not _EMAIL.match(address):
            check.error(where, f'"{address}" är ingen giltig e-postadress ({whose}). '
                               "Rätta adressen, t.ex. registrator@kommun.se; flera adresser skiljs med semikolon.")
            return ()
    return addresses


# --- Ärende -------------------------------------------------------------------------------------

def read_case_sheet(sheet: Sheet, base_dir: Path, check: Checker) -> tuple[CaseInfo | None, str | None, str | None]:
    """The case's fields; returns the info, the ``Nyckel`` text and where it stands."""
    known = {norm(f): f for f in CASE_FIELDS}
    values: dict[str, object] = {}
    rows_of: dict[str, int] = {}
    first_row: dict[str, int] = {}
    free_names: list[tuple[str, int]] = []
    for r, row in enumerate(sheet.rows, start=1):
        name = as_text(value_at(row, 0))
        if name is None:
            continue
        if r == 1 and norm(name) == "fält":
            continue
        canonical = known.get(norm(name), name)
        if norm(name) in first_row:
            check.error(cell(CASE_SHEET, 0, r), f'fältet "{canonical}" finns redan på rad {first_row[norm(name)]}. Ta bort den ena raden.')
            continue
        first_row[norm(name)] = r
        rows_of[canonical] = r
        if canonical not in CASE_FIELDS:
            free_names.append((name, r))
        raw = value_at(row, 1)
        if isinstance(raw, str) and _LINE_BREAK.search(raw) and canonical in HEADER_FIELDS:
            check.error(cell(CASE_SHEET, 1, r), f'fältet "{canonical}" innehåller en radbrytning, vilket inte går i ett e-posthuvud. '
                                                "Skriv värdet på en rad.")
            continue
        if raw is not None:
            values[canonical] = raw

    def where(field_name: str) -> str:
        return cell(CASE_SHEET, 1, rows_of[field_name]) if field_name in rows_of else CASE_SHEET

    def required(field_name: str, example: str) -> object | None:
        if field_name in values:
            return values[field_name]
        if field_name in rows_of:
            check.error(where(field_name), f'fältet "{field_name}" saknar värde. Skriv {example} i kolumn B.')
            return None
        hint = _misspelt_field(field_name, free_names)
        check.error(CASE_SHEET, f'fältet "{field_name}" saknas.{hint} Lägg till en rad med "{field_name}" i kolumn A '
                                f"och {example} i kolumn B.")
        return None

    title = as_text(required(TITLE, "bidragets rubrik, t.ex. Stimulansmedel God och nära vård 2024,"))
    grant_value = required(GRANT, "årets belopp i hela kronor")
    grant = as_kronor(grant_value, where(GRANT), check, GRANT) if grant_value is not None else None
    if grant == 0:
        check.error(where(GRANT), f'"{GRANT}" är 0 kr. Skriv beloppet som ska fördelas, större än 0.')
        grant = None
    carried = 0
    if CARRIED in values:
        carried = as_kronor(values[CARRIED], where(CARRIED), check, CARRIED)
    rounding = 1
    if ROUNDING in values:
        unit = as_number(values[ROUNDING], where(ROUNDING), check, ROUNDING)
        if unit is not None and unit not in ROUNDING_UNITS:
            check.error(where(ROUNDING), f"avrundningen {formats.number(unit, nbsp=False)} kr går inte. Välj 1, 10, 100 eller 1000.")
        rounding = int(unit) if unit in ROUNDING_UNITS else 1
    templates = as_text(values.get(TEMPLATES))
    if templates is not None and not (base_dir / templates).is_dir():
        check.error(where(TEMPLATES), f'mallmappen "{templates}" finns inte bredvid arbetsboken ({base_dir / templates}). '
                                      "Skapa mappen, rätta namnet, eller töm fältet för att använda standardmallarna.")
    fields: dict[str, object] = {}
    for name, raw in values.items():
        if name in DATE_FIELDS:
            fields[name] = as_date(raw, where(name), check, name)
        elif name in EMAIL_FIELDS:
            addresses = email_addresses(raw, where(name), check, f'fältet "{name}"')
            fields[name] = addresses[0] if addresses else None
            if len(addresses) > 1:
                check.error(where(name), f'fältet "{name}" ska ha en enda adress, inte {len(addresses)}. Behåll en av dem.')
        elif isinstance(raw, Decimal):
            fields[name] = raw
        else:
            fields[name] = as_text(raw)
    key_text = as_text(values.get(KEY_FIELD))
    if None in (title, grant, carried):
        return None, key_text, where(KEY_FIELD)
    info = CaseInfo(title=title, grant=grant, carried_over=carried, rounding=rounding,
                    templates_dir=templates, fields=fields)
    return info, key_text, where(KEY_FIELD)


def _misspelt_field(field_name: str, free_names: list[tuple[str, int]]) -> str:
    """`` Menade du "Medel att fördel" (rad 3)?`` when a free field looks like the missing one."""
    match = closest(field_name, [n for n, _ in free_names])
    row = next((r for n, r in free_names if n == match), None)
    return f' Menade du "{match}" (rad {row})? Rätta stavningen i kolumn A.' if match else ""


# --- Mottagare ----------------------------------------------------------------------------------

@dataclass
class RecipientRow:
    name: str
    row: int
    emails: tuple[str, ...]
    group: str | None
    participates: bool
    values: dict[str, object] = field(default_factory=dict)


@dataclass
class RecipientTable:
    """The ``Mottagare`` sheet before the posts say which columns are bases."""

    columns: dict[str, int]
    rows: list[RecipientRow]
    groups: dict[str, list[int]]

    def column(self, text: str) -> str | None:
        """The header a user's word names, if any."""
        return next((c for c in self.columns if norm(c) == norm(text)), None)

    def basis_columns(self) -> list[str]:
        return [c for c in self.columns if c not in RESERVED_COLUMNS]

    def recipients(self, posts: list[ParsedPost], check: Checker) -> list[Recipient]:
        """Build recipients, checking each basis a key uses for the recipients it is used on."""
        needed: dict[int, dict[str, str]] = {}
        for parsed in posts:
            if parsed.post.method != KEY:
                continue
            for i in parsed.post.recipients:
                if self.rows[i].participates:
                    for part in parsed.post.key:
                        needed.setdefault(i, {})[part.column] = parsed.post.name
        result = []
        for i, row in enumerate(self.rows):
            bases: dict[str, Decimal] = {}
            texts: dict[str, str] = {}
            for column, value in row.values.items():
                where = cell(RECIPIENT_SHEET, self.columns[column], row.row)
                post_name = needed.get(i, {}).get(column)
                if post_name is not None:
                    number = self._basis(value, where, check, column, row.name, post_name)
                    if number is not None:
                        bases[column] = number
                elif isinstance(value, Decimal):
                    bases[column] = value
                elif value is not None:
                    texts[column] = as_text(value)
            for column, post_name in needed.get(i, {}).items():
                if row.values.get(column) is None:
                    check.error(cell(RECIPIENT_SHEET, self.columns[column], row.row),
                                f'värde saknas i kolumn {column} för mottagare {row.name}, som posten "{post_name}" fördelar efter. '
                                "Skriv ett tal (0 är tillåtet), eller sätt Deltar till Nej om mottagaren avstår.")
            result.append(Recipient(row.name, row.row, row.emails, row.group, row.participates, bases, texts))
        return result

    @staticmethod
    def _basis(value, where: str, check: Checker, column: str, name: str, post_name: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal) or (isinstance(value, str) and parse_number(value) is not None):
            number = as_number(value, where, check, f"kolumn {column}, mottagare {name}")
            if number is not None and number < 0:
                check.error(where, f"{formats.number(number, nbsp=False)} är negativt (kolumn {column}, mottagare {name}). "
                                   f'Posten "{post_name}" fördelar efter kolumnen; skriv 0 eller mer.')
                return None
            return number
        check.error(where, f"{quoted(value)} är inte ett tal (kolumn {column}, mottagare {name}). "
                           f'Posten "{post_name}" fördelar efter kolumnen; skriv ett tal, t.ex. 23 178.')
        return None


def read_recipient_sheet(sheet: Sheet, check: Checker) -> RecipientTable | None:
    if not sheet.rows:
        check.error(RECIPIENT_SHEET, "bladet är tomt. Skriv rubrikerna (Mottagare, E-post, Grupp, Deltar och underlagen) "
                                     "på rad 1 och en mottagare per rad under.")
        return None
    columns = _header(sheet.rows[0], RECIPIENT_SHEET, check)
    if columns is None:
        return None
    if NAME_COL not in columns:
        first_text = next((c for c in columns if c not in RESERVED_COLUMNS), None)
        hint = did_you_mean(NAME_COL, list(columns))
        if not hint and first_text:
            hint = f' Är kolumnen "{first_text}" mottagarna? Döp i så fall om rubriken till "{NAME_COL}".'
        check.error(cell(RECIPIENT_SHEET, 0, 1), f'kolumnen "{NAME_COL}" saknas på rad 1.{hint} '
                                                 f'Skriv "{NAME_COL}" som rubrik över mottagarnas namn.')
        return None
    rows: list[RecipientRow] = []
    seen: dict[str, int] = {}
    sums: dict[str, Decimal] = {}
    totals_rows: list[tuple[int, tuple]] = []
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if all(v is None or v is UNCALCULATED for v in raw):
            continue
        name = as_text(value_at(raw, columns[NAME_COL]))
        if name is None:
            check.error(cell(RECIPIENT_SHEET, columns[NAME_COL], r), "raden har värden men inget namn på mottagaren. "
                                                                     f"Skriv namnet i kolumn {NAME_COL}, eller töm raden.")
            continue
        if norm(name) in TOTAL_ROW_NAMES:
            totals_rows.append((r, raw))
            continue
        if norm(name) in seen:
            check.error(cell(RECIPIENT_SHEET, columns[NAME_COL], r), f'mottagaren "{name}" finns redan på rad {seen[norm(name)]}. '
                                                                     "Varje mottagare får bara stå en gång; slå ihop raderna eller ge dem olika namn.")
            continue
        seen[norm(name)] = r
        rows.append(_recipient_row(name, r, raw, columns, check))
        for column, c in columns.items():
            value = value_at(raw, c)
            if column not in RESERVED_COLUMNS and isinstance(value, Decimal):
                sums[column] = sums.get(column, Decimal(0)) + value
    if not rows:
        check.error(RECIPIENT_SHEET, "bladet har inga mottagare. Skriv en mottagare per rad under rubrikraden.")
        return None
    for r, raw in totals_rows:
        _compare_totals(r, raw, columns, sums, check)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.group:
            groups.setdefault(norm(row.group), []).append(i)
    return RecipientTable(columns, rows, groups)


def _header(row: tuple, sheet: str, check: Checker) -> dict[str, int] | None:
    """Column name → index for a header row; canonical spelling for the reserved names."""
    reserved = {norm(c): c for c in RESERVED_COLUMNS + POST_COLS}
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        text = as_text(value)
        if text is None:
            continue
        name = reserved.get(norm(text), text)
        if any(norm(k) == norm(name) for k in columns):
            check.error(cell(sheet, c, 1), f'kolumnrubriken "{text}" finns två gånger på rad 1. Ge kolumnerna olika namn.')
            continue
        columns[name] = c
    if not columns:
        check.error(f"{sheet}!A1", "rad 1 ska vara rubrikrad men är tom. Skriv kolumnrubrikerna på rad 1.")
        return None
    return columns


def _recipient_row(name: str, r: int, raw: tuple, columns: dict[str, int], check: Checker) -> RecipientRow:
    emails = email_addresses(value_at(raw, columns.get(EMAIL_COL)), cell(RECIPIENT_SHEET, columns.get(EMAIL_COL, 0), r),
                             check, f"mottagare {name}")
    group = as_text(value_at(raw, columns.get(GROUP_COL)))
    participates = True
    answer = value_at(raw, columns.get(PARTICIPATES_COL))
    if answer is not None:
        word = norm(as_text(answer))
        if word in NO:
            participates = False
        elif word not in YES:
            check.error(cell(RECIPIENT_SHEET, columns[PARTICIPATES_COL], r),
                        f'{PARTICIPATES_COL} ska vara "Ja" eller "Nej", inte {quoted(answer)} (mottagare {name}). '
                        "Skriv Ja, Nej eller lämna tomt (= Ja).")
    values = {c: value_at(raw, i) for c, i in columns.items() if c not in RESERVED_COLUMNS}
    return RecipientRow(name, r, emails, group, participates, values)


def _compare_totals(r: int, raw: tuple, columns: dict[str, int], sums: dict[str, Decimal], check: Checker) -> None:
    """A totals row's numbers against the column sums (real inputs disagree; say so)."""
    for column, c in columns.items():
        stated = value_at(raw, c)
        if column in RESERVED_COLUMNS or not isinstance(stated, Decimal):
            continue
        actual = sums.get(column, Decimal(0))
        if stated != actual:
            check.warn(cell(RECIPIENT_SHEET, c, r),
                       f"summaraden anger {formats.number(stated, nbsp=False)} men kolumnen {column} summerar till "
                       f"{formats.number(actual, nbsp=False)} (skillnad {formats.number(actual - stated, nbsp=False)}). "
                       "Summaraden används inte i beräkningen; kontrollera underlaget.")


# --- Fördelning ---------------------------------------------------------------------------------

@dataclass
class ParsedPost:
    post: Post
    amount_where: str
    key_where: str


def read_model_sheet(sheet: Sheet, table: RecipientTable, check: Checker) -> list[ParsedPost]:
    if not sheet.rows:
        check.error(MODEL_SHEET, "bladet är tomt. Skriv rubrikerna Post, Belopp, Metod, Nyckel och Mottagare på rad 1 "
                                 f'och en post per rad, eller ta bort bladet så fördelas allt efter fältet "{KEY_FIELD}" i {CASE_SHEET}.')
        return []
    columns = _header(sheet.rows[0], MODEL_SHEET, check)
    if columns is None:
        return []
    missing = [c for c in ("Post", "Belopp", "Metod") if c not in columns]
    for name in missing:
        hint = did_you_mean(name, [c for c in columns if c not in POST_COLS])
        check.error(f"{MODEL_SHEET}!A1", f'kolumnen "{name}" saknas på rad 1.{hint} Rubrikerna ska vara Post, Belopp, Metod, Nyckel, Mottagare '
                                         "och eventuellt Område.")
    if missing:
        return []
    parsed: list[ParsedPost] = []
    names: dict[str, int] = {}
    rest_row: int | None = None
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if all(v is None or v is UNCALCULATED for v in raw):
            continue
        where = {c: cell(MODEL_SHEET, i, r) for c, i in columns.items()}
        where.update({c: cell(MODEL_SHEET, POST_COLS.index(c), r) for c in POST_COLS if c not in where})
        name = as_text(value_at(raw, columns["Post"]))
        if name is None:
            check.error(where["Post"], "posten saknar namn. Skriv ett namn i kolumn Post (det blir en kolumn i bilagan), eller töm raden.")
            continue
        if norm(name) in names:
            check.error(where["Post"], f'posten "{name}" finns redan på rad {names[norm(name)]}. Ge posterna olika namn.')
            continue
        names[norm(name)] = r
        method = _method(value_at(raw, columns["Metod"]), where["Metod"], name, check)
        amount_raw = value_at(raw, columns["Belopp"])
        is_rest = isinstance(amount_raw, str) and norm(amount_raw) == REST_WORD
        amount = None
        if is_rest:
            if rest_row is not None:
                check.error(where["Belopp"], f'bara en post får ha Belopp "rest", men rad {rest_row} har det redan. '
                                             "Skriv ett belopp i kronor på den här raden.")
            elif method == PER_RECIPIENT:
                check.error(where["Belopp"], f'posten "{name}" är "per mottagare" och kan inte vara "rest". '
                                             "Skriv beloppet per mottagare, eller välj metoden lika eller nyckel.")
            rest_row = rest_row or r
        elif amount_raw is None:
            check.error(where["Belopp"], f'posten "{name}" saknar belopp. Skriv ett belopp i hela kronor eller ordet "rest".')
        else:
            amount = as_kronor(amount_raw, where["Belopp"], check, f'beloppet för posten "{name}"')
            if amount == 0:
                check.warn(where["Belopp"], f'posten "{name}" är 0 kr och ger ingen mottagare något. Ta bort raden om den inte behövs.')
        selected = select_recipients(value_at(raw, columns.get("Mottagare")), where["Mottagare"], table, check)
        key_raw = value_at(raw, columns.get("Nyckel"))
        key: tuple[KeyPart, ...] = ()
        if method == KEY:
            if key_raw is None:
                check.error(where["Nyckel"], f'posten "{name}" fördelas efter nyckel men kolumn Nyckel är tom. '
                                             f"Skriv en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning, "
                                             "eller viktade: Befolkning 50 %, Patienter 50 %.")
            else:
                key = parse_key(as_text(key_raw), where["Nyckel"], table, check)
        elif key_raw is not None and method is not None:
            check.warn(where["Nyckel"], f'posten "{name}" har metoden {method}, så nyckeln {quoted(key_raw)} används inte. '
                                        "Töm cellen eller välj metoden nyckel.")
        area = as_text(value_at(raw, columns.get("Område")))
        if method is None or selected is None or (amount is None and not is_rest) or (method == KEY and not key):
            continue
        post = Post(name, amount, method, selected, key, area, r)
        if _check_selection(post, where["Mottagare"], table, check):
            parsed.append(ParsedPost(post, where["Belopp"], where["Nyckel"]))
    if not names:
        check.error(MODEL_SHEET, "bladet har inga poster. Skriv en post per rad under rubrikraden, eller ta bort bladet "
                                 f'så fördelas allt efter fältet "{KEY_FIELD}" i {CASE_SHEET}.')
    return parsed


def _method(value, where: str, post_name: str, check: Checker) -> str | None:
    text = as_text(value)
    if text is None:
        check.error(where, f'posten "{post_name}" saknar metod. Skriv fast, lika, per mottagare eller nyckel.')
        return None
    method = next((m for m in METHODS if norm(m) == norm(" ".join(text.split()))), None)
    if method is None:
        check.error(where, f'metoden {quoted(text)} finns inte.{did_you_mean(text, list(METHODS))} '
                           "Skriv fast, lika, per mottagare eller nyckel.")
    return method


def select_recipients(value, where: str, table: RecipientTable, check: Checker) -> tuple[int, ...] | None:
    """``alla``, groups and names separated by ``;`` → recipient indices in workbook order."""
    text = as_text(value)
    if text is None:
        return tuple(range(len(table.rows)))
    by_name = {norm(row.name): i for i, row in enumerate(table.rows)}
    chosen: set[int] = set()
    ok = True
    for word in (w.strip() for w in text.split(";")):
        if not word:
            continue
        key = norm(word)
        if key == ALL_WORD:
            chosen.update(range(len(table.rows)))
        elif key in table.groups and key in by_name:
            check.error(where, f'"{word}" är både en grupp och en mottagare. Byt namn på gruppen eller mottagaren så att de skiljer sig.')
            ok = False
        elif key in table.groups:
            chosen.update(table.groups[key])
        elif key in by_name:
            chosen.add(by_name[key])
        else:
            candidates = [r.name for r in table.rows] + sorted({r.group for r in table.rows if r.group})
            check.error(where, f'mottagaren eller gruppen "{word}" finns inte.{did_you_mean(word, candidates)} '
                               f'Skriv ett namn från {RECIPIENT_SHEET}, en grupp från kolumn {GROUP_COL}, eller "alla"; '
                               "flera skiljs med semikolon.")
            ok = False
    return tuple(sorted(chosen)) if ok else None


def parse_key(text: str, where: str, table: RecipientTable, check: Checker) -> tuple[KeyPart, ...]:
    """``Befolkning`` or ``Befolkning 50 %, Patienter 50 %`` → key parts with weights summing to 100."""
    if "%" not in text:
        parts = [(text, Decimal(100))]
    else:
        parts = []
        for piece in (p.strip() for p in _KEY_SEPARATOR.split(text)):
            match = _KEY_PART.match(piece)
            if not match:
                check.error(where, f'nyckeln {quoted(text)} kan inte läsas vid {quoted(piece)}. Skriv varje del som '
                                   '"kolumn procent %", åtskilda med semikolon, t.ex. Befolkning 50 %; Patienter 50 %.')
                return ()
            parts.append((match["column"], Decimal(match["weight"].replace(",", "."))))
    key: list[KeyPart] = []
    ok = True
    for column_text, weight in parts:
        column = table.column(column_text)
        if column is None or column in RESERVED_COLUMNS:
            reason = "är ingen underlagskolumn" if column else "finns inte"
            check.error(where, f'kolumnen "{column_text}" i nyckeln {reason} i {RECIPIENT_SHEET}.'
                               f"{did_you_mean(column_text, table.basis_columns())} "
                               f"Skriv namnet på en kolumn med tal från rad 1 i {RECIPIENT_SHEET}.")
            ok = False
        elif any(p.column == column for p in key):
            check.error(where, f"kolumnen {column} står två gånger i nyckeln. Slå ihop delarna till en.")
            ok = False
        elif weight <= 0:
            check.error(where, f"vikten för {column} måste vara större än 0 %. Ta bort delen eller ge den en vikt.")
            ok = False
        else:
            key.append(KeyPart(column, weight))
    total = sum((w for _, w in parts), Decimal(0))
    if ok and total != 100:
        check.error(where, f"nyckelns vikter summerar till {formats.percent(total, nbsp=False)}, inte 100 %. "
                           "Justera vikterna så att de blir exakt 100 %.")
        ok = False
    return tuple(key) if ok else ()


def _check_selection(post: Post, where: str, table: RecipientTable, check: Checker) -> bool:
    """Rules about who a post goes to that need only the selection."""
    members = [i for i in post.recipients if table.rows[i].participates]
    if post.method == FAST:
        if len(post.recipients) != 1:
            check.error(where, f'posten "{post.name}" är ett fast belopp och ska gå till exakt en mottagare, men väljer '
                               f"{len(post.recipients)}. Skriv en mottagares namn, eller välj metoden lika, per mottagare eller nyckel.")
            return False
        row = table.rows[post.recipients[0]]
        if not row.participates:
            check.error(where, f'mottagaren {row.name} avstår (Deltar = Nej) men posten "{post.name}" är ett fast belopp till den. '
                               "Välj en annan mottagare, eller ändra Deltar.")
            return False
    elif post.method in (EQUAL, KEY) and not members:
        check.error(where, f'posten "{post.name}" har ingen deltagande mottagare (alla valda avstår eller inga är valda). '
                           "Välj fler mottagare eller ändra Deltar.")
        return False
    elif post.method == PER_RECIPIENT and not members:
        check.warn(where, f'posten "{post.name}" har ingen deltagande mottagare och blir 0 kr.')
    return True


def default_posts(info: CaseInfo | None, key_text: str | None, key_where: str, table: RecipientTable,
                  check: Checker) -> list[ParsedPost]:
    """Without ``Fördelning``: one post ``Medel``, the whole total by the case's ``Nyckel``."""
    if key_text is None:
        check.error(key_where if "!" in key_where else CASE_SHEET,
                    f'fältet "{KEY_FIELD}" saknas, och det behövs när det inte finns något blad "{MODEL_SHEET}". '
                    f'Lägg till raden "{KEY_FIELD}" med en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning, '
                    f'eller lägg till bladet "{MODEL_SHEET}".')
        return []
    key = parse_key(key_text, key_where, table, check)
    if not key or info is None:
        return []
    post = Post("Medel", None, KEY, tuple(range(len(table.rows))), key, None, None)
    if not _check_selection(post, key_where, table, check):
        return []
    grant_where = CASE_SHEET
    return [ParsedPost(post, grant_where, key_where)]


def read_text_sheet(sheet: Sheet, check: Checker) -> list[tuple[str, str]]:
    """``Avsnitt | Text`` rows, in order."""
    sections = []
    for r, row in enumerate(sheet.rows, start=1):
        heading, text = as_text(value_at(row, 0)), as_text(value_at(row, 1))
        if r == 1 and heading and norm(heading) == "avsnitt":
            continue
        if heading is None and text is None:
            continue
        if heading is None:
            check.error(cell(TEXT_SHEET, 0, r), "texten saknar rubrik. Skriv avsnittets rubrik i kolumn A, t.ex. Bakgrund.")
            continue
        if text is None:
            check.warn(cell(TEXT_SHEET, 1, r), f'avsnittet "{heading}" är tomt och skrivs inte ut.')
            continue
        sections.append((heading, text))
    return sections


# --- sums ---------------------------------------------------------------------------------------

def check_amounts(info: CaseInfo, recipients: list[Recipient], parsed: list[ParsedPost], check: Checker) -> None:
    """Posts against the total, rounding multiples, and keys that sum to zero."""
    posts = [p.post for p in parsed]
    case = Case(info, tuple(recipients), tuple(posts))
    amounts = post_amounts(case)
    rest = next((i for i, p in enumerate(posts) if p.is_rest), None)
    total = info.total
    unit = info.rounding
    if rest is None:
        difference = total - sum(amounts)
        if difference:
            last = parsed[-1].amount_where
            if difference > 0:
                advice = f"({formats.kronor(difference, nbsp=False)} kvar). Lägg till en post med Belopp \"rest\" eller justera beloppen."
            else:
                advice = (f"({formats.kronor(-difference, nbsp=False)} för mycket). Minska beloppen så att de summerar till "
                          f"{formats.kronor(total, nbsp=False)}.")
            check.error(last, f"posterna summerar till {formats.kronor(sum(amounts), nbsp=False)} men att fördela är "
                              f"{formats.kronor(total, nbsp=False)} {advice}")
            return
    else:
        rest_amount = amounts[rest]
        where = parsed[rest].amount_where
        if rest_amount < 0:
            others = total - rest_amount
            check.error(where, f"de övriga posterna summerar till {formats.kronor(others, nbsp=False)}, mer än att fördela "
                               f"{formats.kronor(total, nbsp=False)}, så resten blir {formats.kronor(rest_amount, nbsp=False)}. "
                               "Minska beloppen eller öka Medel att fördela.")
            return
        if rest_amount == 0:
            check.warn(where, f'resten (posten "{posts[rest].name}") blir 0 kr: de övriga posterna fördelar allt.')
    for parsed_post, amount in zip(parsed, amounts):
        post = parsed_post.post
        multiple = post.amount if post.method == PER_RECIPIENT else amount
        if post.method != FAST and multiple % unit:
            which = "beloppet per mottagare" if post.method == PER_RECIPIENT else (
                "resten" if post.is_rest else "beloppet")
            check.error(parsed_post.amount_where,
                        f'{which} för posten "{post.name}", {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i '
                        f"avrundningen {formats.kronor(unit, nbsp=False)} (fältet Avrundning). Ändra beloppet till en multipel av "
                        f"{formats.kronor(unit, nbsp=False)}, eller sätt Avrundning till 1.")
        if post.method == KEY:
            members = participants(post, recipients)
            for part in post.key:
                if sum((Fraction(recipients[i].bases.get(part.column, 0)) for i in members), Fraction(0)) == 0:
                    check.error(parsed_post.key_where, f'kolumnen {part.column} summerar till 0 för de deltagande mottagarna i posten "{post.name}", '
                                "så nyckeln kan inte fördela något. Fyll i underlaget eller välj en annan nyckel.")
