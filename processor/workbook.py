"""Read an untrusted .xlsx/.xlsm file into plain rows of exact values.

Everything that makes a file unreadable (not a workbook, an old .xls, encrypted,
truncated, XML entity tricks, absurd sizes) becomes an ``InputError`` naming the file
and saying what to do. Numbers come back as the ``Decimal`` Excel shows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from processor.errors import InputError, Problem

MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
EXCEL_SIGNIFICANT_DIGITS = 15


class Uncalculated:
    """A formula cell saved without its computed value."""

    def __repr__(self) -> str:
        return "UNCALCULATED"


UNCALCULATED = Uncalculated()

CellValue = str | Decimal | bool | dt.datetime | dt.date | dt.time | Uncalculated | None


@dataclass(frozen=True)
class Sheet:
    """One worksheet as rows of values; ``rows[0]`` is spreadsheet row 1, ``row[0]`` column A."""

    title: str
    rows: list[tuple[CellValue, ...]]


def read_workbook(path: Path, wanted: set[str] | None = None) -> list[Sheet]:
    """Every sheet of the workbook, or only those whose normalised titles are ``wanted``."""
    where = path.name
    _check_file(path, where)
    import openpyxl  # imported here so commands that never read a workbook start fast

    formulas = _has_formulas(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        try:
            sheets = [_read_sheet(ws) for ws in book.worksheets if _is_wanted(ws.title, wanted)]
        finally:
            book.close()
        if formulas:
            _mark_uncalculated(path, sheets)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InputError([_unreadable(where, exc)]) from exc
    return sheets


def excel_number(value: float | int) -> Decimal:
    """The decimal number Excel shows for a stored binary number (15 significant digits)."""
    if isinstance(value, int):
        return Decimal(value)
    exact = Decimal(format(value, f".{EXCEL_SIGNIFICANT_DIGITS}g"))
    return exact.normalize() if exact == exact.to_integral_value() else exact


def _is_wanted(title: str, wanted: set[str] | None) -> bool:
    from processor.swedish import norm

    return wanted is None or norm(title) in wanted


def _check_file(path: Path, where: str) -> None:
    if not path.exists():
        raise InputError([Problem(where, f"filen finns inte ({path}). Kontrollera sökvägen.")])
    if path.is_dir():
        raise InputError([Problem(where, "är en mapp, inte en arbetsbok. Ange sökvägen till en .xlsx-fil.")])
    with path.open("rb") as handle:
        head = handle.read(8)
        if head.startswith(OLE_MAGIC):
            handle.seek(0)
            if ENCRYPTED_MARK in handle.read(1024 * 1024):
                raise InputError([Problem(where, "arbetsboken är lösenordsskyddad (krypterad) och kan inte läsas. "
                                                 "Öppna den i Excel, ta bort lösenordet under Arkiv > Info > Skydda arbetsbok och spara den igen.")])
            raise InputError([Problem(where, "är en gammal Excel-fil (.xls), som inte kan läsas. "
                                             "Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx).")])
    if not head:
        raise InputError([Problem(where, "filen är tom. Välj arbetsboken igen, eller skapa en ny med \"processor init\".")])
    if not head.startswith(ZIP_MAGIC):
        raise InputError([Problem(where, "är inte en Excel-arbetsbok (.xlsx). Är det en CSV- eller textfil? "
                                         "Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx).")])
    _check_package(path, where)


def _check_package(path: Path, where: str) -> None:
    """Refuse damaged packages, zip bombs and XML with DTDs before any XML parser sees them."""
    damaged = Problem(where, "filen är skadad eller ofullständig (kanske avbruten vid kopiering). "
                             "Kopiera den igen, eller öppna den i Excel och spara den på nytt.")
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
            names = {m.filename for m in members}
            if "xl/workbook.xml" not in names:
                raise InputError([Problem(where, "är ett zip-arkiv men ingen Excel-arbetsbok. "
                                                 "Öppna filen i Excel och spara den som Excel-arbetsbok (.xlsx).")])
            unpacked = sum(m.file_size for m in members)
            bomb = any(m.compress_size and m.file_size / m.compress_size > MAX_COMPRESSION_RATIO
                       and m.file_size > 10 * 1024 * 1024 for m in members)
            if unpacked > MAX_UNPACKED_BYTES or bomb:
                raise InputError([Problem(where, "arbetsboken är orimligt stor uppackad och läses inte (skydd mot så kallade zip-bomber). "
                                                 "Kontrollera filen; en fördelning får plats i några megabyte.")])
            for member in members:
                if member.filename.endswith((".xml", ".rels", ".vml")):
                    with package.open(member) as stream:
                        head = stream.read(64 * 1024)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise InputError([Problem(where, f"innehåller otillåten XML (en DTD eller entiteter i {member.filename}), "
                                                         "vilket Excel aldrig skriver. Filen kan vara manipulerad; öppna den inte. "
                                                         "Be avsändaren om en ny fil sparad i Excel.")])
    except zipfile.BadZipFile as exc:
        raise InputError([damaged]) from exc
    except (OSError, EOFError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise InputError([damaged]) from exc


def _has_formulas(path: Path) -> bool:
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with package.open(name) as stream:
                    while chunk := stream.read(1024 * 1024):
                        if b"<f>" in chunk or b"<f " in chunk or b":f>" in chunk or b":f " in chunk:
                            return True
    return False


def _read_sheet(ws) -> Sheet:
    ws.reset_dimensions()
    rows = [tuple(_value(v) for v in row) for row in ws.iter_rows(values_only=True)]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return Sheet(ws.title, rows)


def _value(value) -> CellValue:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return excel_number(value)
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def _mark_uncalculated(path: Path, sheets: list[Sheet]) -> None:
    """Replace blank values of formula cells by ``UNCALCULATED`` (a second, formula-only read)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    try:
        for index, sheet in enumerate(sheets):
            ws = book[sheet.title]
            ws.reset_dimensions()
            for r, row in enumerate(ws.iter_rows(values_only=True)):
                if r >= len(sheet.rows):
                    break
                cells = list(sheet.rows[r])
                changed = False
                for c, raw in enumerate(row):
                    if isinstance(raw, str) and raw.startswith("=") and c < len(cells) and cells[c] is None:
                        cells[c] = UNCALCULATED
                        changed = True
                if changed:
                    sheet.rows[r] = tuple(cells)
    finally:
        book.close()


def _unreadable(where: str, exc: Exception) -> Problem:
    name = type(exc).__name__
    if "Forbidden" in name or "DTD" in name or "Entit" in name:
        return Problem(where, "innehåller otillåten XML (entiteter), vilket Excel aldrig skriver. "
                              "Be avsändaren om en ny fil sparad i Excel.")
    return Problem(where, f"kan inte läsas som Excel-arbetsbok ({name}). "
                          "Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx).")
