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

from openpyxl.utils import get_column_letter, range_boundaries

from processor import formats
from processor.allocate import participants, post_amounts
from processor.errors import InputError, Problem
from processor.model import (
    EQUAL, FAST, KEY, METHODS, PER_RECIPIENT, Case, CaseInfo, KeyPart, Post, Recipient,
)
from processor.swedish import closest, did_you_mean, norm, parse_number
from processor.workbook import UNCALCULATED, ExcelError, Sheet, read_workbook

CASE_SHEET, RECIPIENT_SHEET, MODEL_SHEET, TEXT_SHEET = "Ärende", "Mottagare", "Fördelning", "Texter"
SHEETS = (CASE_SHEET, RECIPIENT_SHEET, MODEL_SHEET, TEXT_SHEET)

TITLE, GRANT, CARRIED, ROUNDING, KEY_FIELD, TEMPLATES = (
    "Rubrik", "Medel att fördela", "Överfört från tidigare år", "Avrundning", "Nyckel", "Mallar")
DATE_FIELDS = ("Datum", "Sista dag")
APPENDIX_LINK_FIELD = "Bilaga, länk"  # where the whole table is, for letters that neither carry nor come with it
EMAIL_FIELDS = ("E-post", "Faktura e-post")
HEADER_FIELDS = ("Ämne", "Avsändare", "Rubrik")
CASE_FIELDS = (TITLE, GRANT, CARRIED, ROUNDING, KEY_FIELD, TEMPLATES, "År", "Diarienummer", "Datum",
               "Avsändare", "Avdelning", "Nämnd", "Handläggare", "Telefon", "E-post", "Undertecknare",
               "Undertecknarens titel", "Fakturaadress", "Faktura e-post", "Fakturareferens", "Sista dag",
               "Överenskommelse", "Ämne", APPENDIX_LINK_FIELD)
ROUNDING_UNITS = (1, 10, 100, 1000)
SMALL_TOTAL = 1000  # kronor; a smaller total is almost always typed in thousands or millions

NAME_COL, EMAIL_COL, GROUP_COL, PARTICIPATES_COL = "Mottagare", "E-post", "Grupp", "Deltar"
RESERVED_COLUMNS = (NAME_COL, EMAIL_COL, GROUP_COL, PARTICIPATES_COL)
TOTAL_ROW_NAMES = {"summa", "summa totalt", "total", "totalt"}
YES = {"ja", "j", "1", "true", "sant"}
NO = {"nej", "n", "0", "false", "falskt"}
YES_NO_WORDS = {"ja", "j", "nej", "n"}
TOTAL_FIRST_WORDS = {"summa", "totalt", "totalsumma"}

POST_COLS = ("Post", "Belopp", "Metod", "Nyckel", "Mottagare", "Område")
REST_WORD = "rest"
DEFAULT_POST = "Medel"
ALL_WORD = "alla"

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-\u00c0-\u024f]+@[A-Za-z0-9\u00c0-\u024f\-]+(\.[A-Za-z0-9\u00c0-\u024f\-]+)+$")
_KEY_SEPARATOR = re.compile(r";|,\s+")
_KEY_PART = re.compile(r"^(?P<column>.*?)\s+(?P<weight>[0-9]+(?:[.,][0-9]+)?)\s*%$")
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def load_case(path: Path) -> Case:
    """Read and validate a workbook; raise ``InputError`` with every problem found."""
    path = Path(path)
    book = read_workbook(path, wanted={norm(s) for s in SHEETS})
    return build_case(book.sheets, path.parent, source=path.name, all_titles=book.titles)


def build_case(sheets: list[Sheet], base_dir: Path, source: str = "", all_titles: list[str] | None = None) -> Case:
    """The whole case from plain sheets; the rules, all at once."""
    check = Checker()
    found = {norm(s.title): s for s in sheets}
    titles = all_titles if all_titles is not None else [s.title for s in sheets]
    for sheet in sheets:
        check.unusable_cells(sheet)
        check_layout(sheet, check)
    check_sheet_names(found, titles, check)
    case_sheet, recipient_sheet, model_sheet, text_sheet = (found.get(norm(s)) for s in SHEETS)
    case = read_case_sheet(case_sheet, base_dir, check) if case_sheet else None
    table = read_recipient_sheet(recipient_sheet, check) if recipient_sheet else None
    if model_sheet is not None and case is not None and case.key_text is not None:
        check.warn(case.key_where, f'fältet "{KEY_FIELD}" används inte, eftersom bladet "{MODEL_SHEET}" finns och varje post där '
                                   "har sin egen nyckel. Töm fältet för att slippa varningen.")
    posts: list[ParsedPost] = []
    recipients: list[Recipient] = []
    if table is not None:
        if model_sheet is not None:
            posts = read_model_sheet(model_sheet, table, check)
        elif case is not None and case.readable:
            posts = default_posts(case, table, check)
    texts = read_text_sheet(text_sheet, check) if text_sheet else ()
    if table is not None and posts:
        recipients = table.recipients(posts, check)
        if case is not None and case.info is not None and not check.amounts_uncertain:
            check_amounts(case.info, recipients, posts, check)
    if check.errors:
        raise InputError(check.errors)
    return Case(case.info, tuple(recipients), tuple(p.post for p in posts), tuple(texts),
                tuple(str(w) for w in check.warnings), source)


def check_sheet_names(found: dict[str, Sheet], titles: list[str], check: Checker) -> None:
    """The required sheets are there; an optional one under a near-miss name would be silently ignored."""
    unread = [t for t in titles if norm(t) not in {norm(s) for s in SHEETS}]
    for name in SHEETS:
        if norm(name) in found:
            continue
        match = closest(name, unread, cutoff=0.75)
        if name in (CASE_SHEET, RECIPIENT_SHEET):
            fix = (f' Menade du "{match}"? Byt i så fall namn på bladet till "{name}".' if match else
                   f' Lägg till ett blad med namnet "{name}" (se "processor init" för ett exempel).')
            check.error(name, f'bladet "{name}" saknas.{fix}')
        elif match and name == MODEL_SHEET:
            check.error(match, f'bladet "{match}" läses inte, eftersom fördelningsbladet ska heta "{name}". Byt namn på bladet '
                               f'till "{name}"; annars fördelas allt efter fältet "{KEY_FIELD}" i {CASE_SHEET}.')
        elif match:
            check.warn(match, f'bladet "{match}" läses inte, eftersom textbladet ska heta "{name}". Byt namn på bladet '
                              "om texterna ska med i dokumenten.")


def check_layout(sheet: Sheet, check: Checker) -> None:
    """Cells merged over several rows hide values; hidden or filtered rows are read although nobody sees them."""
    name = _canonical_sheet(sheet.title)
    for ref in sheet.merged:
        min_col, min_row, _, max_row = range_boundaries(ref)
        if max_row > min_row:
            check.error(cell(name, min_col - 1, min_row), f"cellerna {ref} är sammanfogade över flera rader, och bara den översta "
                                                         "har ett värde; de andra raderna läses som tomma. Dela upp cellerna "
                                                         "(Start > Sammanfoga och centrera > Dela upp celler) och skriv värdet på varje rad.")
    hidden = [r for r in sheet.hidden_rows if r <= len(sheet.rows) and not blank_row(sheet.rows[r - 1])]
    if hidden and name in (RECIPIENT_SHEET, MODEL_SHEET):
        rows = [str(r) for r in hidden[:10]] + (["…"] if len(hidden) > 10 else [])
        listed = f"rad {rows[0]} är dold" if len(rows) == 1 else f"raderna {', '.join(rows[:-1])} och {rows[-1]} är dolda"
        check.warn(cell(name, 0, hidden[0]), f"{listed} (eller bortfiltrerade) men räknas med. Visa raderna och kontrollera dem, "
                                            "eller ta bort dem om de inte ska vara med.")


class Checker:
    """Collects errors and warnings.

    A cell that cannot be read at all (a formula without a value) is named once, not
    again by every rule that finds it blank. Errors that leave the money uncertain stop
    the final sum checks, which would only add confusing follow-up errors.
    """

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.amounts_uncertain = False
        self._blocked: set[str] = set()

    def error(self, where: str, message: str, *, money: bool = True) -> None:
        problem = Problem(where, message)
        if where in self._blocked or problem in self.errors:
            return
        self.errors.append(problem)
        self.amounts_uncertain = self.amounts_uncertain or money

    def warn(self, where: str, message: str) -> None:
        self.warnings.append(Problem(where, message))

    def unusable_cells(self, sheet: Sheet) -> None:
        """Formula cells without a computed value and cells showing Excel errors, wherever they are in a sheet we read."""
        canonical = _canonical_sheet(sheet.title)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                where = cell(canonical, c, r)
                if value is UNCALCULATED:
                    self.error(where, "cellen har en formel utan beräknat värde (filen har sparats av ett program som inte "
                                      "räknar ut formler). Öppna filen i Excel (eller LibreOffice Calc) och spara den igen.")
                elif isinstance(value, ExcelError):
                    self.error(where, f"cellen visar felet {value.code} i stället för ett värde. Rätta formeln i Excel, "
                                      "eller skriv in värdet, och spara igen.")
                else:
                    continue
                self._blocked.add(where)


def _canonical_sheet(title: str) -> str:
    return next((s for s in SHEETS if norm(s) == norm(title)), title)


def cell(sheet: str, col: int, row: int) -> str:
    """``Mottagare!C7`` from a 0-based column and a 1-based row."""
    return f"{sheet}!{get_column_letter(col + 1)}{row}"


def unusable(value) -> bool:
    return value is UNCALCULATED or isinstance(value, ExcelError)


def value_at(row: tuple, col: int | None):
    """The value of a cell; None for blank, missing or unusable (already reported) cells."""
    if col is None or col >= len(row):
        return None
    value = row[col]
    return None if unusable(value) else value


def blank_row(row: tuple) -> bool:
    return all(v is None or unusable(v) for v in row)


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
    """A user's value inside a message: on one line, shortened if long."""
    text = " ".join(_CONTROL.sub(" ", as_text(value) or "").split())
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
            return dt.datetime.fromisoformat(value.strip()).date()  # 2020-08-30, also with a time after it
        except ValueError:
            pass
    check.error(where, f"{quoted(value)} är inget datum ({what}). Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2020-08-30, "
                       "eller som ett datum i Excel.", money=False)
    return None


def email_addresses(value, where: str, check: Checker, whose: str) -> tuple[str, ...]:
    """One or more addresses separated by ``;`` or ``,``, each checked."""
    text = as_text(value)
    if text is None:
        return ()
    if _LINE_BREAK.search(str(value)):
        check.error(where, f"e-postadressen för {whose} innehåller en radbrytning, vilket inte går i ett e-posthuvud. "
                           "Skriv adresserna på en rad, åtskilda med semikolon.", money=False)
        return ()
    addresses = tuple(a.strip() for a in re.split(r"[;,]", text) if a.strip())
    for address in addresses:
        if not _EMAIL.match(address):
            check.error(where, f'"{address}" är ingen giltig e-postadress ({whose}). '
                               "Rätta adressen, t.ex. registrator@kommun.se; flera adresser skiljs med semikolon.", money=False)
            return ()
    return addresses


# --- Ärende -------------------------------------------------------------------------------------

@dataclass
class CaseSheet:
    """What the ``Ärende`` sheet gives: the info (None if unusable), the ``Nyckel`` text, and where things stand."""

    info: CaseInfo | None
    key_text: str | None
    key_where: str
    grant_where: str
    free_names: list[tuple[str, int]]
    readable: bool = True


def read_case_sheet(sheet: Sheet, base_dir: Path, check: Checker) -> CaseSheet:
    """The case's fields, each checked; a field name spelt nearly like a known one is flagged."""
    known = {norm(f): f for f in CASE_FIELDS}
    if not _laid_out_down(sheet, known, check):
        return CaseSheet(None, None, CASE_SHEET, CASE_SHEET, [], readable=False)
    values: dict[str, object] = {}
    rows_of: dict[str, int] = {}
    first_row: dict[str, int] = {}
    free_names: list[tuple[str, int]] = []
    for r, row in enumerate(sheet.rows, start=1):
        name = as_text(value_at(row, 0))
        if name is None or (norm(name) == "fält" and norm(as_text(value_at(row, 1)) or "värde") == "värde"):
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
        fix = _misspelt_field(field_name, free_names) or (f' Lägg till en rad med "{field_name}" i kolumn A '
                                                          f"och {example} i kolumn B.")
        check.error(CASE_SHEET, f'fältet "{field_name}" saknas.{fix}')
        return None

    _check_free_fields(free_names, first_row, check)
    _check_header_fields(values, where, check)
    title = as_text(required(TITLE, "bidragets rubrik, t.ex. Stimulansmedel God och nära vård 2024,"))
    grant_value = required(GRANT, "årets belopp i hela kronor")
    grant = as_kronor(grant_value, where(GRANT), check, f'"{GRANT}"') if grant_value is not None else None
    if grant == 0:
        check.error(where(GRANT), f'"{GRANT}" är 0 kr. Skriv beloppet som ska fördelas, större än 0.')
        grant = None
    carried = 0
    if CARRIED in values:
        carried = as_kronor(values[CARRIED], where(CARRIED), check, f'"{CARRIED}"')
    rounding = _rounding(values.get(ROUNDING), where(ROUNDING), check)
    templates = as_text(values.get(TEMPLATES))
    if templates is not None and not (base_dir / templates).is_dir():
        check.error(where(TEMPLATES), f'mallmappen "{templates}" finns inte bredvid arbetsboken ({base_dir / templates}). '
                                      "Skapa mappen, rätta namnet, eller töm fältet för att använda standardmallarna.", money=False)
    fields: dict[str, object] = {}
    for name, raw in values.items():
        if name in DATE_FIELDS:
            fields[name] = as_date(raw, where(name), check, name)
        elif name in EMAIL_FIELDS:
            addresses = email_addresses(raw, where(name), check, f'fältet "{name}"')
            fields[name] = addresses[0] if addresses else None
            if len(addresses) > 1:
                check.error(where(name), f'fältet "{name}" ska ha en enda adress, inte {len(addresses)}. Behåll en av dem.', money=False)
        elif isinstance(raw, Decimal):
            fields[name] = raw
        else:
            fields[name] = as_text(raw)
    key_text = as_text(values.get(KEY_FIELD))
    info = None
    if None not in (title, grant, carried, rounding):
        info = CaseInfo(title=title, grant=grant, carried_over=carried, rounding=rounding,
                        templates_dir=templates, fields=fields)
        if info.total < SMALL_TOTAL:
            check.warn(where(GRANT), f"att fördela är bara {formats.kronor(info.total, nbsp=False)}. Belopp skrivs i hela kronor "
                                     f'(t.ex. 15 711 504), inte i tusental eller miljoner; kontrollera "{GRANT}".')
    return CaseSheet(info, key_text, where(KEY_FIELD), where(GRANT), free_names)


def _laid_out_down(sheet: Sheet, known: dict[str, str], check: Checker) -> bool:
    """False (and an error) when field names run across a row, a table with one column per field."""
    for r, row in enumerate(sheet.rows[:3], start=1):
        names = [as_text(value_at(row, c)) for c in range(len(row))]
        fields = [n for n in names if n is not None and norm(n) in known]
        if len(fields) >= 2 and names.index(fields[1]) > 0:
            check.error(cell(CASE_SHEET, 0, r), f'fältnamnen står bredvid varandra på rad {r} ("{fields[0]}", "{fields[1]}" …). '
                                                "Skriv ett fält per rad: namnet i kolumn A och värdet i kolumn B.")
            return False
    return True


def _rounding(value, where: str, check: Checker) -> int | None:
    if value is None:
        return 1
    unit = as_number(value, where, check, ROUNDING)
    if unit is None:
        return None
    if unit not in ROUNDING_UNITS:
        check.error(where, f"avrundningen {formats.number(unit, nbsp=False)} kr går inte. Välj 1, 10, 100 eller 1000.")
        return None
    return int(unit)


def _check_header_fields(values: dict[str, object], where, check: Checker) -> None:
    """Fields that end up in an e-mail header must be one line (a line break there could add headers)."""
    for name in HEADER_FIELDS:
        raw = values.get(name)
        if not isinstance(raw, str) or not _LINE_BREAK.search(raw.strip()):
            continue
        if name == TITLE and "Ämne" in values:
            continue
        why = (f'och "{TITLE}" blir e-postens ämne när fältet "Ämne" saknas. Skriv rubriken på en rad, eller lägg till fältet "Ämne".'
               if name == TITLE else "vilket inte går i ett e-posthuvud. Skriv värdet på en rad.")
        check.error(where(name), f'fältet "{name}" innehåller en radbrytning, {why}', money=False)


def _check_free_fields(free_names: list[tuple[str, int]], present: dict[str, int], check: Checker) -> None:
    """A free field spelt nearly like a known one is almost always a typo; for money fields it would cost money."""
    required = (TITLE, GRANT, KEY_FIELD)
    for name, r in free_names:
        match = closest(name, [f for f in CASE_FIELDS if norm(f) not in present], cutoff=0.8)
        if match is None or match in required:
            continue
        where = cell(CASE_SHEET, 0, r)
        if match in (CARRIED, ROUNDING):
            check.error(where, f'fältet "{name}" är inget känt fält och påverkar inte beloppen. Menade du "{match}"? '
                               "Rätta stavningen i kolumn A.")
        else:
            check.warn(where, f'fältet "{name}" är inget känt fält och används bara om en mall nämner det. Menade du "{match}"? '
                              "Rätta stavningen i kolumn A.")


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
                        needed.setdefault(i, {})[part.column] = post_label(parsed.post)
        result = []
        for i, row in enumerate(self.rows):
            bases: dict[str, Decimal] = {}
            texts: dict[str, str] = {}
            for column, value in row.values.items():
                where = cell(RECIPIENT_SHEET, self.columns[column], row.row)
                user = needed.get(i, {}).get(column)
                if user is not None:
                    number = self._basis(value, where, check, column, row.name, user)
                    if number is not None:
                        bases[column] = number
                elif isinstance(value, Decimal):
                    bases[column] = value
                elif value is not None:
                    texts[column] = as_text(value)
            for column, user in needed.get(i, {}).items():
                if row.values.get(column) is None:
                    check.error(cell(RECIPIENT_SHEET, self.columns[column], row.row),
                                f"värde saknas i kolumn {column} för mottagare {row.name}, som {user} fördelar efter. "
                                "Skriv ett tal (0 är tillåtet), eller sätt Deltar till Nej om mottagaren avstår.")
            result.append(Recipient(row.name, row.row, row.emails, row.group, row.participates, bases, texts))
        return result

    @staticmethod
    def _basis(value, where: str, check: Checker, column: str, name: str, user: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal) or (isinstance(value, str) and parse_number(value) is not None):
            number = as_number(value, where, check, f"kolumn {column}, mottagare {name}")
            if number is not None and number < 0:
                check.error(where, f"{formats.number(number, nbsp=False)} är negativt (kolumn {column}, mottagare {name}). "
                                   f"{user[0].upper()}{user[1:]} fördelar efter kolumnen; skriv 0 eller mer.")
                return None
            return number
        check.error(where, f"{quoted(value)} är inte ett tal (kolumn {column}, mottagare {name}). "
                           f"{user[0].upper()}{user[1:]} fördelar efter kolumnen; skriv ett tal, t.ex. 23 178.")
        return None


def read_recipient_sheet(sheet: Sheet, check: Checker) -> RecipientTable | None:
    """The recipients' rows, each checked; totals rows compared with the column sums."""
    if not sheet.rows:
        check.error(RECIPIENT_SHEET, "bladet är tomt. Skriv rubrikerna (Mottagare, E-post, Grupp, Deltar och underlagen) "
                                     "på rad 1 och en mottagare per rad under.")
        return None
    if not _has_header(sheet.rows[0], (NAME_COL,)) and _header_below(sheet, RECIPIENT_SHEET, (NAME_COL,), check):
        return None
    columns = _header(sheet.rows[0], RECIPIENT_SHEET, check)
    if columns is None:
        return None
    if NAME_COL not in columns:
        first_text = next((c for c in columns if c not in RESERVED_COLUMNS), None)
        fix = f'{did_you_mean(NAME_COL, list(columns))} Skriv "{NAME_COL}" som rubrik över mottagarnas namn.'
        if not did_you_mean(NAME_COL, list(columns)) and first_text:
            fix = f' Är kolumnen "{first_text}" mottagarna? Döp i så fall om rubriken till "{NAME_COL}".'
        check.error(cell(RECIPIENT_SHEET, 0, 1), f'kolumnen "{NAME_COL}" saknas på rad 1.{fix}')
        return None
    rows: list[RecipientRow] = []
    seen: dict[str, int] = {}
    sums: dict[str, Decimal] = {}
    totals_rows: list[tuple[int, tuple]] = []
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if blank_row(raw):
            continue
        name = as_text(value_at(raw, columns[NAME_COL]))
        where = cell(RECIPIENT_SHEET, columns[NAME_COL], r)
        if name is None:
            check.error(where, f"raden har värden men inget namn på mottagaren. Skriv namnet i kolumn {NAME_COL}, "
                               f"eller töm raden.{_totals_hint(raw)}")
            continue
        if norm(name) in TOTAL_ROW_NAMES:
            totals_rows.append((r, raw))
            continue
        if _looks_like_totals(name, where, check):
            continue
        if norm(name) in seen:
            check.error(where, f'mottagaren "{name}" finns redan på rad {seen[norm(name)]}. '
                               "Varje mottagare får bara stå en gång; slå ihop raderna eller ge dem olika namn.")
            continue
        seen[norm(name)] = r
        if _CONTROL.search(name):
            check.error(where, f"mottagarens namn {quoted(name)} innehåller en radbrytning eller ett osynligt styrtecken, "
                               "men namnet hamnar i e-postens ämne och i filnamn. Skriv namnet på en rad.", money=False)
        rows.append(_recipient_row(name, r, raw, columns, check))
        for column, c in columns.items():
            number = _plain_number(value_at(raw, c))
            if column not in RESERVED_COLUMNS and number is not None:
                sums[column] = sums.get(column, Decimal(0)) + number
    _check_lookalike_columns(sheet, columns, check)
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


def _plain_number(value) -> Decimal | None:
    """A number cell or a Swedish number typed as text, without a warning (for sums only)."""
    if isinstance(value, Decimal):
        return value
    return parse_number(value) if isinstance(value, str) else None


def _totals_hint(raw: tuple) -> str:
    """A row with only numbers, or a totals word in another column, is most likely a totals row."""
    values = [v for v in raw if v is not None and not unusable(v)]
    texts = [norm(as_text(v)) for v in values if not isinstance(v, Decimal)]
    if values and (not texts or any(t in TOTAL_ROW_NAMES for t in texts)):
        return f' Är det en summarad? Skriv då "Summa" i kolumn {NAME_COL}.'
    return ""


def _looks_like_totals(name: str, where: str, check: Checker) -> bool:
    """A totals row labelled a little differently must not pass as a recipient (and take money)."""
    words = re.findall(r"\w+", norm(name))
    if words and (" ".join(words) in TOTAL_ROW_NAMES or words[0] in TOTAL_FIRST_WORDS):
        check.error(where, f'"{name}" ser ut som en summarad men skulle räknas som mottagare. Skriv bara "Summa" i kolumn '
                           f"{NAME_COL} för en summarad (den jämförs då med kolumnernas summor), eller ta bort raden.")
        return True
    return False


def _has_header(row: tuple, names: tuple[str, ...]) -> bool:
    wanted = {norm(n) for n in names}
    return any(isinstance(v, str) and norm(v) in wanted for v in row)


def _header_below(sheet: Sheet, name: str, columns: tuple[str, ...], check: Checker) -> bool:
    """Report a header row that stands below row 1 (a title or blank rows above the table)."""
    r = next((r for r, row in enumerate(sheet.rows[1:10], start=2) if _has_header(row, columns)), None)
    if r is None:
        return False
    check.error(f"{name}!A1", f"rubrikraden ska vara rad 1, men rubrikerna står på rad {r}. Ta bort raderna ovanför "
                              f"rubrikraden (t.ex. en titel eller tomma rader) så att rubrikerna hamnar på rad 1.")
    return True


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


def _check_lookalike_columns(sheet: Sheet, columns: dict[str, int], check: Checker) -> None:
    """Answers or addresses under another heading than ``Deltar`` or ``E-post`` would silently be ignored."""
    for column, c in columns.items():
        if column in RESERVED_COLUMNS:
            continue
        values = [value_at(raw, c) for raw in sheet.rows[1:]]
        texts = [norm(as_text(v)) for v in values if v is not None]
        where = cell(RECIPIENT_SHEET, c, 1)
        if PARTICIPATES_COL not in columns and texts and set(texts) <= YES_NO_WORDS and set(texts) & NO:
            message = (f'kolumnen "{column}" har svaren {", ".join(sorted(set(as_text(v) for v in values if v is not None)))} '
                       f'men heter inte "{PARTICIPATES_COL}", så alla mottagare räknas som deltagande. Byt namn på rubriken till '
                       f'"{PARTICIPATES_COL}" om Nej betyder att mottagaren avstår.')
            if closest(column, [PARTICIPATES_COL]):
                check.error(where, message)
            else:
                check.warn(where, message)
        elif EMAIL_COL not in columns and texts and all("@" in t for t in texts):
            check.warn(where, f'kolumnen "{column}" har e-postadresser men heter inte "{EMAIL_COL}", så de används inte för '
                              f'utskicket. Byt namn på rubriken till "{EMAIL_COL}".')


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
        stated = _plain_number(value_at(raw, c))
        if column in RESERVED_COLUMNS or stated is None:
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
    """The posts, each checked; a post with a problem is reported and left out."""
    if not sheet.rows:
        check.error(MODEL_SHEET, "bladet är tomt. Skriv rubrikerna Post, Belopp, Metod, Nyckel och Mottagare på rad 1 "
                                 f'och en post per rad, eller ta bort bladet så fördelas allt efter fältet "{KEY_FIELD}" i {CASE_SHEET}.')
        return []
    required = ("Post", "Belopp", "Metod")
    if not _has_header(sheet.rows[0], required) and _header_below(sheet, MODEL_SHEET, required, check):
        return []
    columns = _header(sheet.rows[0], MODEL_SHEET, check)
    if columns is None:
        return []
    missing = [c for c in required if c not in columns]
    for name in missing:
        hint = did_you_mean(name, [c for c in columns if c not in POST_COLS])
        check.error(f"{MODEL_SHEET}!A1", f'kolumnen "{name}" saknas på rad 1.{hint} Rubrikerna ska vara Post, Belopp, Metod, Nyckel, Mottagare '
                                         "och eventuellt Område.")
    if missing:
        return []
    columns.update(_lookalike_post_columns(columns, check))
    parsed: list[ParsedPost] = []
    names: dict[str, int] = {}
    rest_row: int | None = None
    for r, raw in enumerate(sheet.rows[1:], start=2):
        if blank_row(raw):
            continue
        where = {c: cell(MODEL_SHEET, i, r) for c, i in columns.items()}
        where.update({c: where["Post"] for c in POST_COLS if c not in where})
        name = as_text(value_at(raw, columns["Post"]))
        if name is None:
            check.error(where["Post"], "posten saknar namn. Skriv ett namn i kolumn Post (det blir en kolumn i bilagan), eller töm raden.")
            continue
        if norm(name) in TOTAL_ROW_NAMES and value_at(raw, columns["Metod"]) is None:
            check.error(where["Post"], f'"{name}" ser ut som en summarad, men {MODEL_SHEET} ska bara ha poster. Ta bort raden; '
                                       "summorna räknas fram och står i bilagan.")
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
        elif isinstance(amount_raw, str) and parse_number(amount_raw) is None and closest(amount_raw, [REST_WORD]):
            check.error(where["Belopp"], f'{quoted(amount_raw)} är inget belopp. Menade du "rest"? Skriv ett belopp i hela kronor '
                                         'eller ordet "rest" för det som blir över.')
        else:
            amount = as_kronor(amount_raw, where["Belopp"], check, f'beloppet för posten "{name}"')
            if amount == 0:
                check.warn(where["Belopp"], f'posten "{name}" är 0 kr och ger ingen mottagare något. Ta bort raden om den inte behövs.')
        selected = select_recipients(value_at(raw, columns.get("Mottagare")), where["Mottagare"], table, check)
        key = _post_key(name, method, value_at(raw, columns.get("Nyckel")), where["Nyckel"], "Nyckel" in columns, table, check)
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
        match = closest(column, [p for p in POST_COLS[3:] if p not in columns], cutoff=0.75)
        if match is None:
            continue
        message = f'kolumnen "{column}" läses inte. Menade du "{match}"? Byt namn på rubriken till "{match}"'
        if match == "Mottagare":
            check.error(cell(MODEL_SHEET, c, 1), message + "; annars går varje post till alla mottagare.")
        elif match == "Nyckel":
            check.error(cell(MODEL_SHEET, c, 1), message + ".")
        else:
            check.warn(cell(MODEL_SHEET, c, 1), message + "; annars grupperas posterna inte under rubriker.")
            continue
        stand_ins[match] = c
    return stand_ins


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
            check.error(where, _unknown_selector(word, table, by_name))
            ok = False
    return tuple(sorted(chosen)) if ok else None


def _unknown_selector(word: str, table: RecipientTable, by_name: dict[str, int]) -> str:
    """The message for a word that names no recipient or group, with the likeliest fix."""
    parts = [p.strip() for p in re.split(r"[,\r\n]", word) if p.strip()]
    known = {*by_name, *table.groups, ALL_WORD}
    if len(parts) > 1 and all(norm(p) in known for p in parts):
        return (f'{quoted(" / ".join(parts))} ska vara flera mottagare eller grupper, men de ska skiljas med semikolon på en rad. '
                f'Skriv "{"; ".join(parts)}".')
    candidates = [r.name for r in table.rows] + sorted({r.group for r in table.rows if r.group})
    return (f'mottagaren eller gruppen {quoted(word)} finns inte.{did_you_mean(word, candidates)} '
            f'Skriv ett namn från {RECIPIENT_SHEET}, en grupp från kolumn {GROUP_COL}, eller "alla"; flera skiljs med semikolon.')


def parse_key(text: str, where: str, table: RecipientTable, check: Checker) -> tuple[KeyPart, ...]:
    """``Befolkning`` or ``Befolkning 50 %, Patienter 50 %`` → key parts with weights summing to 100."""
    if "%" not in text:
        pieces = [p.strip() for p in _KEY_SEPARATOR.split(text) if p.strip()]
        if table.column(text) is None and len(pieces) > 1:
            check.error(where, f'nyckeln {quoted(text)} har flera delar men inga procent. Ge varje del en vikt, t.ex. '
                               '"Befolkning 50 %, Patienter 50 %", eller skriv en enda kolumn.')
            return ()
        parts = [(text, Decimal(100))]
    else:
        parts = []
        for piece in (p.strip() for p in _KEY_SEPARATOR.split(text)):
            match = _KEY_PART.match(piece)
            if piece.count("%") > 1:
                check.error(where, f'nyckeln {quoted(text)} har delar utan skiljetecken mellan sig. Skilj delarna med semikolon, '
                                   "t.ex. Befolkning 50 %; Patienter 50 %.")
                return ()
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
    elif post.method in (EQUAL, KEY) and not members and post.row is None:
        check.error(where, "ingen mottagare deltar (alla har Deltar = Nej), så det finns ingen att fördela till. "
                           "Ändra Deltar till Ja för minst en mottagare.")
        return False
    elif post.method in (EQUAL, KEY) and not members:
        check.error(where, f'posten "{post.name}" har ingen deltagande mottagare (alla valda avstår eller inga är valda). '
                           "Välj fler mottagare eller ändra Deltar.")
        return False
    elif post.method == PER_RECIPIENT and not members:
        check.warn(where, f'posten "{post.name}" har ingen deltagande mottagare och blir 0 kr. Välj mottagare eller ta bort posten.')
    return True


def post_label(post: Post) -> str:
    """How messages name a post; the default one is the case's key, since the user never named it."""
    return f'nyckeln i {CASE_SHEET}' if post.row is None else f'posten "{post.name}"'


def default_posts(case: CaseSheet, table: RecipientTable, check: Checker) -> list[ParsedPost]:
    """Without ``Fördelning``: one post ``Medel``, the whole total by the case's ``Nyckel``."""
    if case.key_text is None:
        state = "är tomt" if "!" in case.key_where else f"saknas.{_misspelt_field(KEY_FIELD, case.free_names)}"
        check.error(case.key_where, f'fältet "{KEY_FIELD}" {state} Det behövs när det inte finns något blad "{MODEL_SHEET}". '
                                    f'Skriv en underlagskolumn från {RECIPIENT_SHEET}, t.ex. Befolkning, som värde för "{KEY_FIELD}", '
                                    f'eller lägg till bladet "{MODEL_SHEET}".')
        return []
    key = parse_key(case.key_text, case.key_where, table, check)
    if not key or case.info is None:
        return []
    post = Post(DEFAULT_POST, None, KEY, tuple(range(len(table.rows))), key, None, None)
    if not _check_selection(post, case.key_where, table, check):
        return []
    return [ParsedPost(post, case.grant_where, case.key_where)]


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
            check.error(cell(TEXT_SHEET, 0, r), "texten saknar rubrik. Skriv avsnittets rubrik i kolumn A, t.ex. Bakgrund.",
                        money=False)
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
        if post.method != FAST and multiple % unit and post.row is None:
            check.error(parsed_post.amount_where,
                        f'att fördela, {formats.kronor(multiple, nbsp=False)}, går inte jämnt upp i avrundningen '
                        f"{formats.kronor(unit, nbsp=False)} (fältet Avrundning). Sätt Avrundning till 1, eller lägg till bladet "
                        f'"{MODEL_SHEET}" och låt en post med metoden fast ta de udda kronorna.')
        elif post.method != FAST and multiple % unit:
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
                    check.error(parsed_post.key_where, f"kolumnen {part.column} summerar till 0 för de deltagande mottagarna "
                                f"i {post_label(post)}, "
                                "så nyckeln kan inte fördela något. Fyll i underlaget eller välj en annan nyckel.")
