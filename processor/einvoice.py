"""Peppol BIS Billing 3.0 e-invoices (UBL 2.1 ``Invoice`` and ``CreditNote``) read safely into plain values.

The XML comes from outside: it is parsed with defusedxml (no DTD, no entities, no network) and
only up to ``MAX_BYTES``. Every way a file can fail is an ``InputError`` naming the file, in Swedish.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from processor.errors import InputError, Problem, os_reason
from processor.orgnr import invoice_org_number

INVOICE = "faktura"
CREDIT_NOTE = "kreditnota"
MAX_BYTES = 20_000_000
"""Far above any invoice (a Peppol invoice with an embedded PDF is a few MB); refuses a file that is something else."""

_ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": INVOICE,
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": CREDIT_NOTE,
}
_ENVELOPE = "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}StandardBusinessDocument"
_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
_SWEDISH_ORG_SCHEME = "0007"
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_SELLER = "cac:AccountingSupplierParty/cac:Party"
_LARGEST = Decimal(10) ** 13  # no grant comes near; refuses 1E+999999 before anything turns it into a huge int


@dataclass(frozen=True)
class EInvoice:
    """What the ledger needs from one e-invoice. ``amount`` is as written (a credit note's is positive too)."""

    source: str
    kind: str
    number: str
    issue_date: dt.date
    currency: str
    amount: Decimal
    vat: Decimal = Decimal(0)
    buyer_reference: str | None = None
    order_reference: str | None = None
    seller_name: str | None = None
    seller_org_number: str | None = None

    @property
    def signed_amount(self) -> Decimal:
        """The amount without VAT as it counts towards what is invoiced: a credit note subtracts."""
        return -self.amount if self.kind == CREDIT_NOTE else self.amount

    @property
    def label(self) -> str:
        """``faktura 1042`` or ``kreditnota K-7``, for messages."""
        return f"{self.kind} {self.number}"


def read_einvoice_file(path: Path) -> EInvoice:
    """Read one file (refusing a too large one before reading it)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _problem(path.name, f"filen är {size // 1_000_000} MB, för stor för en e-faktura. "
                                      "Kontrollera att det är fakturans XML-fil och inte något annat.")
        data = path.read_bytes()
    except OSError as error:
        raise _problem(path.name, f"filen kan inte läsas: {os_reason(error)}. Kontrollera filen och försök igen.") from None
    return parse_einvoice(data, path.name)


def parse_einvoice(data: bytes, source: str) -> EInvoice:
    """The invoice or credit note in ``data`` (the bytes of the file named ``source``)."""
    if len(data) > MAX_BYTES:
        raise _problem(source, "filen är för stor för en e-faktura. Kontrollera att det är fakturans XML-fil.")
    root = _parse(data, source)
    if root.tag == _ENVELOPE:
        root = next((child for child in root if child.tag in _ROOTS), root)
    kind = _ROOTS.get(root.tag)
    if kind is None:
        raise _problem(source, f"filen är XML men ingen e-faktura (den börjar med <{_local(root.tag)}>, en Peppol-faktura "
                               "med <Invoice> eller <CreditNote>). Exportera fakturan som Peppol BIS Billing 3.0 från "
                               "ekonomisystemet.")
    return _einvoice(root, kind, source)


def _parse(data: bytes, source: str) -> Element:
    fix = "Exportera fakturan igen från ekonomisystemet som Peppol BIS Billing 3.0 (XML)."
    if not (data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or data[:2] in _UTF16_MARKS):
        what = " (en PDF)" if data.startswith(b"%PDF") else ""
        raise _problem(source, f"filen är inte en XML-fil{what}, så den kan inte vara en e-faktura. {fix}")
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _problem(source, "filen innehåller en DTD eller egna entiteter, som en e-faktura aldrig har och som kan "
                               f"användas för att angripa programmet; den läses inte. {fix}") from None
    except ParseError as error:
        line, column = error.position
        raise _problem(source, f"XML-filen är trasig och kan inte läsas (rad {line}, tecken {column + 1}). {fix}") from None


def _einvoice(root: Element, kind: str, source: str) -> EInvoice:
    def required(path: str, what: str) -> str:
        value = _text(root, path)
        if value is None:
            raise _problem(source, f"{kind}n saknar {what} ({path}), som varje Peppol-faktura har. "
                                   "Kontrollera filen med ekonomisystemet eller leverantören.")
        return value

    number = required("cbc:ID", "fakturanummer")
    currency = required("cbc:DocumentCurrencyCode", "valuta")
    issue_date = _date(required("cbc:IssueDate", "fakturadatum"), source, kind)
    amount = _amount(required("cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", "belopp utan moms"), source, kind)
    return EInvoice(source, kind, number, issue_date, currency, amount, _vat(root, currency, source, kind),
                    _text(root, "cbc:BuyerReference"), _text(root, "cac:OrderReference/cbc:ID"),
                    _text(root, f"{_SELLER}/cac:PartyLegalEntity/cbc:RegistrationName")
                    or _text(root, f"{_SELLER}/cac:PartyName/cbc:Name"),
                    _seller_org_number(root))


def _seller_org_number(root: Element) -> str | None:
    """From the legal entity's ``CompanyID``, else an identification or endpoint in the Swedish scheme 0007."""
    company = _text(root, f"{_SELLER}/cac:PartyLegalEntity/cbc:CompanyID")
    candidates = [company] if company else []
    for path in (f"{_SELLER}/cac:PartyIdentification/cbc:ID", f"{_SELLER}/cbc:EndpointID"):
        candidates += [(e.text or "") for e in root.findall(path, _NS) if e.get("schemeID") == _SWEDISH_ORG_SCHEME]
    return next((n for c in candidates if (n := invoice_org_number(c))), None)


def _vat(root: Element, currency: str, source: str, kind: str) -> Decimal:
    """The VAT total in the document's currency (a second ``TaxTotal`` may be in the accounting currency)."""
    totals = root.findall("cac:TaxTotal/cbc:TaxAmount", _NS)
    chosen = next((t for t in totals if t.get("currencyID") == currency), totals[0] if totals else None)
    return Decimal(0) if chosen is None or not (chosen.text or "").strip() else _amount(chosen.text, source, kind)


def _text(root: Element, path: str) -> str | None:
    element = root.find(path, _NS)
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _date(text: str, source: str, kind: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _problem(source, f'{kind}ns datum "{text[:40]}" är inte ett datum (ÅÅÅÅ-MM-DD). '
                               "Kontrollera filen med ekonomisystemet.") from None


def _amount(text: str, source: str, kind: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) >= _LARGEST:
        raise _problem(source, f'{kind}ns belopp "{text.strip()[:40]}" är inte ett tal. Kontrollera filen med ekonomisystemet.')
    return value


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _problem(source: str, message: str) -> InputError:
    return InputError([Problem(source, message)])
