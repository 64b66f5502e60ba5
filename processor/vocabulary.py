"""The workbook's Swedish names: sheets, fields, columns and the words typed in cells.

The one home of these spellings (shared/spec/workbook.md): validation reads by them, the
example workbooks are written with them, and messages quote them. The method words
(``fast``, ``lika`` …) live with the posts in ``processor.model``.
"""

from __future__ import annotations

# --- sheets ---------------------------------------------------------------------------------------

CASE_SHEET = "Ärende"
RECIPIENT_SHEET = "Mottagare"
MODEL_SHEET = "Fördelning"
TEXT_SHEET = "Texter"
QUESTION_SHEET = "Frågor"
SHEETS = (CASE_SHEET, RECIPIENT_SHEET, MODEL_SHEET, TEXT_SHEET, QUESTION_SHEET)

# --- Ärende: field/value pairs --------------------------------------------------------------------

FIELD_HEADING, VALUE_HEADING = "Fält", "Värde"
TITLE = "Rubrik"
GRANT = "Medel att fördela"
CARRIED = "Överfört från tidigare år"
ROUNDING = "Avrundning"
KEY_FIELD = "Nyckel"
TEMPLATES = "Mallar"
YEAR = "År"
REFERENCE = "Diarienummer"
DATE = "Datum"
SENDER_NAME = "Avsändare"
DEPARTMENT = "Avdelning"
COMMITTEE = "Nämnd"
OFFICER = "Handläggare"
PHONE = "Telefon"
SENDER_EMAIL = "E-post"
SIGNATORY = "Undertecknare"
SIGNATORY_TITLE = "Undertecknarens titel"
INVOICE_ADDRESS = "Fakturaadress"
INVOICE_EMAIL = "Faktura e-post"
INVOICE_REFERENCE = "Fakturareferens"
DEADLINE = "Sista dag"
AGREEMENT = "Överenskommelse"
SUBJECT = "Ämne"
APPENDIX_LINK_FIELD = "Bilaga, länk"  # where the whole table is, for letters that neither carry nor come with it
REPAYMENT_DEADLINE = "Återbetalning senast"  # unspent money repaid by then; default 31 March of the year after År

CASE_FIELDS = (TITLE, GRANT, CARRIED, ROUNDING, KEY_FIELD, TEMPLATES, YEAR, REFERENCE, DATE,
               SENDER_NAME, DEPARTMENT, COMMITTEE, OFFICER, PHONE, SENDER_EMAIL, SIGNATORY,
               SIGNATORY_TITLE, INVOICE_ADDRESS, INVOICE_EMAIL, INVOICE_REFERENCE, DEADLINE,
               AGREEMENT, SUBJECT, APPENDIX_LINK_FIELD, REPAYMENT_DEADLINE)
DATE_FIELDS = (DATE, DEADLINE, REPAYMENT_DEADLINE)
EMAIL_FIELDS = (SENDER_EMAIL, INVOICE_EMAIL)
HEADER_FIELDS = (SUBJECT, SENDER_NAME, TITLE)  # end up in an e-mail header

# --- Mottagare: one recipient per row --------------------------------------------------------------

NAME_COL = "Mottagare"
EMAIL_COL = "E-post"
GROUP_COL = "Grupp"
PARTICIPATES_COL = "Deltar"
ORG_NUMBER_COL = "Organisationsnummer"
RESERVED_COLUMNS = (NAME_COL, EMAIL_COL, GROUP_COL, PARTICIPATES_COL, ORG_NUMBER_COL)

# --- Fördelning: one post per row ------------------------------------------------------------------

POST_COL = "Post"
AMOUNT_COL = "Belopp"
METHOD_COL = "Metod"
KEY_COL = "Nyckel"
SELECTION_COL = "Mottagare"
AREA_COL = "Område"
POST_COLS = (POST_COL, AMOUNT_COL, METHOD_COL, KEY_COL, SELECTION_COL, AREA_COL)
REQUIRED_POST_COLS = (POST_COL, AMOUNT_COL, METHOD_COL)

# --- Texter: heading and text ---------------------------------------------------------------------

SECTION_COL, TEXT_COL = "Avsnitt", "Text"

# --- Frågor: the reporting form's questions, one per row --------------------------------------------

QUESTION_COL = "Fråga"

# --- words typed in cells ---------------------------------------------------------------------------

REST_WORD = "rest"
ALL_WORD = "alla"
DEFAULT_POST = "Medel"  # the one post of a workbook without Fördelning
YES = frozenset({"ja", "j", "1", "true", "sant"})
NO = frozenset({"nej", "n", "0", "false", "falskt"})
YES_NO_WORDS = frozenset({"ja", "j", "nej", "n"})
TOTAL_ROW_NAMES = frozenset({"summa", "summa totalt", "total", "totalt"})
TOTAL_FIRST_WORDS = frozenset({"summa", "totalt", "totalsumma"})
