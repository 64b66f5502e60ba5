"""Is the file a workbook at all, and a safe one? Checked on the bytes before any parser sees them.

Everything that makes a file unreadable (not a workbook, an old .xls, an OpenDocument
file, encrypted, truncated, XML entity tricks, absurd sizes) becomes an ``InputError``
naming the file and saying what to do.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from processor.checksums import file_sha256
from processor.errors import InputError, Problem, os_reason
from processor.workbook.parts import local_name, parse_part

MEGABYTE = 1024 * 1024
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
WORD_MARK = "WordDocument".encode("utf-16-le")
XML_DECLARATION_MARKS = tuple(mark.encode(encoding) for mark in ("<!DOCTYPE", "<!ENTITY")
                              for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
NOT_XML_FOLDERS = ("xl/media/", "xl/embeddings/")
NOT_XML_SUFFIXES = (".bin", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg")
ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
SAVE_AS_XLSX = "Öppna den i Excel och spara den som Excel-arbetsbok (.xlsx)."
_STRING_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?si[\s/>]")  # one shared string: <si> or <x:si ...>
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")  # turn the direction of text


@dataclass(frozen=True)
class ReadingBudget:
    """How much a workbook may hold before it is refused unread; a fördelning fits in a few megabytes.

    ``shared_string_bytes`` bounds the shared-strings part (as its size is declared, and as it
    streams); its number of strings is bounded like the cells that could use them.
    """

    unpacked_bytes: int = 512 * MEGABYTE
    compression_ratio: int = 200
    cells: int = 2_000_000
    shared_strings: int = 2_000_000
    shared_string_bytes: int = 64 * MEGABYTE


DEFAULT_BUDGET = ReadingBudget()


def check_file(path: Path, where: str, budget: ReadingBudget) -> None:
    """Refuse what is not an .xlsx package, with a message that says what the file is instead."""
    if path.name.startswith("~$"):
        raise InputError([Problem(where, "är Excels tillfälliga låsfil, som finns medan arbetsboken är öppen, och ingen "
                                         "arbetsbok. "
                                         'Välj arbetsboken utan "~$" i början av namnet.')])
    if BIDI_CONTROL.search(path.name):
        raise InputError([Problem(BIDI_CONTROL.sub("", where), "filnamnet innehåller ett osynligt tecken som vänder textens "
                                                               "riktning och blir en del av körmappens namn, där det visas "
                                                               "vilseledande. Byt namn på filen och skriv namnet för hand.")])
    if not path.exists():
        raise InputError([Problem(where, f"filen finns inte ({path}). Kontrollera sökvägen och filnamnet.")])
    if path.is_dir():
        raise InputError([Problem(where, "är en mapp, inte en arbetsbok. Ange sökvägen till en .xlsx-fil.")])
    if not path.is_file():
        raise InputError([Problem(where, "är ingen vanlig fil (kanske en enhet eller en pipe). "
                                         "Ange sökvägen till en .xlsx-fil.")])
    try:
        with path.open("rb") as handle:
            head = handle.read(1024 * 1024)
    except OSError as exc:
        raise InputError([_cannot_open(where, exc)]) from exc
    if not head:
        raise InputError([Problem(where, "filen är tom (0 byte). Välj arbetsboken igen, "
                                         'eller skapa en ny med "processor init".')])
    if head.startswith(OLE_MAGIC):
        raise InputError([Problem(where, _ole_kind(path))])
    if not head.startswith(ZIP_MAGICS):
        raise InputError([Problem(where, _not_a_package(head))])
    _check_package(path, where, budget)


def workbook_sha256(path: Path) -> str:
    """The workbook's SHA-256, to notice a change during a run; empty when there is no file (reading it says why)."""
    path = Path(path)
    if not path.is_file():
        return ""
    try:
        return file_sha256(path)
    except OSError as exc:
        raise InputError([_cannot_open(path.name or str(path), exc)]) from exc


def _cannot_open(where: str, exc: OSError) -> Problem:
    if isinstance(exc, PermissionError):
        return Problem(where, "filen kan inte öppnas: behörighet saknas eller den är låst av ett annat program. "
                              "Stäng den i andra program, eller kopiera den till en mapp där du kan läsa den.")
    return Problem(where, f"filen kan inte läsas ({os_reason(exc)}). Kopiera den till en lokal mapp och försök igen.")


def _ole_kind(path: Path) -> str:
    """An OLE2 compound file: an encrypted .xlsx, an old Word document or an old binary Excel file.

    The stream names sit in the directory, which may be anywhere in the file, so all of it is searched.
    """
    marks = {mark: False for mark in (ENCRYPTED_MARK, WORD_MARK)}
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            window = tail + chunk
            for mark in marks:
                marks[mark] = marks[mark] or mark in window
            tail = window[-64:]
    if marks[ENCRYPTED_MARK]:
        return ("arbetsboken är lösenordsskyddad (krypterad) och kan inte läsas. Öppna den i Excel, ta bort lösenordet "
                "under Arkiv > Info > Skydda arbetsbok > Kryptera med lösenord, och spara den igen.")
    if marks[WORD_MARK]:
        return "är ett gammalt Word-dokument (.doc), inte en Excel-arbetsbok. Välj arbetsboken (.xlsx)."
    return "är en gammal Excel-fil (.xls), som inte kan läsas. " + SAVE_AS_XLSX


def _not_a_package(head: bytes) -> str:
    """What a file that is not a zip package most likely is, in words the user recognises."""
    if head.startswith(b"%PDF"):
        return "är en PDF-fil, inte en Excel-arbetsbok. Använd Excel-filen (.xlsx) som PDF:en gjordes från."
    text = head[:8192].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html")) or "<table" in text:
        return ("är en webbsida (HTML) med en Excel-filändelse, som vissa system skapar när de exporterar till Excel. "
                + SAVE_AS_XLSX)
    if text.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "är ett XML-kalkylblad i det gamla formatet från Excel 2003. " + SAVE_AS_XLSX
    if b"\x00" not in head[:8192]:
        return "är en textfil (kanske CSV), inte en Excel-arbetsbok. " + SAVE_AS_XLSX
    return ("är inte en Excel-arbetsbok utan någon annan sorts fil. Välj rätt fil, eller "
            + SAVE_AS_XLSX[0].lower() + SAVE_AS_XLSX[1:])


def _check_package(path: Path, where: str, budget: ReadingBudget) -> None:
    """Refuse other zip formats, damaged packages, zip bombs and XML with DTDs before any parser sees them."""
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
            kind = _other_package_kind(package, {m.filename for m in members})
            if kind:
                raise InputError([Problem(where, kind)])
            if _too_big(members, budget):
                raise InputError([Problem(where, "arbetsboken är orimligt stor uppackad och läses inte (skydd mot så kallade "
                                                 "zip-bomber). Kontrollera filen; en fördelning får plats i några megabyte.")])
            shared = _shared_strings_parts(package, members)
            for member in shared:
                if member.file_size > budget.shared_string_bytes:
                    raise InputError([_too_much_text(where, member.filename)])
            for member in members:
                if _may_be_xml(member.filename) and _declares_entities(package, member):
                    raise InputError([Problem(where, f"innehåller otillåten XML (en DTD eller entiteter i {member.filename}), "
                                                     "vilket Excel aldrig skriver. Filen kan vara manipulerad; öppna den inte. "
                                                     "Be avsändaren om en ny fil sparad i Excel.")])
            for member in shared:
                _count_shared_strings(package, member, budget, where)
    except InputError:
        raise
    except Exception as exc:  # zipfile raises many types for damaged or password-protected packages
        raise InputError([_damaged(where)]) from exc


def _other_package_kind(package: zipfile.ZipFile, names: set[str]) -> str | None:
    """A message for zip packages that are some other kind of document, else None."""
    if "mimetype" in names or "content.xml" in names:
        mimetype = _first_bytes(package, "mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
        if mimetype == ODS_MIMETYPE or (not mimetype and "content.xml" in names):
            return ("är ett OpenDocument-kalkylblad (.ods, t.ex. från LibreOffice), inte en Excel-arbetsbok. "
                    "Öppna den och välj Spara som > Excel 2007-365 (.xlsx).")
        return "är ett OpenDocument-dokument (t.ex. från LibreOffice), inte en Excel-arbetsbok. Välj arbetsboken (.xlsx)."
    if "xl/workbook.bin" in names:
        return "är en binär Excel-arbetsbok (.xlsb), som inte kan läsas. " + SAVE_AS_XLSX
    if "word/document.xml" in names:
        return "är ett Word-dokument, inte en Excel-arbetsbok. Välj arbetsboken (.xlsx)."
    if "ppt/presentation.xml" in names:
        return "är en PowerPoint-presentation, inte en Excel-arbetsbok. Välj arbetsboken (.xlsx)."
    if "xl/workbook.xml" not in names:
        return "är ett zip-arkiv men ingen Excel-arbetsbok. Packa upp arkivet och välj arbetsboken (.xlsx) i det, eller " \
               + SAVE_AS_XLSX[0].lower() + SAVE_AS_XLSX[1:]
    return None


def _first_bytes(package: zipfile.ZipFile, name: str) -> bytes:
    with package.open(name) as stream:
        return stream.read(200)


def _too_big(members: list[zipfile.ZipInfo], budget: ReadingBudget) -> bool:
    """Unpacked size beyond reason, or a large member compressed suspiciously well (a zip bomb)."""
    unpacked = sum(m.file_size for m in members)
    bomb = any(m.file_size > 10 * MEGABYTE and m.file_size > budget.compression_ratio * max(m.compress_size, 1)
               for m in members)
    return unpacked > budget.unpacked_bytes or bomb


def _shared_strings_parts(package: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The parts holding shared strings: named so in ``[Content_Types].xml``, or by Excel's usual name."""
    names = {"xl/sharedstrings.xml"}
    if "[Content_Types].xml" in package.namelist():
        for element in parse_part(package, "[Content_Types].xml").iter():
            if local_name(element.tag) == "Override" and element.get("ContentType") == SHARED_STRINGS_TYPE:
                names.add(element.get("PartName", "").lstrip("/").lower())
    return [m for m in members if m.filename.lower() in names]


def _count_shared_strings(package: zipfile.ZipFile, member: zipfile.ZipInfo, budget: ReadingBudget, where: str) -> None:
    """Stream the shared strings, counting them and their bytes, and refuse as soon as either is beyond the budget.

    openpyxl keeps every shared string in memory, so a part that unpacks to hundreds of
    megabytes would cost gigabytes before a single cell is read. The count is made on the
    raw bytes (a ``<si>`` tag cannot occur inside text, where ``<`` is escaped), which is
    many times faster than parsing.
    """
    strings = size = 0
    tail = b""
    with package.open(member) as stream:
        while chunk := stream.read(MEGABYTE):
            size += len(chunk)
            window = tail + chunk
            strings += sum(1 for m in _STRING_TAG.finditer(window) if m.end() > len(tail))
            if strings > budget.shared_strings or size > budget.shared_string_bytes:
                raise InputError([_too_much_text(where, member.filename)])
            tail = window[-64:]


def _too_much_text(where: str, part: str) -> Problem:
    return Problem(where, f"arbetsboken har orimligt mycket text i sina delade textsträngar ({part}) och läses inte "
                          "(skydd mot filer som är gjorda för att fylla minnet). Kontrollera filen; en fördelning får plats "
                          "i några megabyte. Kopiera bara tabellerna till en ny arbetsbok och spara den, eller be avsändaren "
                          "om en ny fil.")


def _may_be_xml(name: str) -> bool:
    return not name.startswith(NOT_XML_FOLDERS) and not name.lower().endswith(NOT_XML_SUFFIXES)


def _declares_entities(package: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether a member holds a DTD or entity declaration anywhere, in any encoding XML parsers accept."""
    tail = b""
    with package.open(member) as stream:
        while chunk := stream.read(1024 * 1024):
            window = tail + chunk
            if any(mark in window for mark in XML_DECLARATION_MARKS):
                return True
            tail = window[-64:]
    return False


def _damaged(where: str) -> Problem:
    return Problem(where, "filen är skadad eller ofullständig (kanske avbruten vid kopiering eller nedladdning). "
                          "Kopiera den igen, eller öppna den i Excel och spara den på nytt.")


def unreadable(where: str, exc: BaseException) -> Problem:
    chain = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    names = [type(e).__name__ for e in chain]
    if any("Forbidden" in n or "DTD" in n or "Entit" in n for n in names):
        return Problem(where, "innehåller otillåten XML (entiteter), vilket Excel aldrig skriver. "
                              "Be avsändaren om en ny fil sparad i Excel.")
    if any(isinstance(e, (zipfile.BadZipFile, KeyError, EOFError)) for e in chain):
        return _damaged(where)
    return Problem(where, f"kan inte läsas som Excel-arbetsbok ({names[0]}). {SAVE_AS_XLSX}")
