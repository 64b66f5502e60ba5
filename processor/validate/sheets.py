"""Rules about sheets as a whole: their names, header rows, merged cells and hidden rows."""

from __future__ import annotations

from openpyxl.utils import range_boundaries

from processor.swedish import closest, norm
from processor.validate.cells import as_text, blank_row, quoted
from processor.validate.checker import Checker, canonical_sheet, cell
from processor.vocabulary import (
    CASE_SHEET, KEY_FIELD, MODEL_SHEET, POST_COLS, QUESTION_SHEET, RECIPIENT_SHEET, RESERVED_COLUMNS, SHEETS,
)
from processor.workbook import BIDI_CONTROL, Sheet


def distinct_sheets(sheets: list[Sheet], check: Checker) -> dict[str, Sheet]:
    """The sheets by normalised name; a second sheet under the same name but for case or spaces is an error.

    Which of the two the user means cannot be known, so the first is read and the other reported.
    """
    found: dict[str, Sheet] = {}
    for sheet in sheets:
        first = found.get(norm(sheet.title))
        if first is None:
            found[norm(sheet.title)] = sheet
            continue
        check.error(canonical_sheet(sheet.title), f'bladen "{first.title}" och "{sheet.title}" har samma namn så när som på '
                                                  "stora och små bokstäver eller mellanslag, så det går inte att veta vilket "
                                                  f'som ska läsas. Ta bort det ena bladet eller byt namn på det.')
    return found


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
        elif match and name == QUESTION_SHEET:
            check.warn(match, f'bladet "{match}" läses inte, eftersom frågebladet ska heta "{name}". Byt namn på bladet '
                              "om frågorna ska med på redovisningsblanketten.")
        elif match:
            check.warn(match, f'bladet "{match}" läses inte, eftersom textbladet ska heta "{name}". Byt namn på bladet '
                              "om texterna ska med i dokumenten.")


def check_layout(sheet: Sheet, check: Checker) -> None:
    """Cells merged over several rows hide values; hidden or filtered rows are read although nobody sees them."""
    name = canonical_sheet(sheet.title)
    for ref in sheet.merged:
        min_col, min_row, _, max_row = range_boundaries(ref)
        if max_row > min_row:
            check.error(cell(name, min_col - 1, min_row),
                        f"cellerna {ref} är sammanfogade över flera rader, och bara den översta har ett värde; de andra "
                        "raderna läses som tomma. Dela upp cellerna (Start > Sammanfoga och centrera > Dela upp celler) "
                        "och skriv värdet på varje rad.")
    hidden = [r for r in sheet.hidden_rows if r <= len(sheet.rows) and not blank_row(sheet.rows[r - 1])]
    if hidden and name in (RECIPIENT_SHEET, MODEL_SHEET):
        rows = [str(r) for r in hidden[:10]] + (["…"] if len(hidden) > 10 else [])
        listed = f"rad {rows[0]} är dold" if len(rows) == 1 else f"raderna {', '.join(rows[:-1])} och {rows[-1]} är dolda"
        check.warn(cell(name, 0, hidden[0]), f"{listed} (eller bortfiltrerade) men räknas med. Visa raderna och kontrollera dem, "
                                            "eller ta bort dem om de inte ska vara med.")


def check_direction_marks(sheet: Sheet, check: Checker) -> None:
    """Refuse invisible characters that turn the direction of text: they make names, file names and subjects lie.

    A right-to-left override (U+202E) in a name can make ``brev.exe`` pass for a harmless file name.
    """
    name = canonical_sheet(sheet.title)
    for r, row in enumerate(sheet.rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, str) and (mark := BIDI_CONTROL.search(value)):
                check.error(cell(name, c, r), f"texten {quoted(value)} innehåller ett osynligt tecken som vänder textens "
                                              f"riktning (U+{ord(mark.group()):04X}), så att namn, filnamn och ämnesrader "
                                              "kan visas vilseledande. Skriv in texten på nytt för hand i stället för att "
                                              "klistra in den.")


def has_header(row: tuple, names: tuple[str, ...]) -> bool:
    wanted = {norm(n) for n in names}
    return any(isinstance(v, str) and norm(v) in wanted for v in row)


def header_below(sheet: Sheet, name: str, columns: tuple[str, ...], check: Checker) -> bool:
    """Report a header row that stands below row 1 (a title or blank rows above the table)."""
    r = next((r for r, row in enumerate(sheet.rows[1:10], start=2) if has_header(row, columns)), None)
    if r is None:
        return False
    check.error(f"{name}!A1", f"rubrikraden ska vara rad 1, men rubrikerna står på rad {r}. Ta bort raderna ovanför "
                              f"rubrikraden (t.ex. en titel eller tomma rader) så att rubrikerna hamnar på rad 1.")
    return True


def header(row: tuple, sheet: str, check: Checker) -> dict[str, int] | None:
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
