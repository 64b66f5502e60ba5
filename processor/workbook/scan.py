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
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import coordinate_to_tuple

    r = c = 0
    sheet_data = None
    for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
        tag = local_name(element.tag)
        if event == "start":
            if tag == "row":
                r, c = int(element.get("r") or r + 1), 0
                if element.get("hidden", "").lower() in ("1", "true"):
                    sheet.hidden_rows.append(r)
            elif tag == "sheetData":
                sheet_data = element
            continue
        if tag == "c":
            ref = element.get("r")
            r, c = coordinate_to_tuple(ref) if ref else (r, c + 1)
            children = {local_name(child.tag): child for child in element}
            if "f" in children and (recalculates or "v" not in children):
                sheet.put(r, c, UNCALCULATED)
            elif element.get("t") == "e":
                sheet.put(r, c, ExcelError((children["v"].text or "").strip() if "v" in children else "#FEL"))
            element.clear()
        elif tag == "row" and sheet_data is not None and len(sheet_data) and sheet_data[-1] is element:
            del sheet_data[-1]  # keep memory flat on long sheets
        elif tag == "mergeCell" and element.get("ref"):
            sheet.merged.append(element.get("ref"))
