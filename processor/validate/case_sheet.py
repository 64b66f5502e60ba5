"""The ``Ärende`` sheet: field/value pairs giving the money, the rounding and the documents' fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from processor import formats
from processor.model import CaseInfo
from processor.swedish import closest, norm
from processor.validate.cells import LINE_BREAK, as_date, as_kronor, as_number, as_text, email_addresses, value_at
from processor.validate.checker import Checker, cell
from processor.vocabulary import (
    CARRIED, CASE_FIELDS, CASE_SHEET, DATE_FIELDS, EMAIL_FIELDS, FIELD_HEADING, GRANT, HEADER_FIELDS, KEY_FIELD,
    ROUNDING, SUBJECT, TEMPLATES, TITLE, VALUE_HEADING,
)
from processor.workbook import Sheet

ROUNDING_UNITS = (1, 10, 100, 1000)
SMALL_TOTAL = 1000  # kronor; a smaller total is almost always typed in thousands or millions


@dataclass
class CaseSheet:
    """What the ``Ärende`` sheet gives: the info (None if unusable), the ``Nyckel`` text, and where things stand.

    ``total`` and ``rounding`` are known even when another field is broken, so the checks
    across sheets that need only them still run; ``total_where`` and ``rounding_where``
    name the cell that leaves them unknown.
    """

    info: CaseInfo | None
    key_text: str | None
    key_where: str
    grant_where: str
    free_names: list[tuple[str, int]]
    readable: bool = True
    total: int | None = None
    total_where: str = CASE_SHEET
    rounding: int | None = None
    rounding_where: str = CASE_SHEET

    @classmethod
    def unreadable(cls, where: str = CASE_SHEET) -> CaseSheet:
        """Nothing usable: the sheet is missing (``where`` is the sheet) or laid out wrongly (the cell that says so)."""
        return cls(None, None, where, where, [], readable=False, total_where=where, rounding_where=where)


@dataclass
class _Fields:
    """The sheet's rows by field: values, rows, and the fields the format does not know."""

    values: dict[str, object] = field(default_factory=dict)
    rows_of: dict[str, int] = field(default_factory=dict)
    first_row: dict[str, int] = field(default_factory=dict)
    free_names: list[tuple[str, int]] = field(default_factory=list)

    def where(self, field_name: str) -> str:
        return cell(CASE_SHEET, 1, self.rows_of[field_name]) if field_name in self.rows_of else CASE_SHEET


def read_case_sheet(sheet: Sheet, base_dir: Path, check: Checker) -> CaseSheet:
    """The case's fields, each checked; a field name spelt nearly like a known one is flagged."""
    known = {norm(f): f for f in CASE_FIELDS}
    across = _laid_out_across(sheet, known, check)
    if across is not None:
        return CaseSheet.unreadable(across)
    fields = _collect_fields(sheet, known, check)
    _check_free_fields(fields.free_names, fields.first_row, check)
    _check_header_fields(fields, check)
    title = as_text(_required(fields, TITLE, "bidragets rubrik, t.ex. Stimulansmedel God och nära vård 2024,", check))
    grant = _grant(fields, check)
    carried = as_kronor(fields.values[CARRIED], fields.where(CARRIED), check, f'"{CARRIED}"') if CARRIED in fields.values else 0
    rounding = _rounding(fields.values.get(ROUNDING), fields.where(ROUNDING), check)
    templates = _templates(fields, base_dir, check)
    document_fields = _document_fields(fields, check)
    info = None
    if None not in (title, grant, carried, rounding):
        info = CaseInfo(title=title, grant=grant, carried_over=carried, rounding=rounding,
                        templates_dir=templates, fields=document_fields)
        _check_small_total(info, fields.where(GRANT), check)
    key_text = as_text(fields.values.get(KEY_FIELD))
    total = grant + carried if grant is not None and carried is not None else None
    return CaseSheet(info, key_text, fields.where(KEY_FIELD), fields.where(GRANT), fields.free_names,
                     total=total, total_where=fields.where(GRANT if grant is None else CARRIED),
                     rounding=rounding, rounding_where=fields.where(ROUNDING))


def _collect_fields(sheet: Sheet, known: dict[str, str], check: Checker) -> _Fields:
    """Each field's value and row; a field named twice is an error, a ``Fält | Värde`` header row is skipped."""
    fields = _Fields()
    for r, row in enumerate(sheet.rows, start=1):
        name = as_text(value_at(row, 0))
        if name is None or (norm(name) == norm(FIELD_HEADING)
                            and norm(as_text(value_at(row, 1)) or VALUE_HEADING) == norm(VALUE_HEADING)):
            continue
        canonical = known.get(norm(name), name)
        if norm(name) in fields.first_row:
            check.error(cell(CASE_SHEET, 0, r), f'fältet "{canonical}" finns redan på rad {fields.first_row[norm(name)]}. '
                                                "Ta bort den ena raden.")
            continue
        fields.first_row[norm(name)] = r
        fields.rows_of[canonical] = r
        if canonical not in CASE_FIELDS:
            fields.free_names.append((name, r))
        raw = value_at(row, 1)
        if raw is not None:
            fields.values[canonical] = raw
    return fields


def _required(fields: _Fields, field_name: str, example: str, check: Checker) -> object | None:
    if field_name in fields.values:
        return fields.values[field_name]
    if field_name in fields.rows_of:
        check.error(fields.where(field_name), f'fältet "{field_name}" saknar värde. Skriv {example} i kolumn B.')
        return None
    fix = misspelt_field(field_name, fields.free_names) or (f' Lägg till en rad med "{field_name}" i kolumn A '
                                                            f"och {example} i kolumn B.")
    check.error(CASE_SHEET, f'fältet "{field_name}" saknas.{fix}')
    return None


def _grant(fields: _Fields, check: Checker) -> int | None:
    value = _required(fields, GRANT, "årets belopp i hela kronor", check)
    grant = as_kronor(value, fields.where(GRANT), check, f'"{GRANT}"') if value is not None else None
    if grant == 0:
        check.error(fields.where(GRANT), f'"{GRANT}" är 0 kr. Skriv beloppet som ska fördelas, större än 0.')
        return None
    return grant


def _templates(fields: _Fields, base_dir: Path, check: Checker) -> str | None:
    templates = as_text(fields.values.get(TEMPLATES))
    if templates is not None and not (base_dir / templates).is_dir():
        check.error(fields.where(TEMPLATES), f'mallmappen "{templates}" finns inte bredvid arbetsboken ({base_dir / templates}). '
                                             "Skapa mappen, rätta namnet, eller töm fältet för att använda standardmallarna.")
    return templates


def _document_fields(fields: _Fields, check: Checker) -> dict[str, object]:
    """Every field as the documents use it: dates as dates, addresses checked, numbers as numbers, the rest as text."""
    result: dict[str, object] = {}
    for name, raw in fields.values.items():
        where = fields.where(name)
        if name in DATE_FIELDS:
            result[name] = as_date(raw, where, check, name)
        elif name in EMAIL_FIELDS:
            addresses = email_addresses(raw, where, check, f'fältet "{name}"')
            result[name] = addresses[0] if addresses else None
            if len(addresses) > 1:
                check.error(where, f'fältet "{name}" ska ha en enda adress, inte {len(addresses)}. Behåll en av dem.')
        elif isinstance(raw, Decimal):
            result[name] = raw
        else:
            result[name] = as_text(raw)
    for name, _ in fields.free_names:
        result.setdefault(name, None)  # a field of its own left empty: templates can test it, and are told it is empty
    return result


def _check_small_total(info: CaseInfo, where: str, check: Checker) -> None:
    if info.total < SMALL_TOTAL:
        check.warn(where, f"att fördela är bara {formats.kronor(info.total, nbsp=False)}. Belopp skrivs i hela kronor "
                          f'(t.ex. 15 711 504), inte i tusental eller miljoner; kontrollera "{GRANT}".')


def _laid_out_across(sheet: Sheet, known: dict[str, str], check: Checker) -> str | None:
    """The row's cell (and an error) when field names run across a row, a table with one column per field."""
    for r, row in enumerate(sheet.rows[:3], start=1):
        names = [as_text(value_at(row, c)) for c in range(len(row))]
        fields = [n for n in names if n is not None and norm(n) in known]
        if len(fields) >= 2 and names.index(fields[1]) > 0:
            check.error(cell(CASE_SHEET, 0, r), f'fältnamnen står bredvid varandra på rad {r} ("{fields[0]}", "{fields[1]}" …). '
                                                "Skriv ett fält per rad: namnet i kolumn A och värdet i kolumn B.")
            return cell(CASE_SHEET, 0, r)
    return None


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


def _check_header_fields(fields: _Fields, check: Checker) -> None:
    """Fields that end up in an e-mail header must be one line (a line break there could add headers)."""
    for name in HEADER_FIELDS:
        raw = fields.values.get(name)
        if not isinstance(raw, str) or not LINE_BREAK.search(raw.strip()):
            continue
        if name == TITLE and SUBJECT in fields.values:
            continue
        why = (f'och "{TITLE}" blir e-postens ämne när fältet "{SUBJECT}" saknas. Skriv rubriken på en rad, eller lägg till '
               f'fältet "{SUBJECT}".' if name == TITLE else "vilket inte går i ett e-posthuvud. Skriv värdet på en rad.")
        check.error(fields.where(name), f'fältet "{name}" innehåller en radbrytning, {why}')


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


def misspelt_field(field_name: str, free_names: list[tuple[str, int]]) -> str:
    """`` Menade du "Medel att fördel" (rad 3)?`` when a free field looks like the missing one."""
    match = closest(field_name, [n for n, _ in free_names])
    row = next((r for n, r in free_names if n == match), None)
    return f' Menade du "{match}" (rad {row})? Rätta stavningen i kolumn A.' if match else ""
