"""The example workbooks, built from data so they never drift from the format.

``dalarna_2020`` is seed 004 (Region Dalarna 2020, one key, a totals row that disagrees);
``stockholm_2024`` is seed 002 (fixed sums, base support per district, development money
by population, the rest to the coordinating administration, carry-over). The
populations of Stockholm's districts are illustrative. Addresses use the reserved
``.example`` domain so that a test mailing never reaches a real registry.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from processor.vocabulary import (
    AGREEMENT, AMOUNT_COL, AREA_COL, CARRIED, CASE_SHEET, COMMITTEE, DATE, DEADLINE, DEPARTMENT, EMAIL_COL,
    FIELD_HEADING, GRANT, GROUP_COL, INVOICE_ADDRESS, INVOICE_EMAIL, INVOICE_REFERENCE, KEY_COL, KEY_FIELD,
    METHOD_COL, MODEL_SHEET, NAME_COL, OFFICER, PHONE, POST_COL, RECIPIENT_SHEET, REFERENCE, SECTION_COL,
    SELECTION_COL, SENDER_EMAIL, SENDER_NAME, SIGNATORY, SIGNATORY_TITLE, TEMPLATES, TEXT_COL, TEXT_SHEET, TITLE,
    VALUE_HEADING, YEAR,
)

DALARNA = {
    "stem": "dalarna_2020",
    "case": [
        (TITLE, "Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020"),
        (GRANT, 15_711_504),
        (KEY_FIELD, "Befolkning"),
        (YEAR, 2020),
        (AGREEMENT, "God och nära vård 2020 – En omställning av hälso- och sjukvården med fokus på primärvården"),
        (REFERENCE, "RD20/01871"),
        (DATE, dt.date(2020, 6, 15)),
        (SENDER_NAME, "Region Dalarna"),
        (DEPARTMENT, "Avdelningen för hälsa och välfärd (RSS)"),
        (COMMITTEE, "Regionala samverkansrådet"),
        (OFFICER, "Karin Eriksson"),
        (PHONE, "023-49 00 00"),
        (SENDER_EMAIL, "rss@regiondalarna.example"),
        (SIGNATORY, "Anders Lindqvist"),
        (SIGNATORY_TITLE, "avdelningschef, Region Dalarna"),
        (INVOICE_ADDRESS, "Region Dalarna, Box 712, 791 29 Falun"),
        (INVOICE_EMAIL, "faktura@regiondalarna.example"),
        (INVOICE_REFERENCE, "RSS 4410"),
        (DEADLINE, dt.date(2020, 9, 30)),
    ],
    "recipient_columns": [NAME_COL, EMAIL_COL, GROUP_COL, "Befolkning"],
    "recipients": [
        (name, f"registrator@{slug}.kommun.example", "Kommun", population)
        for name, slug, population in [
            ("Avesta", "avesta", 23178), ("Borlänge", "borlange", 52590), ("Falun", "falun", 59406),
            ("Gagnef", "gagnef", 10304), ("Hedemora", "hedemora", 15491), ("Leksand", "leksand", 15807),
            ("Ludvika", "ludvika", 26898), ("Malung-Sälen", "malung-salen", 10138), ("Mora", "mora", 20470),
            ("Orsa", "orsa", 6911), ("Rättvik", "rattvik", 10950), ("Smedjebacken", "smedjebacken", 10894),
            ("Säter", "sater", 11093), ("Vansbro", "vansbro", 6805), ("Älvdalen", "alvdalen", 7031),
        ]
    ] + [("Summa", None, None, 287795)],
    "posts": None,
    "texts": [
        ("Bakgrund", "Regeringen och Sveriges Kommuner och Regioner (SKR) har enats om överenskommelsen God och nära vård 2020. "
                     "Kommunerna i Dalarnas län tilldelas 15 711 504 kronor för arbetet med goda förutsättningar för vårdens medarbetare."),
        ("Hur medlen får användas", "Medlen ska användas till en ändamålsenlig kompetensförsörjning för omställning till en nära vård, "
                                    "till att utveckla förutsättningarna på arbetsplatsen och till att utbilda vårdens framtida medarbetare."),
        ("Återrapportering", "En delredovisning ska lämnas senast den 30 september 2020 och en slutredovisning senast den 31 mars 2021. "
                             "Det ska särskilt framgå hur jämställdhetsperspektivet har belysts i insatserna."),
    ],
}

_DISTRICTS = [
    ("Rinkeby-Kista", 48_214), ("Spånga-Tensta", 39_507), ("Hässelby-Vällingby", 76_935), ("Bromma", 79_122),
    ("Kungsholmen", 72_881), ("Norrmalm", 71_606), ("Östermalm", 73_489), ("Södermalm", 130_211),
    ("Enskede-Årsta-Vantör", 108_947), ("Farsta", 62_348), ("Hägersten-Älvsjö", 125_577),
]
_ADMINISTRATIONS = ["Äldreförvaltningen", "Socialförvaltningen", "Utbildningsförvaltningen", "Förskoleförvaltningen"]

STOCKHOLM = {
    "stem": "stockholm_2024",
    "case": [
        (TITLE, "Fördelning av stimulansmedel God och nära vård 2024"),
        (GRANT, 42_190_007),
        (CARRIED, 11_500_000),
        (YEAR, 2024),
        (AGREEMENT, "God och nära vård 2024 – en personcentrerad och patientsäker hälso- och sjukvård med primärvården som nav"),
        (REFERENCE, "ÄLD 2024/0412"),
        (DATE, dt.date(2024, 5, 21)),
        (SENDER_NAME, "Äldreförvaltningen"),
        (DEPARTMENT, "Avdelningen för stadsövergripande äldreomsorgsfrågor"),
        (COMMITTEE, "Äldrenämnden"),
        (OFFICER, "Marie Björkman"),
        (PHONE, "08-508 362 65"),
        (SENDER_EMAIL, "aldreforvaltningen@stockholm.example"),
        (SIGNATORY, "Patric Rylander"),
        (SIGNATORY_TITLE, "äldredirektör"),
        (INVOICE_ADDRESS, "Stockholms stad, Äldreförvaltningen, Box 8024, 104 20 Stockholm"),
        (INVOICE_EMAIL, "faktura.aldreforvaltningen@stockholm.example"),
        (INVOICE_REFERENCE, "GNV-2024"),
        (DEADLINE, dt.date(2024, 11, 30)),
    ],
    "recipient_columns": [NAME_COL, EMAIL_COL, GROUP_COL, "Befolkning"],
    "recipients": [
        (name, f"registrator.{name.lower().replace('ä', 'a').replace('ö', 'o').replace('å', 'a')}@stockholm.example",
         "Fackförvaltning", None)
        for name in _ADMINISTRATIONS
    ] + [
        (f"{name} stadsdelsförvaltning",
         f"registrator.{name.lower().replace('ä', 'a').replace('ö', 'o').replace('å', 'a')}@stockholm.example",
         "Stadsdel", population)
        for name, population in _DISTRICTS
    ],
    "posts": [
        (AREA_COL, POST_COL, AMOUNT_COL, METHOD_COL, KEY_COL, SELECTION_COL),
        ("Fackförvaltningar", "Samordning", "rest", "fast", None, "Äldreförvaltningen"),
        ("Fackförvaltningar", "Socialförvaltningen", 4_000_000, "fast", None, "Socialförvaltningen"),
        ("Fackförvaltningar", "Utbildningsförvaltningen", 4_000_000, "fast", None, "Utbildningsförvaltningen"),
        ("Fackförvaltningar", "Förskoleförvaltningen", 4_000_000, "fast", None, "Förskoleförvaltningen"),
        ("Stadsdelsförvaltningar", "Grundstöd", 800_000, "per mottagare", None, "Stadsdel"),
        ("Stadsdelsförvaltningar", "Utvecklingsmedel", 26_180_000, "nyckel", "Befolkning", "Stadsdel"),
    ],
    "texts": [
        ("Sammanfattning",
         "Regeringen och Sveriges Kommuner och Regioner (SKR) har träffat en överenskommelse om att under 2024 vidareutveckla "
         "en god och nära vård. Stockholms stad har tilldelats 42,2 mnkr för arbetet inom överenskommelsen. Utöver detta har "
         "11,5 mnkr av medel från åren 2021 till 2023 adderats till fördelningen. Total summa att fördela 2024 är 53,7 mnkr.\n\n"
         "Medlen fördelas till berörda fackförvaltningar i form av ett fast belopp. Medlen till stadsdelsförvaltningarna fördelas "
         "dels genom ett grundstöd för att etablera och stärka det strategiska arbetet med omställningen, dels som "
         "stimulansmedel för att stärka pågående utvecklingsarbete."),
        ("Bakgrund",
         "Runt om i Sverige pågår en omställning till en god och nära vård. Omställningen syftar till en hälso- och sjukvård "
         "som tillhandahålls sammanhållet med utgångspunkt i den enskildes individuella behov och förutsättningar.\n\n"
         "De medel som Stockholms stad har tilldelats har förstärkts med 11,5 mnkr från beviljade medel för God och nära vård "
         "under åren 2021 till 2023 som inte förbrukats."),
        ("Ärendet",
         "I Stockholms stad har äldreförvaltningen uppdraget att administrera och fördela stimulansmedel till stadens "
         "verksamheter utifrån överenskommelsen om God och nära vård. Medlens användning ska följa inriktningen i stadens "
         "gemensamma handlingsplan för God och nära vård och omsorg."),
        ("Ärendets beredning",
         "Ärendet har beretts inom äldreförvaltningens administrativa avdelning och avdelningen för stadsövergripande "
         "äldreomsorgsfrågor. Samverkan med de fackliga organisationerna har skett i förvaltningsgruppen den 15 maj 2024."),
        ("Förvaltningens synpunkter och förslag",
         "Fackförvaltningarna erhåller ett samlat belopp. Äldreförvaltningen erhåller ett högre belopp då förvaltningen har "
         "uppdraget att samordna God och nära vård och omsorg för staden.\n\n"
         "Samtliga stadsdelsförvaltningar erhåller ett grundstöd om 800 tkr och utvecklingsmedel som fördelas efter "
         "befolkningsmängden i respektive stadsdel."),
        ("Jämställdhetsanalys",
         "Dessa stimulansmedel syftar till att bidra till en mer individcentrerad, likvärdig och sammanhållen vård och omsorg "
         "för stadens invånare. Förflyttningen mot en god och nära vård är viktig oavsett vilket kön den enskilde har."),
    ],
}

EXAMPLES = (DALARNA, STOCKHOLM)


def write_example(example: dict, path: Path, templates_dir: str | None = None) -> None:
    """Write one example workbook; ``templates_dir`` fills the ``Mallar`` field."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    case = book.active
    case.title = CASE_SHEET
    case.append([FIELD_HEADING, VALUE_HEADING])
    for name, value in example["case"]:
        case.append([name, value])
        if isinstance(value, dt.date):
            case.cell(case.max_row, 2).number_format = "yyyy-mm-dd"
        elif isinstance(value, int) and value > 9999:
            case.cell(case.max_row, 2).number_format = "#,##0"
    if templates_dir:
        case.append([TEMPLATES, templates_dir])
    recipients = book.create_sheet(RECIPIENT_SHEET)
    recipients.append(example["recipient_columns"])
    for row in example["recipients"]:
        recipients.append(list(row))
    if example["posts"]:
        model = book.create_sheet(MODEL_SHEET)
        header, *rows = example["posts"]
        model.append(list(header))
        for row in rows:
            model.append(list(row))
            model.cell(model.max_row, 3).number_format = "#,##0"
    texts = book.create_sheet(TEXT_SHEET)
    texts.append([SECTION_COL, TEXT_COL])
    for row in example["texts"]:
        texts.append(list(row))
    for ws in book.worksheets:
        for c in ws[1]:
            c.font = Font(bold=True)
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
        ws.freeze_panes = "A2"
    book.save(path)


def write_examples(folder: Path, templates_dir: str | None = None) -> list[Path]:
    """Write every example workbook into ``folder``, never replacing an existing file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for example in EXAMPLES:
        path = folder / f"{example['stem']}.xlsx"
        if not path.exists():
            write_example(example, path, templates_dir)
            written.append(path)
    return written


if __name__ == "__main__":  # regenerates input/: python -m processor.examples input
    for p in write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "input")):
        print(p)
