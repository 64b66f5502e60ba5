"""Reading the workbook file: anything that is not a usable .xlsx is refused with a Swedish
message that says what the file is and what to do, and nothing is written.

Each bad file goes through the real entry point (``processor run --out <tmp>/ut``): exit
status 2, the file named in the message, a hint how to mend it, no run folder, and the
input file left byte for byte as it was.
"""

from __future__ import annotations

import errno
import os
import random
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DEFAULT_RECIPIENTS, sha256
from processor.errors import InputError, os_error_message
from processor.workbook import UNCALCULATED, ExcelError, ReadingBudget, excel_number, read_workbook

ROOT = Path(__file__).resolve().parents[1]
DALARNA = ROOT / "input" / "dalarna_2020.xlsx"






def rezip(source: Path, target: Path, change: dict) -> Path:
    """A copy of an .xlsx package with members replaced (``name: bytes-or-function``), added or removed (None)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            replacement = change.get(info.filename, data)
            if callable(replacement):
                replacement = replacement(data)
            if replacement is not None:
                zout.writestr(info.filename, replacement)
        for name, data in change.items():
            if name not in zin.namelist() and data is not None and not callable(data):
                zout.writestr(name, data)
    return target


def sheet_part(path: Path, title: str) -> str:
    """The package member holding the sheet named ``title``."""
    with zipfile.ZipFile(path) as package:
        workbook = package.read("xl/workbook.xml").decode()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet [^>]*name="{title}"[^>]*r:id="([^"]+)"', workbook)[1]
    target = re.search(rf'Id="{rel_id}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rel_id}"', rels)
    target = target[1] or target[2]
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def without_recalculation(data: bytes) -> bytes:
    """workbook.xml as Excel saves it: no request to recalculate on load."""
    return re.sub(rb'\s*fullCalcOnLoad="1"', b"", data)


# --- files that are not workbooks --------------------------------------------------------------------

def test_empty_file(refused, tmp_path):
    path = tmp_path / "arbetsbok.xlsx"
    path.write_bytes(b"")
    err = refused(path)
    assert "arbetsbok.xlsx: filen är tom" in err and "processor init" in err


def test_csv_renamed_to_xlsx(refused, tmp_path):
    path = tmp_path / "mottagare.xlsx"
    path.write_text("Mottagare;Befolkning\nAvesta;23178\nBorlänge;52590\n", encoding="utf-8")
    err = refused(path)
    assert "mottagare.xlsx: är en textfil (kanske CSV)" in err and "spara den som Excel-arbetsbok (.xlsx)" in err


def test_web_page_saved_as_xlsx(refused, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_text("<html><body><table><tr><td>Avesta</td></tr></table></body></html>", encoding="utf-8")
    assert "export.xlsx: är en webbsida (HTML)" in refused(path)


def test_old_binary_xls(refused, tmp_path):
    path = tmp_path / "gammal.xls"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(range(256)) * 8)
    err = refused(path)
    assert "gammal.xls: är en gammal Excel-fil (.xls)" in err and "spara den som Excel-arbetsbok (.xlsx)" in err


def test_encrypted_xlsx(refused, tmp_path):
    path = tmp_path / "hemlig.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(512))
    err = refused(path)
    assert "hemlig.xlsx: arbetsboken är lösenordsskyddad" in err and "ta bort lösenordet" in err


def test_truncated_xlsx(refused, tmp_path):
    whole = DALARNA.read_bytes()
    path = tmp_path / "avbruten.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    err = refused(path)
    assert "avbruten.xlsx: filen är skadad eller ofullständig" in err and "Kopiera den igen" in err


def test_zip_that_is_not_a_workbook(refused, tmp_path):
    path = tmp_path / "arkiv.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("arbetsbok/läsmig.txt", "hej")
    err = refused(path)
    assert "arkiv.xlsx: är ett zip-arkiv men ingen Excel-arbetsbok" in err and "Packa upp arkivet" in err


def test_opendocument_spreadsheet_gets_its_own_message(refused, tmp_path):
    path = tmp_path / "fordelning.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
        package.writestr("META-INF/manifest.xml", "<manifest/>")
    err = refused(path)
    assert "fordelning.xlsx: är ett OpenDocument-kalkylblad (.ods" in err
    assert "Spara som > Excel 2007-365 (.xlsx)" in err


@pytest.mark.parametrize("member, says", [
    ("word/document.xml", "är ett Word-dokument"),
    ("xl/workbook.bin", "är en binär Excel-arbetsbok (.xlsb)"),
])
def test_other_office_packages_are_named(refused, tmp_path, member, says):
    path = tmp_path / "fel.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(member, "<x/>")
    assert f"fel.xlsx: {says}" in refused(path)


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                  + "]>")


def with_entities(data: bytes, padding: str = "", encoding: str = "utf-8") -> bytes:
    """A part with a billion-laughs DTD after its declaration (optionally far down, or in UTF-16)."""
    text = re.sub(r"^<\?xml[^>]*\?>", "", data.decode("utf-8"))
    text = text.replace("<t>Avesta</t>", "<t>&lol9;</t>", 1).replace(">Avesta<", ">&lol9;<", 1)
    declaration = f'<?xml version="1.0" encoding="{"UTF-16" if encoding != "utf-8" else "UTF-8"}"?>'
    body = (declaration + padding + BILLION_LAUGHS + text).encode(encoding)
    return b"\xff\xfe" + body if encoding == "utf-16-le" else body


@pytest.mark.parametrize("variant", [
    {},
    {"padding": "<!--" + "x" * 100_000 + "-->"},
    {"encoding": "utf-16-le"},
], ids=["plain", "far-down", "utf-16"])
def test_billion_laughs_in_a_sheet(refused, workbook, tmp_path, variant):
    source = workbook()
    path = rezip(source, tmp_path / "skrattar.xlsx", {sheet_part(source, "Mottagare"): lambda d: with_entities(d, **variant)})
    err = refused(path)
    assert f"skrattar.xlsx: innehåller otillåten XML (en DTD eller entiteter i {sheet_part(source, 'Mottagare')})" in err
    assert "Be avsändaren om en ny fil sparad i Excel" in err


def test_billion_laughs_in_shared_strings(refused, workbook, tmp_path):
    source = workbook()
    strings = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               'count="1" uniqueCount="1"><si><t>Avesta</t></si></sst>').encode()
    override = (b'<Override PartName="/xl/sharedStrings.xml" '
                b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    shared = rezip(source, tmp_path / "delad.xlsx", {
        "xl/sharedStrings.xml": strings,
        "[Content_Types].xml": lambda d: d.replace(b"</Types>", override),
        sheet_part(source, "Mottagare"): lambda d: re.sub(rb'<c r="A2"[^>]*>.*?</c>', b'<c r="A2" t="s"><v>0</v></c>', d),
    })
    assert read_workbook(shared).sheets[1].rows[1][0] == "Avesta"  # wired up: the name comes from the shared strings
    path = rezip(shared, tmp_path / "skrattar.xlsx", {"xl/sharedStrings.xml": with_entities})
    err = refused(path)
    assert "skrattar.xlsx: innehåller otillåten XML (en DTD eller entiteter i xl/sharedStrings.xml)" in err


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHARED_STRINGS_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" '
                       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')


def with_shared_strings(source: Path, target: Path, chunks) -> Path:
    """A copy of a workbook with a shared-strings part written from ``chunks`` as it streams (never whole in memory)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SHARED_STRINGS_TYPE)
            zout.writestr(info.filename, data)
        with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(SST)
            for chunk in chunks:
                part.write(chunk)
            part.write(b"</sst>")
    return target


def test_shared_strings_bomb_is_refused_before_it_is_unpacked(refused, workbook, tmp_path):
    noise = random.Random(16)

    def megabytes(count: int):
        """Text that packs about 100:1, under the zip-bomb ratio, as the attack in issue 16 did."""
        for _ in range(count):
            yield b"<si><t>" + b"Avesta " * (1024 * 1024 // 7) + noise.randbytes(8000).hex().encode() + b"</t></si>"

    path = with_shared_strings(workbook(), tmp_path / "bomb.xlsx", megabytes(70))
    assert path.stat().st_size < 1_500_000
    err = refused(path)
    assert ("bomb.xlsx: arbetsboken har orimligt mycket text i sina delade textsträngar (xl/sharedStrings.xml) och läses "
            "inte (skydd mot filer som är gjorda för att fylla minnet).") in err


@pytest.mark.parametrize("budget, chunks", [
    (ReadingBudget(shared_string_bytes=100_000), [b"<si><t>" + b"x" * 60_000 + b"</t></si>"] * 2),
    (ReadingBudget(shared_strings=1000), [b"<si><t>Avesta</t></si>"] * 1001),
], ids=["text-bytes", "number-of-strings"])
def test_shared_strings_count_in_the_reading_budget(workbook, tmp_path, budget, chunks):
    path = with_shared_strings(workbook(), tmp_path / "text.xlsx", chunks)
    with pytest.raises(InputError) as error:
        read_workbook(path, budget=budget)
    assert str(error.value).startswith("text.xlsx: arbetsboken har orimligt mycket text i sina delade textsträngar")
    assert read_workbook(path).titles == ("Ärende", "Mottagare")


WRITE_ONLY = Path("/proc/sys/vm/drop_caches")  # a regular file that not even root may read


def unreadable(path: Path) -> Path:
    """``path`` made unreadable: chmod 000, or where that does not stop the reader (root), a link to a write-only file."""
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return path
    try:
        WRITE_ONLY.read_bytes()
    except PermissionError:
        path.unlink()
        path.symlink_to(WRITE_ONLY)
        return path
    except OSError:
        pass
    pytest.skip("this user can read every file here, so an unreadable workbook cannot be made")


@pytest.mark.parametrize("command", ["run", "validate"])
def test_an_unreadable_workbook_is_said_in_swedish_with_exit_2(cli, workbook, tmp_path, command):
    path = unreadable(workbook(name="låst.xlsx"))
    status, out, err = cli(command, path, *(["--out", tmp_path / "ut"] if command == "run" else []))
    assert status == 2, (out, err)
    assert err.splitlines() == ["Arbetsboken kan inte användas: 1 fel att rätta.",
                                "  låst.xlsx: filen kan inte öppnas: behörighet saknas eller den är låst av ett annat "
                                "program. Stäng den i andra program, eller kopiera den till en mapp där du kan läsa den."]
    assert not (tmp_path / "ut").exists()


def test_system_errors_are_said_in_swedish_with_the_fix(cli, tmp_path):
    (tmp_path / "fil").write_text("")
    status, _, err = cli("run", DALARNA, "--out", tmp_path / "fil" / "ut")
    assert status == 1
    assert err == f"Fel: {tmp_path / 'fil' / 'ut'}: en del av sökvägen är en fil, inte en mapp. Kontrollera sökvägen.\n"


@pytest.mark.parametrize("code, sentence", [
    (errno.ENOSPC, "Disken är full. Frigör utrymme och kör igen."),
    (errno.EACCES, "Behörighet saknas. Kontrollera att du får läsa och skriva där, eller välj en annan mapp."),
    (errno.ENOENT, "Filen eller mappen finns inte. Kontrollera sökvägen."),
    (errno.ENOLINK, "Ett fel i operativsystemet (ENOLINK). Försök igen; om felet står kvar, kontakta it-stödet."),
])
def test_system_error_sentences(code, sentence):
    assert os_error_message(OSError(code, os.strerror(code))) == sentence


def test_zip_bomb(refused, workbook, tmp_path):
    path = workbook()
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("xl/media/bild.bin", bytes(20 * 1024 * 1024))  # 20 MB of zeros packs to ~20 kB
    assert path.stat().st_size < 200_000
    err = refused(path)
    assert "orimligt stor uppackad" in err and "zip-bomber" in err


def test_path_that_does_not_exist(refused, tmp_path):
    err = refused(tmp_path / "finns-inte.xlsx")
    assert "finns-inte.xlsx: filen finns inte" in err and "Kontrollera sökvägen" in err


def test_directory(refused, tmp_path):
    folder = tmp_path / "mapp.xlsx"
    folder.mkdir()
    assert "mapp.xlsx: är en mapp, inte en arbetsbok. Ange sökvägen till en .xlsx-fil." in refused(folder)


def test_excel_lock_file(refused, tmp_path):
    path = tmp_path / "~$arbetsbok.xlsx"
    path.write_bytes(b"\x0bKarin Eriksson" + bytes(150))
    err = refused(path)
    assert "~$arbetsbok.xlsx: är Excels tillfälliga låsfil" in err and 'utan "~$"' in err


def test_a_sheet_far_beyond_any_allocation_is_refused_quickly(refused, workbook, tmp_path):
    source = workbook()
    part = sheet_part(source, "Mottagare")
    far = b'<row r="5000000"><c r="A5000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    path = rezip(source, tmp_path / "lang.xlsx", {part: lambda d: d.replace(b"</sheetData>", far)})
    err = refused(path)
    assert 'bladet "Mottagare" är orimligt stort' in err and "Ta bort rader och kolumner" in err


def test_the_file_name_does_not_matter_only_the_content(cli, workbook, tmp_path):
    path = workbook()
    renamed = tmp_path / "arbetsbok.xls"
    renamed.write_bytes(path.read_bytes())
    status, out, err = cli("validate", renamed)
    assert status == 0, err


# --- formulas ------------------------------------------------------------------------------------------

def test_formula_without_a_computed_value_is_an_error_at_its_cell(refused, workbook):
    rows = [list(r) for r in DEFAULT_RECIPIENTS]
    rows[2][3] = "=D2*3"  # Mottagare!D3, the key's basis; openpyxl never stores computed values
    err = refused(workbook(recipients=rows))
    assert "Mottagare!D3: cellen har en formel utan beräknat värde" in err
    assert "Öppna filen i Excel (eller LibreOffice Calc) och spara den igen." in err
    assert err.count("Mottagare!D3") == 1  # not again as a blank basis


def test_formula_in_the_case_sheet_is_named_once(refused, workbook):
    err = refused(workbook(case=[("Rubrik", "X"), ("Medel att fördela", "=500*2"), ("Nyckel", "Befolkning")]))
    assert "Ärende!B2: cellen har en formel utan beräknat värde" in err
    assert err.count("Ärende!B2") == 1 and "1 fel att rätta" in err


def cached_formula(data: bytes) -> bytes:
    """Mottagare!D3 as Excel saves a formula: the formula and its computed value."""
    return re.sub(rb'<c r="D3"[^>]*>.*?</c>', b'<c r="D3"><f>D2*3</f><v>300</v></c>', data)


def test_formula_with_a_computed_value_is_read(cli, workbook, tmp_path):
    source = workbook()
    path = rezip(source, tmp_path / "excel.xlsx", {sheet_part(source, "Mottagare"): cached_formula,
                                                    "xl/workbook.xml": without_recalculation})
    with zipfile.ZipFile(path) as package:
        assert b"<f>D2*3</f><v>300</v>" in package.read(sheet_part(path, "Mottagare"))
    status, out, err = cli("validate", path)
    assert status == 0, err
    assert re.search(r"Borlänge\s+300 kr", out)


def test_computed_value_from_a_program_that_cannot_calculate_is_not_trusted(refused, workbook, tmp_path):
    """Such programs write a placeholder value and ask Excel to recalculate on load; Excel drops that flag when it saves."""
    source = workbook()
    path = rezip(source, tmp_path / "export.xlsx", {sheet_part(source, "Mottagare"): cached_formula})
    with zipfile.ZipFile(path) as package:
        assert b'fullCalcOnLoad="1"' in package.read("xl/workbook.xml")
    assert "Mottagare!D3: cellen har en formel utan beräknat värde" in refused(path)


def test_formula_whose_computed_value_is_empty_text_is_blank_not_an_error(cli, workbook, tmp_path):
    rows = [list(r) + [None] for r in DEFAULT_RECIPIENTS]
    rows[0][4] = "Kommentar"
    rows[1][4] = "placeholder"
    source = workbook(recipients=rows)

    def empty_text_formula(data: bytes) -> bytes:
        return re.sub(rb'<c r="E2"[^>]*>.*?</c>', b'<c r="E2" t="str"><f>IF(D2&gt;0,"","x")</f><v></v></c>', data)

    path = rezip(source, tmp_path / "tom.xlsx", {sheet_part(source, "Mottagare"): empty_text_formula,
                                                 "xl/workbook.xml": without_recalculation})
    status, out, err = cli("validate", path)
    assert status == 0, err


def test_cell_showing_an_excel_error(refused, workbook, tmp_path):
    source = workbook()

    def ref_error(data: bytes) -> bytes:
        return re.sub(rb'<c r="D4"[^>]*>.*?</c>', b'<c r="D4" t="e"><f>#REF!*2</f><v>#REF!</v></c>', data)

    path = rezip(source, tmp_path / "ref.xlsx", {sheet_part(source, "Mottagare"): ref_error,
                                                 "xl/workbook.xml": without_recalculation})
    err = refused(path)
    assert "Mottagare!D4: cellen visar felet #REF! i stället för ett värde. Rätta formeln i Excel" in err


def test_reader_marks_the_cells_it_cannot_trust(workbook, tmp_path):
    rows = [list(r) for r in DEFAULT_RECIPIENTS]
    rows[3][3] = "=SUM(D2:D3)"
    book = read_workbook(workbook(recipients=rows))
    recipients = next(s for s in book.sheets if s.title == "Mottagare")
    assert recipients.rows[3][3] is UNCALCULATED
    assert ExcelError("#N/A") == ExcelError("#N/A")
    assert book.titles == ("Ärende", "Mottagare")


# --- values ----------------------------------------------------------------------------------------------

def test_numbers_are_the_decimals_excel_shows():
    assert excel_number(0.1 + 0.2) == Decimal("0.3")
    assert excel_number(15711504.0) == Decimal(15711504)
    assert excel_number(33.3) == Decimal("33.3")


def test_openpyxl_warnings_do_not_reach_the_user(cli, workbook, tmp_path):
    source = workbook()

    def unknown_extension(data: bytes) -> bytes:
        ext = (b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}" '
               b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:conditionalFormattings/>'
               b"</ext></extLst></worksheet>")
        return data.replace(b"</worksheet>", ext)

    path = rezip(source, tmp_path / "ext.xlsx", {sheet_part(source, "Mottagare"): unknown_extension})
    status, out, err = cli("validate", path)
    assert status == 0 and err == ""


def test_stray_cell_far_away_does_not_stop_a_good_workbook(cli, workbook, tmp_path):
    source = workbook()
    part = sheet_part(source, "Mottagare")
    stray = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row></sheetData>'
    path = rezip(source, tmp_path / "stray.xlsx", {part: lambda d: d.replace(b"</sheetData>", stray)})
    status, out, err = cli("validate", path)
    assert status == 0, err


def test_reading_leaves_the_file_untouched(workbook):
    path = workbook()
    before = sha256(path)
    read_workbook(path)
    assert sha256(path) == before

