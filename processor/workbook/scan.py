"""What only the sheets' XML tells: formulas without a value, error cells, merged cells, hidden rows."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from processor.workbook.parts import local_name, parse_part
from processor.workbook.sheet import UNCALCULATED, ExcelError, SheetBuilder


def scan_sheets(path: Path, sheets: list[SheetBuilder]) -> None:
    """Mark cells whose value cannot be trusted, and note merged ranges and hidden rows.

    A formula has no trustworthy value when it has no cached ``<v>``, or when the file asks
    to be recalculated on load (``fullCalcOnLoad``): programs that cannot calculate write
    that flag, and Excel removes it when it saves.
    """
    with zipfile.ZipFile(path) as package:
        parts, recalculates = _sheet_parts(package)
        names = set(package.namelist())
        for sheet in sheets:
            part = parts.get(sheet.title)
            if part in names:
                with package.open(part) as stream:
                    _scan_sheet(stream, sheet, recalculates)


def _sheet_parts(package: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Sheet title → its part in the package, and whether the workbook asks for recalculation on load."""
    targets = {}
    for rel in parse_part(package, "xl/_rels/workbook.xml.rels"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
    parts: dict[str, str] = {}
    recalculates = False
    for element in parse_part(package, "xl/workbook.xml").iter():
        tag = local_name(element.tag)
        if tag == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if local_name(k) == "id"), None)
            if rel_id in targets:
                parts[element.get("name", "")] = targets[rel_id]
        elif tag == "calcPr":
            recalculates = element.get("fullCalcOnLoad", "").lower() in ("1", "true")
    return parts, recalculates


def _scan_sheet(stream, sheet: SheetBuilder, recalculates: bool) -> None:
    """One sheet's XML read as a stream by expat, with no tree built: the DTD refused as defusedxml would
    (``check_file`` has already refused any part declaring one) and no entity but XML's own expanded."""
    from xml.parsers import expat

    scan = _SheetScan(sheet, recalculates)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
    parser.CharacterDataHandler = scan.text
    parser.buffer_text = True
    parser.ParseFile(stream)


def _refuse_dtd(*args) -> None:
    from defusedxml import DTDForbidden

    raise DTDForbidden(*args[:3])


class _SheetScan:
    """The elements of a sheet as they stream past: rows, cells and their direct children, merged ranges.

    A cell is judged at its end: a formula (``<f>``) without a cached value (``<v>``), or any formula when
    the workbook asks to be recalculated, is UNCALCULATED; a cell of type ``e`` is the ExcelError in its value.
    """

    def __init__(self, sheet: SheetBuilder, recalculates: bool):
        from openpyxl.utils.cell import coordinate_to_tuple

        self.sheet, self.recalculates, self.coordinates = sheet, recalculates, coordinate_to_tuple
        self.depth = self.row = self.column = 0
        self.cell_depth = 0  # the depth of the cell being read, 0 outside a cell
        self.ref: str | None = None
        self.error = False
        self.children: set[str] = set()
        self.value: list[str] | None = None  # the text of an error cell's value, while it is being read
        self.error_text = ""

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        tag = name.rpartition(":")[2]
        if self.cell_depth:
            self.value = None
            if self.depth == self.cell_depth + 1:
                self.children.add(tag)
                if tag == "v" and self.error:
                    self.value = []
        elif tag == "c":
            self.cell_depth, self.ref, self.error = self.depth, attributes.get("r"), attributes.get("t") == "e"
            self.children, self.error_text = set(), ""
        elif tag == "row":
            self.row, self.column = int(attributes.get("r") or self.row + 1), 0
            if attributes.get("hidden", "").lower() in ("1", "true"):
                self.sheet.hidden_rows.append(self.row)
        elif tag == "mergeCell" and attributes.get("ref"):
            self.sheet.merged.append(attributes["ref"])

    def text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)

    def end(self, name: str) -> None:
        if self.depth == self.cell_depth:
            self._cell()
            self.cell_depth = 0
        elif self.value is not None and self.depth == self.cell_depth + 1:
            self.error_text, self.value = "".join(self.value).strip(), None
        self.depth -= 1

    def _cell(self) -> None:
        self.row, self.column = self.coordinates(self.ref) if self.ref else (self.row, self.column + 1)
        if "f" in self.children and (self.recalculates or "v" not in self.children):
            self.sheet.put(self.row, self.column, UNCALCULATED)
        elif self.error:
            self.sheet.put(self.row, self.column, ExcelError(self.error_text if "v" in self.children else "#FEL"))
