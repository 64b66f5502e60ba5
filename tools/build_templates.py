"""Build the default Word templates in templates/ with python-docx, so they are reproducible and reviewable.

    python tools/build_templates.py                    # every template in templates/ (Word and the reporting form)
    python tools/build_templates.py --forhandsvisning  # also the PNG previews in docs/forhandsvisning/
    python tools/build_templates.py --blankett         # also docs/redovisningsblankett.png, the reporting form
    python tools/build_templates.py --sammanstallning  # also docs/sammanstallning.png and docs/aterbetalning.png

The templates hold docxtpl tags (Jinja2 in Word): ``{{ … }}`` prints a value, ``{% … %}`` is
an if or a for inside a paragraph, ``{%p … %}`` / ``{%tr … %}`` on a paragraph or table row of
its own repeat or drop that whole paragraph or row. docs/mallar.md lists every variable.
Run the tool again after changing it; the output is byte-for-byte the same for the same code.
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.blkcntnr import BlockItemContainer
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Length, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "templates"

BODY_FONT = "Times New Roman"
SANS_FONT = "Arial"
TEXT_WIDTH = Cm(16)
GREY = RGBColor(0x59, 0x59, 0x59)
FIXED_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
HANDLER_WITH_PHONE = (("Etikett", "{% if arende.handlaggare %}Handläggare{% endif %}"),
                      ("Uppgift", "{% if arende.handlaggare %}{{ arende.handlaggare }}{% endif %}"),
                      ("Uppgift", "{% if arende.telefon %}Telefon: {{ arende.telefon }}{% endif %}"))
"""The left column of a decision's info block: the Handläggare and their phone."""
CONTACT = ("{% if arende.handlaggare %}{{ arende.handlaggare }}{% if arende.telefon %}, telefon {{ arende.telefon }}"
           "{% endif %}{% if arende.e_post %}, e-post {{ arende.e_post }}{% endif %}"
           "{% else %}oss{% if arende.e_post %} på {{ arende.e_post }}{% endif %}{% endif %}.")
"""Whom to contact, ending a sentence: the Handläggare with phone and e-mail, else "oss" and the e-mail."""
BULLET, DECIMAL = "bullet", "decimal"

Container = WordDocument | BlockItemContainer  # what paragraphs and tables are added to: the body, a cell, a header


# --- document, styles, numbering ----------------------------------------------------------------

def new_document() -> WordDocument:
    """An empty A4 document with Swedish language, the house styles and list numbering."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    _defaults(doc)
    _styles(doc)
    _numbering(doc)
    props = doc.core_properties
    props.author = props.title = props.subject = props.keywords = props.last_modified_by = ""
    props.comments = ""
    props.language = "sv-SE"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    return doc


def _fonts(rpr, name: str) -> None:
    """Set one font for every script and drop theme fonts, which would win over it."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in list(fonts.attrib):
        del fonts.attrib[attribute]
    for script in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(script), name)


def _defaults(doc) -> None:
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "sv-SE")
    lang.set(qn("w:eastAsia"), "sv-SE")
    lang.set(qn("w:bidi"), "ar-SA")


def _style(doc, name: str, *, font: str, size: float, bold: bool = False, italic: bool = False, color=None,
           before: float = 0, after: float = 6, line: float | None = None, keep_next: bool = False, base=None):
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base is not None:
        style.base_style = styles[base]
    style.quick_style = True
    _fonts(style.element.get_or_add_rPr(), font)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = color or RGBColor(0, 0, 0)
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.line_spacing = line
    fmt.keep_with_next = keep_next
    ppr = style.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    return style


def _styles(doc) -> None:
    _style(doc, "Normal", font=BODY_FONT, size=12, after=8, line=1.1)
    _style(doc, "Title", font=SANS_FONT, size=18, bold=True, before=6, after=14, keep_next=True, base="Normal")
    _style(doc, "Heading 1", font=SANS_FONT, size=13, bold=True, before=16, after=4, keep_next=True, base="Normal")
    _style(doc, "Heading 2", font=SANS_FONT, size=11.5, bold=True, before=12, after=3, keep_next=True, base="Normal")
    _style(doc, "Header", font=SANS_FONT, size=9, after=0, line=1.0, base="Normal")
    _style(doc, "Footer", font=SANS_FONT, size=8, after=0, line=1.0, color=GREY, base="Normal")
    _style(doc, "Tabelltext", font=SANS_FONT, size=9.5, after=0, line=1.0, base="Normal")
    _style(doc, "Tabellrubrik", font=SANS_FONT, size=9.5, bold=True, after=0, line=1.0, base="Tabelltext")
    _style(doc, "Fotnot", font=SANS_FONT, size=8.5, after=2, line=1.0, color=GREY, base="Normal")
    _style(doc, "Etikett", font=SANS_FONT, size=8, after=0, line=1.0, color=GREY, base="Normal")
    _style(doc, "Uppgift", font=SANS_FONT, size=10, after=0, line=1.05, base="Normal")
    _style(doc, "Lista", font=BODY_FONT, size=12, after=4, line=1.1, base="Normal")
    _style(doc, "Belopp", font=SANS_FONT, size=12, bold=True, before=4, after=10, base="Normal")
    for name in ("Heading 1", "Heading 2", "Title"):
        doc.styles[name].font.color.rgb = RGBColor(0, 0, 0)
    amount = doc.styles["Belopp"].element.get_or_add_pPr()
    amount.append(_element("w:pBdr", [_border(side, 6, "808080", space=6) for side in ("top", "left", "bottom", "right")]))
    amount.append(_element("w:shd", attrs={"w:val": "clear", "w:color": "auto", "w:fill": "F2F2F2"}))


def _element(tag: str, children=(), attrs: dict | None = None):
    element = OxmlElement(tag)
    for key, value in (attrs or {}).items():
        element.set(qn(key), value)
    for child in children:
        element.append(child)
    return element


def _border(side: str, size: int, color: str, space: int = 0):
    return _element(f"w:{side}", attrs={"w:val": "single", "w:sz": str(size), "w:space": str(space), "w:color": color})


def _numbering(doc) -> None:
    """Two list formats of our own (1. 2. 3. and •) that each list restarts from."""
    numbering = doc.part.numbering_part.element
    first_num = numbering.find(qn("w:num"))
    for abstract_id, kind in ((90, DECIMAL), (91, BULLET)):
        level = _element("w:lvl", attrs={"w:ilvl": "0"})
        level.append(_element("w:start", attrs={"w:val": "1"}))
        level.append(_element("w:numFmt", attrs={"w:val": kind}))
        level.append(_element("w:lvlText", attrs={"w:val": "%1." if kind == DECIMAL else "•"}))
        level.append(_element("w:lvlJc", attrs={"w:val": "left"}))
        level.append(_element("w:pPr", [_element("w:ind", attrs={"w:left": "425", "w:hanging": "425"})]))
        if kind == BULLET:
            level.append(_element("w:rPr", [_element("w:rFonts", attrs={"w:ascii": SANS_FONT, "w:hAnsi": SANS_FONT})]))
        abstract = _element("w:abstractNum", [_element("w:multiLevelType", attrs={"w:val": "singleLevel"}), level],
                            attrs={"w:abstractNumId": str(abstract_id)})
        first_num.addprevious(abstract)


def new_list(doc: WordDocument, kind: str) -> int:
    """A list instance that starts again at 1: each list of the document gets its own."""
    numbering = doc.part.numbering_part.element
    num_id = max(int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))) + 1
    num = _element("w:num", [_element("w:abstractNumId", attrs={"w:val": "90" if kind == DECIMAL else "91"})],
                   attrs={"w:numId": str(num_id)})
    num.append(_element("w:lvlOverride", [_element("w:startOverride", attrs={"w:val": "1"})], attrs={"w:ilvl": "0"}))
    numbering.append(num)
    return num_id


# --- paragraphs -----------------------------------------------------------------------------------

def para(container: Container, text: str = "", style: str | None = None, *, bold: bool = False, italic: bool = False,
         align: WD_ALIGN_PARAGRAPH | None = None, before: float | None = None, after: float | None = None,
         keep_next: bool = False, keep_lines: bool = False, page_break: bool = False) -> Paragraph:
    """A paragraph of plain text and tags (tags are just text to python-docx).

    ``keep_next`` keeps it on the page of the next paragraph, ``keep_lines`` keeps its lines on one page.
    """
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        run.bold = bold or None
        run.italic = italic or None
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if keep_next:
        fmt.keep_with_next = True
    if keep_lines:
        fmt.keep_together = True
    if page_break:
        fmt.page_break_before = True
    return paragraph


def tag(container: Container, text: str) -> Paragraph:
    """A paragraph holding only a ``{%p … %}`` tag: docxtpl drops the paragraph and keeps the logic."""
    return container.add_paragraph(text)


def list_item(container: Container, text: str, num_id: int) -> Paragraph:
    paragraph = para(container, text, "Lista")
    numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    numbering.get_or_add_ilvl().val = 0
    numbering.get_or_add_numId().val = num_id
    return paragraph


def heading(doc: WordDocument, text: str, level: int = 1, page_break: bool = False) -> Paragraph:
    return para(doc, text, f"Heading {level}", page_break=page_break)


def field(paragraph: Paragraph, instruction: str, placeholder: str = "1") -> None:
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in."""
    simple = _element("w:fldSimple", attrs={"w:instr": f" {instruction} "})
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    simple.append(run)
    paragraph._p.append(simple)


def texter_or(doc: WordDocument, section: str, standard: list[str], keep_next: bool = False) -> None:
    """The workbook's Texter section if it has one, else the standard wording built from the case.

    ``keep_next`` keeps the text on the page of what follows (a table it introduces, the signature).
    """
    lookup = f"texter.{section}" if section.isidentifier() and section.isascii() else f'texter["{section}"]'
    tag(doc, f"{{%p if {lookup} %}}")
    para(doc, f"{{{{ {lookup} }}}}", keep_next=keep_next)
    tag(doc, "{%p else %}")
    for text in standard:
        para(doc, text, keep_next=keep_next)
    tag(doc, "{%p endif %}")


# --- tables ---------------------------------------------------------------------------------------

def table(container: Container, widths: list[Length], *, borders: bool = True) -> Table:
    """A fixed-layout table that fits the text width; header rows repeat on every page."""
    tbl = container.add_table(rows=0, cols=len(widths))
    tbl.autofit = False
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
    props = tbl._tbl.tblPr
    props.append(_element("w:tblLayout", attrs={"w:type": "fixed"}))
    width = props.find(qn("w:tblW"))
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(sum(int(w.twips) for w in widths)))
    if borders:
        props.append(_element("w:tblBorders", [_border("top", 8, "000000"), _border("bottom", 8, "000000"),
                                               _border("insideH", 4, "BFBFBF")]))
    props.append(_element("w:tblCellMar", [_element("w:left", attrs={"w:w": "85", "w:type": "dxa"}),
                                           _element("w:right", attrs={"w:w": "85", "w:type": "dxa"})]))
    for column, w in zip(tbl.columns, widths):
        column.width = w
    tbl._widths = widths
    return tbl


def row(tbl: Table, texts: list[str], *, style: str = "Tabelltext", header: bool = False, bold: bool = False,
        right: tuple[int, ...] = (-1,), shade: str | None = None, top_rule: bool = False, indent_first: float | None = None,
        keep_next: bool = False) -> list[_Cell]:
    """One row: one paragraph of text per cell; the ``right`` cells (amounts) right-aligned.

    ``keep_next`` keeps the row on the page of the next one, so a short table is not split.
    """
    cells = tbl.add_row().cells
    tr_pr = tbl.rows[-1]._tr.get_or_add_trPr()
    tr_pr.append(_element("w:cantSplit"))
    if header:
        tr_pr.append(_element("w:tblHeader"))
    for i, (cell, text, w) in enumerate(zip(cells, texts, tbl._widths)):
        cell.width = w
        paragraph = cell.paragraphs[0]
        paragraph.style = tbl.part.document.styles["Tabellrubrik" if header else style]
        if text:
            run = paragraph.add_run(text)
            run.bold = bold or None
        if i in right or i - len(texts) in right:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if i == 0 and indent_first:
            paragraph.paragraph_format.left_indent = Cm(indent_first)
        if keep_next:
            paragraph.paragraph_format.keep_with_next = True
        tc_pr = cell._tc.get_or_add_tcPr()
        if shade:
            tc_pr.append(_element("w:shd", attrs={"w:val": "clear", "w:color": "auto", "w:fill": shade}))
        if top_rule:
            tc_pr.append(_element("w:tcBorders", [_border("top", 8, "000000")]))
    return cells


def tag_row(tbl: Table, text: str) -> None:
    """A table row holding only a ``{%tr … %}`` tag in its first cell; docxtpl drops the row."""
    cells = tbl.add_row().cells
    for cell, w in zip(cells, tbl._widths):
        cell.width = w
    cells[0].paragraphs[0].add_run(text)


def posts_row(tbl: Table, bold: bool = False) -> None:
    """A recipient with the posts it gets, one line each (name left, amount right), and its total."""
    cells = row(tbl, ["{{ m.namn }}", "", "{{ m.belopp|tal }}"], bold=bold)
    lines = cells[1].paragraphs[0]
    lines.paragraph_format.tab_stops.add_tab_stop(Cm(6.2), WD_TAB_ALIGNMENT.RIGHT)
    for text in ("{% for p in m.poster %}{{ p.namn }}", None, "{{ p.belopp|tal }}{% if not loop.last %}", "",
                 "{% endif %}{% endfor %}{% if not m.deltar %}Avstår{% endif %}"):
        run = lines.add_run(text or None)
        run.bold = bold or None
        if text is None:
            run.add_tab()
        elif text == "":
            run.add_break()


def distribution_tables(doc: WordDocument, letter: bool) -> None:
    """Bilaga 1's table: one post → name, basis, amount; several → name, the posts it gets, total.

    In a letter the recipient's own row is bold.
    """
    tag(doc, "{%p if poster|length == 1 %}")
    tbl = table(doc, [Cm(8.5), Cm(3.5), Cm(4.0)])
    row(tbl, ["Mottagare", "{{ bilaga.underlag_rubrik }}", "Belopp, kr"], header=True, shade="F2F2F2", right=(1, 2))
    tag_row(tbl, "{%tr for m in alla_mottagare %}")
    if letter:
        tag_row(tbl, "{%tr if m.nummer == mottagare.nummer %}")
        row(tbl, ["{{ m.namn }}", "{{ m.underlag }}", "{{ m.belopp|tal }}"], right=(1, 2), bold=True)
        tag_row(tbl, "{%tr else %}")
    row(tbl, ["{{ m.namn }}", "{{ m.underlag }}", "{{ m.belopp|tal }}"], right=(1, 2))
    if letter:
        tag_row(tbl, "{%tr endif %}")
    tag_row(tbl, "{%tr endfor %}")
    row(tbl, ["Totalt", "", "{{ summa|tal }}"], bold=True, top_rule=True)
    tag(doc, "{%p else %}")
    tbl = table(doc, [Cm(6.5), Cm(6.5), Cm(3.0)])
    row(tbl, ["Mottagare", "Varav", "Totalt, kr"], header=True, shade="F2F2F2")
    tag_row(tbl, "{%tr for m in alla_mottagare %}")
    if letter:
        tag_row(tbl, "{%tr if m.nummer == mottagare.nummer %}")
        posts_row(tbl, bold=True)
        tag_row(tbl, "{%tr else %}")
    posts_row(tbl)
    if letter:
        tag_row(tbl, "{%tr endif %}")
    tag_row(tbl, "{%tr endfor %}")
    row(tbl, ["Totalt", "", "{{ summa|tal }}"], bold=True, top_rule=True)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for rad in bilaga.fotnot %}")
    para(doc, "{{ rad }}", "Fotnot")
    tag(doc, "{%p endfor %}")


def summary_table(doc: WordDocument) -> None:
    """The decision document's table: areas in bold with their "varav" posts, and the total (seed 002).

    The table is short, so its rows are kept together on one page.
    """
    tbl = table(doc, [Cm(5.4), Cm(7.6), Cm(3.0)])
    row(tbl, ["{{ sammanstallning.rubriker[0] }}", "{{ sammanstallning.rubriker[1] }}",
              "{{ sammanstallning.rubriker[2] }}"], header=True, shade="F2F2F2", keep_next=True)
    tag_row(tbl, "{%tr for rad in sammanstallning.rader %}")
    tag_row(tbl, "{%tr if rad.rubrik %}")
    row(tbl, ["{{ rad.text }}", "{{ rad.beskrivning }}", "{{ rad.belopp|tal }}"], bold=True, keep_next=True)
    tag_row(tbl, "{%tr elif rad.varav %}")
    row(tbl, ["– {{ rad.text }}", "{{ rad.beskrivning }}", "{{ rad.belopp|tal }}"], indent_first=0.3, keep_next=True)
    tag_row(tbl, "{%tr else %}")
    row(tbl, ["{{ rad.text }}", "{{ rad.beskrivning }}", "{{ rad.belopp|tal }}"], keep_next=True)
    tag_row(tbl, "{%tr endif %}")
    tag_row(tbl, "{%tr endfor %}")
    row(tbl, ["Totalt", "", "{{ sammanstallning.summa|tal }}"], bold=True, top_rule=True)


# --- header and footer ----------------------------------------------------------------------------

def page_header(doc: WordDocument, first_line: str, bold_first: bool) -> None:
    """Sender on the left; ``first_line`` (document type or date), diarienummer and "Sida 1 (3)" on the right."""
    right_lines = [first_line, "{% if arende.diarienummer %}Dnr {{ arende.diarienummer }}{% endif %}", "PAGE"]
    header = doc.sections[0].header
    header.is_linked_to_previous = False
    tbl = header.add_table(rows=1, cols=2, width=TEXT_WIDTH)
    tbl.autofit = False
    props = tbl._tbl.tblPr
    props.append(_element("w:tblLayout", attrs={"w:type": "fixed"}))
    props.append(_element("w:tblBorders", [_border("bottom", 4, "808080")]))
    props.append(_element("w:tblCellMar", [_element("w:left", attrs={"w:w": "0", "w:type": "dxa"}),
                                           _element("w:right", attrs={"w:w": "0", "w:type": "dxa"})]))
    left, right = tbl.rows[0].cells
    left.width, right.width = Cm(10), Cm(6)
    left.paragraphs[0].add_run("{% if arende.avsandare %}{{ arende.avsandare }}{% endif %}").bold = True
    left.paragraphs[0].style = doc.styles["Header"]
    left.add_paragraph("{% if arende.avdelning %}{{ arende.avdelning }}{% endif %}", style=doc.styles["Header"])
    for i, text in enumerate(right_lines):
        paragraph = right.paragraphs[0] if i == 0 else right.add_paragraph()
        paragraph.style = doc.styles["Header"]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if text == "PAGE":
            paragraph.add_run("Sida ")
            field(paragraph, "PAGE")
            paragraph.add_run(" (")
            field(paragraph, "NUMPAGES")
            paragraph.add_run(")")
        else:
            paragraph.add_run(text).bold = (bold_first and i == 0) or None
        paragraph.paragraph_format.space_after = Pt(2) if i == len(right_lines) - 1 else Pt(0)
    spacer = header.paragraphs[0]
    spacer.style = doc.styles["Header"]
    header._element.remove(spacer._p)
    header._element.append(spacer._p)
    spacer.paragraph_format.space_after = Pt(0)

    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    line = footer.paragraphs[0]
    line.style = doc.styles["Footer"]
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    line.add_run("{% if arende.avsandare %}{{ arende.avsandare }}{% endif %}"
                 "{% if arende.avsandare and arende.e_post %}  ·  {% endif %}"
                 "{% if arende.e_post %}{{ arende.e_post }}{% endif %}")


def info_block(doc: WordDocument, left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]]) -> None:
    """The sender block of seed 002: labelled facts in two borderless columns."""
    tbl = doc.add_table(rows=1, cols=2)
    tbl.autofit = False
    props = tbl._tbl.tblPr
    props.append(_element("w:tblLayout", attrs={"w:type": "fixed"}))
    props.append(_element("w:tblCellMar", [_element("w:left", attrs={"w:w": "0", "w:type": "dxa"}),
                                           _element("w:right", attrs={"w:w": "0", "w:type": "dxa"})]))
    for cell, lines, w in zip(tbl.rows[0].cells, (left, right), (Cm(8), Cm(8))):
        cell.width = w
        for i, (style, text) in enumerate(lines):
            paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
            paragraph.style = doc.styles[style]
            paragraph.add_run(text)
            if style == "Etikett" and i:
                paragraph.paragraph_format.space_before = Pt(6)
    para(doc, "", after=6)


def signature(doc: WordDocument, title_filter: str = "") -> None:
    """Who signs, their title and the sender: kept together and with what follows (the list of appendices).

    The paragraph before the signature keeps with it too (``keep_next``), so no page holds the signature alone.
    """
    tag(doc, "{%p if arende.undertecknare %}")
    para(doc, "{{ arende.undertecknare }}", before=30, after=0, keep_next=True, keep_lines=True)
    para(doc, "{% if arende.undertecknarens_titel %}{{ arende.undertecknarens_titel" + title_filter + " }}{% endif %}",
         after=0, keep_next=True, keep_lines=True)
    tag(doc, "{%p elif arende.handlaggare %}")
    para(doc, "{{ arende.handlaggare }}", before=30, after=0, keep_next=True, keep_lines=True)
    tag(doc, "{%p endif %}")
    para(doc, "{% if arende.avsandare and arende.avsandare not in (arende.undertecknarens_titel or '') %}"
              "{{ arende.avsandare }}{% endif %}", after=12, keep_next=True, keep_lines=True)


def letter_head(doc: WordDocument, date: str, title: str) -> None:
    """A letter's page header (the date first), "Till" the recipient, and its title."""
    page_header(doc, date, bold_first=False)
    para(doc, "Till", "Etikett", after=0)
    para(doc, "{{ mottagare.namn }}", "Uppgift", bold=True, after=18)
    para(doc, title, "Title")


def closing(doc: WordDocument, condition: str) -> None:
    """"Med vänlig hälsning" and the signature, when ``condition`` (a jinja test) says someone can sign."""
    tag(doc, "{%p if " + condition + " %}")
    para(doc, "Med vänlig hälsning", before=12, keep_next=True)
    signature(doc)
    tag(doc, "{%p endif %}")


def invoice_address(doc: WordDocument) -> None:
    """The paragraph "Fakturaadress: …", when the case has one."""
    tag(doc, "{%p if arende.fakturaadress %}")
    para(doc, "Fakturaadress: {{ arende.fakturaadress }}")
    tag(doc, "{%p endif %}")


# --- the two templates ----------------------------------------------------------------------------

def decision_document() -> WordDocument:
    """Tjänsteutlåtande, like seeds 001 and 002."""
    doc = new_document()
    page_header(doc, "Tjänsteutlåtande", bold_first=True)
    info_block(doc, HANDLER_WITH_PHONE,
               [("Etikett", "{% if arende.namnd %}Till{% endif %}"),
                ("Uppgift", "{% if arende.namnd %}{{ arende.namnd }}{% endif %}"),
                ("Uppgift", "{{ (arende.datum or dagens_datum)|datum }}")])
    para(doc, "{{ arende.rubrik }}", "Title")

    heading(doc, "Förvaltningens förslag till beslut")
    points = new_list(doc, DECIMAL)
    tag(doc, "{%p for punkt in beslutspunkter %}")
    list_item(doc, "{{ punkt }}", points)
    tag(doc, "{%p endfor %}")

    heading(doc, "Sammanfattning")
    texter_or(doc, "Sammanfattning", [
        "{% if arende.avsandare %}{{ arende.avsandare }}{% else %}Förvaltningen{% endif %} föreslår att "
        "{{ summa|kronor }} i stimulansmedel fördelas mellan {{ antal_mottagare }} mottagare"
        "{% if arende.overenskommelse %} inom {{ arende.overenskommelse_i_ord }}{% endif %}."
        "{% if arende.overfort_fran_tidigare_ar %} Beloppet består av årets medel, {{ arende.medel_att_fordela|kronor }}, "
        "och {{ arende.overfort_fran_tidigare_ar|kronor }} som inte har förbrukats tidigare år.{% endif %}",
        "{% if poster|length > 1 %}Medlen fördelas i {{ poster|length }} poster. {% endif %}"
        "Fördelningen per mottagare framgår av {% if sammanstallning.per_mottagare %}tabellen under "
        "Förvaltningens synpunkter och förslag{% else %}bilaga 1{% endif %}.",
    ])

    heading(doc, "Bakgrund")
    texter_or(doc, "Bakgrund", [
        "{% if arende.overenskommelse %}Stimulansmedlen ges inom {{ arende.overenskommelse_i_ord }}. {% endif %}"
        "{% if arende.ar %}För {{ arende.ar }} finns{% else %}Det finns{% endif %} "
        "{{ arende.medel_att_fordela|kronor }} att fördela."
        "{% if arende.overfort_fran_tidigare_ar %} Därtill kommer {{ arende.overfort_fran_tidigare_ar|kronor }} från "
        "tidigare år som inte har förbrukats, så att totalt {{ summa|kronor }} kan fördelas.{% endif %}",
    ])

    heading(doc, "Ärendet")
    texter_or(doc, "Ärendet", [
        "Ärendet gäller hur {{ summa|kronor }} i stimulansmedel ska fördelas mellan {{ antal_mottagare }} mottagare, "
        "och att förvaltningschefen får i uppdrag att betala ut medlen enligt den föreslagna modellen.",
    ])

    heading(doc, "Ärendets beredning")
    texter_or(doc, "Ärendets beredning", [
        "Ärendet har beretts inom {% if arende.avsandare %}{{ arende.avsandare }}{% else %}förvaltningen{% endif %}"
        "{% if arende.avdelning %} ({{ arende.avdelning }}){% endif %}.",
    ])

    heading(doc, "Förvaltningens synpunkter och förslag")
    texter_or(doc, "Förvaltningens synpunkter och förslag", [
        "Förvaltningen föreslår att medlen fördelas enligt följande.",
    ], keep_next=True)
    tag(doc, "{%p if sammanstallning.per_mottagare %}")
    distribution_tables(doc, letter=False)
    tag(doc, "{%p if poster[0].per_enhet_i_ord %}")
    para(doc, "Fördelningen motsvarar {{ poster[0].per_enhet_i_ord }}.", before=8)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    summary_table(doc)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for avsnitt in ovriga_texter %}")
    heading(doc, "{{ avsnitt.rubrik }}", 2)
    para(doc, "{{ avsnitt.text }}")
    tag(doc, "{%p endfor %}")

    heading(doc, "Jämställdhetsanalys")
    texter_or(doc, "Jämställdhetsanalys", [
        "Medlen fördelas mellan mottagarna efter en modell som inte tar hänsyn till kön. Förvaltningen bedömer att "
        "fördelningen i sig inte påverkar jämställdheten. Hur medlen används, och vad det betyder för kvinnor och män, "
        "följs upp i mottagarnas återrapportering.",
    ], keep_next=True)

    signature(doc, "|versal")

    tag(doc, "{%p if not sammanstallning.per_mottagare %}")
    heading(doc, "Bilagor", 2)
    appendix = new_list(doc, DECIMAL)
    list_item(doc, "{{ bilaga.titel }}", appendix)
    heading(doc, "{{ bilaga.rubrik }}", 1, page_break=True)
    distribution_tables(doc, letter=False)
    tag(doc, "{%p endif %}")
    return doc


def letter() -> WordDocument:
    """The letter to each recipient, like seeds 000 and 003."""
    doc = new_document()
    letter_head(doc, "{{ (arende.datum or dagens_datum)|datum }}", "{{ arende.rubrik }}")
    para(doc, "Här följer information om hur {{ mottagare.namn }} kan ta del av stimulansmedlen"
              "{% if arende.avsandare %} genom att fakturera {{ arende.avsandare }}{% endif %}.")
    para(doc, "{{ mottagare.namn }} tilldelas {{ mottagare.belopp|kronor }}"
              "{% if arende.ar %} för {{ arende.ar }}{% endif %}.", "Belopp")
    tag(doc, "{%p if mottagare.poster|length == 1 %}")
    para(doc, "{% set p = mottagare.poster[0] %}{% if p.nyckel_i_ord %}Medlen fördelas {{ p.nyckel_i_ord }}"
              "{% if p.underlag_i_ord %}; ert underlag är {{ p.underlag_i_ord }}{% endif %}."
              "{% else %}Beloppet kommer ur posten {{ p.namn }} ({{ p.forklaring }}).{% endif %}")
    tag(doc, "{%p else %}")
    para(doc, "Beloppet består av:", after=4, keep_next=True)
    parts = new_list(doc, BULLET)
    tag(doc, "{%p for p in mottagare.poster %}")
    list_item(doc, "{{ p.namn }}: {{ p.belopp|kronor }} ({{ p.forklaring }})", parts)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    para(doc, "Fördelningen mellan alla {{ antal_mottagare }} mottagare framgår av bilaga 1"
              "{% if bilaga.i_brevet %}.{% elif bilaga.bifogas %}, som skickas med som en separat fil."
              "{% elif arende.bilaga_lank %}. Hela fördelningen finns här: {{ arende.bilaga_lank }}"
              "{% else %}. Hela fördelningen skickas på begäran; kontakta {% if arende.handlaggare %}"
              "{{ arende.handlaggare }}{% if arende.e_post %}, e-post {{ arende.e_post }}{% endif %}"
              "{% else %}oss{% if arende.e_post %} på {{ arende.e_post }}{% endif %}{% endif %}.{% endif %}")

    heading(doc, "Bakgrund")
    texter_or(doc, "Bakgrund", [
        "{% if arende.overenskommelse %}{{ arende.overenskommelse_i_ord|versal }} ligger till grund för "
        "stimulansmedlen. {% endif %}{% if arende.avsandare %}{{ arende.avsandare }}{% else %}Vi{% endif %} "
        "fördelar totalt {{ summa|kronor }} mellan {{ antal_mottagare }} mottagare"
        "{% if arende.overfort_fran_tidigare_ar %}, varav {{ arende.overfort_fran_tidigare_ar|kronor }} är medel från "
        "tidigare år som inte har förbrukats{% endif %}.",
    ])

    heading(doc, "Hur medlen får användas")
    texter_or(doc, "Hur medlen får användas", [
        "Medlen ska användas{% if arende.ar %} under {{ arende.ar }}{% endif %} i enlighet med "
        "{% if arende.overenskommelse %}{{ arende.overenskommelse_i_ord }}{% else %}syftet med "
        "stimulansmedlen{% endif %}. De kan användas för att stärka nya eller redan pågående satsningar.",
    ])

    heading(doc, "Faktura{% if arende.avsandare %} till {{ arende.avsandare }}{% endif %}")
    para(doc, "Om ni vill ta del av medlen skickar ni en faktura"
              "{% if arende.sista_dag %} senast den {{ arende.sista_dag|datum }}{% endif %}."
              "{% if arende.faktura_e_post %} Skicka gärna fakturan elektroniskt till {{ arende.faktura_e_post }}.{% endif %}")
    invoice_address(doc)
    para(doc, "Ange ”{{ arende.rubrik }}”{% if arende.diarienummer %}, diarienummer {{ arende.diarienummer }}{% endif %}, "
              "samt:", after=4, keep_next=True)
    invoice = new_list(doc, DECIMAL)
    tag(doc, "{%p if arende.fakturareferens %}")
    list_item(doc, "märk fakturan med referens {{ arende.fakturareferens }}", invoice)
    tag(doc, "{%p endif %}")
    list_item(doc, "belopp: {{ mottagare.belopp|kronor }}", invoice)
    list_item(doc, "ert konto för utbetalning och eventuella andra utbetalningsinstruktioner", invoice)
    list_item(doc, "vad ni kommer att använda medlen till (på rubriknivå)", invoice)
    para(doc, "Eftersom detta är ett statligt bidrag ska ni inte lägga på moms, utan fakturera endast det belopp ni har "
              "tilldelats.", before=6)

    heading(doc, "Meddelanden och frågor")
    notes = new_list(doc, BULLET)
    list_item(doc, "Om ni inte vill ta del av medlen, meddela det så snart som möjligt"
                   "{% if arende.e_post %} till {{ arende.e_post }}{% endif %}.", notes)
    list_item(doc, "Meddela gärna er kontaktperson, med e-postadress och telefonnummer"
                   "{% if arende.e_post %}, till {{ arende.e_post }}{% endif %}.", notes)
    list_item(doc, "Har ni frågor är ni välkomna att kontakta " + CONTACT, notes)

    heading(doc, "Återrapportering")
    texter_or(doc, "Återrapportering", [
        "{% if arende.avsandare %}{{ arende.avsandare }}{% else %}Vi{% endif %} ansvarar för att återrapportera hur "
        "stimulansmedlen har använts och fördelats. Om ni redan nu vet hur ni planerar att använda medlen, ange gärna "
        "det i fakturaunderlaget enligt punktlistan ovan. Vid behov återkommer vi för att efterfråga mer underlag "
        "inför återrapporteringen.",
    ])

    closing(doc, "arende.undertecknare or arende.handlaggare or arende.avsandare")

    heading(doc, "Bilaga", 2)
    para(doc, "Bilaga 1: {{ bilaga.titel }}{% if not bilaga.i_brevet %} ({% if bilaga.bifogas %}skickas med som en "
              "separat fil{% elif arende.bilaga_lank %}finns här: {{ arende.bilaga_lank }}{% else %}skickas på begäran"
              "{% endif %}){% endif %}")
    tag(doc, "{%p if bilaga.i_brevet %}")
    heading(doc, "{{ bilaga.rubrik }}", 1, page_break=True)
    distribution_tables(doc, letter=True)
    tag(doc, "{%p endif %}")
    return doc


# --- a later round: the amended decision and the letter to each recipient who gains -----------------

def round_table(doc: WordDocument) -> None:
    """The new distribution: each recipient's previous amount, addition and new amount, declining ones marked."""
    tbl = table(doc, [Cm(6.4), Cm(3.2), Cm(3.2), Cm(3.2)])
    row(tbl, ["Mottagare", "Tidigare, kr", "Tillägg, kr", "Nytt belopp, kr"], header=True, shade="F2F2F2",
        right=(1, 2, 3))
    tag_row(tbl, "{%tr for r in omfordelning.rader %}")
    row(tbl, ["{{ r.namn }}{% if r.avstar %} (avstår){% endif %}", "{{ r.tidigare|tal }}", "{{ r.tillagg|tal }}",
              "{{ r.nytt_belopp|tal }}"], right=(1, 2, 3))
    tag_row(tbl, "{%tr endfor %}")
    row(tbl, ["Totalt", "{{ omfordelning.tidigare_summa|tal }}", "{{ omfordelning.tillagg_summa|tal }}",
              "{{ summa|tal }}"], bold=True, top_rule=True, right=(1, 2, 3))
    tag(doc, "{%p for rad in bilaga.fotnot %}")
    para(doc, "{{ rad }}", "Fotnot")
    tag(doc, "{%p endfor %}")


def round_decision() -> WordDocument:
    """Tilläggsbeslut: who declined, the money freed, how it is shared, the new table, the decision points."""
    doc = new_document()
    page_header(doc, "Tilläggsbeslut", bold_first=True)
    info_block(doc, HANDLER_WITH_PHONE,
               [("Etikett", "{% if arende.namnd %}Till{% endif %}"),
                ("Uppgift", "{% if arende.namnd %}{{ arende.namnd }}{% endif %}"),
                ("Etikett", "Datum"),
                ("Uppgift", "{{ omfordelning.datum|datum }}"),
                ("Uppgift", "Omfördelning, omgång {{ omfordelning.omgang }}")])
    para(doc, "{{ arende.rubrik }}: omfördelning av medel som mottagare avstår", "Title")

    heading(doc, "Förslag till beslut")
    points = new_list(doc, DECIMAL)
    tag(doc, "{%p for punkt in beslutspunkter %}")
    list_item(doc, "{{ punkt }}", points)
    tag(doc, "{%p endfor %}")

    heading(doc, "Sammanfattning")
    para(doc, "{% if arende.datum %}Den {{ arende.datum|datum }} beslutades{% else %}Tidigare beslutades{% endif %} "
              "fördelningen i ärendet ”{{ arende.rubrik }}”. {% if omfordelning.omgang > 2 %}Sedan den förra omfördelningen"
              "{% else %}Sedan dess{% endif %} har {{ omfordelning.avstar|length }} mottagare avstått "
              "sina medel, "
              "sammanlagt {{ omfordelning.frigjort|kronor }}."
              "{% if omfordelning.tillagg_summa %} Av dem fördelas {{ omfordelning.tillagg_summa|kronor }} på "
              "{{ omfordelning.antal_med_tillagg }} mottagare, som var och en får ett tillägg.{% endif %}"
              "{% if omfordelning.ej_fordelat_nu %} {{ omfordelning.ej_fordelat_nu|kronor }} kan ingen mottagare ta "
              "emot; det beloppet betalas tillbaka till den som beviljade medlen.{% endif %}")

    heading(doc, "Mottagare som avstår")
    para(doc, "Enligt uppföljningen den {{ omfordelning.datum|datum }} avstår följande mottagare sina medel:",
         after=4, keep_next=True)
    declined = new_list(doc, BULLET)
    tag(doc, "{%p for a in omfordelning.avstar %}")
    list_item(doc, "{{ a.namn }}: {{ a.belopp|kronor }} ({{ a.skal }})", declined)
    tag(doc, "{%p endfor %}")
    para(doc, "Sammanlagt frigörs {{ omfordelning.frigjort|kronor }}.", before=6)

    heading(doc, "Så fördelas medlen")
    para(doc, "{{ omfordelning.regel }}")
    tag(doc, "{%p for p in omfordelning.poster %}")
    para(doc, "{{ p.namn }}: {% if p.frigjort %}{{ p.frigjort|kronor }} frigörs{% if p.mottog %} och posten tar emot "
              "{{ p.mottog|kronor }} från poster där ingen mottagare finns kvar; sammanlagt {{ p.fordelat|kronor }}"
              "{% else %} och{% endif %}{% else %}posten tar emot {{ p.mottog|kronor }} från poster där ingen mottagare "
              "finns kvar, och de{% endif %} {{ p.regel }}.")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if omfordelning.ej_fordelat %}")
    para(doc, "Ej fördelat: {{ omfordelning.ej_fordelat|kronor }}. Beloppet ska betalas tillbaka till den som beviljade "
              "medlen.", bold=True)
    tag(doc, "{%p endif %}")

    heading(doc, "Ny fördelning")
    para(doc, "Tabellen visar varje mottagares tidigare belopp, tillägget och det nya beloppet.", keep_next=True)
    round_table(doc)

    signature(doc, "|versal")
    return doc


def round_letter() -> WordDocument:
    """The letter to each recipient whose amount grows: previous amount, addition, new total, how to invoice."""
    doc = new_document()
    letter_head(doc, "{{ omfordelning.datum|datum }}", "{{ arende.rubrik }}: tillägg")
    para(doc, "{{ omfordelning.avstar|length }} mottagare har avstått sina medel, och "
              "{% if arende.avsandare %}{{ arende.avsandare }}{% else %}vi"
              "{% endif %} har fördelat om dem. {{ mottagare.namn }} får därför ett tillägg.")
    tbl = table(doc, [Cm(10), Cm(6)])
    row(tbl, ["Tidigare tilldelat", "{{ tillagg.tidigare|kronor }}"], style="Uppgift")
    row(tbl, ["Tillägg", "{{ tillagg.tillagg|kronor }}"], style="Uppgift", bold=True)
    row(tbl, ["Nytt belopp", "{{ tillagg.nytt_belopp|kronor }}"], style="Uppgift", bold=True, top_rule=True)
    para(doc, "", after=6)
    heading(doc, "Så har tillägget räknats fram")
    para(doc, "{{ omfordelning.regel }}")
    para(doc, "Den nya fördelningen mellan alla mottagare framgår av bilaga 1{% if bilaga.bifogas %}, som skickas med "
              "som en separat fil{% endif %}.")

    heading(doc, "Faktura{% if arende.avsandare %} till {{ arende.avsandare }}{% endif %}")
    para(doc, "Om ni vill ta del av tillägget skickar ni en faktura på {{ tillagg.tillagg|kronor }}, utöver det ni "
              "redan har fakturerat eller ska fakturera av det tidigare beloppet."
              "{% if arende.faktura_e_post %} Skicka gärna fakturan elektroniskt till {{ arende.faktura_e_post }}."
              "{% endif %}")
    invoice_address(doc)
    para(doc, "Ange ”{{ arende.rubrik }}”{% if arende.diarienummer %}, diarienummer {{ arende.diarienummer }}{% endif %}"
              "{% if arende.fakturareferens %}, och märk fakturan med referens {{ arende.fakturareferens }}{% endif %}. "
              "Eftersom detta är ett statligt bidrag ska ni inte lägga på moms.")
    para(doc, "Om ni inte vill ta del av tillägget, meddela det så snart som möjligt"
              "{% if arende.e_post %} till {{ arende.e_post }}{% endif %}.")

    closing(doc, "arende.handlaggare or arende.avsandare")
    return doc


def compilation_report() -> WordDocument:
    """The compiled report to the funder (sammanstallning.docx): totals, the table, the answers, who has not reported."""
    doc = new_document()
    page_header(doc, "Sammanställning av redovisningar", bold_first=True)
    info_block(doc,
               [("Etikett", "{% if arende.handlaggare %}Handläggare{% endif %}"),
                ("Uppgift", "{% if arende.handlaggare %}{{ arende.handlaggare }}{% endif %}"),
                ("Uppgift", "{% if arende.e_post %}{{ arende.e_post }}{% endif %}")],
               [("Etikett", "Datum"),
                ("Uppgift", "{{ dagens_datum|datum }}")])
    para(doc, "{{ arende.rubrik }}: redovisning", "Title")
    para(doc, "{% if arende.avsandare %}{{ arende.avsandare }}{% else %}Vi{% endif %} har fördelat "
              "{{ summa.tilldelat|kronor }} i stimulansmedel{% if arende.ar %} för {{ arende.ar }}{% endif %}"
              "{% if arende.diarienummer %} (diarienummer {{ arende.diarienummer }}){% endif %}. "
              "{{ antal_redovisade }} av {{ antal_redovisade + ej_redovisat|length }} mottagare som har fått medel "
              "utbetalda har redovisat hur medlen har använts.")

    heading(doc, "Medlen i sammandrag")
    tbl = table(doc, [Cm(11.0), Cm(5.0)])
    row(tbl, ["Tilldelat", "{{ summa.tilldelat|kronor }}"])
    row(tbl, ["Utbetalt", "{{ summa.utbetalt|kronor }}"])
    row(tbl, ["Använt enligt redovisningarna", "{{ summa.anvant|kronor }}"])
    row(tbl, ["Att återbetala", "{{ summa.att_aterbetala|kronor }}"], bold=True)
    tag_row(tbl, "{%tr if summa.utbetalt_ej_redovisat %}")
    row(tbl, ["Utbetalt till mottagare som inte har redovisat", "{{ summa.utbetalt_ej_redovisat|kronor }}"])
    tag_row(tbl, "{%tr endif %}")
    tag(doc, "{%p if summa.att_aterbetala %}")
    para(doc, "Medel som inte har använts ska betalas tillbaka senast den {{ aterbetalning_senast|datum }}; "
              "var och en som ska betala tillbaka får ett brev om beloppet.", before=8)
    tag(doc, "{%p endif %}")

    heading(doc, "Per mottagare")
    tbl = table(doc, [Cm(5.2), Cm(2.7), Cm(2.7), Cm(2.7), Cm(2.7)])
    row(tbl, ["Mottagare", "Tilldelat, kr", "Utbetalt, kr", "Använt, kr", "Att återbetala, kr"], header=True,
        shade="F2F2F2", right=(1, 2, 3, 4))
    tag_row(tbl, "{%tr for r in rader %}")
    row(tbl, ["{{ r.namn }}", "{{ r.tilldelat|tal }}", "{{ r.utbetalt|tal }}",
              "{% if r.redovisat %}{{ r.anvant|tal }}{% else %}–{% endif %}",
              "{% if r.redovisat %}{{ r.att_aterbetala|tal }}{% else %}–{% endif %}"], right=(1, 2, 3, 4))
    tag_row(tbl, "{%tr endfor %}")
    row(tbl, ["Totalt", "{{ summa.tilldelat|tal }}", "{{ summa.utbetalt|tal }}", "{{ summa.anvant|tal }}",
              "{{ summa.att_aterbetala|tal }}"], bold=True, top_rule=True, right=(1, 2, 3, 4))
    para(doc, "– betyder att redovisningen inte har kommit in, eller att inget har betalats ut.", "Fotnot", before=4)

    tag(doc, "{%p for f in fragor %}")
    heading(doc, "{{ f.fraga }}")
    tag(doc, "{%p for s in f.svar %}")
    para(doc, "{{ s.mottagare }}", "Heading 2")
    para(doc, "{% if s.svar %}{{ s.svar }}{% else %}(Inget svar.){% endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endfor %}")

    heading(doc, "Mottagare som inte har redovisat")
    tag(doc, "{%p if ej_redovisat %}")
    bullets = new_list(doc, BULLET)
    tag(doc, "{%p for r in ej_redovisat %}")
    list_item(doc, "{{ r.namn }} (utbetalt {{ r.utbetalt|kronor }})", bullets)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p else %}")
    para(doc, "Alla mottagare som har fått medel utbetalda har redovisat.")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if arende.handlaggare or arende.avsandare %}")
    signature(doc)
    tag(doc, "{%p endif %}")
    return doc


def repayment_letter() -> WordDocument:
    """The letter asking a recipient to repay what it did not use (aterbetalning.docx)."""
    doc = new_document()
    letter_head(doc, "{{ dagens_datum|datum }}", "{{ arende.rubrik }}: återbetalning")
    para(doc, "Tack för er redovisning{% if mottagare.redovisat %}, som kom in den {{ mottagare.redovisat|datum }}"
              "{% endif %}. {{ mottagare.namn }} har fått {{ mottagare.utbetalt|kronor }} utbetalt och har enligt "
              "redovisningen använt {{ mottagare.anvant|kronor }}. Medel som inte har använts ska betalas tillbaka.")
    para(doc, "Att återbetala: {{ mottagare.att_aterbetala|kronor }}", "Belopp")
    heading(doc, "Så betalar ni tillbaka")
    para(doc, "Betala tillbaka {{ mottagare.att_aterbetala|kronor }}"
              "{% if arende.avsandare %} till {{ arende.avsandare }}{% endif %} senast den "
              "{{ aterbetalning_senast|datum }}.", after=4, keep_next=True)
    steps = new_list(doc, BULLET)
    list_item(doc, "Ange ”{{ arende.rubrik }}”{% if arende.diarienummer %} och diarienummer "
                   "{{ arende.diarienummer }}{% endif %} vid betalningen.", steps)
    tag(doc, "{%p if arende.fakturareferens %}")
    list_item(doc, "Ange också referens {{ arende.fakturareferens }}.", steps)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if arende.fakturaadress %}")
    list_item(doc, "Postadress{% if arende.avsandare %} till {{ arende.avsandare }}{% endif %}: "
                   "{{ arende.fakturaadress }}.", steps)
    tag(doc, "{%p endif %}")
    list_item(doc, "Vill ni hellre få en faktura på beloppet, eller behöver ni betalningsuppgifter, kontakta "
              + CONTACT, steps)
    heading(doc, "Beloppen")
    tbl = table(doc, [Cm(11.0), Cm(5.0)])
    row(tbl, ["Tilldelat", "{{ mottagare.tilldelat|kronor }}"])
    row(tbl, ["Utbetalt", "{{ mottagare.utbetalt|kronor }}"])
    row(tbl, ["Använt enligt redovisningen", "{{ mottagare.anvant|kronor }}"])
    row(tbl, ["Att återbetala", "{{ mottagare.att_aterbetala|kronor }}"], bold=True, top_rule=True)
    para(doc, "Stämmer inte beloppen, hör av er innan ni betalar.", before=8)
    closing(doc, "arende.undertecknare or arende.handlaggare or arende.avsandare")
    return doc


# --- writing --------------------------------------------------------------------------------------

def reproducible_bytes(doc: WordDocument) -> bytes:
    """The .docx with fixed zip timestamps, so building twice gives the same bytes."""
    raw = BytesIO()
    doc.save(raw)
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(item.filename))
    return out.getvalue()


def reproducible_workbook(book) -> bytes:
    """The .xlsx with fixed zip timestamps and fixed core dates (openpyxl stamps the time of saving)."""
    import re

    raw = BytesIO()
    book.save(raw)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(raw.getvalue())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*", lambda m: m.group(1) + stamp.encode(), data)
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return out.getvalue()


def reporting_form() -> bytes:
    """``redovisning.xlsx``, the reporting form, laid out by processor.reporting_form (the contract with its reader)."""
    sys.path.insert(0, str(ROOT))
    from processor.reporting_form import build_template

    return reproducible_workbook(build_template())


def previews(folder: Path, letter_to: str = "Rinkeby-Kista stadsdelsförvaltning") -> list[Path]:
    """PNG pages of the Stockholm example's decision document and one letter (LibreOffice, then pdftoppm)."""
    import subprocess
    import tempfile

    sys.path.insert(0, str(ROOT))
    from processor.documents import prepare_documents
    from processor.pipeline import check

    workbook = ROOT / "input" / "stockholm_2024.xlsx"
    case, allocation = check(workbook)
    batch = prepare_documents(case, allocation, workbook, today=dt.date(2024, 5, 21))
    index = next(i for i, r in enumerate(case.recipients) if r.name == letter_to)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "tjansteutlatande.docx").write_bytes(batch.decision())
        (work / "brev.docx").write_bytes(batch.letter(index))
        office_pdf(work, work / "tjansteutlatande.docx", work / "brev.docx")
        for old in folder.glob("*.png"):
            old.unlink()
        for stem in ("tjansteutlatande", "brev"):
            subprocess.run(["pdftoppm", "-r", "70", "-png", str(work / f"{stem}.pdf"), str(folder / stem)], check=True)
    return sorted(folder.glob("*.png"))


def office_pdf(work: Path, *documents: Path) -> None:
    """PDFs of ``documents`` in ``work`` by LibreOffice in a Swedish locale, so numbers show as a Swede sees them."""
    import os
    import subprocess

    swedish = {**os.environ, "LANG": "sv_SE.UTF-8", "LC_ALL": "sv_SE.UTF-8", "LANGUAGE": "sv_SE"}
    subprocess.run(["soffice", f"-env:UserInstallation={(work / 'profil').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(work), *map(str, documents)],
                   check=True, capture_output=True, env=swedish)


def form_preview(path: Path, recipient: str = "Rinkeby-Kista stadsdelsförvaltning") -> Path:
    """A PNG of the reporting form as the Stockholm example's recipient gets it (LibreOffice, then pdftoppm)."""
    import subprocess
    import tempfile

    sys.path.insert(0, str(ROOT))
    from processor.pipeline import check
    from processor.reporting_form import DEFAULT_QUESTIONS, FormIdentity, FormValues, fill_form

    case, allocation = check(ROOT / "input" / "stockholm_2024.xlsx")
    index = next(i for i, r in enumerate(case.recipients) if r.name == recipient)
    total = allocation.totals[index]
    form = fill_form(reporting_form(), "redovisning.xlsx", FormIdentity("exempel", recipient, "20250115", DEFAULT_QUESTIONS),
                     FormValues(case.info.title, case.info.fields.get("Diarienummer"), recipient, total, total))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "blankett.xlsx").write_bytes(form)
        office_pdf(work, work / "blankett.xlsx")
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-singlefile", str(work / "blankett.pdf"),
                        str(path.with_suffix(""))], check=True)
    return path


DALARNA_ANSWERS = (
    "{namn} har utbildat {n} undersköterskor i palliativ vård och infört handledning i hemtjänsten.",
    "Fortsatt handledning och en utbildning i demensvård under {ar}.",
    "Det har varit svårt att frigöra tid för utbildning, och {n} platser blev inte fyllda.",
    "Deltagarna har följts upp per kön; andelen män var {m} procent, och utbildningen har getts på tider som passar "
    "deltidsanställda.",
)


def compilation_previews(folder: Path, not_reported: tuple[str, ...] = ("Orsa", "Vansbro")) -> list[Path]:
    """PNGs of page 1 of the compiled report and of one repayment letter, from the Dalarna example after payment:
    every municipality paid in full, all but two reporting, every third using less (LibreOffice, then pdftoppm)."""
    import subprocess
    import tempfile

    sys.path.insert(0, str(ROOT))
    from openpyxl import load_workbook

    from processor.case_folder import open_case_folder
    from processor.pipeline import run
    from processor.reporting_form import (DEFAULT_QUESTIONS, FORM_SHEET, FORM_TEMPLATE, USED_LABEL, VALUE_COLUMN,
                                          FormIdentity, FormValues, fill_form, label_key, sheet_label_rows)
    from processor.sammanstall import compile_returned_forms

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        run_dir = run(ROOT / "input" / "dalarna_2020.xlsx", work / "ut", now=dt.datetime(2020, 6, 15, 10, 0)).run_dir
        case = open_case_folder(run_dir)
        book = load_workbook(run_dir / "uppfoljning.xlsx")
        sheet = book.active
        header = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for column in ("Rekvirerat", "Utbetalt"):
                row[header.index(column)].value = case.allocated[row[0].value]
        book.save(run_dir / "uppfoljning.xlsx")
        forms = work / "inkomna"
        forms.mkdir()
        for n, (name, paid) in enumerate(case.allocated.items()):
            if name in not_reported:
                continue
            identity = FormIdentity(case.case_id, name, "20210111", DEFAULT_QUESTIONS)
            values = FormValues(case.case.info.title, case.reference, name, paid, paid)
            form = load_workbook(BytesIO(fill_form((OUT / FORM_TEMPLATE).read_bytes(), FORM_TEMPLATE, identity, values)))
            rows = sheet_label_rows(form[FORM_SHEET])
            form[FORM_SHEET].cell(rows[label_key(USED_LABEL)], VALUE_COLUMN).value = paid - (n % 3 == 0) * 1_000 * (n + 17)
            for question, answer in zip(DEFAULT_QUESTIONS, DALARNA_ANSWERS):
                form[FORM_SHEET].cell(rows[label_key(question)], VALUE_COLUMN).value = answer.format(
                    namn=name, n=n + 4, m=8 + n, ar=2021)
            form.save(forms / f"{name}.xlsx")
        compiled = compile_returned_forms(run_dir, forms, dt.date(2021, 3, 1), cwd=work).folder
        letter = sorted((compiled / "aterbetalning").glob("*.docx"))[0]
        office_pdf(work, compiled / "sammanstallning.docx", letter)
        made = []
        for pdf, stem in ((work / "sammanstallning.pdf", "sammanstallning"), (work / f"{letter.stem}.pdf", "aterbetalning")):
            subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(folder / stem)], check=True)
            made.append(folder / f"{stem}.png")
    return made


def main(argv: list[str]) -> int:
    """``build_templates.py [MAPP]`` writes the templates; ``--forhandsvisning`` also renders docs/forhandsvisning/,
    ``--blankett`` the picture of the reporting form, docs/redovisningsblankett.png, ``--sammanstallning`` the
    pictures of the compiled report and a repayment letter, docs/sammanstallning.png and docs/aterbetalning.png."""
    args = [a for a in argv[1:] if a not in ("--forhandsvisning", "--blankett", "--sammanstallning")]
    folder = Path(args[0]) if args else OUT
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in (("tjansteutlatande.docx", decision_document), ("brev.docx", letter),
                        ("tillaggsbeslut.docx", round_decision), ("tillaggsbrev.docx", round_letter),
                        ("sammanstallning.docx", compilation_report), ("aterbetalning.docx", repayment_letter)):
        (folder / name).write_bytes(reproducible_bytes(build()))
        print(folder / name)
    (folder / "redovisning.xlsx").write_bytes(reporting_form())
    print(folder / "redovisning.xlsx")
    if "--forhandsvisning" in argv:
        for path in previews(ROOT / "docs" / "forhandsvisning"):
            print(path)
    if "--blankett" in argv:
        print(form_preview(ROOT / "docs" / "redovisningsblankett.png"))
    if "--sammanstallning" in argv:
        for path in compilation_previews(ROOT / "docs"):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
